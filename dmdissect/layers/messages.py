"""One Scapy layer per Dynamic Memory message, bound on ``dm_header.type``.

Field names are the C names of ``dynmem-proto.h``.  Little-endian C bitfields
are written the Scapy way: a group opens with ``tot_size=-N`` and closes with
``end_tot_size=-N`` (N bytes), and its fields are listed from the most
significant bit down, the reverse of their C order.  ``layout.py`` turns that
back into C order for everything that displays or exports a message.

Each layer's ``mysummary()`` gives the one-line facts a reader wants first.
"""

from __future__ import annotations

from functools import cache

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
from dmdissect.layers.fields import (
    BoundedPacketListField,
    OptionalPacketField,
    SizedPacketListField,
)
from dmdissect.layers.header import (
    HEADER_SIZE,
    PROTOCOL_VERSIONS,
    DMHeader,
    mib,
    plural,
    version_text,
)
from dmdissect.layers.layout import layout_of

PAGE_RANGE_SIZE = 8

#: ``enum dm_info_type``
INFO_TYPES = {0: "MAX_PAGE_CNT"}

#: ``DM_REMOVE_QOS_*`` bits of ``dm_hot_remove.qos_flags``
HOT_REMOVE_QOS = ["LARGE", "LOCAL"]

#: ``dm_hot_add_response.result``
HOT_ADD_RESULTS = {0: "failure", 1: "success"}


# --- nested structures ---------------------------------------------------------


class DMVersion(DMStruct):
    """``union dm_version``: minor in the low word, major in the high word."""

    name = "dm_version"
    #: The names of the union read as one 32-bit word (``version.version``).
    whole_values = PROTOCOL_VERSIONS
    fields_desc = [
        LEShortField("minor_version", 0),
        LEShortField("major_version", 0),
    ]

    @property
    def version(self) -> int:
        return (self.major_version << 16) | self.minor_version

    def mysummary(self) -> str:
        return version_text(self.version)


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

    def mysummary(self) -> str:
        parts = []
        if self.balloon:
            parts.append("balloon")
        if self.hot_add:
            parts.append(f"hot-add (align {1 << self.hot_add_alignment} MiB)")
        if self.hot_remove:
            parts.append("hot-remove")
        return ", ".join(parts) or "no capabilities"


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

    def mysummary(self) -> str:
        return f"{self.start_page:#x}+{self.page_cnt}"


def _page_count_entry(pkt: Packet) -> bool:
    """``data`` is a page count; ``data_size`` None is a packet being built."""
    when = DMInfoEntry.variant_when["data"]
    return pkt.type == when["type"] and pkt.data_size in (None, when["data_size"])


class DMInfoEntry(DMStruct):
    """``struct dm_info_header``: one typed entry of an info message."""

    name = "dm_info_header"
    #: When ``data`` is a 64-bit page count instead of bytes (MAX_PAGE_CNT of 8 bytes).
    variant_when = {"data": {"type": 0, "data_size": 8}}
    fields_desc = [
        LEIntEnumField("type", 0, INFO_TYPES),
        FieldLenField("data_size", None, length_of="data", fmt="<I"),
        MultipleTypeField(
            [(LELongField("data", 0), lambda p: _page_count_entry(p))],
            XStrLenField("data", b"", length_from=lambda p: p.data_size),
        ),
    ]

    def mysummary(self) -> str:
        if self.missing:
            return f"entry cut short (missing {', '.join(self.missing)})"
        name = INFO_TYPES.get(self.type, f"type {self.type}")
        if isinstance(self.data, int):
            return f"{name} {self.data} pages ({mib(self.data)})"
        return f"{name} {plural(len(self.data or b''), 'byte')}"


def page_total(ranges: list[DMPageRange]) -> int:
    return sum(r.page_cnt for r in ranges)


def _range_count(pkt: Packet) -> int:
    return pkt.range_count or 0


# --- messages ------------------------------------------------------------------


class DMMessage(DMPacket):
    """Base of every message body; the header is the layer underneath."""

    def header(self) -> DMHeader | None:
        under = self.underlayer
        return under if isinstance(under, DMHeader) else None

    def mysummary(self) -> str:
        return ""


class DMError(DMMessage):
    """``DM_ERROR`` (type 0): a header with no defined body."""

    name = "DM_ERROR"
    fields_desc = []

    def mysummary(self) -> str:
        return "error"


class DMVersionRequest(DMMessage):
    """``struct dm_version_request`` (guest to host)."""

    name = "DM_VERSION_REQUEST"
    fields_desc = [
        PacketField("version", DMVersion(), DMVersion),
        BitField("reservedz", 0, 31, tot_size=-4),
        BitField("is_last_attempt", 0, 1, end_tot_size=-4),
    ]

    def mysummary(self) -> str:
        text = f"version {self.version.mysummary()}"
        return text + ", last attempt" if self.is_last_attempt else text


