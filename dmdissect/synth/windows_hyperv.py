"""``windows-hyperv``: a Windows guest speaking protocol 2.0 to a Hyper-V host.

What it shows:

* the guest offers 2.0 (WIN10) and the host accepts; capabilities include
  hot-remove, and a minimum page count;
* right after, the host's INFO_MESSAGE with one MAX_PAGE_CNT entry (the VM's
  maximum memory), which QEMU never sends;
* a status report every second from the start, every field filled in;
* after the host's 50 s settling delay: a hot add (the 16-byte form, no
  region) that the guest refuses with result 0, a transient failure; the host
  retries and the guest answers result 1 with page_count 0, the permanent
  failure that stops hot-adding for good (a guest without memory hot-plug);
* then hot removes with QoS LARGE: the guest answers in parts of at most 509
  ranges of 2 MiB, more_pages on every part but the last, result 1 on parts
  that carry ranges (Linux's hv_send_hot_remove_response() does the same).

Modelling choices where no source says: the guest numbers what it originates
from one counter starting at 1, like Linux, and copies the host's trans_id into
its answers to host requests (docs/protocol.md: "possibly Windows hot-remove
parts"); the host stamps its own counter, moving on after each transaction.
"""

from __future__ import annotations

import random
from typing import Any

from scapy.packet import Packet

from dmdissect.layers import (
    DMCaps,
    DMHeader,
    DMHotAddRequest,
    DMHotAddResponse,
    DMHotRemoveRequest,
    DMHotRemoveResponse,
    DMInfoEntry,
    DMInfoMessage,
    DMPageRange,
    DMStatusReport,
)
from dmdissect.synth.memory import (
    BLOCK,
    GIB,
    HA_CHUNK,
    HOT_ADD_ALIGNMENT,
    HOT_REMOVE_PART_RANGES,
    PAGES_PER_MIB,
    BlockPool,
    GuestLoad,
    align_up,
    ram_extents,
)
from dmdissect.synth.steps import capabilities, fork, ms, offer, s, status_reports, ticks
from dmdissect.synth.timeline import Batch, Event, Planned, Timeline
from dmdissect.views.phrases import mib
from dmdissect.vocabulary import Direction

WIN10 = 0x00020000
SETTLING_DELAY = s(50)
QOS_LARGE = 1
#: The 40-bit start_page field's limit: what a 2.0 guest reports as its highest page.
MAX_PAGE_NUMBER = (1 << 40) - 1


