"""A bounded set of page numbers kept as sorted, disjoint intervals.

The tracker needs two questions answered cheaply on endless input: "do these
pages overlap pages already in this transaction?" and "were these pages
ballooned earlier in the capture?".  Pages come in ranges, so intervals keep
memory proportional to the number of disjoint runs, and a cap on that number
keeps it bounded whatever the input; past the cap the set stops growing and
says so (``overflowed``), so that callers can stop trusting it.

A guest balloons 2 MiB chunks from wherever its free memory is, so runs
arrive at scattered places: a large set's intervals live in a ``SortedDict``
(start -> end), whose inserts and deletes cost a logarithmic number of steps
and shift at most a few thousand entries, however many runs are kept.  A flat
sorted list would move every later entry on each insert: quadratic on such
input.  A small set (most of them: one per transaction) keeps two plain
sorted lists, which shift as few entries and cost far less per call.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from sortedcontainers import SortedDict

#: Runs a set keeps in two plain sorted lists before it moves them into a ``SortedDict``.
#: Below this an insert shifts at most this many entries (what the sorted container's
#: own blocks shift, at its default load), without its per-call cost; most sets (one
#: per transaction) never get there.
SMALL = 1000


class PageSet:
    """Half-open intervals ``[start, end)`` of page numbers, at most ``limit`` of them.

    Small sets keep the starts and ends in two sorted lists (the intervals
    meeting a range are one slice of them); past :data:`SMALL` runs they
    move into a ``SortedDict`` (start -> end) for good.
    """

    __slots__ = ("_starts", "_ends", "_runs", "limit", "overflowed")

    def __init__(self, limit: int) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._runs: SortedDict | None = None
        self.limit = limit
        self.overflowed = False

    def __len__(self) -> int:
        return len(self._starts) if self._runs is None else len(self._runs)

    def runs(self) -> list[tuple[int, int]]:
        """The intervals as ``(start, end)`` pairs, in order."""
        if self._runs is None:
            return list(zip(self._starts, self._ends, strict=True))
        return list(self._runs.items())

    def _span(self, start: int, end: int) -> tuple[int, int]:
        """Indexes ``lo:hi`` of the small set's intervals that share a page with ``[start, end)``.

        (:meth:`_add_small` finds those that merely touch it too, in line.)
        """
        starts = self._starts
        lo = bisect_left(starts, start)
        if lo and self._ends[lo - 1] > start:
            lo -= 1
        return lo, bisect_left(starts, end, lo)

    def _touching(self, start: int, end: int, strict: bool) -> list[int]:
        """Starts of the large set's intervals that meet ``[start, end)`` (as :meth:`_span`)."""
        runs = self._runs
        assert runs is not None
        keys: list[int] = []
        index = runs.bisect_left(start)
        if index:
            before, before_end = runs.peekitem(index - 1)
            if before_end > start or (not strict and before_end == start):
                keys.append(before)
        size = len(runs)
        while index < size:
            key = runs.peekitem(index)[0]
            if key > end or (strict and key == end):
                break
            keys.append(key)
            index += 1
        return keys

    def overlap(self, start: int, end: int) -> int:
        """How many pages of ``[start, end)`` are already in the set."""
        if end <= start:
            return 0
        runs = self._runs
        if runs is None:
            lo, hi = self._span(start, end)
            starts, ends = self._starts, self._ends
            return sum(min(end, ends[i]) - max(start, starts[i]) for i in range(lo, hi))
        total = 0
        for key in self._touching(start, end, strict=True):
            total += min(end, runs[key]) - max(start, key)
        return total

    def add(self, start: int, end: int) -> bool:
        """Add ``[start, end)``, merging with touching intervals; False when full."""
        if end <= start:
            return True
        if self._runs is None:
            return self._add_small(start, end) is not None
        runs = self._runs
        keys = self._touching(start, end, strict=False)
        if keys:
            first = min(start, keys[0])
            last = max(end, runs[keys[-1]])
            for key in keys:
                del runs[key]
            runs[first] = last
            return True
        if len(runs) >= self.limit:
            self.overflowed = True
            return False
        runs[start] = end
        return True

    def _add_small(self, start: int, end: int) -> int | None:
        """:meth:`put` on a small set; None when full (nothing added)."""
        starts, ends = self._starts, self._ends
        # The intervals that meet [start, end) or touch it at either end (and so merge with it).
        lo = bisect_left(starts, start)
        if lo and ends[lo - 1] >= start:
            lo -= 1
        hi = bisect_right(starts, end, lo)
        if lo == hi:
            if len(starts) >= self.limit:
                self.overflowed = True
                return None
            starts.insert(lo, start)
            ends.insert(lo, end)
            if len(starts) > SMALL:
                self._runs = SortedDict(zip(starts, ends, strict=True))
                self._starts, self._ends = [], []
            return 0
        there = sum(max(0, min(end, ends[i]) - max(start, starts[i])) for i in range(lo, hi))
        starts[lo:hi] = [min(start, starts[lo])]
        ends[lo:hi] = [max(end, ends[hi - 1])]
        return there

    def put(self, start: int, end: int) -> int:
        """Add ``[start, end)`` as :meth:`add` does; returns how many of its pages were in already.

        One search instead of :meth:`overlap` then :meth:`add`: the intervals
        that merely touch the range add nothing to the count.
        """
        if end <= start:
            return 0
        if self._runs is None:
            return self._add_small(start, end) or 0
        runs = self._runs
        keys = self._touching(start, end, strict=False)
        if not keys:
            if len(runs) >= self.limit:
                self.overflowed = True
            else:
                runs[start] = end
            return 0
        there = 0
        for key in keys:
            there += max(0, min(end, runs[key]) - max(start, key))
        first = min(start, keys[0])
        last = max(end, runs[keys[-1]])
        for key in keys:
            del runs[key]
        runs[first] = last
        return there

    def take(self, start: int, end: int) -> int:
        """Take ``[start, end)`` out as :meth:`remove` does; returns how many pages were in."""
        runs = self._runs
        if end <= start or (runs is None and not self._starts):
            return 0
        if runs is None:
            lo, hi = self._span(start, end)
            if lo == hi:
                return 0
            starts, ends = self._starts, self._ends
            there = sum(min(end, ends[i]) - max(start, starts[i]) for i in range(lo, hi))
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
            return there
        keys = self._touching(start, end, strict=True)
        if not keys:
            return 0
        there = 0
        for key in keys:
            there += min(end, runs[key]) - max(start, key)
        first, last = keys[0], runs[keys[-1]]
        for key in keys:
            del runs[key]
        if first < start:
            runs[first] = start
        if last > end:
            runs[end] = last
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
