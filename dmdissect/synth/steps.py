"""Pieces every profile uses: the version and capabilities exchange, the status-report clock.

Times are integer microseconds since boot; ``ms`` and ``s`` turn readable
numbers into them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from functools import partial

from scapy.packet import Packet

from dmdissect.layers import (
    DMCapabilitiesReport,
    DMCapabilitiesResponse,
    DMCaps,
    DMHeader,
    DMVersion,
    DMVersionRequest,
    DMVersionResponse,
)
from dmdissect.synth.timeline import Batch, Event, Fault, Planned, Timeline
from dmdissect.vocabulary import Direction


def ms(value: float) -> int:
    return round(value * 1000)


def s(value: float) -> int:
    return round(value * 1_000_000)


def fork(rng: random.Random) -> random.Random:
    """An independent generator for one aspect (the status clock, the guest's load).

    Drawn once, at a fixed point, so that a longer session only adds to a
    shorter one: what happens in the first minute does not depend on how many
    status reports the whole session has.
    """
    return random.Random(rng.getrandbits(64))


def version_of(version: int) -> DMVersion:
    return DMVersion(major_version=version >> 16, minor_version=version & 0xFFFF)


def offer(
    timeline: Timeline,
    at: int,
    version: int,
    last: bool,
    accepted: bool,
    reply_after: int,
    comment: str | None = None,
    reply_comment: str | None = None,
    fault: Fault | None = None,
) -> Event:
    """One VERSION_REQUEST and the host's answer, which copies the request's trans_id."""
    batch = Batch()
    request = batch.add(
        Event(
            at,
            Direction.GUEST_TO_HOST,
            lambda tid: (
                DMHeader(trans_id=tid)
                / DMVersionRequest(version=version_of(version), is_last_attempt=int(last))
            ),
            numbered=True,
            comment=comment,
            fault=fault,
        )
    )
    reply = batch.add(
        Event(
            at + reply_after,
            Direction.HOST_TO_GUEST,
            lambda _: (
                DMHeader(trans_id=request.trans_id) / DMVersionResponse(is_accepted=int(accepted))
            ),
            comment=reply_comment,
        )
    )
    timeline.commit(
        batch, Planned("version", "accepted" if accepted else "refused", version=version)
    )
    return reply


def capabilities(
    timeline: Timeline,
    at: int,
    caps: DMCaps,
    min_page_cnt: int,
    max_page_number: int,
    reply_after: int,
    hot_remove: bool,
) -> Event:
    """CAPABILITIES_REPORT and the host's acceptance, which copies the report's trans_id."""
    batch = Batch()
    report = batch.add(
        Event(
            at,
            Direction.GUEST_TO_HOST,
            lambda tid: (
                DMHeader(trans_id=tid)
                / DMCapabilitiesReport(
                    caps=caps.copy(), min_page_cnt=min_page_cnt, max_page_number=max_page_number
                )
            ),
            numbered=True,
        )
    )
    reply = batch.add(
        Event(
            at + reply_after,
            Direction.HOST_TO_GUEST,
            lambda _: (
                DMHeader(trans_id=report.trans_id)
                / DMCapabilitiesResponse(is_accepted=1, hot_remove=int(hot_remove))
            ),
        )
    )
    timeline.commit(batch, Planned("capabilities", "accepted", parts=1))
    return reply


def ticks(rng: random.Random, first: int, end: int, period: int, jitter: int) -> Iterator[int]:
    """A timer that fires every ``period`` plus a little, from ``first`` up to ``end``."""
    at = first
    while at <= end:
        yield at
        at += period + rng.randint(0, jitter)


def status_reports(
    timeline: Timeline,
    times: Iterator[int],
    build: Callable[[int, int | None], Packet],
    first_comment: str,
) -> None:
    """One STATUS_REPORT at each time; ``build(at, trans_id)`` fills in its numbers."""
    for number, at in enumerate(times):
        timeline.add(
            Event(
                at,
                Direction.GUEST_TO_HOST,
                partial(build, at),
                numbered=True,
                comment=first_comment if number == 0 else None,
            )
        )
