"""One Scapy layer per Dynamic Memory message, bound on ``dm_header.type``.

Field names are the C names of ``dynmem-proto.h``.  Little-endian C bitfields
are written the Scapy way: a group opens with ``tot_size=-N`` and closes with
``end_tot_size=-N`` (N bytes), and its fields are listed from the most
significant bit down, the reverse of their C order.  ``layout.py`` turns that
back into C order for everything that displays or exports a message.

The words of each layer's one-line summary are the views'
(:mod:`dmdissect.views.phrases`), which the Wireshark plugin renders too.
"""

from __future__ import annotations

from typing import ClassVar

from scapy.fields import (
    BitField,
    BitFieldLenField,
    FieldLenField,
    FlagsField,
    LEIntEnumField,
    LEIntField,
    LELongField,
    LEShortField,
    MultipleTypeField,
    PacketField,
    XLELongField,
    XStrLenField,
)
from scapy.packet import Packet, bind_layers

from dmdissect.layers.base import DMPacket, DMStruct
from dmdissect.layers.expressions import AnyOf, HeaderSizeAtLeast, Present
from dmdissect.layers.fields import (
    BoundedPacketListField,
    OptionalPacketField,
    SizedPacketListField,
)
from dmdissect.layers.header import (
    HEADER_SIZE,
    PROTOCOL_VERSIONS,
    DMHeader,
    MessageType,
    ProtocolVersion,
)
from dmdissect.layers.layout import layout_of
from dmdissect.layers.numbers import (  # noqa: F401 (the messages' vocabulary, re-exported)
    HOT_ADD_RESULTS,
    HOT_REMOVE_QOS,
    INFO_TYPES,
    MAX_PART_SIZE,
    HotAddMeaning,
    HotAddResult,
    InfoType,
    hot_add_meaning,
    page_total,
)
from dmdissect.layers.values import VersionWord
from dmdissect.vocabulary import Side

#: Bytes of a MAX_PAGE_CNT entry's data: one 64-bit page count.
MAX_PAGE_CNT_SIZE = LELongField("data", 0).sz


# --- nested structures ---------------------------------------------------------


class DMVersion(VersionWord, DMStruct):
    """``union dm_version``: minor in the low word, major in the high word."""

    name = "dm_version"
    #: The names of the union read as one 32-bit word (``version.version``).
    whole_values = PROTOCOL_VERSIONS
    fields_desc = [
        LEShortField("minor_version", 0),
        LEShortField("major_version", 0),
    ]


class DMCaps(DMStruct):
    """``union dm_caps``: what the guest can do (one 64-bit word)."""

    name = "dm_caps"
    fields_desc = [
        BitField("reservedz", 0, 57, tot_size=-8),
        BitField("hot_remove", 0, 1),
        BitField("hot_add_alignment", 0, 4),
        BitField("hot_add", 0, 1),
        BitField("balloon", 0, 1, end_tot_size=-8),
    ]


class DMPageRange(DMStruct):
    """``union dm_mem_page_range``: start_page:40 and page_cnt:24 of a 64-bit word.

    The split falls on a byte boundary, so each part is its own little-endian
    field (5 bytes, then 3), which is byte-for-byte the C bitfield layout.
    """

    name = "dm_mem_page_range"
    fields_desc = [
        BitField("start_page", 0, -40),
        BitField("page_cnt", 0, -24),
    ]


#: Bytes of ``union dm_mem_page_range``.
PAGE_RANGE_SIZE = layout_of(DMPageRange).fixed_size


def _page_count_entry(pkt: Packet) -> bool:
    """``data`` is a page count; ``data_size`` None is a packet being built."""
    when = DMInfoEntry.variant_when["data"]
    return pkt.type == when["type"] and pkt.data_size in (None, when["data_size"])


class DMInfoEntry(DMStruct):
    """``struct dm_info_header``: one typed entry of an info message."""

    name = "dm_info_header"
    #: When ``data`` is a 64-bit page count instead of bytes (MAX_PAGE_CNT of 8 bytes).
    variant_when = {"data": {"type": InfoType.MAX_PAGE_CNT, "data_size": MAX_PAGE_CNT_SIZE}}
    variant_names = {"data": "max_page_cnt"}
    fields_desc = [
        LEIntEnumField("type", 0, INFO_TYPES),
        FieldLenField("data_size", None, length_of="data", fmt="<I"),
        MultipleTypeField(
            [(LELongField("data", 0), lambda p: _page_count_entry(p))],
            XStrLenField("data", b"", length_from=lambda p: p.data_size),
        ),
    ]


def _range_count(pkt: Packet) -> int:
    return pkt.range_count or 0


# --- messages ------------------------------------------------------------------