class DMVersionResponse(DMMessage):
    """``struct dm_version_response`` (host to guest)."""

    name = "DM_VERSION_RESPONSE"
    fields_desc = [
        BitField("reservedz", 0, 63, tot_size=-8),
        BitField("is_accepted", 0, 1, end_tot_size=-8),
    ]

    def mysummary(self) -> str:
        return "accepted" if self.is_accepted else "refused"


class DMCapabilitiesReport(DMMessage):
    """``struct dm_capabilities`` (guest to host)."""

    name = "DM_CAPABILITIES_REPORT"
    fields_desc = [
        PacketField("caps", DMCaps(), DMCaps),
        LELongField("min_page_cnt", 0),
        XLELongField("max_page_number", 0),
    ]

    def mysummary(self) -> str:
        return (
            f"{self.caps.mysummary()}, min {self.min_page_cnt} pages, "
            f"max page {self.max_page_number:#x}"
        )


class DMCapabilitiesResponse(DMMessage):
    """``struct dm_capabilities_resp_msg`` (host to guest)."""

    name = "DM_CAPABILITIES_RESPONSE"
    fields_desc = [
        BitField("reservedz", 0, 61, tot_size=-8),
        BitField("suppress_pressure_reports", 0, 1),
        BitField("hot_remove", 0, 1),
        BitField("is_accepted", 0, 1, end_tot_size=-8),
    ]

    def mysummary(self) -> str:
        parts = ["accepted" if self.is_accepted else "refused"]
        if self.hot_remove:
            parts.append("hot-remove")
        if self.suppress_pressure_reports:
            parts.append("pressure reports suppressed")
        return ", ".join(parts)


class DMStatusReport(DMMessage):
    """``struct dm_status`` (guest to host, about once a second)."""

    name = "DM_STATUS_REPORT"
    fields_desc = [
        LELongField("num_avail", 0),
        LELongField("num_committed", 0),
        LELongField("page_file_size", 0),
        LELongField("zero_free", 0),
        LEIntField("page_file_writes", 0),
        LEIntField("io_diff", 0),
    ]

    def mysummary(self) -> str:
        return (
            f"avail {self.num_avail} pages ({mib(self.num_avail)}), "
            f"committed {self.num_committed} pages ({mib(self.num_committed)})"
        )


class DMBalloonRequest(DMMessage):
    """``struct dm_balloon`` (host to guest): take this many pages."""

    name = "DM_BALLOON_REQUEST"
    fields_desc = [
        LEIntField("num_pages", 0),
        LEIntField("reservedz", 0),
    ]

    def mysummary(self) -> str:
        return f"{self.num_pages} pages ({mib(self.num_pages)})"


def _part_summary(count: int, pages: int, more: int) -> str:
    tail = "more follow" if more else "last part"
    return f"part: {plural(count, 'range')}, {pages} pages, {tail}"


class DMBalloonResponse(DMMessage):
    """``struct dm_balloon_response`` (guest to host): one part of the pages given."""

    name = "DM_BALLOON_RESPONSE"
    fields_desc = [
        LEIntField("reservedz", 0),
        BitFieldLenField("range_count", None, 31, count_of="range_array", tot_size=-4),
        BitField("more_pages", 0, 1, end_tot_size=-4),
        BoundedPacketListField("range_array", DMPageRange, PAGE_RANGE_SIZE, _range_count),
    ]

    def mysummary(self) -> str:
        if not self.range_count and not self.more_pages:
            return "0 ranges, 0 pages (guest at floor)"
        return _part_summary(self.range_count, page_total(self.range_array), self.more_pages)


class DMUnballoonRequest(DMMessage):
    """``struct dm_unballoon_request`` (host to guest): one part of the pages returned."""

    name = "DM_UNBALLOON_REQUEST"
    fields_desc = [
        BitField("reservedz", 0, 31, tot_size=-4),
        BitField("more_pages", 0, 1, end_tot_size=-4),
        FieldLenField("range_count", None, count_of="range_array", fmt="<I"),
        BoundedPacketListField("range_array", DMPageRange, PAGE_RANGE_SIZE, _range_count),
    ]

    def mysummary(self) -> str:
        return _part_summary(self.range_count, page_total(self.range_array), self.more_pages)


class DMUnballoonResponse(DMMessage):
    """``struct dm_unballoon_response`` (guest to host): header only."""

    name = "DM_UNBALLOON_RESPONSE"
    fields_desc = []

    def mysummary(self) -> str:
        return "done"


