"""``faulty``: every malformation the expert checks know, one each, among clean messages.

The session is a Linux guest and a QEMU host (:mod:`dmdissect.synth.linux_qemu`)
with its clock squeezed: status reports start a second after the handshake
and the host does not wait 50 s.  Between clean balloon, unballoon and hot-add
transactions come the faulty messages, each labelled in its pcapng comment
(``fault: trailing bytes``) so that a reader can see what the dissector should
say about it.  Two faults sit inside transactions: the first version offer
names an unknown version (the host refuses it), and one hot-add response
carries an unknown result.

Faulty messages are built with the layers and then damaged: a field set to a
wrong value, bytes cut off or added.  The three VMBus faults carry their own
descriptor even without ``--vmbus``; the message shorter than a header never
gets one, because VMBus padding would complete its header.  In a classic pcap
the capture holds no direction, so the wrong-direction fault cannot show there.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scapy.packet import Packet, Raw

from dmdissect.layers import (
    DMBalloonRequest,
    DMBalloonResponse,
    DMCaps,
    DMHeader,
    DMInfoEntry,
    DMInfoMessage,
    DMPageRange,
    VMBusDescriptor,
)
from dmdissect.synth.linux_qemu import WIN10, LinuxQemu
from dmdissect.synth.memory import BLOCK, HOT_ADD_ALIGNMENT
from dmdissect.synth.steps import capabilities, ms, offer, s, status_reports, ticks
from dmdissect.synth.timeline import FRAME_AUTO, FRAME_OWN, Batch, Event, Fault, Planned, Timeline
from dmdissect.vocabulary import Direction

#: The version the first offer names: no such protocol version exists.
UNKNOWN_VERSION = 0x00030000
#: A type seen in floods of corrupted messages (docs/protocol.md).
UNKNOWN_TYPE = 51200
UNKNOWN_HOT_ADD_RESULT = 7
JUNK = b"\xde\xad\xbe\xef" * 2
#: Least time between two steps, so that every fault sits between status reports.
MIN_GAP = 500_000

#: Labels of the faults inside transactions.
VERSION_FAULT = "fault: unknown protocol version"
RESULT_FAULT = "fault: unknown hot-add result"


@dataclass
class Flaw:
    """One standalone faulty message: its label, who sends it, how it is built and framed."""

    label: str
    direction: Direction
    build: Callable[[int, int | None], Packet | bytes]
    framing: str = FRAME_AUTO
    info: bool = False


class Faulty(LinuxQemu):
    """The linux-qemu peers, a squeezed clock, and a faulty message between clean ones."""

    def run(self) -> None:
        rng = self.rng
        connected = self.handshake()
        status_reports(
            self.timeline,
            ticks(self.clock, connected + s(1), self.end, s(1), ms(4)),
            self.status,
            "status reports begin (clock squeezed: no 45 s wait)",
        )
        steps = self.steps()
        first = connected + s(1.5)
        gap = (self.end - first) // (len(steps) + 1)
        if gap < MIN_GAP:
            needed = first - self.start + (len(steps) + 1) * MIN_GAP
            raise ValueError(
                f"the faulty profile needs a duration of at least {-(-needed // 1_000_000)} s"
            )
        for number, step in enumerate(steps, 1):
            step(first + number * gap + rng.randint(0, ms(200)))

    def handshake(self) -> int:
        rng = self.rng
        reply = offer(
            self.timeline,
            self.start,
            UNKNOWN_VERSION,
            False,
            False,
            rng.randint(150, 900),
            comment=VERSION_FAULT,
            fault=Fault(VERSION_FAULT),
        )
        reply = offer(
            self.timeline,
            reply.at + rng.randint(200, 1500),
            WIN10,
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

    def steps(self) -> list[Callable[[int], None]]:
        """Clean transactions and faults, in the order they appear."""
        faults = [self.fault(flaw) for flaw in self.faults()]
        return (
            [self.transaction(lambda at: self.balloon(at, most=24))]
            + faults[:5]
            + [self.transaction(plan) for plan in self.bad_balloons()]
            + [self.transaction(self.unballoon)]
            + faults[5:]
            + [self.transaction(self.hot_add), self.transaction(self.bad_hot_add)]
        )

    def transaction(self, plan: Callable[[int], tuple | None]) -> Callable[[int], None]:
        """A step that plans one transaction at its time and keeps it."""

        def step(at: int) -> None:
            planned = plan(at)
            if planned is not None:
                self.commit(*planned)

        return step

    def bad_hot_add(self, at: int) -> Any:
        batch, plan, changes = self.hot_add(at, result=UNKNOWN_HOT_ADD_RESULT)
        response = batch.events[-1]
        response.fault = Fault(RESULT_FAULT)
        response.comment = RESULT_FAULT
        return batch, plan, changes

    def bad_balloons(self) -> list[Callable[[int], tuple]]:
        """Balloon requests answered by one damaged part each, as buggy guests do."""

        def claims_five(tid: int | None, ranges: list[DMPageRange]) -> Packet:
            return DMHeader(trans_id=tid) / DMBalloonResponse(range_count=5, range_array=ranges)

        def says_sixteen(tid: int | None, ranges: list[DMPageRange]) -> Packet:
            return DMHeader(trans_id=tid, size=16) / DMBalloonResponse(range_array=ranges)

        def whole(tid: int | None, ranges: list[DMPageRange]) -> Packet:
            return DMHeader(trans_id=tid) / DMBalloonResponse(range_array=ranges)

        return [
            self.bad_balloon("fault: range_count larger than the bytes", 3, 5, claims_five),
            self.bad_balloon("fault: hdr.size disagrees with range_count", 3, 3, says_sixteen),
            self.bad_balloon("fault: part larger than 4096 bytes", 511, 511, whole),
        ]

    def bad_balloon(
        self,
        label: str,
        count: int,
        asked: int,
        respond: Callable[[int | None, list[DMPageRange]], Packet],
    ) -> Callable[[int], tuple]:
        def plan(at: int) -> tuple:
            blocks = self.pool.take(count)
            pages, host_id = len(blocks) * BLOCK, self.host_id
            batch = Batch()
            batch.add(
                Event(
                    at,
                    Direction.HOST_TO_GUEST,
                    lambda _: (
                        DMHeader(trans_id=host_id) / DMBalloonRequest(num_pages=asked * BLOCK)
                    ),
                )
            )
            sent = at + self.rng.randint(ms(5), ms(40))
            batch.add(
                Event(
                    sent,
                    Direction.GUEST_TO_HOST,
                    lambda tid: respond(
                        tid, [DMPageRange(start_page=pfn, page_cnt=BLOCK) for pfn in blocks]
                    ),
                    numbered=True,
                    comment=label,
                    fault=Fault(label),
                )
            )
            self.ballooned.extend(blocks)
            outcome = "accepted" if count == asked else "partial"
            return (
                batch,
                Planned("balloon", outcome, asked * BLOCK, pages, 1),
                [(sent, -pages, pages)],
            )

        return plan

    def fault(self, flaw: Flaw) -> Callable[[int], None]:
        """A standalone faulty message; an info message still counts as an info transaction."""

        def step(at: int) -> None:
            host_id = self.host_id
            guest = flaw.direction == Direction.GUEST_TO_HOST
            event = Event(
                at,
                flaw.direction,
                lambda tid: flaw.build(at, tid if guest else host_id),
                numbered=guest,
                comment=flaw.label,
                fault=Fault(flaw.label),
                framing=flaw.framing,
            )
            if flaw.info:
                batch = Batch()
                batch.add(event)
                self.timeline.commit(batch, Planned("info", "sent"))
            else:
                self.timeline.add(event)

        return step

    def faults(self) -> list[Flaw]:
        """Every standalone fault, in the order the session shows them."""
        status = self.status
        max_page_cnt = DMInfoEntry(type=0, data=self.load.ram_pages * 2)

        def sized(size: int) -> Callable[[int, int | None], Packet]:
            def build(at: int, tid: int | None) -> Packet:
                packet = status(at, tid)
                packet.size = size
                return packet

            return build

        def info(label: str, *entries: DMInfoEntry, **fields: int) -> Flaw:
            def build(at: int, tid: int | None) -> Packet:
                return DMHeader(trans_id=tid) / DMInfoMessage(
                    None, info=[entry.copy() for entry in entries], **fields
                )

            return Flaw(label, Direction.HOST_TO_GUEST, build, info=True)

        def cut_entry(at: int, tid: int | None) -> Packet:
            return (
                DMHeader(trans_id=tid) / DMInfoMessage(info_size=4) / Raw(bytes(max_page_cnt)[:4])
            )

        return [
            Flaw(
                "fault: shorter than the header",
                Direction.GUEST_TO_HOST,
                lambda at, tid: bytes(status(at, tid))[:5],
                FRAME_OWN,
            ),
            Flaw("fault: hdr.size smaller than the header", Direction.GUEST_TO_HOST, sized(4)),
            Flaw("fault: hdr.size smaller than the fixed part", Direction.GUEST_TO_HOST, sized(16)),
            Flaw(
                "fault: truncated",
                Direction.GUEST_TO_HOST,
                lambda at, tid: bytes(status(at, tid))[:30],
            ),
            Flaw(
                "fault: trailing bytes",
                Direction.GUEST_TO_HOST,
                lambda at, tid: sized(48)(at, tid) / Raw(JUNK),
            ),
            info("fault: non-zero reserved bits", max_page_cnt, reserved=1),
            Flaw(
                "fault: unknown message type",
                Direction.GUEST_TO_HOST,
                lambda at, tid: DMHeader(type=UNKNOWN_TYPE, trans_id=tid) / Raw(JUNK),
            ),
            Flaw("fault: wrong direction", Direction.HOST_TO_GUEST, status),
            info("fault: info data_size lies", DMInfoEntry(type=0, data_size=16, data=bytes(8))),
            info("fault: info_size past the end", max_page_cnt, info_size=64),
            Flaw("fault: truncated info entry", Direction.HOST_TO_GUEST, cut_entry, info=True),
            info(
                "fault: MAX_PAGE_CNT not 8 bytes",
                DMInfoEntry(type=0, data_size=4, data=(1 << 20).to_bytes(4, "little")),
            ),
            info("fault: unknown info type", DMInfoEntry(type=7, data=b"abcd")),
            Flaw(
                "fault: VMBus len8 past the frame",
                Direction.GUEST_TO_HOST,
                lambda at, tid: bytes(VMBusDescriptor(len8=20) / status(at, tid)),
                FRAME_OWN,
            ),
            Flaw(
                "fault: bytes after the VMBus packet",
                Direction.GUEST_TO_HOST,
                lambda at, tid: bytes(VMBusDescriptor() / status(at, tid)) + JUNK,
                FRAME_OWN,
            ),
            Flaw(
                "fault: VMBus len8 disagrees with hdr.size",
                Direction.GUEST_TO_HOST,
                lambda at, tid: bytes(VMBusDescriptor(len8=9) / sized(48)(at, tid) / Raw(bytes(8))),
                FRAME_OWN,
            ),
        ]


def build(rng: random.Random, timeline: Timeline, start: int, end: int) -> None:
    Faulty(rng, timeline, start, end).run()
