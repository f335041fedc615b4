"""``-z`` statistics as text tables laid out like tshark's, and as JSON objects.

The figures come from :mod:`dmdissect.analysis.stats`; this module only
arranges them.  ``io,stat`` draws tshark's boxed table (duration, interval,
one column per filter of messages, bytes and pages, ``Dur`` or the duration
ending the last, shorter interval), ``expert``
tshark's per-severity sections (``Errors (n)``, a rule, frequency, group,
summary), ``dm,stat`` and ``transactions`` a stats-tree style table.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from dmdissect.analysis.records import Session
from dmdissect.analysis.stats import DmStat, ExpertStat, IoStat, SessionStat, TransactionStat
from dmdissect.views.records import outcome_word, session_object
from dmdissect.views.session import session_lines
from dmdissect.vocabulary import Outcome

#: tshark's section titles, worst first.
SEVERITY_TITLES = {"error": "Errors", "warning": "Warns", "note": "Notes"}
#: Directions in the order ``dm,stat`` lists them; an unknown direction last.
DIRECTION_ORDER = {"guest->host": 0, "host->guest": 1, None: 2}


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.6f}"


def _rule(width: int, char: str = "=") -> str:
    return char * width


# --- dm,stat -----------------------------------------------------------------------


def dm_stat_lines(stat: DmStat) -> list[str]:
    """Messages and bytes per direction, then per type within it, with their share."""
    by_direction: dict[str | None, list[tuple[int | None, str, list[int]]]] = {}
    for (direction, msg_type, name), counts in stat.counts.items():
        by_direction.setdefault(direction, []).append((msg_type, name, counts))
    rows: list[tuple[str, int, int]] = [("All messages", stat.messages, stat.bytes)]
    for direction in sorted(by_direction, key=lambda d: DIRECTION_ORDER.get(d, 3)):
        entries = by_direction[direction]
        rows.append(
            (
                f" {direction or 'direction unknown'}",
                sum(c[0] for _, _, c in entries),
                sum(c[1] for _, _, c in entries),
            )
        )
        entries.sort(key=lambda e: (e[0] is None, e[0] if e[0] is not None else 0, e[1]))
        rows.extend((f"  {name}", counts[0], counts[1]) for _, name, counts in entries)
    topic = max(30, *(len(r[0]) + 2 for r in rows))
    header = f"{'Topic / Item':<{topic}}{'Messages':>10}{'Bytes':>14}{'Percent':>10}"
    lines = [_rule(len(header)), "Dynamic Memory messages by direction and type:", header]
    lines.append(_rule(len(header), "-"))
    for text, messages, size in rows:
        share = f"{100 * messages / stat.messages:.2f}%" if stat.messages else "-"
        lines.append(f"{text:<{topic}}{messages:>10}{size:>14}{share:>10}")
    lines.append(_rule(len(header), "-"))
    return lines


def dm_stat_object(stat: DmStat) -> dict[str, Any]:
    rows = [
        {
            "direction": direction,
            "type": msg_type,
            "type_name": name,
            "messages": c[0],
            "bytes": c[1],
        }
        for (direction, msg_type, name), c in sorted(
            stat.counts.items(),
            key=lambda item: (
                DIRECTION_ORDER.get(item[0][0], 3),
                item[0][1] is None,
                item[0][1] or 0,
            ),
        )
    ]
    return {"messages": stat.messages, "bytes": stat.bytes, "rows": rows}


# --- expert ------------------------------------------------------------------------


def expert_lines(stat: ExpertStat) -> list[str]:
    """One section per severity present, worst first, as tshark's ``-z expert``."""
    entries = list(stat.entries.values())
    groups = {e.group: e.group.replace("_", " ").capitalize() for e in entries}
    group_width = max([10, *(len(text) for text in groups.values())])
    id_width = max([2, *(len(e.id) for e in entries)])
    lines: list[str] = []
    for severity, title in SEVERITY_TITLES.items():
        chosen = [e for e in entries if e.severity == severity]
        if not chosen:
            continue
        chosen.sort(key=lambda e: (-e.count, e.first_frame))
        lines += ["", f"{title} ({sum(e.count for e in chosen)})", "============="]
        lines.append(
            f"{'Frequency':>12} {'Group':>{group_width}} {'First frame':>11}  "
            f"{'Id':<{id_width}}  Summary"
        )
        lines += [
            f"{e.count:>12} {groups[e.group]:>{group_width}} {e.first_frame:>11}  "
            f"{e.id:<{id_width}}  {e.summary}"
            for e in chosen
        ]
    if not lines:
        lines = ["", "No expert findings"]
    return lines


