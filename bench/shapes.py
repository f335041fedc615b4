"""The benchmark's session shapes, built with the project's layers from a fixed seed.

Each shape is a generator of frames (``count`` messages, times 20 ms apart,
directions from the capture); :func:`write_shape` saves one as pcapng, or as
the dmesg ``print_hex_dump`` log a driver would print.  The same seed and
size give the same bytes, so files are made once and reused.

1. ``mix``: 45 status reports, then a balloon request answered in 4 parts of
   10 contiguous ranges of 512 pages (a block of 50 messages).
2. ``fragmented``: the same, but every range at a random 2 MiB-aligned start
   page across 4 TiB of guest memory; nothing is ever unballooned, so the
   ledger of ballooned pages grows to its cap.
3. ``churn``: balloon 40 scattered ranges, then unballoon the first half of
   each chunk in 2 parts (the ledger splits every run), and balloon chunks of
   the same pool again later (runs merge back).
4. ``long``: balloon requests answered in 20 parts of 510 ranges (4096-byte
   messages), with 9 status reports between requests.
5. ``hotadd``: 24-byte hot-add requests (range and region) and their responses.
6. ``vmbus``: the mix, each message behind a VMBus in-band descriptor.
7. ``dmesg``: the mix as the kernel's ``print_hex_dump`` log (groupsize 1).
8. ``qemu-trace``: QEMU's ``hv_balloon_*`` trace events (``-msg timestamp=on``)
   of a ``synth`` linux-qemu session, its steady part repeated, each time
   later, to ``count`` lines (a trace counts lines, not messages).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

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
    VMBusDescriptor,
)
from dmdissect.layers.layout import layout_of
from dmdissect.sources.frame import Frame
from dmdissect.vocabulary import Direction, DirectionSource

T0 = 1_764_205_200.0
SEED = 11
#: 2 MiB chunks (512 pages of 4 KiB) in 4 TiB of guest memory.
CHUNK_PAGES = 512
CHUNKS = (4 << 40) // (CHUNK_PAGES * 4096)
TRANS_ID = next(s for s in layout_of(DMHeader).spots if s.name == "trans_id")

Message = tuple[bytes, str]


def _with_id(template: bytes, trans_id: int) -> bytes:
    data = bytearray(template)
    data[TRANS_ID.offset : TRANS_ID.offset + TRANS_ID.size] = (
        trans_id & ((1 << (8 * TRANS_ID.size)) - 1)
    ).to_bytes(TRANS_ID.size, "little")
    return bytes(data)


_STATUS = bytes(DMHeader() / DMStatusReport(num_avail=262144, num_committed=131072))


def _balloon_part(starts: list[int], more: bool, pages: int = CHUNK_PAGES) -> bytes:
    ranges = [DMPageRange(start_page=start, page_cnt=pages) for start in starts]
    return bytes(DMHeader() / DMBalloonResponse(more_pages=int(more), range_array=ranges))


def _unballoon_part(starts: list[int], more: bool, pages: int) -> bytes:
    ranges = [DMPageRange(start_page=start, page_cnt=pages) for start in starts]
    return bytes(DMHeader() / DMUnballoonRequest(more_pages=int(more), range_array=ranges))


class _Ids:
    """The two id counters: the guest numbers every message it sends, the host its own."""

    def __init__(self) -> None:
        self.guest = self.host = 0

    def stamp(self, template: bytes, direction: str) -> Message:
        if direction == Direction.GUEST_TO_HOST:
            self.guest += 1
            return _with_id(template, self.guest), direction
        self.host += 1
        return _with_id(template, self.host), direction


def _mix(rng: random.Random) -> Iterator[Message]:
    request = bytes(DMHeader() / DMBalloonRequest(num_pages=20480))
    parts = [
        _balloon_part([0x100000 + CHUNK_PAGES * (10 * p + i) for i in range(10)], p < 3)
        for p in range(4)
    ]
    ids = _Ids()
    while True:
        for _ in range(45):
            yield ids.stamp(_STATUS, Direction.GUEST_TO_HOST)
        yield ids.stamp(request, Direction.HOST_TO_GUEST)
        for part in parts:
            yield ids.stamp(part, Direction.GUEST_TO_HOST)


def _fragmented(rng: random.Random) -> Iterator[Message]:
    request = bytes(DMHeader() / DMBalloonRequest(num_pages=20480))
    ids = _Ids()
    while True:
        for _ in range(45):
            yield ids.stamp(_STATUS, Direction.GUEST_TO_HOST)
        yield ids.stamp(request, Direction.HOST_TO_GUEST)
        for p in range(4):
            starts = [rng.randrange(CHUNKS) * CHUNK_PAGES for _ in range(10)]
            yield ids.stamp(_balloon_part(starts, p < 3), Direction.GUEST_TO_HOST)


def _churn(rng: random.Random) -> Iterator[Message]:
    pool = [chunk * CHUNK_PAGES for chunk in rng.sample(range(CHUNKS), 400)]
    request = bytes(DMHeader() / DMBalloonRequest(num_pages=40 * CHUNK_PAGES))
    response = bytes(DMHeader() / DMUnballoonResponse())
    half = CHUNK_PAGES // 2
    ids = _Ids()
    while True:
        chunks = rng.sample(pool, 40)
        for _ in range(40):
            yield ids.stamp(_STATUS, Direction.GUEST_TO_HOST)
        yield ids.stamp(request, Direction.HOST_TO_GUEST)
        for p in range(4):
            yield ids.stamp(
                _balloon_part(chunks[10 * p : 10 * p + 10], p < 3), Direction.GUEST_TO_HOST
            )
        # QEMU stamps one id on every unballoon part.
        ids.host += 1
        for p in range(2):
            part = _unballoon_part(chunks[20 * p : 20 * p + 20], p < 1, half)
            yield _with_id(part, ids.host), Direction.HOST_TO_GUEST
        yield ids.stamp(response, Direction.GUEST_TO_HOST)
        yield ids.stamp(_STATUS, Direction.GUEST_TO_HOST)


def _long(rng: random.Random) -> Iterator[Message]:
    request = bytes(DMHeader() / DMBalloonRequest(num_pages=20 * 510 * CHUNK_PAGES))
    parts = [
        _balloon_part([CHUNK_PAGES * (510 * p + i) for i in range(510)], p < 19) for p in range(20)
    ]
    ids = _Ids()
    while True:
        for _ in range(9):
            yield ids.stamp(_STATUS, Direction.GUEST_TO_HOST)
        yield ids.stamp(request, Direction.HOST_TO_GUEST)
        for part in parts:
            yield ids.stamp(part, Direction.GUEST_TO_HOST)


def _hotadd(rng: random.Random) -> Iterator[Message]:
    region = 128 * 256  # 128 MiB in pages
    requests = [
        bytes(
            DMHeader()
            / DMHotAddRequest(
                range=DMPageRange(start_page=s, page_cnt=region),
                region=DMPageRange(start_page=s, page_cnt=region),
            )
        )
        for s in range(0x400000, 0x400000 + 64 * region, region)
    ]
    assert all(len(r) == 24 for r in requests)
    response = bytes(DMHeader() / DMHotAddResponse(page_count=region, result=1))
    ids = _Ids()
    while True:
        for request in requests:
            yield ids.stamp(request, Direction.HOST_TO_GUEST)
            yield ids.stamp(response, Direction.GUEST_TO_HOST)


def _vmbus(rng: random.Random) -> Iterator[Message]:
    for index, (data, direction) in enumerate(_mix(rng), 1):
        yield bytes(VMBusDescriptor(trans_id=index) / DMHeader(data)), direction


#: Shape name -> message generator and output form.
SHAPES: dict[str, tuple[Callable[[random.Random], Iterator[Message]], str]] = {
    "mix": (_mix, "pcapng"),
    "fragmented": (_fragmented, "pcapng"),
    "churn": (_churn, "pcapng"),
    "long": (_long, "pcapng"),
    "hotadd": (_hotadd, "pcapng"),
    "vmbus": (_vmbus, "pcapng"),
    "dmesg": (_mix, "dmesg"),
    "qemu-trace": (_mix, "qemu-trace"),
}
#: Seconds of the synth session whose trace the qemu-trace shape repeats.
TRACE_SESSION = 600.0


def frames(shape: str, count: int, seed: int = SEED) -> Iterator[Frame]:
    make, _ = SHAPES[shape]
    messages = make(random.Random(seed))
    for index in range(count):
        data, direction = next(messages)
        yield Frame(
            index + 1,
            data,
            time=T0 + index * 0.02,
            direction=direction,
            direction_source=DirectionSource.CAPTURE,
        )


def file_name(directory: Path, shape: str, count: int, seed: int = SEED) -> Path:
    """Where :func:`write_shape` keeps the file of ``count`` messages of ``shape``."""
    form = SHAPES[shape][1]
    return directory / f"{shape}-{count}-s{seed}.{'pcapng' if form == 'pcapng' else 'log'}"


def trace_lines(count: int, seed: int = SEED) -> Iterator[str]:
    """``count`` lines of QEMU's trace: a synth session's start, then its steady part
    again and again, each copy's times moved on by the session's length."""
    from dmdissect.synth import generate
    from dmdissect.synth.logs import qemu_trace_lines

    lines = list(qemu_trace_lines(generate("linux-qemu", seed=seed, duration=TRACE_SESSION)))
    # the start: reset, version and caps, up to the first balloon request
    start = next(i for i, line in enumerate(lines) if "S_BALLOON_RB_WAIT" in line)
    head, body = lines[:start], lines[start:]
    stamps = [line.split("@", 1)[1].split(":", 1) for line in body]
    first = float(stamps[0][0])
    span = float(stamps[-1][0]) - first + 1.0
    tid = body[0].split("@", 1)[0]
    made = 0
    for line in head[:count]:
        yield line
        made += 1
    shift = 0.0
    while made < count:
        for stamp, rest in stamps:
            if made == count:
                return
            yield f"{tid}@{float(stamp) + shift:.6f}:{rest}"
            made += 1
        shift += span


def write_shape(directory: Path, shape: str, count: int, seed: int = SEED) -> Path:
    """The file of ``count`` messages of ``shape``, made unless it exists."""
    form = SHAPES[shape][1]
    path = file_name(directory, shape, count, seed)
    if path.exists():
        return path
    partial = path.with_suffix(path.suffix + ".part")
    with partial.open("wb") as out:
        if form == "qemu-trace":
            for line in trace_lines(count, seed):
                out.write(line.encode() + b"\n")
        elif form == "dmesg":
            from dmdissect.views.hexlog import dmesg_lines

            # Seconds since a boot 100 s before the first message, as dmesg prints them.
            for line in dmesg_lines(frames(shape, count, seed), boot_time=T0 - 100):
                out.write(line.encode() + b"\n")
        else:
            from dmdissect.sources.writer import write_frames

            write_frames(frames(shape, count, seed), out)
    partial.rename(path)
    return path
