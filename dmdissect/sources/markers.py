"""What dmdissect writes into a packet's comment, and how it is recognised again.

``convert`` (and ``read -w``) keep what a capture has no field for: where
the bytes came from, the source's own findings, and what only the
transaction tracker knows (the transaction, its links, its findings).  It
goes into one pcapng comment per packet, in this form::

    dmdissect/1 3f2a9c01
    origin=dmesg.txt:17
    source.finding=error broken_line a hex line ends in the middle of a byte
    transaction.kind=balloon
    ...

The first line names the format and carries a CRC-32 of the packet's bytes
followed by the lines after it.  A comment is taken as a marker only when
that digest matches: a comment a user typed (in Wireshark or elsewhere)
that happens to start the same way, or a marker copied onto another packet,
stays an ordinary comment with its text intact, and can never forge a
finding or an origin.  The digest is a seal against accidents and
copy-paste, not a signature: whoever writes the bytes can write a matching
marker.  The Wireshark plugin checks it the same way.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

MARKER_MAGIC = "dmdissect/1"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def _unescape(value: str) -> str:
    out, chars = [], iter(value)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append({"n": "\n", "r": "\r"}.get(nxt, nxt))
        else:
            out.append(ch)
    return "".join(out)


def _digest(data: bytes, body: str) -> str:
    return f"{zlib.crc32(body.encode('utf-8'), zlib.crc32(data)):08x}"


def encode(data: bytes, items: Iterable[tuple[str, str]]) -> str:
    """The marker comment for a packet of ``data`` holding ``items`` (key, value)."""
    body = "".join(f"{key}={_escape(value)}\n" for key, value in items)
    return f"{MARKER_MAGIC} {_digest(data, body)}\n{body}"


def decode(data: bytes, comment: str) -> list[tuple[str, str]] | None:
    """The items of a marker written for ``data``; None for any other comment."""
    first, sep, body = comment.partition("\n")
    magic, _, digest = first.partition(" ")
    if not sep or magic != MARKER_MAGIC or digest != _digest(data, body):
        return None
    items = []
    for line in body.split("\n"):
        key, eq, value = line.partition("=")
        if eq:
            items.append((key, _unescape(value)))
    return items
