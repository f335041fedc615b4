"""Sessions as the real peers produce them, built with the project's layers.

Numbered the way the peers number them (docs/protocol.md): a Linux guest takes
a new trans_id for every message it sends; QEMU keeps its own counter, stamps
one id on every unballoon part and echoes the guest's id on version and
capabilities replies.  Shared by the tracker and timeline tests.
"""

from __future__ import annotations

from dmdissect.layers import (
    DMBalloonRequest,
    DMBalloonResponse,
    DMCapabilitiesReport,
    DMCapabilitiesResponse,
    DMCaps,
    DMHeader,
    DMPageRange,
    DMStatusReport,
    DMUnballoonRequest,
    DMUnballoonResponse,
    DMVersion,
    DMVersionRequest,
    DMVersionResponse,
)

T0 = 1_764_205_200.0  # 2025-11-27 01:00:00 UTC
WIN10 = DMVersion(major_version=2, minor_version=0)
WIN8 = DMVersion(major_version=1, minor_version=0)
WIN7 = DMVersion(major_version=0, minor_version=3)


def rng(start: int, count: int) -> DMPageRange:
    return DMPageRange(start_page=start, page_cnt=count)


def chunks(base: int, n: int, size: int = 512) -> list[DMPageRange]:
    """``n`` ranges of ``size`` pages from ``base`` on, as Linux balloons (2 MiB each)."""
    return [rng(base + size * i, size) for i in range(n)]


def status(trans_id: int, avail: int = 262144, committed: int = 131072):
    return DMHeader(trans_id=trans_id) / DMStatusReport(num_avail=avail, num_committed=committed)


def balloon_part(trans_id: int, more: int, ranges):
    return DMHeader(trans_id=trans_id) / DMBalloonResponse(more_pages=more, range_array=ranges)


def unballoon_part(trans_id: int, more: int, ranges):
    return DMHeader(trans_id=trans_id) / DMUnballoonRequest(more_pages=more, range_array=ranges)


def handshake(version=WIN10, guest_id: int = 1):
    """Linux offers a version and its capabilities; QEMU accepts both and echoes the ids."""
    return [
        DMHeader(trans_id=guest_id) / DMVersionRequest(version=version),
        DMHeader(trans_id=guest_id) / DMVersionResponse(is_accepted=1),
        DMHeader(trans_id=guest_id + 1)
        / DMCapabilitiesReport(
            caps=DMCaps(balloon=1, hot_add=1, hot_add_alignment=7),
            max_page_number=0xFFFFFFFFFFFFFFFF,
        ),
        DMHeader(trans_id=guest_id + 1) / DMCapabilitiesResponse(is_accepted=1, hot_remove=1),
    ]


def linux_qemu_session():
    """Handshake, an 80 MiB balloon in 4 parts with status reports between, a 20 MiB unballoon.

    Frames: 1-4 handshake, 5 status, 6 balloon request, 7/9/12/13 parts
    (guest ids 4, 6, 10, 11: id 9 went to a retry the capture does not hold),
    8/10/11/14 status, 15-16 unballoon parts (QEMU id 1 on both), 17 the
    guest's unballoon response, 18 status.
    """
    return handshake() + [
        status(3),
        DMHeader(trans_id=0) / DMBalloonRequest(num_pages=20480),
        balloon_part(4, 1, chunks(0x100000, 10)),
        status(5),
        balloon_part(6, 1, chunks(0x101400, 10)),
        status(7),
        status(8),
        balloon_part(10, 1, chunks(0x102800, 10)),
        balloon_part(11, 0, chunks(0x103C00, 10)),
        status(12, avail=241664),
        unballoon_part(1, 1, [rng(0x100000, 2560)]),
        unballoon_part(1, 0, [rng(0x100A00, 2560)]),
        DMHeader(trans_id=13) / DMUnballoonResponse(),
        status(14, avail=246784),
    ]
