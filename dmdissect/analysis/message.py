"""A frame turned into a dissected message: layers applied, direction settled, checks run.

This is the seam between the sources (bytes) and everything that reasons
about messages (expert checks, the transaction tracker, the views).

Two ways in, one result.  Messages whose layer compiles
(:mod:`dmdissect.layers.compiled`) and that carry no VMBus framing are decoded
into light values objects; everything else goes through Scapy.  Either way
``body`` answers the same attribute names and the same expert checks run on
it; the Scapy packets are built lazily, only for views that need them (the
field tree), so a summary of a million status reports never builds one.
"""

from __future__ import annotations

from typing import Any

from scapy.packet import Packet

from dmdissect.analysis.expert import check
from dmdissect.findings import Finding
from dmdissect.layers import (
    DESCRIPTOR_SIZE,
    HEADER_SIZE,
    HEADER_STRUCT,
    MESSAGE_LAYERS,
    SENDER,
    DMHeader,
    DMMessage,
    VMBusDescriptor,
    looks_like_descriptor,
    type_name,
)
from dmdissect.layers.compiled import compile_layer
from dmdissect.sources.frame import INFERRED, UNKNOWN, Frame


class Message:
    """One dissected message and everything known about it.

    ``type``, ``size`` and ``trans_id`` are the header's values (None when the
    bytes end before them).  ``body`` is the message layer: a Scapy packet or
    a compiled values object, both with the C field names and ``missing``.
    ``available`` is how many bytes the message has (inside any VMBus
    framing) and ``consumed`` how many of them the layers decoded.
    ``transaction`` is filled by the tracker.
    """

    __slots__ = (
        "frame",
        "direction",
        "direction_source",
        "findings",
        "transaction",
        "type",
        "size",
        "trans_id",
        "body",
        "available",
        "consumed",
        "framed",
        "_scapy",
    )

    def __init__(self, frame: Frame) -> None:
        self.frame = frame
        self.findings: list[Finding] = []
        self.transaction: Any = None
        self.direction: str | None = None
        self.direction_source = UNKNOWN
        self.type: int | None = None
        self.size: int | None = None
        self.trans_id: int | None = None
        self.body: Any = None
        self.available = 0
        self.consumed = 0
        self.framed = False
        self._scapy: tuple | None = None

    @property
    def type_name(self) -> str:
        return "?" if self.type is None else type_name(self.type)

    # --- the Scapy view, built on first use --------------------------------------

    def _layers(self) -> tuple[Packet, DMHeader, VMBusDescriptor | None, bytes]:
        if self._scapy is None:
            self._scapy = decode(self.frame.data)
        return self._scapy

    @property
    def packet(self) -> Packet:
        """The outermost Scapy layer: the VMBus descriptor or the header."""
        return self._layers()[0]

    @property
    def header(self) -> DMHeader:
        return self._layers()[1]

    @property
    def vmbus(self) -> VMBusDescriptor | None:
        return self._layers()[2] if self.framed else None

    @property
    def extra(self) -> bytes:
        """Frame bytes after the VMBus packet (``len8 * 8``)."""
        return self._layers()[3] if self.framed else b""

    @property
    def scapy_body(self) -> DMMessage | None:
        payload = self.header.payload
        return payload if isinstance(payload, DMMessage) else None

    @property
    def rest(self) -> bytes:
        """Bytes after what the layers decoded (after the header for unknown types)."""
        if self.consumed >= self.available:
            return b""
        return self.message_bytes[self.consumed :]

    @property
    def cut(self) -> bytes:
        """Left-over bytes of a field or structure the input cut short."""
        rest = self.rest
        return rest if rest and self.body is not None and cut_short(self.body) else b""

    @property
    def trailing(self) -> bytes:
        """Bytes after a message that is whole: more than its content declares."""
        rest = self.rest
        return b"" if not rest or (self.body is not None and cut_short(self.body)) else rest

    @property
    def message_bytes(self) -> bytes:
        """The Dynamic Memory message alone, without VMBus framing."""
        data = self.frame.data
        if not self.framed:
            return data
        return data[DESCRIPTOR_SIZE : DESCRIPTOR_SIZE + self.available]