def expert_object(stat: ExpertStat) -> list[dict[str, Any]]:
    order = list(SEVERITY_TITLES)
    entries = sorted(
        stat.entries.values(), key=lambda e: (order.index(e.severity), -e.count, e.first_frame)
    )
    return [
        {
            "severity": e.severity,
            "id": e.id,
            "group": e.group,
            "count": e.count,
            "first_frame": e.first_frame,
            "summary": e.summary,
        }
        for e in entries
    ]


# --- transactions ------------------------------------------------------------------


def _outcomes(outcomes: dict[str, int]) -> str:
    return ", ".join(
        f"{outcome_word(Outcome(name))} {count}"
        for name, count in sorted(outcomes.items(), key=lambda item: (-item[1], item[0]))
    )


def transaction_lines(stat: TransactionStat) -> list[str]:
    header = (
        f"{'Kind':<14}{'Count':>8}{'Complete':>10}{'Pages moved':>14}"
        f"{'Latency min':>14}{'median':>12}{'p99':>12}{'max':>12}  Outcomes"
    )
    lines = [_rule(len(header)), "Dynamic Memory transactions:", header, _rule(len(header), "-")]
    for figures in stat.kinds.values():
        latency = figures.latency_figures()
        lines.append(
            f"{figures.kind:<14}{figures.count:>8}{figures.complete:>10}{figures.pages:>14}"
            f"{_seconds(latency['min']):>14}{_seconds(latency['median']):>12}"
            f"{_seconds(latency['p99']):>12}{_seconds(latency['max']):>12}  "
            f"{_outcomes(figures.outcomes)}"
        )
    if not stat.kinds:
        lines.append("No transactions")
    lines.append(_rule(len(header), "-"))
    return lines


def transactions_stat_object(stat: TransactionStat) -> list[dict[str, Any]]:
    return [
        {
            "kind": f.kind,
            "count": f.count,
            "complete": f.complete,
            "outcomes": dict(f.outcomes),
            "pages": f.pages,
            "latency": f.latency_figures(),
        }
        for f in stat.kinds.values()
    ]


# --- io,stat -----------------------------------------------------------------------


def _decimals(interval: float) -> int:
    """Digits after the point the interval needs (0.5 -> 1, 10 -> 0), at most 6."""
    exponent = Decimal(repr(interval)).normalize().as_tuple().exponent
    return min(6, max(0, -int(exponent)))


def io_stat_rows(stat: IoStat) -> list[tuple[float, float | None, list[list[int]]]]:
    """(start, end or None for the last, cells) for every interval up to the last message."""
    if stat.first is None:
        return []
    count = math.floor(stat.duration / stat.interval + 1e-9) + 1 if stat.interval else 1
    count = max(count, max(stat.buckets, default=0) + 1)
    empty = [[0, 0, 0] for _ in stat.columns]
    rows = []
    for index in range(count):
        start = index * stat.interval
        end = (index + 1) * stat.interval
        last = index == count - 1 and (not stat.interval or end > stat.duration)
        rows.append((start, None if last else end, stat.buckets.get(index, empty)))
    return rows


