"""Guest clocks put on the host's before several inputs are merged by time.

QEMU's trace and its QMP events share the host's clock (epoch seconds).
The guest's dmesg and ftrace count from the guest's boot; merged as they are
they would all sort before the host's lines.  Given the guest's boot time
(``--boot-time``), :func:`~dmdissect.views.timefmt.anchored` puts them on the
wall clock; without it, :func:`aligned` finds the offset from the one
exchange both sides log, the version negotiation (QEMU's ``incoming proto
version`` and the state change that accepts it; the guest's ``Using Dynamic
Memory protocol version``).  A host's log may hold several negotiations (the
guest rebooted, or resumed) while a guest's dmesg holds one boot: each
negotiation is tried, and the one after which the guest's reactions (its
``Ignore balloon-up request!``, ``Freed``, ``Hot adding`` lines) follow the
host's requests they react to is taken (:func:`_fit`).  What was done is said
in one sentence (the session's ``alignment``), ambiguity included.  When no
negotiation is found, the inputs cannot share a clock: they follow each other
in the order given and the guest's logs are a session of their own, which is
said too.

Memory stays flat: only the inputs' heads are read ahead, at most
:data:`ALIGN_LOOKAHEAD` frames per input to find the negotiation, then at most
:data:`ALIGN_SEARCH` more to find later negotiations and the guest's reactions.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain, islice

from dmdissect.layers import MESSAGE_TYPES
from dmdissect.sources.frame import EPOCH_FROM, Frame
from dmdissect.sources.logs import GUEST_CLOCK

#: Frames each input may be read ahead to find the version negotiation.
ALIGN_LOOKAHEAD = 100_000
#: Frames each input is read ahead past its first negotiation, to try the later ones.
ALIGN_SEARCH = 20_000
#: Frames read ahead at a time while looking for it.
_BATCH = 1000
#: Seconds after a host request within which the guest's line reacting to it comes.
REACTION_WINDOW = 10.0
#: The guest's lines (dmesg events) that react to a host request, by the request's type.
REACTS_TO = {
    "ignore_balloon": "DM_BALLOON_REQUEST",
    "floor": "DM_BALLOON_REQUEST",
    "partial_balloon": "DM_BALLOON_REQUEST",
    "ballooned": "DM_BALLOON_REQUEST",
    "ignore_unballoon": "DM_UNBALLOON_REQUEST",
    "freed": "DM_UNBALLOON_REQUEST",
    "ignore_hot_add": "DM_HOT_ADD_REQUEST",
    "hot_adding": "DM_HOT_ADD_REQUEST",
    "online": "DM_HOT_ADD_REQUEST",
    "hot_add_error": "DM_HOT_ADD_REQUEST",
    "hot_add_failed": "DM_HOT_ADD_REQUEST",
}


def _since_boot(frame: Frame) -> bool:
    return frame.time is not None and frame.time < EPOCH_FROM


def _guest_input(first: Frame) -> bool:
    """An input whose times count from the guest's boot, told by its first frame."""
    return first.source in GUEST_CLOCK and not (first.time is not None and first.time >= EPOCH_FROM)


def _type_name(frame: Frame) -> str | None:
    return MESSAGE_TYPES.get(frame.witness.type) if frame.witness is not None else None


def host_anchor(frames: list[Frame]) -> float | None:
    """When the host first accepted the guest's version (see :func:`host_anchors`)."""
    found = host_anchors(frames)
    return found[0] if found else None


def host_anchors(frames: list[Frame]) -> list[float]:
    """Each time the host accepted the guest's version: the state change after QEMU's offer line."""
    anchors: list[float] = []
    offered: float | None = None
    for frame in frames:
        if frame.source != "qemu-trace" or frame.time is None:
            continue
        if _type_name(frame) == "DM_VERSION_REQUEST":
            if offered is not None:
                anchors.append(offered)
            offered = frame.time
        elif offered is not None and frame.event is not None and frame.event.name == "state_change":
            anchors.append(frame.time if frame.event.facts.get("state") == "S_CAPS" else offered)
            offered = None
    if offered is not None:
        anchors.append(offered)
    return anchors


def guest_anchor(frames: list[Frame]) -> float | None:
    """When the guest logged the accepted version (boot-relative)."""
    for frame in frames:
        if frame.source in GUEST_CLOCK and _since_boot(frame):
            if _type_name(frame) == "DM_VERSION_RESPONSE":
                return frame.time
    return None


@dataclass
class Alignment:
    """The inputs to merge, guest clocks shifted when an offset was found, and what was done."""

    streams: Sequence[Iterator[Frame]]
    #: The sentence saying how the clocks were matched; None when nothing needed it.
    text: str | None = None
    #: Guest and host clocks that could not be matched: merge in the order given.
    unmatched: bool = False