class WindowsHyperV:
    """One session: the peers' state while the profile lays its messages on the timeline."""

    def __init__(self, rng: random.Random, timeline: Timeline, start: int, end: int) -> None:
        self.rng = rng
        self.timeline = timeline
        self.start = start
        self.end = end
        ram = rng.choice((4, 8)) * GIB
        extents = ram_extents(ram)
        self.pool = BlockPool(rng, extents)
        self.load = GuestLoad(fork(rng), ram, end // 1_000_000 + 1)
        self.clock = fork(rng)
        self.min_pages = rng.choice((512, 1024)) * PAGES_PER_MIB
        self.max_pages = ram * rng.choice((2, 4))
        self.hot_add_at = align_up(extents[-1][1], HA_CHUNK)
        self.page_file = rng.choice((1024, 1536, 2048)) * PAGES_PER_MIB
        paging = fork(rng)
        self.paging = [
            (paging.randint(3, 8), paging.randint(0, 40), paging.randint(0, 2500))
            for _ in range(end // 1_000_000 + 2)
        ]
        self.host_id = 0
        self.hot_add_refusals = 0
        self.hot_add_pages = rng.randint(1, 4) * HA_CHUNK

    def run(self) -> None:
        rng = self.rng
        reply = offer(self.timeline, self.start, WIN10, False, True, rng.randint(100, 600))
        caps = DMCaps(balloon=1, hot_add=1, hot_add_alignment=HOT_ADD_ALIGNMENT, hot_remove=1)
        reply = capabilities(
            self.timeline,
            reply.at + rng.randint(100, 800),
            caps,
            self.min_pages,
            MAX_PAGE_NUMBER,
            rng.randint(100, 600),
            hot_remove=True,
        )
        connected = reply.at
        self.info(connected + rng.randint(ms(1), ms(20)))
        first_status = connected + rng.randint(s(1), s(2))
        status_reports(
            self.timeline,
            ticks(self.clock, first_status, self.end, s(1), ms(2)),
            self.status,
            "status reports begin: Windows reports from the start",
        )
        self.operations(connected + SETTLING_DELAY + rng.randint(ms(100), s(2)))

    def info(self, at: int) -> None:
        host_id = self.host_id
        pages = self.max_pages
        batch = Batch()
        batch.add(
            Event(
                at,
                Direction.HOST_TO_GUEST,
                lambda _: (
                    DMHeader(trans_id=host_id)
                    / DMInfoMessage(info=[DMInfoEntry(type=0, data=pages)])
                ),
                comment=f"info: MAX_PAGE_CNT {pages} pages ({mib(pages)}), the VM's maximum memory",
            )
        )
        self.timeline.commit(batch, Planned("info", "sent"))
        self.host_id += 1

    def status(self, at: int, trans_id: int | None) -> DMHeader:
        """Windows fills in every field: page file, zeroed free pages, paging activity."""
        load = self.load
        avail = load.avail_at(at)
        share, writes, io_diff = self.paging[min(at // 1_000_000, len(self.paging) - 1)]
        return DMHeader(trans_id=trans_id) / DMStatusReport(
            num_avail=avail,
            num_committed=int(load.used_at(at) * 1.4),
            page_file_size=self.page_file,
            zero_free=avail // share,
            page_file_writes=writes,
            io_diff=io_diff,
        )

    def operations(self, at: int) -> None:
        """Hot add until refused for good, then hot removes, while each ends in the session."""
        while True:
            planned = self.hot_add(at) if self.hot_add_refusals < 2 else self.hot_remove(at)
            if planned is None:
                return
            batch, plan, changes = planned
            if batch.end > self.end:
                return
            self.timeline.commit(batch, plan)
            for change in changes:
                self.load.change(*change)
            self.host_id += 1
            at = batch.end + self.rng.randint(s(6), s(14))

    def hot_add(self, at: int) -> Any:
        """A 16-byte MEM_HOT_ADD_REQUEST the guest refuses: transient first, then for good."""
        rng = self.rng
        self.hot_add_refusals += 1
        permanent = self.hot_add_refusals == 2
        pages, start, host_id = self.hot_add_pages, self.hot_add_at, self.host_id
        batch = Batch()
        first = "Hyper-V's 50 s settling delay is over; " if not permanent else "retry: "
        batch.add(
            Event(
                at,
                Direction.HOST_TO_GUEST,
                lambda _: (
                    DMHeader(trans_id=host_id)
                    / DMHotAddRequest(range=DMPageRange(start_page=start, page_cnt=pages))
                ),
                comment=f"{first}hot add: {pages} pages ({mib(pages)}) at {start:#x}, 16-byte form",
            )
        )
        result, outcome, why = (
            (
                1,
                "permanent_failure",
                "result 1 with page_count 0: permanent failure, the host stops hot-adding",
            )
            if permanent
            else (0, "transient_failure", "result 0: transient failure, the host may retry")
        )
        batch.add(
            Event(
                at + rng.randint(ms(5), ms(60)),
                Direction.GUEST_TO_HOST,
                lambda _: (
                    DMHeader(trans_id=host_id) / DMHotAddResponse(page_count=0, result=result)
                ),
                comment=f"hot add refused: {why}",
            )
        )
        return batch, Planned("hot_add", outcome, pages, 0, 1), []

    def hot_remove(self, at: int) -> Any:
        """MEM_HOT_REMOVE_REQUEST, answered in parts of 509 ranges of 2 MiB; the guest keeps
        its minimum and what its programs use."""
        rng = self.rng
        load = self.load
        room = (load.total_at(at) - self.min_pages - load.used_at(at)) // BLOCK - 16
        if room < 32:
            return None
        blocks = self.pool.take(min(room, rng.randint(400, 1400)))
        pages = len(blocks) * BLOCK
        host_id = self.host_id
        batch = Batch()
        batch.add(
            Event(
                at,
                Direction.HOST_TO_GUEST,
                lambda _: (
                    DMHeader(trans_id=host_id)
                    / DMHotRemoveRequest(virtual_node=0, page_count=pages, qos_flags=QOS_LARGE)
                ),
                comment=f"hot remove: the host asks for {pages} pages ({mib(pages)}), QoS LARGE",
            )
        )
        parts = [
            blocks[i : i + HOT_REMOVE_PART_RANGES]
            for i in range(0, len(blocks), HOT_REMOVE_PART_RANGES)
        ]
        sent = at + rng.randint(ms(5), ms(40))
        changes = []
        for number, part in enumerate(parts, 1):
            sent += sum(rng.randint(1500, 3000) for _ in part)
            more = number < len(parts)

            def response(_: int | None, part: list[int] = part, more: bool = more) -> Packet:
                return DMHeader(trans_id=host_id) / DMHotRemoveResponse(
                    result=1,
                    more_pages=int(more),
                    range_array=[DMPageRange(start_page=pfn, page_cnt=BLOCK) for pfn in part],
                )

            batch.add(Event(sent, Direction.GUEST_TO_HOST, response))
            changes.append((sent, -len(part) * BLOCK))
        return batch, Planned("hot_remove", "accepted", pages, pages, len(parts)), changes


def build(rng: random.Random, timeline: Timeline, start: int, end: int) -> None:
    WindowsHyperV(rng, timeline, start, end).run()
