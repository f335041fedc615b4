"""Coverage-guided fuzzing of the hex reader with structure-aware inputs (atheris).

    pip install atheris
    python fuzz/fuzz_hex.py -runs=100000

The fuzzer's bytes seed the generators of :mod:`fuzz.hexgen`, so mutations
explore long lines and digit counts rather than random bytes.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

with atheris.instrument_imports():
    from fuzz.harness import exercise
    from fuzz.hexgen import document


def one_input(data: bytes) -> None:
    exercise(document(random.Random(data)), "hex")


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
