"""``struct dm_header`` and the protocol's enumerations.

Every Dynamic Memory message starts with this 8-byte header; its ``type``
selects the message layer (bound in :mod:`dmdissect.layers.messages`).
"""

from __future__ import annotations

import struct

from scapy.fields import LEIntField, LEShortEnumField, LEShortField
from scapy.packet import Packet

from dmdissect.layers import phrases
from dmdissect.layers.base import DMPacket
from dmdissect.layers.phrases import mib, plural  # noqa: F401  (their home before phrases)

HEADER_SIZE = 8
PAGE_SIZE = phrases.PAGE_SIZE
PAGES_PER_MIB = phrases.PAGES_PER_MIB

#: ``enum dm_message_type``
MESSAGE_TYPES = {
    0: "DM_ERROR",
    1: "DM_VERSION_REQUEST",
    2: "DM_VERSION_RESPONSE",
    3: "DM_CAPABILITIES_REPORT",
    4: "DM_CAPABILITIES_RESPONSE",
    5: "DM_STATUS_REPORT",
    6: "DM_BALLOON_REQUEST",
    7: "DM_BALLOON_RESPONSE",
    8: "DM_UNBALLOON_REQUEST",
    9: "DM_UNBALLOON_RESPONSE",
    10: "DM_MEM_HOT_ADD_REQUEST",
    11: "DM_MEM_HOT_ADD_RESPONSE",
    12: "DM_INFO_MESSAGE",
    13: "DM_MEM_HOT_REMOVE_REQUEST",
    14: "DM_MEM_HOT_REMOVE_RESPONSE",
}

GUEST = "guest->host"
HOST = "host->guest"

#: Who sends each message type (protocol-notes.md); DM_ERROR may come from either.
SENDER = {
    0: None,
    1: GUEST,
    2: HOST,
    3: GUEST,
    4: HOST,
    5: GUEST,
    6: HOST,
    7: GUEST,
    8: HOST,
    9: GUEST,
    10: HOST,
    11: GUEST,
    12: HOST,
    13: HOST,
    14: GUEST,
}

#: The protocol version that introduced each message type.
INTRODUCED_IN = {12: 0x00010000, 13: 0x00020000, 14: 0x00020000}

#: ``DYNMEM_PROTOCOL_VERSION_*``: major << 16 | minor.
PROTOCOL_VERSIONS = {
    0x00000003: "WIN7",
    0x00010000: "WIN8",
    0x00020000: "WIN10",
}


def type_name(value: int) -> str:
    return MESSAGE_TYPES.get(value, f"UNKNOWN({value})")


def version_text(version: int) -> str:
    """``2.0 (WIN10)``; unknown versions keep their numbers only."""
    return phrases.version_text(version, PROTOCOL_VERSIONS)


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
            size = min(len(pkt) + len(pay), 0xFFFF)
            pkt = pkt[:2] + size.to_bytes(2, "little") + pkt[4:]
        return pkt + pay

    def mysummary(self) -> str:
        return self.sprintf("%DMHeader.type% id=%DMHeader.trans_id%")


def is_header(pkt: Packet) -> bool:
    return isinstance(pkt, DMHeader)


def _struct_of(layer: type[Packet]) -> struct.Struct:
    """One ``struct`` format for a layer made of plain little-endian integers."""
    from dmdissect.layers.layout import layout_of

    codes = {1: "B", 2: "H", 4: "I", 8: "Q"}
    return struct.Struct("<" + "".join(codes[spot.size] for spot in layout_of(layer).spots))


#: ``type, size, trans_id`` in one read, derived from :class:`DMHeader`.
HEADER_STRUCT = _struct_of(DMHeader)
