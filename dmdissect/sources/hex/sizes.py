"""What the hex reader needs to know about message sizes, asked of the layers.

Framing without offsets stops where the header's ``size`` says a message
ends, so the reader reads that field where :class:`DMHeader`'s layout puts
it, and caps a message at the largest record the layers can describe.
"""

from __future__ import annotations

from dmdissect.layers.numbers import MESSAGE_TYPES
from dmdissect.layers.sizes import descriptor_length, looks_like_descriptor
from dmdissect.layers.tables import HEADER_SIZE, HEADER_SPANS, SIZE_END
from dmdissect.sources.raw import MAX_DESCRIPTOR_RECORD

__all__ = ["HEADER_SIZE", "MAX_MESSAGE", "SIZE_END", "header_size", "split_records"]

_TYPE, _SIZE = (HEADER_SPANS[name] for name in ("type", "size"))
#: A dump is cut (with a finding) past the largest record: a message of the
#: largest ``size`` behind a VMBus descriptor, padded.
MAX_MESSAGE = MAX_DESCRIPTOR_RECORD


def _field(data: bytes, span: tuple[int, int]) -> int:
    offset, size = span
    return int.from_bytes(data[offset : offset + size], "little")


def header_size(data: bytes) -> int:
    """The header's ``size`` field; ``data`` holds at least :data:`SIZE_END` bytes."""
    return _field(data, _SIZE)


def _record_length(data: bytes) -> int | None:
    """Length of the message (or VMBus record) at the start of ``data``, if it is one."""
    if looks_like_descriptor(data):
        return descriptor_length(data)
    if len(data) < HEADER_SIZE or _field(data, _TYPE) not in MESSAGE_TYPES:
        return None
    return header_size(data)


def split_records(data: bytes) -> list[tuple[int, bytes]] | None:
    """The messages of a dump of several back to back (``xxd`` of a file of them),
    split by each one's size as raw input is, with their offsets; None unless
    there are two or more and the sizes lead exactly to the end, each to a known
    type (a single message with trailing bytes stays whole, for the dissection
    to report)."""
    first = _record_length(data if len(data) <= MAX_MESSAGE else data[:MAX_MESSAGE])
    if first is None or first < HEADER_SIZE or first >= len(data):
        return None  # one message, or none: what the loop below finds at its first step
    pieces = []
    pos = 0
    while pos < len(data):
        length = _record_length(data[pos : pos + MAX_MESSAGE])
        if length is None or length < HEADER_SIZE or pos + length > len(data):
            return None
        pieces.append((pos, data[pos : pos + length]))
        pos += length
    return pieces if len(pieces) > 1 else None
