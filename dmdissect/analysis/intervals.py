"""A bounded set of page numbers kept as sorted, disjoint intervals.

The tracker needs two questions answered cheaply on endless input: "do these
pages overlap pages already in this transaction?" and "were these pages
ballooned earlier in the capture?".  Pages come in ranges, so intervals keep
memory proportional to the number of disjoint runs, and a cap on that number
keeps it bounded whatever the input; past the cap the set stops growing and
says so (``overflowed``), so that callers can stop trusting it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right


class PageSet:
    """Half-open intervals ``[start, end)`` of page numbers, at most ``limit`` of them."""

    __slots__ = ("starts", "ends", "limit", "overflowed")

    def __init__(self, limit: int) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.limit = limit
        self.overflowed = False

    def __len__(self) -> int:
        return len(self.starts)

    def overlap(self, start: int, end: int) -> int:
        """How many pages of ``[start, end)`` are already in the set."""
        starts, ends = self.starts, self.ends
        index = max(bisect_right(starts, start) - 1, 0)
        total = 0
        while index < len(starts) and starts[index] < end:
            total += max(0, min(end, ends[index]) - max(start, starts[index]))
            index += 1
        return total

    def add(self, start: int, end: int) -> bool:
        """Add ``[start, end)``, merging with touching intervals; False when full."""
        if end <= start:
            return True
        lo = bisect_left(self.ends, start)
        hi = bisect_right(self.starts, end)
        if lo < hi:
            merged = (min(start, self.starts[lo]), max(end, self.ends[hi - 1]))
            self.starts[lo:hi] = [merged[0]]
            self.ends[lo:hi] = [merged[1]]
            return True
        if len(self.starts) >= self.limit:
            self.overflowed = True
            return False
        self.starts.insert(lo, start)
        self.ends.insert(lo, end)
        return True

    def remove(self, start: int, end: int) -> None:
        """Take ``[start, end)`` out; a split interval may leave one piece each side."""
        if end <= start:
            return
        lo = bisect_right(self.ends, start)
        hi = bisect_left(self.starts, end)
        if lo >= hi:
            return
        starts: list[int] = []
        ends: list[int] = []
        if self.starts[lo] < start:
            starts.append(self.starts[lo])
            ends.append(start)
        if self.ends[hi - 1] > end:
            starts.append(end)
            ends.append(self.ends[hi - 1])
        self.starts[lo:hi] = starts
        self.ends[lo:hi] = ends


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
