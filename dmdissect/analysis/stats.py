"""The figures behind ``-z``: counted as messages stream past, never holding them.

Like tshark's taps, every statistic sees every message read (``-Y`` chooses
what is shown, not what is counted; ``io,stat`` takes filters of its own for
that).  Each collector is fed messages in input order (``feed``) and, for
the ones about transactions, the tracker's finished rows (``rows``); the views
turn the figures into tables or JSON (:mod:`dmdissect.views.stats`).

Memory: counts by key (type and direction, finding id, kind, interval);
``transactions`` keeps one float per transaction with a latency, since an
exact median and 99th percentile need them all (8 bytes each).
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dmdissect.analysis.records import Series, Transaction
from dmdissect.layers.numbers import MessageType, page_total

Predicate = Callable[[Any], bool]


def pages_moved(message: Any) -> int:
    """Pages a message hands over: its page ranges, or a hot-add response's page_count.

    Balloon responses and hot-remove responses give pages to the host, unballoon
    requests give them back; a hot-add response says how many pages were added.
    Requests that only ask (balloon, hot-remove) move nothing.  Ranges the bytes
    end before are not counted.
    """
    body = message.body
    if body is None:
        return 0
    ranges = getattr(body, "range_array", None)
    if ranges:
        return page_total(ranges)
    if message.type == MessageType.DM_MEM_HOT_ADD_RESPONSE and "page_count" not in body.missing:
        return body.page_count or 0
    return 0


class DmStat:
    """``-z dm,stat``: messages and bytes per direction and message type."""

    name = "dm,stat"

    def __init__(self) -> None:
        #: (direction, type or None, type name) -> [messages, bytes]
        self.counts: dict[tuple[str | None, int | None, str], list[int]] = {}
        self.messages = 0
        self.bytes = 0

    def feed(self, message: Any) -> None:
        size = len(message.frame.data)
        key = (message.direction, message.type, message.type_name)
        entry = self.counts.get(key)
        if entry is None:
            entry = self.counts[key] = [0, 0]
        entry[0] += 1
        entry[1] += size
        self.messages += 1
        self.bytes += size


@dataclass(slots=True)
class ExpertEntry:
    """One finding id's occurrences: how many, where first, and the first one's words."""

    severity: str
    id: str
    group: str
    count: int
    first_frame: int
    summary: str


class ExpertStat:
    """``-z expert``: findings by severity and id, counted, with the first frame of each.

    A finding registered without an id is grouped by its words, as tshark
    groups expert info by summary; its id and group show as ``-``.
    """

    name = "expert"

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], ExpertEntry] = {}

    def feed(self, message: Any) -> None:
        for finding in message.findings:
            expert_id = getattr(finding, "id", None)
            key = (finding.severity.value, expert_id or finding.message)
            entry = self.entries.get(key)
            if entry is None:
                group = getattr(finding, "group", None)
                self.entries[key] = ExpertEntry(
                    finding.severity.value,
                    expert_id or "-",
                    getattr(group, "value", group) or "-",
                    1,
                    message.frame.index,
                    finding.message,
                )
            else:
                entry.count += 1


@dataclass(slots=True)
class KindFigures:
    """One transaction kind: counts, outcomes, pages moved, latencies."""

    kind: str
    count: int = 0
    complete: int = 0
    outcomes: Counter = field(default_factory=Counter)
    pages: int = 0
    latencies: array = field(default_factory=lambda: array("d"))

    def latency_figures(self) -> dict[str, float | None]:
        """min, median, p99, max of the latencies (nearest-rank p99); None without any."""
        values = sorted(self.latencies)
        if not values:
            return {"min": None, "median": None, "p99": None, "max": None}
        middle = len(values) // 2
        median = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
        return {
            "min": values[0],
            "median": round(median, 6),
            "p99": values[math.ceil(0.99 * len(values)) - 1],
            "max": values[-1],
        }


class TransactionStat:
    """``-z transactions``: per kind, how many, how many complete, outcomes, pages, latency."""

    name = "transactions"

    def __init__(self) -> None:
        self.kinds: dict[str, KindFigures] = {}

    def feed(self, message: Any) -> None:
        return None

    def rows(self, rows: list[Transaction | Series]) -> None:
        for row in rows:
            if not isinstance(row, Transaction):
                continue
            figures = self.kinds.get(row.kind)
            if figures is None:
                figures = self.kinds[row.kind] = KindFigures(row.kind)
            figures.count += 1
            figures.complete += bool(row.complete)
            figures.outcomes[row.outcome or "unknown"] += 1
            figures.pages += row.pages or 0
            latency = row.latency
            if latency is not None:
                figures.latencies.append(latency)


@dataclass(slots=True)
class IoColumn:
    """One ``io,stat`` column: a filter (None: every message) and its text."""

    text: str
    test: Predicate | None


class IoStat:
    """``-z io,stat,INTERVAL[,FILTER...]``: messages, bytes and pages per interval.

    Intervals count from the first message's time, as tshark's do; messages
    without a time cannot be placed and are counted apart (``untimed``).
    Only intervals that hold a message are stored; the view fills the gaps.
    """

    name = "io,stat"

    def __init__(self, interval: float, columns: list[IoColumn]) -> None:
        self.interval = interval
        self.columns = columns
        self.first: float | None = None
        self.last: float | None = None
        self.buckets: dict[int, list[list[int]]] = {}
        self.untimed = 0

    def feed(self, message: Any) -> None:
        time = message.frame.time
        if time is None:
            self.untimed += 1
            return
        if self.first is None:
            self.first = time
        self.last = time if self.last is None else max(self.last, time)
        index = 0
        if self.interval:
            index = max(0, math.floor((time - self.first) / self.interval + 1e-9))
        cells = self.buckets.get(index)
        if cells is None:
            cells = self.buckets[index] = [[0, 0, 0] for _ in self.columns]
        size = len(message.frame.data)
        pages = -1
        for cell, column in zip(cells, self.columns):
            if column.test is not None and not column.test(message):
                continue
            if pages < 0:
                pages = pages_moved(message)
            cell[0] += 1
            cell[1] += size
            cell[2] += pages

    @property
    def duration(self) -> float:
        if self.first is None or self.last is None:
            return 0.0
        return round(self.last - self.first, 6)


class SessionStat:
    """``-z session``: the session summary, wanted even where it is not shown by default."""

    name = "session"

    def feed(self, message: Any) -> None:
        return None


#: What ``-z`` accepts, for the usage error.
STAT_SPECS = "dm,stat, expert, transactions, io,stat,INTERVAL[,FILTER...] or session"


def parse_stat(spec: str, compile_filter: Callable[[str], Predicate] | None = None) -> Any:
    """The collector a ``-z`` argument asks for; ValueError saying why for a bad one.

    ``io,stat,INTERVAL`` takes seconds (0: the whole input in one interval) and
    any number of filters, one column each (an empty one counts every message),
    split at commas as tshark splits them.  ``compile_filter`` turns a filter's
    text into a predicate on a message (it raises ValueError for a bad one).
    """
    fixed = {"dm,stat": DmStat, "expert": ExpertStat, "transactions": TransactionStat}
    if spec in fixed:
        return fixed[spec]()
    if spec == "session":
        return SessionStat()
    parts = spec.split(",")
    if parts[:2] != ["io", "stat"] or len(parts) < 3:
        raise ValueError(f"invalid -z argument {spec!r}; expected {STAT_SPECS}")
    try:
        interval = float(parts[2])
    except ValueError:
        interval = -1.0
    if not math.isfinite(interval) or interval < 0:
        raise ValueError(f"-z {spec}: the interval must be a number of seconds, 0 or more")
    columns = []
    for text in parts[3:] or [""]:
        text = text.strip()
        if not text:
            columns.append(IoColumn("", None))
            continue
        if compile_filter is None:
            raise ValueError(f"-z {spec}: filters are not available")
        columns.append(IoColumn(text, compile_filter(text)))
    return IoStat(round(interval, 6), columns)
