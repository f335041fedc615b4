"""``struct dm_header`` and the protocol's enumerations.

Every Dynamic Memory message starts with this 8-byte header; its ``type``
selects the message layer (bound in :mod:`dmdissect.layers.messages`).
"""

from __future__ import annotations

import struct

from scapy.fields import LEIntField, LEShortEnumField, LEShortField
from scapy.packet import Packet

from dmdissect.layers.base import DMPacket
from dmdissect.layers.numbers import (  # noqa: F401 (the header's vocabulary, re-exported)
    MESSAGE_TYPES,
    PAGE_SIZE,
    PAGES_PER_MIB,
    PROTOCOL_VERSIONS,
    MessageType,
    ProtocolVersion,
    type_name,
    version_text,
)


class DMHeader(DMPacket):
    """``struct dm_header``: type, size (header included) and trans_id.

    Left unset, ``type`` follows the layer stacked on top and ``size`` the
    length of the built message.
    """

    name = "Dynamic Memory header"
    fields_desc = [
        LEShortEnumField("type", 0, MESSAGE_TYPES),
        LEShortField("size", None),
        LEIntField("trans_id", 0),
    ]

    def post_build(self, pkt: bytes, pay: bytes) -> bytes:
        if self.size is None:
            size = min(len(pkt) + len(pay), MAX_SIZE)
            pkt = pkt[:2] + size.to_bytes(2, "little") + pkt[4:]
        return pkt + pay

    def mysummary(self) -> str:
        return self.sprintf("%DMHeader.type% id=%DMHeader.trans_id%")


def _struct_of(layer: type[Packet]) -> struct.Struct:
    """One ``struct`` format for a layer made of plain little-endian integers."""
    from dmdissect.layers.layout import layout_of

    codes = {1: "B", 2: "H", 4: "I", 8: "Q"}
    fmt = "<"
    for spot in layout_of(layer).spots:
        if spot.size is None:
            raise TypeError(f"{layer.__name__}.{spot.name} has no fixed size")
        fmt += codes[spot.size]
    return struct.Struct(fmt)


#: ``type, size, trans_id`` in one read, derived from :class:`DMHeader`.
HEADER_STRUCT = _struct_of(DMHeader)
#: Bytes of ``struct dm_header``.
HEADER_SIZE = HEADER_STRUCT.size


def _size_field() -> tuple[int, int]:
    from dmdissect.layers.layout import layout_of

    return layout_of(DMHeader).span("size")


_SIZE_AT, _SIZE_BYTES = _size_field()
#: Bytes from the start of a message to the end of its ``size`` field: what must
#: be there to know where the message ends.
SIZE_END = _SIZE_AT + _SIZE_BYTES
#: The largest ``hdr.size``: what its field holds.
MAX_SIZE = (1 << 8 * _SIZE_BYTES) - 1
