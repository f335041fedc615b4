"""The VMBus in-band packet descriptor that may precede a message in a ring capture.

``struct vmpacket_descriptor``: 16 bytes, then the message at ``offset8``
units of 8 bytes, then zero padding up to ``len8`` units in all.  Its ``trans_id`` is the
VMBus one, not the Dynamic Memory one.
"""

from __future__ import annotations

from importlib import import_module

from scapy.fields import LELongField, LEShortEnumField, LEShortField
from scapy.packet import Packet, bind_layers

from dmdissect.layers.base import DMPacket
from dmdissect.layers.header import DMHeader
from dmdissect.layers.layout import layout_of
from dmdissect.layers.numbers import VM_PKT_DATA_INBAND, VMBUS_PACKET_TYPES, VMBUS_UNIT
from dmdissect.layers.sizes import (  # noqa: F401 (the descriptor's sizes, re-exported)
    descriptor_length,
    looks_like_descriptor,
    vmbus_bytes,
    vmbus_packet_size,
)


class VMBusDescriptor(DMPacket):
    """``struct vmpacket_descriptor``; ``offset8`` and ``len8`` are filled in when left unset."""

    name = "vmpacket_descriptor"
    fields_desc = [
        LEShortEnumField("type", VM_PKT_DATA_INBAND, VMBUS_PACKET_TYPES),
        LEShortField("offset8", None),
        LEShortField("len8", None),
        LEShortField("flags", 0),
        LELongField("trans_id", 0),  # decimal, as the Dynamic Memory trans_id is shown
    ]

    def post_build(self, pkt: bytes, pay: bytes) -> bytes:
        if self.offset8 is None:
            pkt = _put(pkt, "offset8", len(pkt) // VMBUS_UNIT)
        if self.len8 is None:
            total = len(pkt) + len(pay)
            pad = -total % VMBUS_UNIT
            pay += b"\0" * pad
            pkt = _put(pkt, "len8", min((total + pad) // VMBUS_UNIT, _MAX_UNITS))
        return pkt + pay

    def mysummary(self) -> str:
        return self.sprintf("VMBus %VMBusDescriptor.type% len8=%VMBusDescriptor.len8%")


#: Bytes of ``struct vmpacket_descriptor``.
DESCRIPTOR_SIZE = layout_of(VMBusDescriptor).fixed_size
_SPANS = {name: layout_of(VMBusDescriptor).span(name) for name in ("type", "offset8", "len8")}
_MAX_UNITS = (1 << 8 * _SPANS["len8"][1]) - 1


def _put(pkt: bytes, name: str, value: int) -> bytes:
    offset, size = _SPANS[name]
    return pkt[:offset] + value.to_bytes(size, "little") + pkt[offset + size :]


bind_layers(VMBusDescriptor, DMHeader)
# Every message layer binds itself on the header there: a frame applied here needs them all.
import_module("dmdissect.layers.messages")


def decode_frame(data: bytes) -> tuple[Packet, DMHeader, VMBusDescriptor | None, bytes]:
    """Apply the layers to one frame: (outermost layer, header, descriptor or None, extra).

    When the frame starts with an in-band descriptor, the message is what
    ``len8`` covers and ``extra`` the frame bytes after it.
    """
    if not looks_like_descriptor(data):
        header = DMHeader(data)
        return header, header, None, b""
    vmbus = VMBusDescriptor(data[:DESCRIPTOR_SIZE])
    end = max(vmbus_bytes(vmbus.len8), DESCRIPTOR_SIZE)
    header = DMHeader(data[DESCRIPTOR_SIZE:end])
    vmbus.add_payload(header)
    return vmbus, header, vmbus, data[end:]
