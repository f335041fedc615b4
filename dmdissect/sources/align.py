"""Guest clocks put on the host's before several inputs are merged by time.

QEMU's trace and its QMP events share the host's clock (epoch seconds).
The guest's dmesg and ftrace count from the guest's boot; merged as they are
they would all sort before the host's lines.  Given the guest's boot time
(``--boot-time``), :func:`~dmdissect.views.timefmt.anchored` puts them on the
wall clock; without it, :func:`aligned` finds the offset from the one
exchange both sides log, the version negotiation (QEMU's ``incoming proto
version`` and the state change that accepts it; the guest's ``Using Dynamic
Memory protocol version``).  What was done is said in one sentence (the
session's ``alignment``).  When no negotiation is found, the inputs cannot
share a clock: they follow each other in the order given and the guest's logs
are a session of their own, which is said too.

Memory stays flat: only the inputs' heads are read ahead, at most
:data:`ALIGN_LOOKAHEAD` frames per input, to find the negotiation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain, islice

from dmdissect.layers import MESSAGE_TYPES
from dmdissect.sources.frame import EPOCH_FROM, Frame
from dmdissect.sources.logs import GUEST_CLOCK

#: Frames each input may be read ahead to find the version negotiation.
ALIGN_LOOKAHEAD = 100_000
#: Frames read ahead at a time while looking for it.
_BATCH = 1000


def _since_boot(frame: Frame) -> bool:
    return frame.time is not None and frame.time < EPOCH_FROM


def _guest_input(first: Frame) -> bool:
    """An input whose times count from the guest's boot, told by its first frame."""
    return first.source in GUEST_CLOCK and not (first.time is not None and first.time >= EPOCH_FROM)


def _type_name(frame: Frame) -> str | None:
    return MESSAGE_TYPES.get(frame.witness.type) if frame.witness is not None else None


def host_anchor(frames: list[Frame]) -> float | None:
    """When the host accepted the guest's version: the state change after QEMU's offer line."""
    offered: float | None = None
    for frame in frames:
        if frame.source != "qemu-trace" or frame.time is None:
            continue
        if _type_name(frame) == "DM_VERSION_REQUEST":
            offered = frame.time
        elif offered is not None and frame.event is not None and frame.event.name == "state_change":
            return frame.time if frame.event.facts.get("state") == "S_CAPS" else offered
    return offered


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
        missing = "the host's" if host is None else "the guest's"
        text = (
            f"{guest_names} not aligned to the host's clock: {missing} log shows no version "
            f"negotiation (give --boot-time); the guest's logs are a session of their own"
        )
        for number in guests:
            rest[number] = _apart(rest[number])
        return Alignment(rest, text, unmatched=True)
    offset = host - guest
    boot = datetime.fromtimestamp(offset, UTC).isoformat()
    text = (
        f"{guest_names} aligned to the host's clock by the version negotiation both sides "
        f"log (guest boot at {boot})"
    )
    for number in guests:
        rest[number] = _shifted(rest[number], offset)
    return Alignment(rest, text)


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
