"""``linux-qemu``: a Linux guest (drivers/hv/hv_balloon.c) and QEMU's hv-balloon device.

What it shows, as docs/protocol.md describes the two peers:

* the guest offers 2.0 (WIN10, not the last attempt); on some seeds the host
  refuses and the guest falls back to 1.0 (WIN8); QEMU copies the guest's
  trans_id into its answers;
* capabilities: balloon, hot-add aligned to 2^7 MiB, min_page_cnt 0,
  max_page_number all ones; QEMU accepts and offers hot-remove;
* a status report about every second, from about 45 s after the driver
  loaded, with only num_avail and num_committed filled in;
* nothing from the host until its 50 s settling delay is over, then in turn:
  balloon (the guest answers in parts of at most 510 ranges of 512 pages,
  status reports between parts), unballoon (one range per part, every part
  with the same host trans_id, then one header-only response) and hot add
  (the 24-byte form with the region, aligned 128 MiB chunks);
* trans_ids: the guest numbers everything it sends from one counter starting
  at 1, each part a new number (a retry after a full ring buffer skips one);
  QEMU stamps its own counter, 0 after reset, on each request and moves on
  when a transaction ends.

An operation is started only if it ends within the session; the host asks the
guest for no more than it can give above its balloon floor.
"""

from __future__ import annotations

import random
from typing import Any

from scapy.packet import Packet

from dmdissect.layers import (
    DMBalloonRequest,
    DMBalloonResponse,
    DMCaps,
    DMHeader,
    DMHotAddRequest,
    DMHotAddResponse,
    DMPageRange,
    DMStatusReport,
    DMUnballoonRequest,
    DMUnballoonResponse,
    HotAddResult,
)
from dmdissect.synth.memory import (
    BALLOON_PART_RANGES,
    BLOCK,
    GIB,
    HA_CHUNK,
    HOT_ADD_ALIGNMENT,
    MAX_UNBALLOON_RANGE,
    BlockPool,
    GuestLoad,
    align_up,
    balloon_floor,
    merge_blocks,
    ram_extents,
)
from dmdissect.synth.steps import capabilities, fork, ms, offer, s, status_reports, ticks
from dmdissect.synth.timeline import Batch, Event, Planned, Timeline
from dmdissect.views.english import plural
from dmdissect.views.phrases import mib
from dmdissect.vocabulary import Direction

WIN10, WIN8 = 0x00020000, 0x00010000
#: Linux skips this many 1 s status ticks after loading (``pressure_report_delay``).
STATUS_DELAY = s(45)
#: QEMU waits this long after the guest connects before it resizes anything.
SETTLING_DELAY = s(50)
#: How often the host refuses WIN10 and the guest falls back to WIN8.
REFUSAL_ODDS = 0.35


