"""The VMBus in-band packet descriptor that may precede a message in a ring capture.

``struct vmpacket_descriptor``: 16 bytes, then the message at ``offset8``
units of 8 bytes, then zero padding up to ``len8`` units in all.  Its ``trans_id`` is the
VMBus one, not the Dynamic Memory one.
"""

from __future__ import annotations

from scapy.fields import LELongField, LEShortEnumField, LEShortField
from scapy.packet import Packet, bind_layers

from dmdissect.layers.base import DMPacket
from dmdissect.layers.header import HEADER_SIZE, DMHeader
from dmdissect.layers.layout import layout_of

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


def _get(data: bytes | bytearray, name: str) -> int:
    offset, size = _SPANS[name]
    return int.from_bytes(data[offset : offset + size], "little")


def vmbus_bytes(units: int) -> int:
    """Bytes that ``units`` of ``offset8`` or ``len8`` count."""
    return units * VMBUS_UNIT


def vmbus_packet_size(message_size: int) -> int:
    """Bytes of the VMBus packet that carries a message of ``message_size`` bytes:
    the descriptor, the message and its padding to a whole unit."""
    total = DESCRIPTOR_SIZE + message_size
    return total + (-total % VMBUS_UNIT)


def looks_like_descriptor(data: bytes | bytearray) -> bool:
    """True when ``data`` starts with a plausible in-band descriptor.

    A Dynamic Memory header never matches: it would need type 6 with a size of
    2 and be followed by another plausible header at byte 16.
    """
    if len(data) < DESCRIPTOR_SIZE + HEADER_SIZE:
        return False
    return (
        _get(data, "type") == VM_PKT_DATA_INBAND
        and vmbus_bytes(_get(data, "offset8")) == DESCRIPTOR_SIZE
        and vmbus_bytes(_get(data, "len8")) >= DESCRIPTOR_SIZE + HEADER_SIZE
    )


bind_layers(VMBusDescriptor, DMHeader)


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


def descriptor_length(data: bytes | bytearray) -> int:
    """The bytes of the whole VMBus packet that starts ``data``, as its ``len8`` says."""
    return vmbus_bytes(_get(data, "len8"))
