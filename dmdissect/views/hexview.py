"""Hex and ASCII of a message's bytes, in the layout of ``tshark -x``."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

#: Each byte's ASCII column character: itself when printable ASCII, else '.'.
_ASCII = bytes(b if 0x20 <= b < 0x7F else 0x2E for b in range(256))
#: Bytes a row shows, and the width of a row's hex (``xx `` each, less the last space).
WIDTH = 16
_PAD = WIDTH * 3 - 1
#: Messages of at most this many rows are laid out by a function made for their length.
COMPILED_ROWS = 64


def hex_text(data: bytes) -> str:
    """The rows of ``data``, joined by newlines: offset, hex bytes (the last row padded)
    and ASCII column.

    The hex and the column of the whole message are made at once; for messages
    of up to :data:`COMPILED_ROWS` rows one f-string made for their length cuts
    them into rows (no loop, no list), longer ones are cut row by row.
    """
    rows, last = divmod(len(data), WIDTH)
    hexed = data.hex(" ")
    text = data.translate(_ASCII).decode("ascii")
    if rows + bool(last) <= COMPILED_ROWS:
        return _layout(rows, last)(hexed, text)
    lines = [
        f"{offset:04x}  {hexed[3 * offset : 3 * offset + _PAD]}   {text[offset : offset + WIDTH]}"
        for offset in range(0, rows * WIDTH, WIDTH)
    ]
    if last:
        offset = rows * WIDTH
        lines.append(f"{offset:04x}  {hexed[3 * offset :]:<{_PAD}}   {text[offset:]}")
    return "\n".join(lines)


@cache
def _layout(rows: int, last: int) -> Callable[[str, str], str]:
    """``layout(hexed, text)`` of a message of ``rows`` full rows and ``last`` bytes more."""
    parts = [
        f"{offset:04x}  {{hexed[{3 * offset}:{3 * offset + _PAD}]}}   "
        f"{{text[{offset}:{offset + WIDTH}]}}"
        for offset in range(0, rows * WIDTH, WIDTH)
    ]
    if last:
        offset = rows * WIDTH
        parts.append(f"{offset:04x}  {{hexed[{3 * offset}:]:<{_PAD}}}   {{text[{offset}:]}}")
    source = f"def layout(hexed, text):\n    return f{chr(10).join(parts)!r}\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<hex rows of {rows * WIDTH + last} bytes>", "exec"), namespace)
    return namespace["layout"]
