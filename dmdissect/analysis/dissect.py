"""Dissection: a frame in, a :class:`~dmdissect.analysis.message.Message` out.

Layers applied, direction settled, per-message expert checks run.  Two ways
in, one result: messages whose layer compiles (behind VMBus framing or not)
are decoded into light values objects by the decoders generated from the
layers (:mod:`dmdissect.layers.tables`), which need no Scapy; everything
else goes through Scapy, imported then.  Either way ``body`` answers the
same attribute names and the same expert checks run on it.
"""

from __future__ import annotations

from collections.abc import Callable

from dmdissect.analysis.expert import check, sound_check
from dmdissect.analysis.message import Message
from dmdissect.layers.sizes import descriptor_length, looks_like_descriptor
from dmdissect.layers.tables import (
    DECODERS,
    DESCRIPTOR_SIZE,
    DESCRIPTOR_START,
    FIXED_SIZES,
    HEADER_SIZE,
    HEADER_STRUCT,
    SENDER,
    VMBUS_DECODER,
)
from dmdissect.layers.values import NotCompiled
from dmdissect.sources.frame import Frame
from dmdissect.vocabulary import Direction, DirectionSource


def infer_direction(frame: Frame, msg_type: int | None) -> tuple[Direction | None, DirectionSource]:
    """The frame's own direction wins; else the type's sender, marked as inferred."""
    if frame.direction is not None:
        return frame.direction, frame.direction_source
    sender = SENDER.get(msg_type) if msg_type is not None else None
    if sender is None:
        return None, DirectionSource.UNKNOWN
    return sender.direction, DirectionSource.INFERRED


#: Compiled decoder and fixed size (header included) of each message type whose layer compiles.
_DECODERS = {msg_type: (decode, FIXED_SIZES[msg_type]) for msg_type, decode in DECODERS.items()}
#: The way each message type goes, as its sender says (None: either side may send it).
_SENT = {msg_type: None if side is None else side.direction for msg_type, side in SENDER.items()}
_INFERRED, _UNKNOWN = DirectionSource.INFERRED, DirectionSource.UNKNOWN
#: The compiled precheck of each body class seen (see :func:`expert.sound_check`).
_SOUND: dict[type, Callable[[Message], bool]] = {}


def _fast(frame: Frame) -> Message | None:
    """The message decoded by a compiled layer when one applies; None sends it to Scapy.

    A VMBus-framed frame is cut where Scapy's path cuts it (``len8 * 8``) and
    its descriptor decoded by the descriptor layer's compiled decoder.
    """
    data = frame.data
    if len(data) < HEADER_SIZE:
        return None
    vmbus = None
    if data[: len(DESCRIPTOR_START)] == DESCRIPTOR_START and looks_like_descriptor(data):
        vmbus = VMBUS_DECODER(data, 0)[0]
        data = data[DESCRIPTOR_SIZE : max(descriptor_length(data), DESCRIPTOR_SIZE)]
        if len(data) < HEADER_SIZE:
            return None
    msg_type, size, trans_id = HEADER_STRUCT.unpack_from(data)
    decoder = _DECODERS.get(msg_type)
    if decoder is None or len(data) < decoder[1]:
        return None
    try:
        body, consumed = decoder[0](data, HEADER_SIZE)
    except NotCompiled:
        return None
    direction = frame.direction
    if direction is not None:
        source = frame.direction_source
    else:
        # infer_direction(), in line
        direction = _SENT.get(msg_type)
        source = _UNKNOWN if direction is None else _INFERRED
    return Message(
        frame, msg_type, size, trans_id, body, len(data), consumed, vmbus, direction, source
    )


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


def _witnessed(frame: Frame) -> Message:
    """The message a log line witnesses: the facts it gives, no bytes to decode."""
    from dmdissect.analysis.witness import witnessed

    message = Message(frame)
    witnessed(frame, message)
    return message


def dissect(frame: Frame, fast: bool = True) -> Message:
    """Dissect one frame and run the per-message expert checks on it.

    ``fast=False`` forces the Scapy path (the differential tests compare both).
    """
    if frame.witness is not None:
        return _witnessed(frame)
    message = _fast(frame) if fast else None
    if message is None:
        message = Message(frame)
        _fill_scapy(message)
        message.direction, message.direction_source = infer_direction(frame, message.type)
    body = message.body
    if message.framed or body is None:
        found = check(message)
    else:
        # check()'s own first step, with the precheck compiled for the body's layer.
        kind: type = type(body)
        sound = _SOUND.get(kind)
        if sound is None:
            sound = _SOUND[kind] = sound_check(kind)
        found = [] if sound(message) else check(message, quick=False)
    if frame.findings:
        message.findings = frame.findings + found
    elif found:
        message.findings = found
    return message
