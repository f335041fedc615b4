"""Hex and ASCII of a message's bytes, in the layout of ``tshark -x``."""

from __future__ import annotations

from collections.abc import Iterator

#: Each byte's ASCII column character: itself when printable ASCII, else '.'.
_ASCII = bytes(b if 0x20 <= b < 0x7F else 0x2E for b in range(256))


def hex_lines(data: bytes, width: int = 16) -> Iterator[str]:
    pad = width * 3 - 1
    for offset in range(0, len(data), width):
        chunk = data[offset : offset + width]
        text = chunk.translate(_ASCII).decode("ascii")
        yield f"{offset:04x}  {chunk.hex(' '):<{pad}}   {text}"
