"""A frame turned into a dissected message: layers applied, direction settled, checks run.

This is the seam between the sources (bytes) and everything that reasons
about messages (expert checks, the transaction tracker, the views).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scapy.packet import Packet

from dmdissect.findings import Finding
from dmdissect.layers import (
    MESSAGE_LAYERS,
    DESCRIPTOR_SIZE,
    SENDER,
    DMHeader,
    DMMessage,
    VMBusDescriptor,
    looks_like_descriptor,
    type_name,
)
from dmdissect.layers.layout import layout_of
from dmdissect.sources.frame import INFERRED, UNKNOWN, Frame


@dataclass(slots=True)
class Message:
    """One dissected message and everything known about it.

    ``packet`` is the outermost layer (the VMBus descriptor when the frame
    carries one, else the header).  ``extra`` holds frame bytes after the
    VMBus packet (``len8 * 8``); bytes after the message inside it are the
    header's payload.  ``transaction`` is filled by the tracker.
    """

    frame: Frame
    packet: Packet
    header: DMHeader
    vmbus: VMBusDescriptor | None
    direction: str | None
    direction_source: str
    findings: list[Finding] = field(default_factory=list)
    extra: bytes = b""
    transaction: Any = None

    @property
    def type(self) -> int | None:
        return None if "type" in self.header.missing else self.header.type

    @property
    def type_name(self) -> str:
        return "?" if self.type is None else type_name(self.type)

    @property
    def trans_id(self) -> int | None:
        return None if "trans_id" in self.header.missing else self.header.trans_id

    @property
    def body(self) -> DMMessage | None:
        payload = self.header.payload
        return payload if isinstance(payload, DMMessage) else None

    @property
    def message_bytes(self) -> bytes:
        """The Dynamic Memory message alone, without VMBus framing."""
        data = self.frame.data
        if self.vmbus is None:
            return data
        return data[DESCRIPTOR_SIZE:DESCRIPTOR_SIZE + len(self.header.original)]


def decode(data: bytes) -> tuple[Packet, DMHeader, VMBusDescriptor | None, bytes]:
    """Apply the layers; split off VMBus framing when the frame starts with it."""
    if not looks_like_descriptor(data):
        header = _header(data)
        return header, header, None, b""
    vmbus = VMBusDescriptor(data[:DESCRIPTOR_SIZE])
    end = max(vmbus.len8 * 8, DESCRIPTOR_SIZE)
    header = _header(data[DESCRIPTOR_SIZE:end])
    vmbus.add_payload(header)
    return vmbus, header, vmbus, data[end:]


def _header(data: bytes) -> DMHeader:
    """The header with its message layer, even when no body byte is left.

    Scapy adds no payload layer for zero bytes; a header-only message still
    needs its (empty or wholly missing) body so that it can be checked.
    """
    header = DMHeader(data)
    if header.payload or header.missing:
        return header
    layer = MESSAGE_LAYERS.get(header.type)
    if layer is not None:
        body = layer()
        body.missing = tuple(spot.name for spot in layout_of(layer).c_order)
        header.add_payload(body)
    return header


def infer_direction(frame: Frame, msg_type: int | None) -> tuple[str | None, str]:
    """The frame's own direction wins; else the type's sender, marked as inferred."""
    if frame.direction is not None:
        return frame.direction, frame.direction_source
    sender = SENDER.get(msg_type) if msg_type is not None else None
    return (sender, INFERRED) if sender else (None, UNKNOWN)


def dissect(frame: Frame) -> Message:
    """Dissect one frame and run the per-message expert checks on it."""
    from dmdissect.analysis.expert import check

    packet, header, vmbus, extra = decode(frame.data)
    msg_type = None if "type" in header.missing else header.type
    direction, source = infer_direction(frame, msg_type)
    message = Message(frame, packet, header, vmbus, direction, source, extra=extra)
    message.findings = list(frame.findings) + check(message)
    return message
