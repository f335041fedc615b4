"""Guest memory as the profiles need it: 2 MiB blocks to give up, a load that drifts, a floor.

The page ranges a guest sends only look real if they behave like a real
allocator's: 2 MiB-aligned blocks, often in runs (so that QEMU's unballoon can
merge them back into long ranges), never the same block twice.  Status
reports only look real if the numbers move with what the guest gave and got.
"""

from __future__ import annotations

import random
from bisect import bisect_right

from dmdissect.layers import PAGES_PER_MIB, MessageType, ranges_per_part

#: Linux balloons in 2 MiB units (``PAGES_IN_2M``).
BLOCK = 512
#: Linux's hot-add unit (``HA_CHUNK``, 128 MiB), the alignment it announces as 2^7 MiB.
HA_CHUNK = 32768
HOT_ADD_ALIGNMENT = 7
#: Page ranges in one part of a balloon response and of a hot-remove response.
BALLOON_PART_RANGES = ranges_per_part(MessageType.DM_BALLOON_RESPONSE)
HOT_REMOVE_PART_RANGES = ranges_per_part(MessageType.DM_MEM_HOT_REMOVE_RESPONSE)
#: QEMU: at most this many pages in one unballoon range.
MAX_UNBALLOON_RANGE = 524288
#: Low RAM on a PC stops at 3 GiB; the rest sits above 4 GiB.
LOW_RAM_END = 0xC0000
HIGH_RAM_START = 0x100000
GIB = 1024 * PAGES_PER_MIB

US = 1_000_000


def balloon_floor(total_pages: int) -> int:
    """``compute_balloon_floor()`` of hv_balloon.c: pages Linux never balloons away."""
    mb = PAGES_PER_MIB
    if total_pages < 128 * mb:
        return 8 * mb + (total_pages >> 1)
    if total_pages < 512 * mb:
        return 40 * mb + (total_pages >> 2)
    if total_pages < 2048 * mb:
        return 104 * mb + (total_pages >> 3)
    if total_pages < 8192 * mb:
        return 232 * mb + (total_pages >> 4)
    return 488 * mb + (total_pages >> 5)


def ram_extents(ram_pages: int) -> list[tuple[int, int]]:
    """Page-frame extents of a PC guest with this much RAM: below 3 GiB, then above 4 GiB."""
    low = min(ram_pages, LOW_RAM_END)
    extents = [(0, low)]
    if ram_pages > low:
        extents.append((HIGH_RAM_START, HIGH_RAM_START + ram_pages - low))
    return extents


def align_up(value: int, alignment: int) -> int:
    return -(-value // alignment) * alignment


def merge_blocks(blocks: list[int], limit: int) -> list[tuple[int, int]]:
    """Sorted blocks joined into (start, count) ranges of at most ``limit`` pages."""
    ranges: list[tuple[int, int]] = []
    for start in sorted(blocks):
        if ranges and sum(ranges[-1]) == start and ranges[-1][1] + BLOCK <= limit:
            ranges[-1] = (ranges[-1][0], ranges[-1][1] + BLOCK)
        else:
            ranges.append((start, BLOCK))
    return ranges


class BlockPool:
    """Free 2 MiB blocks, handed out run after run as a buddy allocator tends to.

    The kernel's first 128 MiB are never handed out.  Runs are 8 to 128 blocks
    long and come in a shuffled order; blocks given back go to the end.
    """

    def __init__(self, rng: random.Random, extents: list[tuple[int, int]]) -> None:
        runs: list[list[int]] = []
        for start, end in extents:
            pfn = max(align_up(start, BLOCK), 128 * PAGES_PER_MIB)
            while pfn + BLOCK <= end:
                stop = min(end - (end - pfn) % BLOCK, pfn + rng.randint(8, 128) * BLOCK)
                runs.append(list(range(pfn, stop, BLOCK)))
                pfn = stop
        rng.shuffle(runs)
        self.free = [block for run in runs for block in run]

    def take(self, count: int) -> list[int]:
        taken, self.free = self.free[:count], self.free[count:]
        return taken

    def give_back(self, blocks: list[int]) -> None:
        self.free.extend(blocks)


class GuestLoad:
    """What a guest's own programs use, drifting a little every second, and what it gave away.

    ``changes`` records every change of the guest's memory (negative when it
    balloons pages away, positive when it gets them back or hot-adds), so that
    a status report built later still sees the memory of its own moment.
    """

    def __init__(self, rng: random.Random, ram_pages: int, seconds: int) -> None:
        self.ram_pages = ram_pages
        share = rng.uniform(0.18, 0.30)
        self.used: list[int] = []
        for _ in range(seconds + 2):
            share = min(0.45, max(0.10, share + rng.uniform(-0.004, 0.004)))
            self.used.append(int(ram_pages * share))
        self._times: list[int] = []
        self._total: list[int] = []
        self._ballooned: list[int] = []

    def change(self, at: int, pages: int, ballooned: int = 0) -> None:
        """From ``at`` on the guest has ``pages`` more (or fewer) and ``ballooned`` more away."""
        total, away = self.total_at(at), self.ballooned_at(at)
        index = bisect_right(self._times, at)
        self._times.insert(index, at)
        self._total.insert(index, total)
        self._ballooned.insert(index, away)
        for later in range(index, len(self._times)):
            self._total[later] += pages
            self._ballooned[later] += ballooned

    def total_at(self, at: int) -> int:
        index = bisect_right(self._times, at)
        return self._total[index - 1] if index else self.ram_pages

    def ballooned_at(self, at: int) -> int:
        index = bisect_right(self._times, at)
        return self._ballooned[index - 1] if index else 0

    def used_at(self, at: int) -> int:
        return self.used[min(max(at // US, 0), len(self.used) - 1)]

    def avail_at(self, at: int) -> int:
        return max(self.total_at(at) - self.used_at(at), 0)
