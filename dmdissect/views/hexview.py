"""Hex and ASCII of a message's bytes, in the layout of ``tshark -x``."""

from __future__ import annotations

from collections.abc import Iterator


def hex_lines(data: bytes, width: int = 16) -> Iterator[str]:
    for offset in range(0, len(data), width):
        chunk = data[offset : offset + width]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        yield f"{offset:04x}  {hexes:<{width * 3 - 1}}   {text}"
