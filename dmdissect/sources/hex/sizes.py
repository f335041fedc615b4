"""What the hex reader needs to know about message sizes, asked of the layers.

Framing without offsets stops where the header's ``size`` says a message
ends, so the reader reads that field where :class:`DMHeader`'s layout puts
it, and caps a message at the largest record the layers can describe.
"""

from __future__ import annotations

from dmdissect.layers.header import HEADER_SIZE, DMHeader
from dmdissect.layers.layout import layout_of
from dmdissect.sources.raw import MAX_DESCRIPTOR_RECORD

__all__ = ["HEADER_SIZE", "MAX_MESSAGE", "SIZE_END", "header_size"]

_SIZE = next(spot for spot in layout_of(DMHeader).spots if spot.name == "size")
#: How many bytes of a message hold its size field.
SIZE_END = _SIZE.offset + _SIZE.size
#: A dump is cut (with a finding) past the largest record: a message of the
#: largest ``size`` behind a VMBus descriptor, padded.
MAX_MESSAGE = MAX_DESCRIPTOR_RECORD


def header_size(data: bytes) -> int:
    """The header's ``size`` field; ``data`` holds at least :data:`SIZE_END` bytes."""
    return int.from_bytes(data[_SIZE.offset : SIZE_END], "little")
