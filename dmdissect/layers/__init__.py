"""Scapy layers for every Hyper-V Dynamic Memory message: the one home of every layout.

Import this package (not ``scapy.all``) to dissect or craft messages::

    >>> from dmdissect.layers import DMHeader, DMBalloonResponse, DMPageRange
    >>> part = DMBalloonResponse(range_array=[DMPageRange(start_page=0x1000, page_cnt=512)])
    >>> message = bytes(DMHeader(trans_id=7) / part)

The numbers, names and sizes below come without Scapy (from
:mod:`~dmdissect.layers.numbers`, :mod:`~dmdissect.layers.sizes` and the
generated :mod:`~dmdissect.layers.tables`); the layer classes import Scapy
when first asked for, so a stage that needs only sizes starts without it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from dmdissect.layers.numbers import (
    HOT_ADD_RESULTS,
    HOT_REMOVE_QOS,
    INFO_TYPES,
    MAX_PART_SIZE,
    MESSAGE_TYPES,
    PAGE_SIZE,
    PAGES_PER_MIB,
    PROTOCOL_VERSIONS,
    VMBUS_UNIT,
    HotAddMeaning,
    HotAddResult,
    InfoType,
    MessageType,
    ProtocolVersion,
    hot_add_meaning,
    page_total,
    type_name,
    version_text,
)
from dmdissect.layers.sizes import (
    descriptor_length,
    fixed_size,
    looks_like_descriptor,
    ranges_per_part,
    vmbus_bytes,
    vmbus_packet_size,
)
from dmdissect.layers.tables import (
    DESCRIPTOR_SIZE,
    HEADER_SIZE,
    HEADER_STRUCT,
    INTRODUCED_IN,
    MAX_PAGE_CNT_SIZE,
    MAX_SIZE,
    PAGE_RANGE_SIZE,
    SENDER,
    SIZE_END,
)

if TYPE_CHECKING:
    from dmdissect.layers.header import DMHeader
    from dmdissect.layers.messages import (
        MESSAGE_LAYERS,
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
        layer_fixed_size,
    )
    from dmdissect.layers.vmbus import VMBusDescriptor, decode_frame

#: The names that need Scapy, and the module of each: imported on first use.
_SCAPY_NAMES = {
    "DMHeader": "header",
    **dict.fromkeys(
        (
            "MESSAGE_LAYERS",
            "DMBalloonRequest",
            "DMBalloonResponse",
            "DMCapabilitiesReport",
            "DMCapabilitiesResponse",
            "DMCaps",
            "DMError",
            "DMHotAddRequest",
            "DMHotAddResponse",
            "DMHotRemoveRequest",
            "DMHotRemoveResponse",
            "DMInfoEntry",
            "DMInfoMessage",
            "DMMessage",
            "DMPageRange",
            "DMStatusReport",
            "DMUnballoonRequest",
            "DMUnballoonResponse",
            "DMVersion",
            "DMVersionRequest",
            "DMVersionResponse",
            "layer_fixed_size",
        ),
        "messages",
    ),
    "VMBusDescriptor": "vmbus",
    "decode_frame": "vmbus",
}


def __getattr__(name: str) -> Any:
    """A layer class (or what needs one) on first use: all the Scapy modules load together,
    so every message layer is bound on the header whichever name was asked for."""
    home = _SCAPY_NAMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    for module in ("header", "messages", "vmbus"):
        import_module(f"{__name__}.{module}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


_HELPERS = ("annotations", "import_module", "TYPE_CHECKING", "Any")
__all__ = [
    *(name for name in dir() if not name.startswith("_") and name not in _HELPERS),
    *_SCAPY_NAMES,
]
