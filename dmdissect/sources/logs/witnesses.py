"""Building blocks the log readers share: message types by name, frames of lines.

Log readers name messages by their C names (``DM_BALLOON_REQUEST``); the
numbers come from the layers, which are their one home.
"""

from __future__ import annotations

from functools import cache

from dmdissect.findings import Finding
from dmdissect.layers import MESSAGE_TYPES, SENDER, MessageType
from dmdissect.layers.tables import LAYER_NAMES
from dmdissect.sources.frame import Event, Frame, Witness
from dmdissect.vocabulary import Direction, DirectionSource

#: Message type number by the layer's C name.
TYPES = {MESSAGE_TYPES[number]: MessageType(number) for number in LAYER_NAMES}

HOST_SIDE = "host"
GUEST_SIDE = "guest"


@cache
def message_kind(type_name: str) -> tuple[MessageType, Direction | None]:
    """The type number of a message by its C name, and the way its sender sends it."""
    msg_type = TYPES[type_name]
    sender = SENDER.get(msg_type)
    return msg_type, None if sender is None else sender.direction


def message_frame(
    source: str,
    origin: str,
    time: float | None,
    type_name: str,
    trans_id: int | None = None,
    fields: dict | None = None,
    extra: dict | None = None,
    findings: list[Finding] | None = None,
    unreadable: tuple[str, ...] = (),
) -> Frame:
    """A frame of a message a log line witnesses; the direction is the type's sender.

    ``unreadable`` names the fields the line holds with a value they cannot take
    (left out of ``fields``, see :class:`~dmdissect.sources.frame.Witness`).
    """
    msg_type, direction = message_kind(type_name)
    return Frame(
        0,
        b"",
        time,
        direction,
        DirectionSource.LOG,
        origin,
        findings=findings or [],
        source=source,
        witness=Witness(msg_type, trans_id, fields or {}, extra or {}, unreadable),
    )


def event_frame(
    source: str,
    origin: str,
    time: float | None,
    side: str,
    name: str,
    facts: dict | None = None,
    text: str = "",
    findings: list[Finding] | None = None,
) -> Frame:
    """A frame of a state the log records: no message, no direction."""
    return Frame(
        0,
        b"",
        time,
        origin=origin,
        findings=findings or [],
        source=source,
        event=Event(side, name, facts or {}, text),
    )
