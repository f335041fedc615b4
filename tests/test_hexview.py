"""``read -x`` lays out bytes exactly as ``tshark -x`` does: the real tshark is the oracle."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dmdissect.views.hexview import COMPILED_ROWS, hex_text

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


def _rows_one_by_one(data: bytes) -> list[str]:
    """tshark -x's layout written row by row, the obvious way."""
    rows = []
    for offset in range(0, len(data), 16):
        chunk = data[offset : offset + 16]
        hexed = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        rows.append(f"{offset:04x}  {hexed.ljust(47)}   {text}")
    return rows


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=100),
        st.binary(min_size=16 * COMPILED_ROWS - 20, max_size=16 * COMPILED_ROWS + 40),
    )
)
def test_hex_rows_of_any_bytes_equal_the_row_by_row_layout(data):
    """Both sides of the compiled layouts' limit too."""
    assert hex_text(data) == "\n".join(_rows_one_by_one(data))
