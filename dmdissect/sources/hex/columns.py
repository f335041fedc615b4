"""Hex groups to bytes, and the one check that an ASCII column shows given bytes.

The ASCII column is the only witness in a dump of which way multi-byte groups
are ordered and of where the hex area ends (``12I~`` and ``abcd`` look like
hex too), so every part of the reader asks :func:`column_shows` and nothing
else compares a column with bytes.
"""

from __future__ import annotations

import re

#: Multi-byte groups are printed in memory order (xxd, tcpdump).
BYTES = "bytes"
#: Each multi-byte group is a little-endian word printed most significant
#: digit first, so its bytes read reversed (kernel print_hex_dump with
#: groupsize 2/4/8, ``xxd -e``, ``hexdump``, ``od -x``).
LE_WORDS = "le-words"
ORDERS = (BYTES, LE_WORDS)

_HEX_RUN = re.compile(r"[0-9a-fA-F]+")


def is_hex(token: str) -> bool:
    """Whether ``token`` is a non-empty run of hex digits (``str.isalnum`` is too lax)."""
    return _HEX_RUN.fullmatch(token) is not None


def decode_tokens(tokens: tuple[str, ...] | list[str], order: str) -> bytes:
    """The bytes of hex groups read in ``order``; an odd trailing digit is dropped."""
    if order == BYTES or all(len(t) == 2 for t in tokens):
        if all(len(t) % 2 == 0 for t in tokens):
            return bytes.fromhex("".join(tokens))
    out = bytearray()
    for token in tokens:
        chunk = bytes.fromhex(token[: len(token) & ~1])
        out += chunk[::-1] if order == LE_WORDS else chunk
    return bytes(out)


_PRINTABLE = bytes(b if 0x20 <= b < 0x7F else 0x2E for b in range(256))
_GRAPHIC = bytes(b if 0x20 < b < 0x7F else 0x2E for b in range(256))


def render_ascii(data: bytes) -> str:
    """The ASCII column as xxd, hexdump -C, od -z, tshark and the kernel print it:
    printable ASCII (0x20-0x7e, space included) as is, else ``.``."""
    return data.translate(_PRINTABLE).decode("ascii")


def render_graphic(data: bytes) -> str:
    """The ASCII column as tcpdump -X prints it: only graphic characters (0x21-0x7e)
    as themselves, so a space byte shows as ``.`` too."""
    return data.translate(_GRAPHIC).decode("ascii")


def ascii_matches(column: str, data: bytes) -> bool:
    """Whether an ASCII column shows ``data``, ignoring spacing that tools pad or pastes lose.

    Tools differ on the space byte only: xxd, hexdump -C, od -z, tshark and
    the kernel print it as a space, tcpdump as ``.`` (it prints graphic
    characters only).  A row does not always say which tool printed it (a
    tcpdump block pasted without its tab, hand-made layouts), so a column
    matches when it is either rendering.
    """
    rendered = render_ascii(data)
    if column == rendered and rendered.strip():
        return True
    shown = "".join(column.split())
    if not shown:
        return False
    return shown in ("".join(rendered.split()), render_graphic(data))


def column_shows(column: str, tokens: tuple[str, ...] | list[str]) -> bool:
    """Whether ``column`` renders the hex groups ``tokens`` in either group order."""
    return any(ascii_matches(column, decode_tokens(tokens, order)) for order in ORDERS)