def cut_short(body: Any) -> bool:
    """The body says more should follow than the bytes hold.

    A field is missing, a list counts more ranges than arrived, or its last
    info entry is cut: bytes left over are the start of what is missing, not
    bytes after the message.
    """
    if body.missing:
        return True
    count = getattr(body, "range_count", None)
    if count is not None and count > len(body.range_array):
        return True
    entries = getattr(body, "info", None)
    return bool(entries) and bool(getattr(entries[-1], "missing", ()))


def decode(data: bytes) -> tuple[Packet, DMHeader, VMBusDescriptor | None, bytes]:
    """Apply the Scapy layers; split off VMBus framing when the frame starts with it."""
    if not looks_like_descriptor(data):
        header = DMHeader(data)
        return header, header, None, b""
    vmbus = VMBusDescriptor(data[:DESCRIPTOR_SIZE])
    end = max(vmbus.len8 * 8, DESCRIPTOR_SIZE)
    header = DMHeader(data[DESCRIPTOR_SIZE:end])
    vmbus.add_payload(header)
    return vmbus, header, vmbus, data[end:]


def infer_direction(frame: Frame, msg_type: int | None) -> tuple[str | None, str]:
    """The frame's own direction wins; else the type's sender, marked as inferred."""
    if frame.direction is not None:
        return frame.direction, frame.direction_source
    sender = SENDER.get(msg_type) if msg_type is not None else None
    return (sender, INFERRED) if sender else (None, UNKNOWN)


#: Compiled decoder of each message type whose layer compiles.
_DECODERS = {
    msg_type: decoder
    for msg_type, layer in MESSAGE_LAYERS.items()
    if (decoder := compile_layer(layer)) is not None
}
#: The first bytes of every VMBus in-band descriptor (type 6, offset8 2).
_DESCRIPTOR_START = VMBusDescriptor().build()[:4]


def _fill_fast(message: Message, data: bytes) -> bool:
    """Decode with a compiled layer when one applies; False sends the frame to Scapy."""
    if len(data) < HEADER_SIZE or (data[:4] == _DESCRIPTOR_START and looks_like_descriptor(data)):
        return False
    msg_type, size, trans_id = HEADER_STRUCT.unpack_from(data)
    decoder = _DECODERS.get(msg_type)
    if decoder is None or len(data) < HEADER_SIZE + decoder.fixed:
        return False
    message.body, message.consumed = decoder.decode(data, HEADER_SIZE)
    message.type, message.size, message.trans_id = msg_type, size, trans_id
    message.available = len(data)
    return True


def _fill_scapy(message: Message) -> None:
    _, header, vmbus, _ = message._layers()
    message.framed = vmbus is not None
    message.available = len(header.original)
    message.type = None if "type" in header.missing else header.type
    message.size = None if "size" in header.missing else header.size
    message.trans_id = None if "trans_id" in header.missing else header.trans_id
    body = message.scapy_body
    message.body = body
    if header.missing:
        message.consumed = 0
    elif body is None:
        message.consumed = HEADER_SIZE
    else:
        rest = bytes(body.payload) if body.payload else b""
        message.consumed = message.available - len(rest)


def dissect(frame: Frame, fast: bool = True) -> Message:
    """Dissect one frame and run the per-message expert checks on it.

    ``fast=False`` forces the Scapy path (the differential tests compare both).
    """
    message = Message(frame)
    if not (fast and _fill_fast(message, frame.data)):
        _fill_scapy(message)
    message.direction, message.direction_source = infer_direction(frame, message.type)
    message.findings = list(frame.findings) + check(message)
    return message
