"""``read -x`` lays out bytes exactly as ``tshark -x`` does: the real tshark is the oracle."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

CAPTURES = sorted((Path(__file__).resolve().parent.parent / "captures").glob("*.pcapng"))
HEX_ROW = re.compile(r"^[0-9a-f]{4}  ")


def _rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if HEX_ROW.match(line)]


@pytest.mark.parametrize("path", CAPTURES, ids=[p.name for p in CAPTURES])
def test_hex_rows_equal_tshark_x(path):
    ours = subprocess.run(
        [sys.executable, "-m", "dmdissect", "read", "-x", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    theirs = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-x"], capture_output=True, text=True, check=True
    ).stdout
    assert _rows(ours) and _rows(ours) == _rows(theirs)
