"""Coverage-guided fuzzing of the capture readers with atheris, on bent structures.

    pip install atheris
    python fuzz/fuzz_captures.py -runs=100000

Each input seeds a Random that :mod:`fuzz.capturegen` builds a capture from.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

with atheris.instrument_imports():
    from fuzz.capturegen import capture
    from fuzz.harness import exercise


def one(data: bytes) -> None:
    exercise(capture(random.Random(data)))


def main() -> None:
    atheris.Setup(sys.argv, one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
