"""The timeline a profile fills: messages at times, numbered the way the real peers number them.

A guest numbers everything it sends from one counter, in the order it sends
it, status reports included (docs/protocol.md).  A profile plans each
transaction on its own and the status reports separately, so the guest's
numbers can only be given once every message is in time order; that is why
messages are built lazily here, from a function of the number they receive.

Times are integer microseconds since boot, so that the same seed gives the
same bytes; frames get epoch times from the fixed :data:`BOOT_EPOCH`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from scapy.packet import Packet, Raw

from dmdissect.layers import DMHeader, VMBusDescriptor
from dmdissect.sources.frame import Frame
from dmdissect.vocabulary import Direction, DirectionSource

#: The boot of every synthetic guest: 2026-01-01T00:00:00Z, fixed so that times never vary.
BOOT_EPOCH = 1_767_225_600

US = 1_000_000

#: ``Event.framing``: wrap in a VMBus descriptor when the session asks for it.
FRAME_AUTO = "auto"
#: The event's bytes already hold their framing (a VMBus fault), or must never get one
#: (a message shorter than the header: VMBus padding would complete it).
FRAME_OWN = "own"


@dataclass
class Planned:
    """One transaction as the generator meant it; tests compare the tracker's view with it.

    Kinds and outcomes use the tracker's words (:mod:`dmdissect.analysis.records`).
    ``kind``: version, capabilities, balloon, unballoon, hot_add, hot_remove, info.
    ``pages_requested``: what the request asked for (None for the handshake).
    ``pages``: what the answer gave (ranges' pages, or the hot-add response's
    page_count).  ``parts``: messages of the multi-part side (balloon and
    hot-remove response parts, unballoon request parts), else 1.
    ``outcome``: accepted, refused, partial, transient_failure,
    permanent_failure, unknown (a result no peer defines), sent (info).
    ``version``: the protocol version offered (version transactions only).
    ``frames``: 1-based indices of every message of the transaction, in order.
    """

    kind: str
    outcome: str
    pages_requested: int | None = None
    pages: int = 0
    parts: int = 1
    version: int | None = None
    frames: list[int] = field(default_factory=list)


@dataclass
class Fault:
    """A deliberately malformed message: its pcapng comment label and its frame index."""

    label: str
    frame: int = 0


@dataclass
class Event:
    """One message to be: when, which way, and how to build it once its number is known.

    ``build`` receives the guest counter value when ``numbered`` (else None)
    and returns the message layers or finished bytes.  ``burn`` counts guest
    numbers used up just before this message by sends that never reached the
    wire (a retry after a full ring buffer).
    """

    at: int
    direction: Direction
    build: Callable[[int | None], Packet | bytes]
    numbered: bool = False
    burn: int = 0
    comment: str | None = None
    planned: Planned | None = None
    fault: Fault | None = None
    framing: str = FRAME_AUTO
    seq: int = 0
    trans_id: int | None = None


class Batch:
    """Events of one transaction, kept or dropped together so none is cut in half."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(self, event: Event) -> Event:
        self.events.append(event)
        return event

    @property
    def end(self) -> int:
        return max((event.at for event in self.events), default=0)


class Timeline:
    """Every message of a session; :meth:`frames` puts them in order and numbers them."""

    def __init__(self, vmbus: bool) -> None:
        self.vmbus = vmbus
        self.events: list[Event] = []
        self.planned: list[Planned] = []

    def add(self, event: Event) -> Event:
        event.seq = len(self.events)
        self.events.append(event)
        return event

    def commit(self, batch: Batch, planned: Planned | None = None) -> None:
        """Keep a transaction's events; ``planned`` describes it to the tests."""
        for event in batch.events:
            if planned is not None:
                event.planned = planned
            self.add(event)
        if planned is not None:
            self.planned.append(planned)

    def frames(self) -> list[Frame]:
        """Build every message in time order, numbering the guest's as it would (from 1).

        Called once per session: it also fills in the frames of each plan and fault.
        """
        counter = 0
        frames: list[Frame] = []
        for index, event in enumerate(sorted(self.events, key=lambda e: (e.at, e.seq)), 1):
            if event.numbered:
                counter += event.burn + 1
                event.trans_id = counter
            built = event.build(event.trans_id)
            frames.append(
                Frame(
                    index=index,
                    data=self._framed(event, built),
                    time=BOOT_EPOCH + event.at / US,
                    direction=event.direction,
                    direction_source=DirectionSource.CAPTURE,
                    comment=event.comment,
                )
            )
            if event.planned is not None:
                event.planned.frames.append(index)
            if event.fault is not None:
                event.fault.frame = index
        return frames

    def _framed(self, event: Event, built: Packet | bytes) -> bytes:
        if not self.vmbus or event.framing != FRAME_AUTO:
            return bytes(built)
        message = DMHeader(built) if isinstance(built, bytes) else built
        descriptor = VMBusDescriptor(trans_id=vmbus_trans_id(event.direction, message))
        descriptor.add_payload(Raw(built) if isinstance(built, bytes) else built)
        return bytes(descriptor)


def vmbus_trans_id(direction: str, message: Packet) -> int:
    """The descriptor's own id: 0 on guest packets (Linux), the DM id on host ones (QEMU)."""
    return (message.trans_id or 0) if direction == Direction.HOST_TO_GUEST else 0
