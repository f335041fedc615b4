"""The unit every source yields: one message's bytes and what is known about them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dmdissect.findings import Finding
from dmdissect.vocabulary import Direction, DirectionSource

#: Times at or above this are epoch seconds; below, seconds since a boot (a dmesg stamp).
EPOCH_FROM = 1e8


@dataclass(slots=True)
class Witness:
    """What one log line says of a message it witnesses, with no bytes to decode.

    ``type`` is the message type; ``trans_id`` is None when the line does not
    carry it; ``fields`` maps the layer's C field names to the values the line
    gives (nested structures and ranges as dicts, lists of dicts); every field
    not in it is unknown.  ``extra`` holds what the line adds that is no field
    of the message (QEMU's "remaining" pages, the guest's own counters).
    ``unreadable`` names the fields the line does carry but with a value the
    field cannot take (QMP's ``"available": 4096.0``): unknown too, but not
    absent from the log, and said so apart.
    """

    type: int
    trans_id: int | None = None
    fields: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    unreadable: tuple[str, ...] = ()


@dataclass(slots=True)
class Event:
    """A log line about a peer's state rather than a message: shown, and used by the tracker.

    ``side`` is ``host`` or ``guest``; ``name`` says what happened
    (``state_change``, ``remove_response``, ``warning`` ...); ``facts`` holds
    the line's values under stable names; ``text`` is the line's message.
    """

    side: str
    name: str
    facts: dict = field(default_factory=dict)
    text: str = ""


@dataclass(slots=True, init=False)
class Frame:
    """One message as a source delivered it.

    ``time`` is in seconds: epoch seconds from a capture or a dated log line,
    seconds since boot from a bare dmesg stamp, None when the input has no
    times.  ``origin`` says where the bytes came from (``file:line`` for text,
    ``file#record@offset`` for captures) so that findings can point at it.
    ``findings`` holds what the source itself noticed (a broken hex line).
    ``wire_length`` is set when a capture's snap length cut the packet.
    ``file`` names the input the frame was read from and ``interface`` the
    capture interface (pcapng's numbered across sections, 0 for classic pcap,
    None for text and raw input, which have none): each file and interface
    is its own session, since two of them may be two VMs (the logs of one
    run are one session, see :mod:`dmdissect.analysis.sessions`).

    Frames read from a log have no bytes: ``source`` names the log format
    (``qemu-trace``, ``qmp``, ``dmesg``, ``ftrace``, ``debugfs``) and either
    ``witness`` holds the facts of the message the line witnesses or
    ``event`` the state change it records.  ``session`` is set on every
    frame of a log (hex dumps inside a dmesg too): all the logs of one run
    are one session, whatever their files.  ``time_step`` says how finely a
    log's clock counts, where it is coarse enough to matter when merging.
    """

    index: int
    data: bytes
    time: float | None = None
    direction: Direction | None = None
    direction_source: DirectionSource = DirectionSource.UNKNOWN
    #: ``origin``'s text, or a capture record's ``(file, record, offset)``: written out
    #: only when asked for (findings, -V, JSON), not for each of a million records.
    _origin: str | tuple[str, int, int] = ""
    comment: str | None = None
    findings: list[Finding] = field(default_factory=list)
    #: The message's length on the wire when the capture kept fewer bytes (snap length).
    wire_length: int | None = None
    file: str | None = None
    interface: int | None = None
    source: str | None = None
    witness: Witness | None = None
    event: Event | None = None
    session: str | None = None
    #: How finely ``time`` counts when its clock is coarser than the line's moment: a
    #: journal's whole seconds (1.0), a dmesg stamp's microseconds.  What the line records
    #: happened somewhere in ``[time, time + time_step)``; None for exact times.
    time_step: float | None = None
    #: Every comment of a pcapng packet as the file holds it, dmdissect's own marker
    #: included: what tshark's ``frame.comment`` is, one value a comment (``comment``
    #: joins the others, the ones the packet itself carries).  Last, so that the
    #: frames built positionally keep their order.
    comments: tuple[str, ...] = ()

    def __init__(
        self,
        index: int,
        data: bytes,
        time: float | None = None,
        direction: Direction | None = None,
        direction_source: DirectionSource = DirectionSource.UNKNOWN,
        origin: str | tuple[str, int, int] = "",
        comment: str | None = None,
        findings: list[Finding] | None = None,
        wire_length: int | None = None,
        file: str | None = None,
        interface: int | None = None,
        source: str | None = None,
        witness: Witness | None = None,
        event: Event | None = None,
        session: str | None = None,
        time_step: float | None = None,
        comments: tuple[str, ...] = (),
    ) -> None:
        """The fields in their order; ``origin`` may be a capture's ``(file, record, offset)``."""
        self.index = index
        self.data = data
        self.time = time
        self.direction = direction
        self.direction_source = direction_source
        self._origin = origin
        self.comment = comment
        self.findings = [] if findings is None else findings
        self.wire_length = wire_length
        self.file = file
        self.interface = interface
        self.source = source
        self.witness = witness
        self.event = event
        self.session = session
        self.time_step = time_step
        self.comments = comments

    @property
    def origin(self) -> str:
        """Where the bytes came from: ``file:line`` for text, ``file#record@offset`` for
        captures."""
        place = self._origin
        if isinstance(place, str):
            return place
        name, record, offset = place
        return f"{name}#{record}@{offset}"

    @origin.setter
    def origin(self, text: str) -> None:
        self._origin = text


_PLACE = re.compile(r"#(\d+)@\d+|:(\d+)")


def place_in_file(origin: str, name: str | None) -> int | None:
    """Where a frame's origin points in its file ``name``: a capture's record, a text's line.

    This is the number an editor or Wireshark opening that one file goes to;
    a merge renumbers ``Frame.index`` across inputs, the origin keeps it.  The
    origin is read right after the file's name (which may hold ``:`` or
    ``#`` itself); what a capture's comment adds after it does not count.
    """
    if not name or not origin.startswith(name):
        return None
    found = _PLACE.match(origin, len(name))
    if found is None:
        return None
    return int(found.group(1) or found.group(2))
