"""The protocol's numbers and their names, free of Scapy.

Message types, protocol versions, info types, hot-add results, QoS bits and
the VMBus packet types are plain enumerations: the Scapy layers use them in
their ``fields_desc`` and every later stage uses them by name, so they live
here, where importing them costs no Scapy (``dmdissect read`` starts without
it).  Layouts and sizes are not here: they come from the layers'
``fields_desc`` (:mod:`dmdissect.layers.tables` holds what the read path needs of
them).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum, StrEnum
from typing import Any

from dmdissect.layers import expressions

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


class InfoType(IntEnum):
    """``enum dm_info_type``."""

    MAX_PAGE_CNT = 0


INFO_TYPES = {member.value: member.name for member in InfoType}
#: The largest message a peer sends in one part (docs/protocol.md: a 4 KiB page).
MAX_PART_SIZE = 4096

#: ``DM_REMOVE_QOS_*`` bits of ``dm_hot_remove.qos_flags``
HOT_REMOVE_QOS = ["LARGE", "LOCAL"]


class HotAddResult(IntEnum):
    """``dm_hot_add_response.result``: 1 success, 0 failure."""

    FAILURE = 0
    SUCCESS = 1


HOT_ADD_RESULTS = {member.value: member.name.lower() for member in HotAddResult}


class HotAddMeaning(StrEnum):
    """What a hot-add response says, read as the peers read it (docs/protocol.md)."""

    SUCCESS = "success"
    #: Result 0: this attempt failed; the host may retry.
    TRANSIENT_FAILURE = "transient failure"
    #: Result 1 with page_count 0: the guest cannot hot-add; the host stops asking.
    PERMANENT_FAILURE = "permanent failure"
    #: A result the protocol does not define.
    UNDEFINED = "undefined"


def hot_add_meaning(result: int, page_count: int | None) -> HotAddMeaning:
    """The one reading of ``result`` (and ``page_count``) every stage uses."""
    if result == HotAddResult.FAILURE:
        return HotAddMeaning.TRANSIENT_FAILURE
    if result == HotAddResult.SUCCESS:
        return HotAddMeaning.PERMANENT_FAILURE if page_count == 0 else HotAddMeaning.SUCCESS
    return HotAddMeaning.UNDEFINED


def page_total(ranges: Iterable[Any]) -> int:
    """Pages of a list of page ranges (packets or values alike)."""
    return sum(r.page_cnt for r in ranges)


#: ``VM_PKT_DATA_INBAND``: the descriptor type of a packet carrying its data in line.
VM_PKT_DATA_INBAND = 6
#: ``offset8`` and ``len8`` count the packet in units of this many bytes, and the
#: packet is padded to a whole unit.
VMBUS_UNIT = 8

VMBUS_PACKET_TYPES = {
    0: "VM_PKT_INVALID",
    1: "VM_PKT_SYNCH",
    2: "VM_PKT_ADD_XFER_PAGESET",
    3: "VM_PKT_RM_XFER_PAGESET",
    4: "VM_PKT_ESTABLISH_GPADL",
    5: "VM_PKT_TEARDOWN_GPADL",
    6: "VM_PKT_DATA_INBAND",
    7: "VM_PKT_DATA_USING_XFER_PAGES",
    8: "VM_PKT_DATA_USING_GPADL",
    9: "VM_PKT_DATA_USING_GPA_DIRECT",
    10: "VM_PKT_CANCEL_REQUEST",
    11: "VM_PKT_COMP",
    12: "VM_PKT_DATA_USING_ADDITIONAL_PKT",
    13: "VM_PKT_ADDITIONAL_DATA",
}
