"""Coverage-guided fuzzing of every input format and stage with atheris.

    pip install atheris
    python fuzz/fuzz_inputs.py -runs=100000 fuzz/corpus

Seeds: put a few shipped captures and hex dumps in the corpus folder first
(``cp captures/*.pcapng captures/*.log fuzz/corpus/``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

with atheris.instrument_imports():
    from fuzz.harness import exercise_every_format


def main() -> None:
    atheris.Setup(sys.argv, exercise_every_format)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
