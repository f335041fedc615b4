"""Scapy layers for every Hyper-V Dynamic Memory message: the one home of every layout.

Import this package (not ``scapy.all``) to dissect or craft messages::

    >>> from dmdissect.layers import DMHeader, DMBalloonResponse, DMPageRange
    >>> part = DMBalloonResponse(range_array=[DMPageRange(start_page=0x1000, page_cnt=512)])
    >>> message = bytes(DMHeader(trans_id=7) / part)
"""

from dmdissect.layers.header import (
    HEADER_SIZE,
    HEADER_STRUCT,
    MAX_SIZE,
    MESSAGE_TYPES,
    PAGE_SIZE,
    PAGES_PER_MIB,
    PROTOCOL_VERSIONS,
    SIZE_END,
    DMHeader,
    MessageType,
    ProtocolVersion,
    type_name,
    version_text,
)
from dmdissect.layers.messages import (
    HOT_ADD_RESULTS,
    HOT_REMOVE_QOS,
    INFO_TYPES,
    INTRODUCED_IN,
    MAX_PAGE_CNT_SIZE,
    MAX_PART_SIZE,
    MESSAGE_LAYERS,
    PAGE_RANGE_SIZE,
    SENDER,
    DMBalloonRequest,
    DMBalloonResponse,
    DMCapabilitiesReport,
    DMCapabilitiesResponse,
    DMCaps,
    DMError,
    DMHotAddRequest,
    DMHotAddResponse,
    DMHotRemoveRequest,
    DMHotRemoveResponse,
    DMInfoEntry,
    DMInfoMessage,
    DMMessage,
    DMPageRange,
    DMStatusReport,
    DMUnballoonRequest,
    DMUnballoonResponse,
    DMVersion,
    DMVersionRequest,
    DMVersionResponse,
    HotAddMeaning,
    HotAddResult,
    InfoType,
    fixed_size,
    hot_add_meaning,
    layer_fixed_size,
    page_total,
    ranges_per_part,
)
from dmdissect.layers.vmbus import (
    DESCRIPTOR_SIZE,
    VMBUS_UNIT,
    VMBusDescriptor,
    decode_frame,
    descriptor_length,
    looks_like_descriptor,
    vmbus_bytes,
    vmbus_packet_size,
)

__all__ = [name for name in dir() if not name.startswith("_")]