class DMMessage(DMPacket):
    """Base of every message body; the header is the layer underneath.

    Each message layer says, as class attributes, the ``dm_header.type`` it is
    bound to, which side sends it (None: either) and the protocol version
    that introduced it; ``MESSAGE_LAYERS``, ``SENDER`` and ``INTRODUCED_IN``
    are derived from those.
    """

    msg_type: ClassVar[MessageType]
    sender: ClassVar[Side | None] = None
    introduced_in: ClassVar[ProtocolVersion] = ProtocolVersion.WIN7

    def header(self) -> DMHeader | None:
        under = self.underlayer
        return under if isinstance(under, DMHeader) else None


class DMError(DMMessage):
    """``DM_ERROR`` (type 0): a header with no defined body."""

    name = "DM_ERROR"
    msg_type = MessageType.DM_ERROR
    fields_desc = []


class DMVersionRequest(DMMessage):
    """``struct dm_version_request`` (guest to host)."""

    name = "DM_VERSION_REQUEST"
    msg_type = MessageType.DM_VERSION_REQUEST
    sender = Side.GUEST
    fields_desc = [
        PacketField("version", DMVersion(), DMVersion),
        BitField("reservedz", 0, 31, tot_size=-4),
        BitField("is_last_attempt", 0, 1, end_tot_size=-4),
    ]


class DMVersionResponse(DMMessage):
    """``struct dm_version_response`` (host to guest)."""

    name = "DM_VERSION_RESPONSE"
    msg_type = MessageType.DM_VERSION_RESPONSE
    sender = Side.HOST
    fields_desc = [
        BitField("reservedz", 0, 63, tot_size=-8),
        BitField("is_accepted", 0, 1, end_tot_size=-8),
    ]


class DMCapabilitiesReport(DMMessage):
    """``struct dm_capabilities`` (guest to host)."""

    name = "DM_CAPABILITIES_REPORT"
    msg_type = MessageType.DM_CAPABILITIES_REPORT
    sender = Side.GUEST
    fields_desc = [
        PacketField("caps", DMCaps(), DMCaps),
        LELongField("min_page_cnt", 0),
        XLELongField("max_page_number", 0),
    ]


class DMCapabilitiesResponse(DMMessage):
    """``struct dm_capabilities_resp_msg`` (host to guest)."""

    name = "DM_CAPABILITIES_RESPONSE"
    msg_type = MessageType.DM_CAPABILITIES_RESPONSE
    sender = Side.HOST
    fields_desc = [
        BitField("reservedz", 0, 61, tot_size=-8),
        BitField("suppress_pressure_reports", 0, 1),
        BitField("hot_remove", 0, 1),
        BitField("is_accepted", 0, 1, end_tot_size=-8),
    ]


class DMStatusReport(DMMessage):
    """``struct dm_status`` (guest to host, about once a second)."""

    name = "DM_STATUS_REPORT"
    msg_type = MessageType.DM_STATUS_REPORT
    sender = Side.GUEST
    fields_desc = [
        LELongField("num_avail", 0),
        LELongField("num_committed", 0),
        LELongField("page_file_size", 0),
        LELongField("zero_free", 0),
        LEIntField("page_file_writes", 0),
        LEIntField("io_diff", 0),
    ]


class DMBalloonRequest(DMMessage):
    """``struct dm_balloon`` (host to guest): take this many pages."""

    name = "DM_BALLOON_REQUEST"
    msg_type = MessageType.DM_BALLOON_REQUEST
    sender = Side.HOST
    fields_desc = [
        LEIntField("num_pages", 0),
        LEIntField("reservedz", 0),
    ]


class DMBalloonResponse(DMMessage):
    """``struct dm_balloon_response`` (guest to host): one part of the pages given."""

    name = "DM_BALLOON_RESPONSE"
    msg_type = MessageType.DM_BALLOON_RESPONSE
    sender = Side.GUEST
    fields_desc = [
        LEIntField("reservedz", 0),
        BitFieldLenField("range_count", None, 31, count_of="range_array", tot_size=-4),
        BitField("more_pages", 0, 1, end_tot_size=-4),
        BoundedPacketListField("range_array", DMPageRange, PAGE_RANGE_SIZE, _range_count),
    ]


class DMUnballoonRequest(DMMessage):
    """``struct dm_unballoon_request`` (host to guest): one part of the pages returned."""

    name = "DM_UNBALLOON_REQUEST"
    msg_type = MessageType.DM_UNBALLOON_REQUEST
    sender = Side.HOST
    fields_desc = [
        BitField("reservedz", 0, 31, tot_size=-4),
        BitField("more_pages", 0, 1, end_tot_size=-4),
        FieldLenField("range_count", None, count_of="range_array", fmt="<I"),
        BoundedPacketListField("range_array", DMPageRange, PAGE_RANGE_SIZE, _range_count),
    ]


