"""A bounded set of page numbers kept as sorted, disjoint intervals.

The tracker needs two questions answered cheaply on endless input: "do these
pages overlap pages already in this transaction?" and "were these pages
ballooned earlier in the capture?".  Pages come in ranges, so intervals keep
memory proportional to the number of disjoint runs, and a cap on that number
keeps it bounded whatever the input; past the cap the set stops growing and
says so (``overflowed``), so that callers can stop trusting it.

A guest balloons 2 MiB chunks from wherever its free memory is, so runs
arrive at scattered places: the intervals live in a ``SortedDict`` (start ->
end), whose inserts and deletes cost a logarithmic number of steps and shift
at most a few thousand entries, however many runs are kept.  A flat sorted
list would move every later entry on each insert: quadratic on such input.
"""

from __future__ import annotations

from sortedcontainers import SortedDict

#: The runs of every empty set: a ``SortedDict`` costs microseconds to make, and
#: most sets (one per transaction) never hold a page.  Never written: :meth:`PageSet.add`
#: gives a set its own on the first insert.
_NO_RUNS: SortedDict = SortedDict()


class PageSet:
    """Half-open intervals ``[start, end)`` of page numbers, at most ``limit`` of them."""

    __slots__ = ("_runs", "limit", "overflowed")

    def __init__(self, limit: int) -> None:
        self._runs: SortedDict = _NO_RUNS
        self.limit = limit
        self.overflowed = False

    def __len__(self) -> int:
        return len(self._runs)

    def runs(self) -> list[tuple[int, int]]:
        """The intervals as ``(start, end)`` pairs, in order."""
        return list(self._runs.items())

    def _touching(self, start: int, end: int, strict: bool) -> list[int]:
        """Starts of the intervals that meet ``[start, end)``.

        ``strict``: only those sharing a page; else also those that merely
        touch it at either end (and so merge with it).
        """
        runs = self._runs
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
        total = 0
        for key in self._touching(start, end, strict=True):
            total += min(end, runs[key]) - max(start, key)
        return total

    def add(self, start: int, end: int) -> bool:
        """Add ``[start, end)``, merging with touching intervals; False when full."""
        if end <= start:
            return True
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
        if runs is _NO_RUNS:
            runs = self._runs = SortedDict()
        runs[start] = end
        return True

    def remove(self, start: int, end: int) -> None:
        """Take ``[start, end)`` out; a split interval may leave one piece each side."""
        if end <= start:
            return
        runs = self._runs
        keys = self._touching(start, end, strict=True)
        if not keys:
            return
        first, last = keys[0], runs[keys[-1]]
        for key in keys:
            del runs[key]
        if first < start:
            runs[first] = start
        if last > end:
            runs[end] = last


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
