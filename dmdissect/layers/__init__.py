"""Scapy layers for every Hyper-V Dynamic Memory message: the one home of every layout.

Import this package (not ``scapy.all``) to dissect or craft messages::

    >>> from dmdissect.layers import DMHeader, DMBalloonResponse, DMPageRange
    >>> bytes(DMHeader(trans_id=7) / DMBalloonResponse(range_array=[DMPageRange(start_page=0x1000, page_cnt=512)]))
"""

from dmdissect.layers.header import (
    GUEST,
    HEADER_SIZE,
    HEADER_STRUCT,
    HOST,
    MESSAGE_TYPES,
    PROTOCOL_VERSIONS,
    SENDER,
    DMHeader,
    type_name,
    version_text,
)
from dmdissect.layers.messages import (
    HOT_ADD_RESULTS,
    HOT_REMOVE_QOS,
    INFO_TYPES,
    MESSAGE_LAYERS,
    PAGE_RANGE_SIZE,
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
    fixed_size,
    page_total,
)
from dmdissect.layers.phrases import mib, plural
from dmdissect.layers.vmbus import (
    DESCRIPTOR_SIZE,
    VMBusDescriptor,
    descriptor_length,
    looks_like_descriptor,
)

__all__ = [name for name in dir() if not name.startswith("_")]