def _has_region(pkt: Packet) -> bool:
    """The 24-byte form carries a region; the receiver tells by ``hdr.size``."""
    if pkt.fields.get("region") is not None:
        return True
    under = pkt.underlayer
    return isinstance(under, DMHeader) and (under.size or 0) >= HEADER_SIZE + 2 * PAGE_RANGE_SIZE


class DMHotAddRequest(DMMessage):
    """``struct dm_hot_add`` (host to guest), optionally followed by a region range."""

    name = "DM_MEM_HOT_ADD_REQUEST"
    fields_desc = [
        PacketField("range", DMPageRange(), DMPageRange),
        OptionalPacketField("region", DMPageRange, _has_region),
    ]

    def mysummary(self) -> str:
        text = f"{self.range.page_cnt} pages ({mib(self.range.page_cnt)}) at {self.range.start_page:#x}"
        if self.region is not None:
            text += f", region {self.region.page_cnt} pages at {self.region.start_page:#x}"
        return text


class DMHotAddResponse(DMMessage):
    """``struct dm_hot_add_response`` (guest to host)."""

    name = "DM_MEM_HOT_ADD_RESPONSE"
    fields_desc = [
        LEIntField("page_count", 0),
        LEIntEnumField("result", 0, HOT_ADD_RESULTS),
    ]

    def mysummary(self) -> str:
        text = f"{self.page_count} pages ({mib(self.page_count)}), "
        if self.result == 1:
            return text + "success"
        if self.result == 0:
            return text + "failure (transient)"
        return text + f"result {self.result}"


class DMInfoMessage(DMMessage):
    """``struct dm_info_msg`` (host to guest, protocol 1.0 and later)."""

    name = "DM_INFO_MESSAGE"
    fields_desc = [
        LEIntField("reserved", 0),
        FieldLenField("info_size", None, length_of="info", fmt="<I"),
        SizedPacketListField("info", DMInfoEntry, lambda p: p.info_size),
    ]

    def mysummary(self) -> str:
        if not self.info:
            return "no entries"
        return "; ".join(entry.mysummary() for entry in self.info)


class DMHotRemoveRequest(DMMessage):
    """``struct dm_hot_remove`` (host to guest, protocol 2.0)."""

    name = "DM_MEM_HOT_REMOVE_REQUEST"
    fields_desc = [
        LEIntField("virtual_node", 0),
        LEIntField("page_count", 0),
        FlagsField("qos_flags", 0, -32, HOT_REMOVE_QOS),
        LEIntField("reservedZ", 0),
    ]

    def mysummary(self) -> str:
        text = f"{self.page_count} pages ({mib(self.page_count)}), node {self.virtual_node}"
        flags = str(self.qos_flags)
        return text + (f", qos {flags}" if int(self.qos_flags) else "")


class DMHotRemoveResponse(DMMessage):
    """``struct dm_hot_remove_response`` (guest to host): one part of the pages removed."""

    name = "DM_MEM_HOT_REMOVE_RESPONSE"
    fields_desc = [
        LEIntField("result", 0),
        FieldLenField("range_count", None, count_of="range_array", fmt="<I"),
        BitField("reservedz", 0, 63, tot_size=-8),
        BitField("more_pages", 0, 1, end_tot_size=-8),
        BoundedPacketListField("range_array", DMPageRange, PAGE_RANGE_SIZE, _range_count),
    ]

    def mysummary(self) -> str:
        return f"result {self.result}, " + _part_summary(
            self.range_count, page_total(self.range_array), self.more_pages
        )


#: Message layer for each ``dm_header.type``.
MESSAGE_LAYERS: dict[int, type[DMMessage]] = {
    0: DMError,
    1: DMVersionRequest,
    2: DMVersionResponse,
    3: DMCapabilitiesReport,
    4: DMCapabilitiesResponse,
    5: DMStatusReport,
    6: DMBalloonRequest,
    7: DMBalloonResponse,
    8: DMUnballoonRequest,
    9: DMUnballoonResponse,
    10: DMHotAddRequest,
    11: DMHotAddResponse,
    12: DMInfoMessage,
    13: DMHotRemoveRequest,
    14: DMHotRemoveResponse,
}

for _type, _layer in MESSAGE_LAYERS.items():
    bind_layers(DMHeader, _layer, type=_type)


@cache
def fixed_size(msg_type: int) -> int | None:
    """Bytes of the fixed part of a message of this type, header included."""
    layer = MESSAGE_LAYERS.get(msg_type)
    if layer is None:
        return None
    return HEADER_SIZE + layout_of(layer).fixed_size
