"""Hex and ASCII of a message's bytes, in the layout of ``tshark -x``."""

from __future__ import annotations

#: Each byte's ASCII column character: itself when printable ASCII, else '.'.
_ASCII = bytes(b if 0x20 <= b < 0x7F else 0x2E for b in range(256))


def hex_lines(data: bytes, width: int = 16) -> list[str]:
    """The rows of ``data``: offset, hex bytes (the last row padded) and ASCII column.

    The hex and the column of the whole message are made at once and cut into
    rows, rather than a slice, a hex call and a translation per row.
    """
    pad = width * 3 - 1
    hexed = data.hex(" ")
    text = data.translate(_ASCII).decode("ascii")
    lines = [
        f"{offset:04x}  {hexed[3 * offset : 3 * offset + pad]}   {text[offset : offset + width]}"
        for offset in range(0, len(data) - len(data) % width, width)
    ]
    if len(data) % width:
        offset = len(data) - len(data) % width
        lines.append(f"{offset:04x}  {hexed[3 * offset :]:<{pad}}   {text[offset:]}")
    return lines
