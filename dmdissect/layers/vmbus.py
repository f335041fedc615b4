"""The VMBus in-band packet descriptor that may precede a message in a ring capture.

``struct vmpacket_descriptor``: 16 bytes, then the message at ``offset8 * 8``,
then zero padding up to ``len8 * 8`` bytes in all.  Its ``trans_id`` is the
VMBus one, not the Dynamic Memory one.
"""

from __future__ import annotations

from scapy.fields import LEShortEnumField, LEShortField, XLELongField
from scapy.packet import Packet, bind_layers

from dmdissect.layers.base import DMPacket
from dmdissect.layers.header import HEADER_SIZE, DMHeader

DESCRIPTOR_SIZE = 16
VM_PKT_DATA_INBAND = 6

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
    """``struct vmpacket_descriptor``; ``len8`` is filled in when left unset."""

    name = "vmpacket_descriptor"
    fields_desc = [
        LEShortEnumField("type", VM_PKT_DATA_INBAND, VMBUS_PACKET_TYPES),
        LEShortField("offset8", DESCRIPTOR_SIZE // 8),
        LEShortField("len8", None),
        LEShortField("flags", 0),
        XLELongField("trans_id", 0),
    ]

    def post_build(self, pkt: bytes, pay: bytes) -> bytes:
        if self.len8 is None:
            total = len(pkt) + len(pay)
            pad = -total % 8
            pay += b"\0" * pad
            pkt = pkt[:4] + min((total + pad) // 8, 0xFFFF).to_bytes(2, "little") + pkt[6:]
        return pkt + pay

    def mysummary(self) -> str:
        return self.sprintf("VMBus %VMBusDescriptor.type% len8=%VMBusDescriptor.len8%")


def looks_like_descriptor(data: bytes | bytearray) -> bool:
    """True when ``data`` starts with a plausible in-band descriptor.

    A Dynamic Memory header never matches: it would need type 6 with a size of
    2 and be followed by another plausible header at byte 16.
    """
    if len(data) < DESCRIPTOR_SIZE + HEADER_SIZE:
        return False
    kind = int.from_bytes(data[0:2], "little")
    offset8 = int.from_bytes(data[2:4], "little")
    len8 = int.from_bytes(data[4:6], "little")
    return (
        kind == VM_PKT_DATA_INBAND
        and offset8 == DESCRIPTOR_SIZE // 8
        and len8 * 8 >= DESCRIPTOR_SIZE + HEADER_SIZE
    )


bind_layers(VMBusDescriptor, DMHeader)


def decode_frame(data: bytes) -> tuple[Packet, DMHeader, VMBusDescriptor | None, bytes]:
    """Apply the layers to one frame: (outermost layer, header, descriptor or None, extra).

    When the frame starts with an in-band descriptor, the message is what
    ``len8 * 8`` covers and ``extra`` the frame bytes after it.
    """
    if not looks_like_descriptor(data):
        header = DMHeader(data)
        return header, header, None, b""
    vmbus = VMBusDescriptor(data[:DESCRIPTOR_SIZE])
    end = max(vmbus.len8 * 8, DESCRIPTOR_SIZE)
    header = DMHeader(data[DESCRIPTOR_SIZE:end])
    vmbus.add_payload(header)
    return vmbus, header, vmbus, data[end:]


def _len8_spot():
    from dmdissect.layers.layout import layout_of

    return next(spot for spot in layout_of(VMBusDescriptor).spots if spot.name == "len8")


_LEN8 = _len8_spot()


def descriptor_length(data: bytes | bytearray) -> int:
    """``len8 * 8``: the bytes of the whole VMBus packet that starts ``data``."""
    return int.from_bytes(data[_LEN8.offset : _LEN8.offset + _LEN8.size], "little") * 8