def io_stat_lines(stat: IoStat) -> list[str]:
    """tshark's boxed IO statistics table, with messages, bytes and pages per column."""
    decimals = _decimals(stat.interval)
    span = max(stat.duration, stat.interval)
    magnitude = len(str(int(span)))
    width = magnitude + (decimals + 1 if decimals else 0)

    def number(value: float) -> str:
        return f"{value:>{width}.{decimals}f}"

    rows = io_stat_rows(stat)
    # tshark ends the last, shorter interval at "Dur", or at the duration itself when
    # the interval has decimals.
    last = number(stat.duration) if decimals else f"{'Dur':>{width}}"
    labels = [
        f"{number(start)} <> {number(end) if end is not None else last}" for start, end, _ in rows
    ]
    label_width = max([len("Interval"), *(len(label) for label in labels)])
    titles = ("Messages", "Bytes", "Pages")
    widths = []
    for column in range(len(stat.columns)):
        widths.append(
            [
                max(len(title), *(len(str(cells[column][k])) for _, _, cells in rows))
                if rows
                else len(title)
                for k, title in enumerate(titles)
            ]
        )

    def group(values: list[str], column: int) -> str:
        return " | ".join(f"{v:>{w}}" for v, w in zip(values, widths[column]))

    header_cells = [group(list(titles), c) for c in range(len(stat.columns))]

    def row(label: str, cells: list[str]) -> str:
        return f"| {label:<{label_width}} |" + "".join(f" {cell} |" for cell in cells)

    numbers = f"| {'':<{label_width}} |" + "".join(
        f"{index + 1:<{len(cell) + 2}}|" for index, cell in enumerate(header_cells)
    )
    table = [numbers, row("Interval", header_cells), None]
    for label, (_, _, cells) in zip(labels, rows):
        table.append(row(label, [group([str(v) for v in cells[c]], c) for c in range(len(cells))]))
    infos = [
        "IO Statistics",
        "",
        f"Duration: {stat.duration:.{decimals if decimals else 6}f} secs",
        f"Interval: {number(stat.interval)} secs",
        "",
    ]
    for number_, io_column in enumerate(stat.columns, 1):
        prefix = "Col " if number_ == 1 else "    "
        infos.append(f"{prefix}{number_}: {io_column.text or 'Messages, bytes and pages'}")
    if stat.untimed:
        infos += ["", f"{stat.untimed} messages without a time are not counted"]
    width = max(len(numbers), *(len(text) + 4 for text in infos))
    rule = "|" + "-" * (width - 2) + "|"
    lines = [_rule(width), *(f"| {text:<{width - 4}} |" for text in infos), rule]
    for line in table:
        if line is None:
            lines.append(rule)
        else:
            lines.append(line if len(line) == width else f"{line}{'':<{width - len(line) - 1}}|")
    lines.append(_rule(width))
    return lines


def io_stat_object(stat: IoStat) -> dict[str, Any]:
    return {
        "interval": stat.interval,
        "duration": stat.duration,
        "columns": [column.text for column in stat.columns],
        "untimed": stat.untimed,
        "rows": [
            {
                "start": round(start, 6),
                "end": None if end is None else round(end, 6),
                "columns": [
                    {"messages": cell[0], "bytes": cell[1], "pages": cell[2]} for cell in cells
                ],
            }
            for start, end, cells in io_stat_rows(stat)
        ],
    }


# --- session -----------------------------------------------------------------------


def sessions_lines(sessions: list[tuple[str | None, Session]]) -> list[str]:
    """Each session's summary; with several, each headed by its file (and interface)."""
    lines: list[str] = []
    for name, session in sessions:
        if name is not None:
            lines.append(f"Session: {name}")
        lines += session_lines(session)
        if name is not None and (name, session) != sessions[-1]:
            lines.append("")
    return lines


def sessions_object(sessions: list[tuple[str | None, Session]]) -> list[dict[str, Any]]:
    out = []
    for name, session in sessions:
        ref = session_object(session)
        ref["name"] = name
        out.append(ref)
    return out


def stat_lines(stat: Any, sessions: list[tuple[str | None, Session]]) -> list[str]:
    if isinstance(stat, DmStat):
        return dm_stat_lines(stat)
    if isinstance(stat, ExpertStat):
        return expert_lines(stat)
    if isinstance(stat, TransactionStat):
        return transaction_lines(stat)
    if isinstance(stat, IoStat):
        return io_stat_lines(stat)
    assert isinstance(stat, SessionStat)
    return sessions_lines(sessions)


def stat_object(stat: Any, sessions: list[tuple[str | None, Session]]) -> Any:
    if isinstance(stat, DmStat):
        return dm_stat_object(stat)
    if isinstance(stat, ExpertStat):
        return expert_object(stat)
    if isinstance(stat, TransactionStat):
        return transactions_stat_object(stat)
    if isinstance(stat, IoStat):
        return io_stat_object(stat)
    return sessions_object(sessions)


#: JSON key of each statistic.
JSON_KEYS = {
    DmStat: "dm_stat",
    ExpertStat: "expert",
    TransactionStat: "transactions",
    IoStat: "io_stat",
    SessionStat: "session",
}


def statistics_object(stats: list[Any], sessions: list[tuple[str | None, Session]]) -> dict:
    """``{"statistics": {...}}``: every ``-z`` asked for; ``io_stat`` a list (it may repeat)."""
    out: dict[str, Any] = {}
    for stat in stats:
        key = JSON_KEYS[type(stat)]
        value = stat_object(stat, sessions)
        if key == "io_stat":
            out.setdefault(key, []).append(value)
        else:
            out[key] = value
    return {"statistics": out}
