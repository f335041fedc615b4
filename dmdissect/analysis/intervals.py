"""A bounded set of page numbers kept as sorted, disjoint intervals.

The tracker needs two questions answered cheaply on endless input: "do these
pages overlap pages already in this transaction?" and "were these pages
ballooned earlier in the capture?".  Pages come in ranges, so intervals keep
memory proportional to the number of disjoint runs, and a cap on that number
keeps it bounded whatever the input; past the cap the set stops growing and
says so (``overflowed``), so that callers can stop trusting it.

A guest balloons 2 MiB chunks from wherever its free memory is, so runs
arrive at scattered places.  A flat sorted list would move every later entry
on each insert: quadratic on such input.  The intervals are kept in blocks of
at most ``2 * LOAD`` runs (two parallel lists of starts and ends per block,
with each block's first start in a list of their own), the layout of
``sortedcontainers``' sorted list: a search is two bisections, an insert or
delete shifts at most one block.  It is written out here rather than taken
from ``SortedDict`` because every question the ledger asks is about the
neighbours of a position (the run before a range, the runs after it), which
that container answers only through its positional index, a tree walk per
call: three to four times slower on a capture of scattered balloons, and slower the
more runs it holds.  A set of at most ``2 * LOAD`` runs (one per transaction,
nearly all of them) is a single block.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

#: Runs per block, half its most: an insert or delete shifts at most ``2 * LOAD`` entries.
LOAD = 1000


class PageSet:
    """Half-open intervals ``[start, end)`` of page numbers, at most ``limit`` of them.

    Kept in order in blocks (see the module's docstring): ``_starts[b]`` and
    ``_ends[b]`` are block ``b``'s intervals, ``_firsts[b]`` its first start.
    No block is empty (an empty set has none), and no two intervals touch:
    those that would are merged into one.
    """

    __slots__ = ("_firsts", "_starts", "_ends", "_count", "limit", "overflowed")

    def __init__(self, limit: int) -> None:
        self._firsts: list[int] = []
        self._starts: list[list[int]] = []
        self._ends: list[list[int]] = []
        self._count = 0
        self.limit = limit
        self.overflowed = False

    def __len__(self) -> int:
        return self._count

    def runs(self) -> list[tuple[int, int]]:
        """The intervals as ``(start, end)`` pairs, in order."""
        out: list[tuple[int, int]] = []
        for starts, ends in zip(self._starts, self._ends, strict=True):
            out.extend(zip(starts, ends, strict=True))
        return out

    def _span(self, start: int, end: int, touching: bool) -> tuple[int, int, int]:
        """Block ``b`` and the slice ``lo:hi`` of its intervals that share a page with
        ``[start, end)`` (``touching``: or only touch it at either end).  The set is not empty.

        No interval before block ``b`` can meet the range: ``b``'s first start is
        at most ``start`` and the interval before it ends before that (no two
        touch).  A range reaching into the next blocks makes them one with
        ``b`` first (:meth:`_settle` splits it again).
        """
        firsts = self._firsts
        b = bisect_right(firsts, start) - 1
        if b < 0:
            b = 0
        starts, ends = self._starts[b], self._ends[b]
        lo = bisect_left(starts, start)
        if lo and (ends[lo - 1] >= start if touching else ends[lo - 1] > start):
            lo -= 1
        after = bisect_right if touching else bisect_left
        hi = after(starts, end, lo)
        while (
            hi == len(starts)
            and b + 1 < len(firsts)
            and (firsts[b + 1] <= end if touching else firsts[b + 1] < end)
        ):
            starts += self._starts.pop(b + 1)
            ends += self._ends.pop(b + 1)
            del firsts[b + 1]
            hi = after(starts, end, lo)
        return b, lo, hi

    def _settle(self, b: int) -> None:
        """Block ``b`` after a change: dropped when empty, cut into even blocks of about
        ``LOAD`` runs when over ``2 * LOAD``, its first start noted."""
        starts, ends = self._starts[b], self._ends[b]
        if not starts:
            del self._starts[b], self._ends[b], self._firsts[b]
            return
        if len(starts) <= 2 * LOAD:
            self._firsts[b] = starts[0]
            return
        size = -(-len(starts) // (len(starts) // LOAD))
        cuts = range(0, len(starts), size)
        self._starts[b : b + 1] = [starts[cut : cut + size] for cut in cuts]
        self._ends[b : b + 1] = [ends[cut : cut + size] for cut in cuts]
        self._firsts[b : b + 1] = [starts[cut] for cut in cuts]

    def overlap(self, start: int, end: int) -> int:
        """How many pages of ``[start, end)`` are already in the set."""
        if end <= start or not self._count:
            return 0
        b, lo, hi = self._span(start, end, False)
        starts, ends = self._starts[b], self._ends[b]
        there = 0
        for k in range(lo, hi):
            there += min(end, ends[k]) - max(start, starts[k])
        self._settle(b)
        return there

    def add(self, start: int, end: int) -> bool:
        """Add ``[start, end)``, merging with touching intervals; False when full."""
        if end <= start:
            return True
        return self._put(start, end) is not None

    def put(self, start: int, end: int) -> int:
        """Add ``[start, end)`` as :meth:`add` does; returns how many of its pages were in already.

        One search instead of :meth:`overlap` then :meth:`add`: the intervals
        that merely touch the range add nothing to the count.
        """
        if end <= start:
            return 0
        return self._put(start, end) or 0

    def _put(self, start: int, end: int) -> int | None:
        """:meth:`put`; None when the range would be a new interval and the set is full."""
        if not self._count:
            if self.limit <= 0:
                self.overflowed = True
                return None
            self._firsts.append(start)
            self._starts.append([start])
            self._ends.append([end])
            self._count = 1
            return 0
        b, lo, hi = self._span(start, end, True)
        starts, ends = self._starts[b], self._ends[b]
        there = 0
        if lo == hi:
            if self._count >= self.limit:
                self.overflowed = True
                return None
            starts.insert(lo, start)
            ends.insert(lo, end)
            self._count += 1
        else:
            for k in range(lo, hi):
                there += max(0, min(end, ends[k]) - max(start, starts[k]))
            starts[lo:hi] = [min(start, starts[lo])]
            ends[lo:hi] = [max(end, ends[hi - 1])]
            self._count -= hi - lo - 1
        if lo == 0 or len(starts) > 2 * LOAD:
            self._settle(b)
        return there

    def take(self, start: int, end: int) -> int:
        """Take ``[start, end)`` out as :meth:`remove` does; returns how many pages were in."""
        if end <= start or not self._count:
            return 0
        b, lo, hi = self._span(start, end, False)
        if lo == hi:
            return 0
        starts, ends = self._starts[b], self._ends[b]
        there = 0
        for k in range(lo, hi):
            there += min(end, ends[k]) - max(start, starts[k])
        first, last = starts[lo], ends[hi - 1]
        kept_starts, kept_ends = [], []
        if first < start:
            kept_starts.append(first)
            kept_ends.append(start)
        if last > end:
            kept_starts.append(end)
            kept_ends.append(last)
        starts[lo:hi] = kept_starts
        ends[lo:hi] = kept_ends
        self._count += len(kept_starts) - (hi - lo)
        if lo == 0 or not starts or len(starts) > 2 * LOAD:
            self._settle(b)
        return there

    def remove(self, start: int, end: int) -> None:
        """Take ``[start, end)`` out; a split interval may leave one piece each side."""
        self.take(start, end)


def coalesce(ranges: list[tuple[int, int]]) -> tuple[list[tuple[int, int]], int]:
    """Merge ``(start_page, page_cnt)`` ranges into sorted ``[start, end)`` runs.

    Returns the runs and how many pages the ranges themselves cover twice.
    One pass over a sorted copy is far cheaper than one set update per range,
    and a guest's ranges are usually contiguous (Linux: 2 MiB after 2 MiB).
    """
    runs: list[tuple[int, int]] = []
    twice = 0
    start = end = -1
    for first, count in sorted(ranges):
        if count <= 0:
            continue
        last = first + count
        if first < end:
            twice += min(last, end) - first
            end = max(end, last)
        elif first == end:
            end = last
        else:
            if end > start >= 0:
                runs.append((start, end))
            start, end = first, last
    if end > start >= 0:
        runs.append((start, end))
    return runs, twice