class DMUnballoonResponse(DMMessage):
    """``struct dm_unballoon_response`` (guest to host): header only."""

    name = "DM_UNBALLOON_RESPONSE"
    msg_type = MessageType.DM_UNBALLOON_RESPONSE
    sender = Side.GUEST
    fields_desc = []


#: The 24-byte form carries a region; the receiver tells by ``hdr.size``.
_has_region = AnyOf(Present("region"), HeaderSizeAtLeast(HEADER_SIZE + 2 * PAGE_RANGE_SIZE))


class DMHotAddRequest(DMMessage):
    """``struct dm_hot_add`` (host to guest), optionally followed by a region range."""

    name = "DM_MEM_HOT_ADD_REQUEST"
    msg_type = MessageType.DM_MEM_HOT_ADD_REQUEST
    sender = Side.HOST
    fields_desc = [
        PacketField("range", DMPageRange(), DMPageRange),
        OptionalPacketField("region", DMPageRange, _has_region, announced_by_size=True),
    ]


class DMHotAddResponse(DMMessage):
    """``struct dm_hot_add_response`` (guest to host)."""

    name = "DM_MEM_HOT_ADD_RESPONSE"
    msg_type = MessageType.DM_MEM_HOT_ADD_RESPONSE
    sender = Side.GUEST
    fields_desc = [
        LEIntField("page_count", 0),
        LEIntEnumField("result", 0, HOT_ADD_RESULTS),
    ]


class DMInfoMessage(DMMessage):
    """``struct dm_info_msg`` (host to guest, protocol 1.0 and later)."""

    name = "DM_INFO_MESSAGE"
    msg_type = MessageType.DM_INFO_MESSAGE
    sender = Side.HOST
    introduced_in = ProtocolVersion.WIN8
    fields_desc = [
        LEIntField("reserved", 0),
        FieldLenField("info_size", None, length_of="info", fmt="<I"),
        SizedPacketListField("info", DMInfoEntry, lambda p: p.info_size),
    ]


class DMHotRemoveRequest(DMMessage):
    """``struct dm_hot_remove`` (host to guest, protocol 2.0)."""

    name = "DM_MEM_HOT_REMOVE_REQUEST"
    msg_type = MessageType.DM_MEM_HOT_REMOVE_REQUEST
    sender = Side.HOST
    introduced_in = ProtocolVersion.WIN10
    fields_desc = [
        LEIntField("virtual_node", 0),
        LEIntField("page_count", 0),
        FlagsField("qos_flags", 0, -32, HOT_REMOVE_QOS),
        LEIntField("reservedZ", 0),
    ]


class DMHotRemoveResponse(DMMessage):
    """``struct dm_hot_remove_response`` (guest to host): one part of the pages removed."""

    name = "DM_MEM_HOT_REMOVE_RESPONSE"
    msg_type = MessageType.DM_MEM_HOT_REMOVE_RESPONSE
    sender = Side.GUEST
    introduced_in = ProtocolVersion.WIN10
    fields_desc = [
        LEIntField("result", 0),
        FieldLenField("range_count", None, count_of="range_array", fmt="<I"),
        BitField("reservedz", 0, 63, tot_size=-8),
        BitField("more_pages", 0, 1, end_tot_size=-8),
        BoundedPacketListField("range_array", DMPageRange, PAGE_RANGE_SIZE, _range_count),
    ]


#: Message layer for each ``dm_header.type``.
MESSAGE_LAYERS: dict[int, type[DMMessage]] = {
    layer.msg_type: layer
    for layer in (
        DMError,
        DMVersionRequest,
        DMVersionResponse,
        DMCapabilitiesReport,
        DMCapabilitiesResponse,
        DMStatusReport,
        DMBalloonRequest,
        DMBalloonResponse,
        DMUnballoonRequest,
        DMUnballoonResponse,
        DMHotAddRequest,
        DMHotAddResponse,
        DMInfoMessage,
        DMHotRemoveRequest,
        DMHotRemoveResponse,
    )
}
#: Who sends each message type (None: either side, as DM_ERROR).
SENDER: dict[int, Side | None] = {t: layer.sender for t, layer in MESSAGE_LAYERS.items()}
#: The protocol version that introduced each message type.
INTRODUCED_IN: dict[int, ProtocolVersion] = {
    t: layer.introduced_in for t, layer in MESSAGE_LAYERS.items()
}

for _type, _layer in MESSAGE_LAYERS.items():
    bind_layers(DMHeader, _layer, type=_type)


def fixed_size(msg_type: int) -> int | None:
    """Bytes of the fixed part of a message of this type, header included."""
    layer = MESSAGE_LAYERS.get(msg_type)
    if layer is None:
        return None
    return layer_fixed_size(layer)


def layer_fixed_size(layer: type[Packet]) -> int:
    """Bytes of the fixed part of a message of this layer, header included."""
    return HEADER_SIZE + layout_of(layer).fixed_size
