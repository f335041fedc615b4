"""``struct dm_header`` and the protocol's enumerations.

Every Dynamic Memory message starts with this 8-byte header; its ``type``
selects the message layer (bound in :mod:`dmdissect.layers.messages`).
"""

from __future__ import annotations

import struct
from enum import IntEnum

from scapy.fields import LEIntField, LEShortEnumField, LEShortField
from scapy.packet import Packet

from dmdissect.layers import expressions
from dmdissect.layers.base import DMPacket

#: Every count of pages in the protocol is of 4 KiB pages.
PAGE_SIZE = 4096
PAGES_PER_MIB = (1 << 20) // PAGE_SIZE


class MessageType(IntEnum):
    """``enum dm_message_type``: member names are the C names shown in output."""

    DM_ERROR = 0
    DM_VERSION_REQUEST = 1
    DM_VERSION_RESPONSE = 2
    DM_CAPABILITIES_REPORT = 3
    DM_CAPABILITIES_RESPONSE = 4
    DM_STATUS_REPORT = 5
    DM_BALLOON_REQUEST = 6
    DM_BALLOON_RESPONSE = 7
    DM_UNBALLOON_REQUEST = 8
    DM_UNBALLOON_RESPONSE = 9
    DM_MEM_HOT_ADD_REQUEST = 10
    DM_MEM_HOT_ADD_RESPONSE = 11
    DM_INFO_MESSAGE = 12
    DM_MEM_HOT_REMOVE_REQUEST = 13
    DM_MEM_HOT_REMOVE_RESPONSE = 14


#: ``dm_header.type`` value -> C name, for Scapy's enum field and the views.
MESSAGE_TYPES = {member.value: member.name for member in MessageType}


class ProtocolVersion(IntEnum):
    """``DYNMEM_PROTOCOL_VERSION_*``: major << 16 | minor."""

    WIN7 = 0x00000003
    WIN8 = 0x00010000
    WIN10 = 0x00020000


#: Known version number -> its name.
PROTOCOL_VERSIONS = {member.value: member.name for member in ProtocolVersion}


def type_name(value: int) -> str:
    return MESSAGE_TYPES.get(value, f"UNKNOWN({value})")


def version_text(version: int) -> str:
    """``2.0 (WIN10)``; unknown versions keep their numbers only."""
    return expressions.version_text(version, PROTOCOL_VERSIONS)


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