class LinuxQemu:
    """One session: the peers' state while the profile lays its messages on the timeline."""

    def __init__(self, rng: random.Random, timeline: Timeline, start: int, end: int) -> None:
        self.rng = rng
        self.timeline = timeline
        self.start = start
        self.end = end
        ram = rng.choice((4, 6, 8)) * GIB
        extents = ram_extents(ram)
        self.pool = BlockPool(rng, extents)
        self.load = GuestLoad(fork(rng), ram, end // 1_000_000 + 1)
        self.clock = fork(rng)
        self.ballooned: list[int] = []
        self.region_start = align_up(extents[-1][1], GIB)
        self.region_pages = rng.choice((2, 4)) * GIB
        self.added = 0
        self.host_id = 0
        self.first_request = True

    def run(self) -> None:
        connected = self.handshake()
        first_status = connected + STATUS_DELAY + s(1) + self.rng.randint(0, ms(300))
        status_reports(
            self.timeline,
            ticks(self.clock, first_status, self.end, s(1), ms(4)),
            self.status,
            "status reports begin: Linux waits about 45 s after loading before its first report",
        )
        self.operations(connected + SETTLING_DELAY + self.rng.randint(ms(100), s(2)))

    def handshake(self) -> int:
        """Version offer(s) and capabilities; the time the host accepted them."""
        rng = self.rng
        at = self.start
        refused = rng.random() < REFUSAL_ODDS
        reply = offer(
            self.timeline,
            at,
            WIN10,
            False,
            not refused,
            rng.randint(150, 900),
            reply_comment="host refuses 2.0 (WIN10); the guest falls back to 1.0 (WIN8)"
            if refused
            else None,
        )
        if refused:
            reply = offer(
                self.timeline,
                reply.at + rng.randint(200, 1500),
                WIN8,
                False,
                True,
                rng.randint(150, 900),
            )
        caps = DMCaps(balloon=1, hot_add=1, hot_add_alignment=HOT_ADD_ALIGNMENT)
        reply = capabilities(
            self.timeline,
            reply.at + rng.randint(200, 1500),
            caps,
            0,
            2**64 - 1,
            rng.randint(150, 900),
            hot_remove=True,
        )
        return reply.at

    def status(self, at: int, trans_id: int | None) -> DMHeader:
        """Linux's post_status(): only num_avail and num_committed, in 4 KiB pages."""
        load = self.load
        committed = (
            int(load.used_at(at) * 1.3) + load.ballooned_at(at) + balloon_floor(load.total_at(at))
        )
        return DMHeader(trans_id=trans_id) / DMStatusReport(
            num_avail=load.avail_at(at), num_committed=committed
        )

    def operations(self, at: int) -> None:
        """Balloon, unballoon, hot add in turn, while each still ends within the session."""
        steps = (self.balloon, self.unballoon, self.hot_add)
        turn = idle = 0
        while idle < len(steps):
            planned = steps[turn % len(steps)](at)
            turn += 1
            if planned is None:
                idle += 1
                continue
            batch, plan, changes = planned
            if batch.end > self.end:
                return
            idle = 0
            if self.first_request:
                first = batch.events[0]
                first.comment = "QEMU's 50 s settling delay is over; " + first.comment
                self.first_request = False
            self.commit(batch, plan, changes)
            at = batch.end + self.rng.randint(s(6), s(14))

    def commit(self, batch: Batch, plan: Planned, changes: list[tuple[int, ...]]) -> None:
        """Keep a planned transaction: its messages, its effect on memory; QEMU's id moves on."""
        self.timeline.commit(batch, plan)
        for change in changes:
            self.load.change(*change)
        self.host_id += 1

    def balloon(self, at: int, most: int = 1300) -> Any:
        """BALLOON_REQUEST for up to ``most`` 2 MiB blocks, answered in parts of 510 ranges."""
        rng = self.rng
        room = (self.load.avail_at(at) - balloon_floor(self.load.total_at(at))) // BLOCK - 16
        if room < 32:
            return None
        blocks = self.pool.take(min(room, rng.randint(min(300, most), most)))
        pages = len(blocks) * BLOCK
        host_id = self.host_id
        batch = Batch()
        batch.add(
            Event(
                at,
                Direction.HOST_TO_GUEST,
                lambda _: DMHeader(trans_id=host_id) / DMBalloonRequest(num_pages=pages),
                comment=f"balloon: the host asks for {pages} pages ({mib(pages)})",
            )
        )
        parts = [
            blocks[i : i + BALLOON_PART_RANGES] for i in range(0, len(blocks), BALLOON_PART_RANGES)
        ]
        changes = []
        sent = at + rng.randint(ms(2), ms(20))
        for number, part in enumerate(parts, 1):
            sent += sum(rng.randint(1500, 3000) for _ in part)
            more = number < len(parts)

            def response(tid: int | None, part: list[int] = part, more: bool = more) -> Packet:
                return DMHeader(trans_id=tid) / DMBalloonResponse(
                    more_pages=int(more),
                    range_array=[DMPageRange(start_page=pfn, page_cnt=BLOCK) for pfn in part],
                )

            batch.add(
                Event(
                    sent,
                    Direction.GUEST_TO_HOST,
                    response,
                    numbered=True,
                    burn=int(rng.random() < 0.15),
                )
            )
            changes.append((sent, -len(part) * BLOCK, len(part) * BLOCK))
        self.ballooned.extend(blocks)
        return batch, Planned("balloon", "accepted", pages, pages, len(parts)), changes

    def unballoon(self, at: int) -> Any:
        """UNBALLOON_REQUEST parts of one range each, same host id, then one response."""
        rng = self.rng
        if not self.ballooned:
            return None
        count = rng.randint(max(1, len(self.ballooned) // 2), len(self.ballooned))
        chosen = sorted(self.ballooned)[:count]
        self.ballooned = sorted(set(self.ballooned) - set(chosen))
        self.pool.give_back(chosen)
        ranges = merge_blocks(chosen, MAX_UNBALLOON_RANGE)
        pages = count * BLOCK
        host_id = self.host_id
        batch = Batch()
        changes = []
        sent = at
        for number, (start, cnt) in enumerate(ranges, 1):
            more = number < len(ranges)

            def request(
                _: int | None, start: int = start, cnt: int = cnt, more: bool = more
            ) -> Packet:
                return DMHeader(trans_id=host_id) / DMUnballoonRequest(
                    more_pages=int(more),
                    range_array=[DMPageRange(start_page=start, page_cnt=cnt)],
                )

            batch.add(
                Event(
                    sent,
                    Direction.HOST_TO_GUEST,
                    request,
                    comment=f"unballoon: the host returns {pages} pages ({mib(pages)}) in "
                    f"{plural(len(ranges), 'part')} of one range"
                    if number == 1
                    else None,
                )
            )
            changes.append((sent + rng.randint(ms(1), ms(5)), cnt, -cnt))
            sent += rng.randint(50, 400)
        done = sent + rng.randint(ms(1), ms(30))
        batch.add(
            Event(
                done,
                Direction.GUEST_TO_HOST,
                lambda tid: DMHeader(trans_id=tid) / DMUnballoonResponse(),
                numbered=True,
            )
        )
        return batch, Planned("unballoon", "accepted", pages, pages, len(ranges)), changes

    def hot_add(self, at: int, result: int = 1) -> Any:
        """A 24-byte MEM_HOT_ADD_REQUEST (range and region) and the guest's answer."""
        rng = self.rng
        left = self.region_pages - self.added
        if left < HA_CHUNK:
            return None
        pages = min(left, rng.randint(1, 4) * HA_CHUNK)
        start = self.region_start + self.added
        region = (self.region_start, self.region_pages)
        self.added += pages
        host_id = self.host_id
        batch = Batch()
        batch.add(
            Event(
                at,
                Direction.HOST_TO_GUEST,
                lambda _: (
                    DMHeader(trans_id=host_id)
                    / DMHotAddRequest(
                        range=DMPageRange(start_page=start, page_cnt=pages),
                        region=DMPageRange(start_page=region[0], page_cnt=region[1]),
                    )
                ),
                comment=f"hot add: {pages} pages ({mib(pages)}) at {start:#x}, 24-byte form "
                f"with the region",
            )
        )
        done = at + rng.randint(ms(80), ms(400))
        batch.add(
            Event(
                done,
                Direction.GUEST_TO_HOST,
                lambda tid: (
                    DMHeader(trans_id=tid) / DMHotAddResponse(page_count=pages, result=result)
                ),
                numbered=True,
            )
        )
        outcome = "accepted" if result == HotAddResult.SUCCESS else "unknown"
        return batch, Planned("hot_add", outcome, pages, pages, 1), [(done, pages)]


def build(rng: random.Random, timeline: Timeline, start: int, end: int) -> None:
    LinuxQemu(rng, timeline, start, end).run()