def aligned(inputs: list[Iterator[Frame]], names: list[str]) -> Alignment:
    """Read the inputs' heads ahead until both sides' negotiation is seen; shift the guest's.

    Guest logs alone (or host logs alone) share one clock and need nothing;
    captures are sessions of their own, never aligned to.
    """
    heads = [list(islice(frames, 1)) for frames in inputs]
    guests = [n for n, head in enumerate(heads) if head and _guest_input(head[0])]
    # Only the host's logs are of the guest logs' session; a capture is a session of its own.
    hosts = [n for n, head in enumerate(heads) if head and head[0].source and n not in guests]
    if not guests or not hosts:
        return Alignment([chain(head, frames) for head, frames in zip(heads, inputs)])
    host = _find(heads, inputs, hosts, host_anchor)
    guest = _find(heads, inputs, guests, guest_anchor)
    rest: list[Iterator[Frame]] = [chain(head, frames) for head, frames in zip(heads, inputs)]
    guest_names = ", ".join(names[n] for n in guests)
    if host is None or guest is None:
        if host is None and _untimed_offer([heads[n] for n in hosts]):
            why = "the host's log has no times (QEMU prints them with -msg timestamp=on)"
        else:
            missing = "the host's" if host is None else "the guest's"
            why = f"{missing} log shows no version negotiation (give --boot-time)"
        text = (
            f"{guest_names} not aligned to the host's clock: {why}; the guest's logs are a "
            "session of their own"
        )
        for number in guests:
            rest[number] = _apart(rest[number])
        return Alignment(rest, text, unmatched=True)
    for number in guests + hosts:
        _read_on(heads[number], inputs[number])
    guest_frames = [frame for number in guests for frame in heads[number]]
    host_frames = [frame for number in hosts for frame in heads[number]]
    offset, how = _choose(host_anchors(host_frames), guest, guest_frames, host_frames)
    boot = datetime.fromtimestamp(offset, UTC).isoformat()
    text = f"{guest_names} aligned to the host's clock by {how} (guest boot at {boot})"
    for number in guests:
        rest[number] = _shifted(rest[number], offset)
    return Alignment(rest, text)


def _untimed_offer(heads: list[list[Frame]]) -> bool:
    """Whether a host log shows the version negotiation, but with no time to align by."""
    return any(
        frame.time is None and _type_name(frame) == "DM_VERSION_REQUEST"
        for head in heads
        for frame in head
    )


def _read_on(head: list[Frame], frames: Iterator[Frame]) -> None:
    """Read an input's head on, :data:`ALIGN_SEARCH` frames at most, for later negotiations."""
    limit = len(head) + ALIGN_SEARCH
    while len(head) < limit:
        batch = list(islice(frames, min(_BATCH, limit - len(head))))
        if not batch:
            return
        head.extend(batch)


def _choose(
    anchors: list[float], guest: float, guest_frames: list[Frame], host_frames: list[Frame]
) -> tuple[float, str]:
    """The offset of the host's negotiation the guest's log fits best, and how it was chosen."""
    both = "the version negotiation both sides log"
    if len(anchors) == 1:
        return anchors[0] - guest, both
    fits = [_fit(anchor - guest, guest_frames, host_frames) for anchor in anchors]
    best = max(fits)
    chosen = fits.index(best)
    offset = anchors[chosen] - guest
    of = f"of the {len(anchors)} in the host's log"
    if best == 0:
        return offset, (
            f"{both}, the first {of} (no line of the guest's tells which: give --boot-time if "
            f"it is another)"
        )
    if fits.count(best) > 1:
        return offset, (
            f"{both}, the first {of} (the guest's lines fit {fits.count(best)} of them "
            f"equally: give --boot-time if it is another)"
        )
    reactions = sum(
        1 for frame in guest_frames if frame.event is not None and frame.event.name in REACTS_TO
    )
    return offset, (
        f"{both}, the {_ordinal(chosen + 1)} {of}: the one after which the guest's reactions "
        f"follow the host's requests ({best} of {reactions})"
    )


def _fit(offset: float, guest_frames: list[Frame], host_frames: list[Frame]) -> int:
    """How many of the guest's reactions come just after a host request of their kind.

    The guest's driver logs ``Ignore balloon-up request!``, ``Freed``, ``Hot
    adding``... when a host request arrives, so on the right clock each such
    line follows a request of its kind by at most :data:`REACTION_WINDOW` seconds
    (or by its own stamp's coarseness before it).
    """
    requests: dict[str, list[float]] = {}
    for frame in host_frames:
        name = _type_name(frame)
        if name is not None and frame.time is not None:
            requests.setdefault(name, []).append(frame.time)
    for times in requests.values():
        times.sort()
    fit = 0
    for frame in guest_frames:
        event = frame.event
        kind = REACTS_TO.get(event.name) if event is not None else None
        if kind is None or frame.time is None or not _since_boot(frame):
            continue
        at = frame.time + offset
        step = frame.time_step or 0.0
        times = requests.get(kind, [])
        index = bisect.bisect_left(times, at - REACTION_WINDOW)
        if index < len(times) and times[index] <= at + step:
            fit += 1
    return fit


def _ordinal(number: int) -> str:
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10 if number % 100 not in (11, 12, 13) else 0)
    return f"{number}{suffix or 'th'}"


def _find(
    heads: list[list[Frame]],
    inputs: list[Iterator[Frame]],
    numbers: list[int],
    anchor: Callable[[list[Frame]], float | None],
) -> float | None:
    """The first anchor among the inputs ``numbers``, their heads read ahead to find it."""
    for number in numbers:
        head = heads[number]
        found = anchor(head)
        while found is None and len(head) < ALIGN_LOOKAHEAD:
            batch = list(islice(inputs[number], _BATCH))
            if not batch:
                break
            head.extend(batch)
            found = anchor(head)
        if found is not None:
            return found
    return None


#: The session of guest logs whose clock could not be put on the host's.
GUEST_SESSION = "guest logs"


def _apart(frames: Iterator[Frame]) -> Iterator[Frame]:
    """A guest input kept out of the host's session: its clock counts from another origin,
    so one span or one order across both would be made up."""
    for frame in frames:
        frame.session = GUEST_SESSION
        yield frame


def _shifted(frames: Iterator[Frame], offset: float) -> Iterator[Frame]:
    """A guest input's seconds-since-boot times on the host's clock."""
    for frame in frames:
        if frame.time is not None and frame.time < EPOCH_FROM:
            frame.time += offset
        yield frame


def boot_time_text(boot: float) -> str:
    """The alignment sentence when the user gave the guest's boot time."""
    return (
        f"guest logs on the host's clock by --boot-time "
        f"{datetime.fromtimestamp(boot, UTC).isoformat()}"
    )
