"""Hand-built sessions for the health tests: messages built with the layers, at chosen times.

Each builder returns packets; :func:`frames` stamps them with times and
indexes, as a capture would, so a test states a session as "what was sent
when" and its expected verdicts by hand.
"""

from __future__ import annotations

from peers import T0
from peers import handshake as handshake_packets

from dmdissect.layers import (
    DMBalloonRequest,
    DMBalloonResponse,
    DMHeader,
    DMHotAddRequest,
    DMHotAddResponse,
    DMPageRange,
    DMStatusReport,
    DMUnballoonRequest,
    DMUnballoonResponse,
    DMVersion,
    DMVersionRequest,
    DMVersionResponse,
)
from dmdissect.sources.frame import Frame


def version_request(trans_id: int = 1):
    return DMHeader(trans_id=trans_id) / DMVersionRequest(
        version=DMVersion(major_version=2, minor_version=0)
    )


def version_response(trans_id: int = 1):
    return DMHeader(trans_id=trans_id) / DMVersionResponse(is_accepted=1)


def status(trans_id: int, available: int, committed: int):
    return DMHeader(trans_id=trans_id) / DMStatusReport(
        num_avail=available, num_committed=committed
    )


def balloon_request(trans_id: int, pages: int):
    return DMHeader(trans_id=trans_id) / DMBalloonRequest(num_pages=pages)


def balloon_response(trans_id: int, ranges: list[tuple[int, int]], more: int = 0):
    return DMHeader(trans_id=trans_id) / DMBalloonResponse(
        more_pages=more,
        range_array=[DMPageRange(start_page=s, page_cnt=c) for s, c in ranges],
    )


def unballoon_request(trans_id: int, ranges: list[tuple[int, int]], more: int = 0):
    return DMHeader(trans_id=trans_id) / DMUnballoonRequest(
        more_pages=more,
        range_array=[DMPageRange(start_page=s, page_cnt=c) for s, c in ranges],
    )


def unballoon_response(trans_id: int):
    return DMHeader(trans_id=trans_id) / DMUnballoonResponse()


def hot_add_request(trans_id: int, start: int, pages: int):
    return DMHeader(trans_id=trans_id) / DMHotAddRequest(
        range=DMPageRange(start_page=start, page_cnt=pages)
    )


def hot_add_response(trans_id: int, pages: int, result: int):
    return DMHeader(trans_id=trans_id) / DMHotAddResponse(page_count=pages, result=result)


def handshake() -> list[tuple[float, object]]:
    """The shared Linux/QEMU handshake (tests/peers.py), at 0.0 to 0.3 s."""
    return list(zip((0.0, 0.1, 0.2, 0.3), handshake_packets(), strict=True))


def frames(timed: list[tuple[float, object]]) -> list[Frame]:
    """Frames numbered from 1, at T0 + each offset; direction left to the dissector."""
    return [
        Frame(index=i, data=bytes(packet), time=T0 + offset, origin=f"test#{i}")
        for i, (offset, packet) in enumerate(timed, 1)
    ]
