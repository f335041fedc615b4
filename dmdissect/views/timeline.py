"""The timeline table: one row per transaction, status reports summed up between them.

Text has the same cells everywhere: a rich ``Table`` when styled or on a
terminal; in pipes plain lines in fixed-width columns that grow when a value
is longer (never wrapped, never cropped).  The session header needs the whole
input (its last time), so text rows are spooled (memory up to 1 MiB, then a
temporary file) and written after it; JSON streams, the session object last.

JSON (``-T json``: one array; ``-T jsonl``: one object a line), in start order:

* a transaction: ``kind`` (version, capabilities, balloon, unballoon, hot_add,
  hot_remove, info), ``number`` (1.. per kind), ``frames`` (1-based, kept up
  to 1000), ``start``/``end`` (the frames' times), ``duration``, ``latency``
  (request to first reply; null without a request or reply), ``trans_ids``
  (``{"host": [...], "guest": [...]}``, distinct, in order seen: the two id
  spaces collide), ``parts`` (balloon and hot_remove: the guest's parts;
  unballoon: the host's parts; other kinds: messages), ``ranges``, ``pages``
  (moved: balloon and hot_remove, the response ranges; unballoon, the request
  ranges; hot_add, the response's page_count), ``pages_lower_bound`` (a part
  was cut short: ``pages`` counts what arrived), ``pages_requested``,
  ``outcome`` (accepted, refused, partial, at_floor, transient_failure,
  permanent_failure, sent, unknown), ``detail`` (version offered,
  capabilities, hot-add range, info entries), ``complete``, ``reason`` (why
  incomplete: no request seen, final part missing, no response, with what
  ended it), ``links`` (``{"frame", "rule"}`` per kept frame), ``truncated``
  (a retention cap was hit; totals still count everything), ``expert``;
* a series between transactions: ``kind`` "status" (status reports: ``count``,
  latest ``num_avail``/``num_committed``) or "other" (messages of no
  transaction: ``types`` by name), with ``number``, ``first_frame``,
  ``last_frame``, ``start``, ``end``, ``duration``, ``count``;
* last, ``kind`` "session": ``version``, ``version_frame``, ``negotiations``,
  ``guest_capabilities``, ``host_capabilities``, ``first_frame``,
  ``last_frame``, ``first``, ``last``, ``messages``, ``transactions`` (count
  per kind).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable
from typing import Any

from dmdissect.analysis.health import Health
from dmdissect.analysis.records import Series, Session, Transaction
from dmdissect.findings import Finding
from dmdissect.layers import mib
from dmdissect.views.expert import SEVERITY_STYLES, worst
from dmdissect.views.jsonout import dumps, dumps_line
from dmdissect.views.output import Output
from dmdissect.views.records import (
    frames_text,
    ids_text,
    outcome_word,
    row_object,
    seconds_text,
    session_object,
)
from dmdissect.views.session import session_lines
from dmdissect.views.verdicts import verdict_lines, verdict_object
from dmdissect.vocabulary import Kind, Outcome

#: Column titles, plain-text widths (negative: left-aligned) and table justification.
COLUMNS = [
    ("start", 12),
    ("duration", 10),
    ("kind", -16),
    ("frames", -14),
    ("trans_ids", -14),
    ("parts", 5),
    ("pages", 13),
    ("MiB", 11),
    ("outcome", 0),
    ("findings", 0),
]
#: Text rows kept in memory before the spool moves to a temporary file.
SPOOL_BYTES = 1 << 20

Row = Transaction | Series


# --- cells ------------------------------------------------------------------------


def _relative(time: float | None, first: float | None) -> str:
    return "-" if time is None or first is None else f"{time - first:.6f}"


def _mib_number(pages: int) -> str:
    return mib(pages).removesuffix(" MiB")


def pages_cells(txn: Transaction) -> tuple[str, str]:
    """``moved/asked`` in pages and in MiB (only moved when nothing else was asked)."""
    if txn.pages is None:
        return "-", "-"
    least = ">=" if txn.pages_lower_bound else ""
    asked = txn.pages_requested
    if asked is None or (txn.kind == Kind.UNBALLOON and asked == txn.pages):
        return f"{least}{txn.pages}", f"{least}{_mib_number(txn.pages)}"
    return (
        f"{least}{txn.pages}/{asked}",
        f"{least}{_mib_number(txn.pages)}/{_mib_number(asked)}",
    )


def outcome_text(txn: Transaction) -> str:
    text = outcome_word(txn.outcome)
    if txn.detail:
        text += f": {txn.detail}"
    if not txn.complete:
        text += f"; incomplete: {txn.reason}"
    return text


def findings_text(findings: list[Finding]) -> str:
    return " ".join(f"[{f.severity.value}: {f.message}]" for f in findings)


def series_outcome(series: Series) -> str:
    count = series.count
    if series.kind == Kind.STATUS:
        text = f"{count} status {'report' if count == 1 else 'reports'}"
        if series.num_avail is not None:
            text += f", latest avail {series.num_avail} pages ({mib(series.num_avail)})"
        if series.num_committed is not None:
            text += f", committed {series.num_committed} pages ({mib(series.num_committed)})"
        return text
    types = ", ".join(f"{name} x{n}" for name, n in series.types.items())
    return f"{count} {'message' if count == 1 else 'messages'} in no transaction: {types}"


def row_cells(row: Row, first: float | None) -> list[str]:
    """The cells of one row, in :data:`COLUMNS` order."""
    start = _relative(row.start, first)
    if isinstance(row, Series):
        span = (
            str(row.first_frame)
            if row.first_frame == row.last_frame
            else f"{row.first_frame}-{row.last_frame}"
        )
        return [
            start,
            seconds_text(row.duration),
            f"{row.kind} #{row.number}",
            span,
            "-",
            str(row.count),
            "-",
            "-",
            series_outcome(row),
            "",
        ]
    pages, mibs = pages_cells(row)
    return [
        start,
        seconds_text(row.duration),
        row.name,
        frames_text(row.frames, row.frame_count),
        ids_text(row.ids),
        str(row.parts_shown),
        pages,
        mibs,
        outcome_text(row),
        findings_text(row.findings()),
    ]


def plain_line(cells: list[str]) -> str:
    """Fixed-width columns that grow for a longer value; nothing is cut."""
    out = []
    for (_, width), cell in zip(COLUMNS, cells):
        out.append(cell.rjust(width) if width > 0 else cell.ljust(-width))
    return " ".join(out).rstrip()


# --- writing ---------------------------------------------------------------------------


def render_timeline(
    rows: Iterable[Row],
    session: Session,
    output_format: str,
    out: Output,
    live: bool = False,
    health: Callable[[], Health] | None = None,
) -> int:
    """Write the timeline; ``session`` must be complete once ``rows`` is exhausted.

    ``live`` (one pass): each row is written and flushed as soon as it is
    final, the column titles first and the session, known only at the end,
    last; nothing waits for a transaction that may never end.  ``health``,
    called once the rows are exhausted, gives the verdicts that close the
    text (a "Health:" block) and come before the session in JSON.
    """
    if output_format in ("json", "jsonl"):
        return _json(rows, session, output_format, out, live, health)
    try:
        if live:
            return _live(rows, session, out)
        if out.styled or _is_tty(out):
            return _table(rows, session, out)
        return _plain(rows, session, out)
    finally:
        # After the table, even when reading stopped: the verdicts of what was read.
        if health is not None:
            out.line("")
            for line in verdict_lines(health()):
                out.line(line)


def _is_tty(out: Output) -> bool:
    return hasattr(out.stream, "isatty") and out.stream.isatty()


def _json(
    rows: Iterable[Row],
    session: Session,
    output_format: str,
    out: Output,
    live: bool = False,
    health: Callable[[], Health] | None = None,
) -> int:
    def closing() -> list[dict[str, Any]]:
        verdicts = [] if health is None else [verdict_object(v) for v in health().verdicts]
        return [*verdicts, session_object(session)]

    count = 0
    if output_format == "jsonl":
        try:
            for count, row in enumerate(rows, 1):
                out.raw(dumps_line(row_object(row)) + "\n")
                if live:
                    out.flush()
        finally:
            for obj in closing():
                out.raw(dumps_line(obj) + "\n")
        return count
    out.raw("[")
    try:
        for count, row in enumerate(rows, 1):
            out.raw(("\n  " if count == 1 else ",\n  ") + dumps(row_object(row)))
            if live:
                out.flush()
    finally:
        # Even when reading stops (torn input, a signal) the verdicts and the session of what
        # was read end the array, so what was written stays valid JSON.
        tail = [dumps(obj) for obj in closing()]
        out.raw(("\n  " if count == 0 else ",\n  ") + ",\n  ".join(tail) + "\n]\n")
    return count


def _plain(rows: Iterable[Row], session: Session, out: Output) -> int:
    count = 0
    with tempfile.SpooledTemporaryFile(SPOOL_BYTES, mode="w+", encoding="utf-8") as spool:
        try:
            for count, row in enumerate(rows, 1):
                spool.write(plain_line(row_cells(row, session.first_time)) + "\n")
        finally:
            # Reading stopped (torn input, a signal): the rows read so far still come out.
            _write_spooled(spool, session, out)
    return count


def _write_spooled(spool, session: Session, out: Output) -> None:
    """The session header, the column titles, then the spooled rows."""
    for line in session_lines(session):
        out.line(line)
    out.line("")
    out.line(plain_line([title for title, _ in COLUMNS]))
    spool.seek(0)
    shutil.copyfileobj(spool, out.stream)


def _live(rows: Iterable[Row], session: Session, out: Output) -> int:
    """One pass: titles, each row as it becomes final, then the session."""
    count = 0
    out.line(plain_line([title for title, _ in COLUMNS]), "bold")
    out.flush()
    try:
        for count, row in enumerate(rows, 1):
            out.line(plain_line(row_cells(row, session.first_time)), _row_style(row))
            out.flush()
    finally:
        out.line("")
        for line in session_lines(session):
            out.line(line, "bold")
    return count


def _row_style(row: Row) -> str | None:
    if isinstance(row, Series):
        return "dim"
    severity = worst(row.findings())
    return None if severity is None else SEVERITY_STYLES[severity]


def _table(rows: Iterable[Row], session: Session, out: Output) -> int:
    from rich.table import Table

    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    for title, width in COLUMNS:
        table.add_column(title, justify="right" if width > 0 else "left", overflow="fold")
    count = 0
    try:
        for count, row in enumerate(rows, 1):
            table.add_row(*_styled(row, row_cells(row, session.first_time)))
    finally:
        for line in session_lines(session):
            out.line(line, "bold")
        out.render(table)
    return count


def _styled(row: Row, cells: list[str]) -> list:
    from rich.text import Text

    texts = [Text(cell) for cell in cells]
    if isinstance(row, Series):
        for text in texts:
            text.stylize("dim")
        return texts
    severity = worst(row.findings())
    if severity is not None:
        texts[-1].stylize(SEVERITY_STYLES[severity])
    if not row.complete:
        texts[8].stylize("yellow")
    elif row.outcome in (Outcome.ACCEPTED, Outcome.SENT):
        texts[8].stylize("green")
    elif row.outcome != Outcome.UNKNOWN:
        texts[8].stylize("red")
    return texts
