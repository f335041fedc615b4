"""The timeline table: one row per transaction, status reports summed up between them.

Text has the same cells everywhere: in pipes plain lines in fixed-width
columns that grow when a value is longer (never wrapped, never cropped); on a
terminal or with colour the same lines, styled, a row wider than the terminal
folded at spaces (:func:`fit_line`).  The session header needs the whole
input (its last time), so text rows are spooled (memory up to 1 MiB, then a
temporary file) and written after it; JSON streams, the session object last.

JSON (``-T json``: one array; ``-T jsonl``: one object a line), in start order:

* a transaction: ``kind`` (version, capabilities, balloon, unballoon, hot_add,
  hot_remove, info), ``number`` (1.. per kind), ``frames`` (1-based, kept up
  to 1000), ``start``/``end`` (the frames' times), ``duration``, ``latency``
  (request to first reply; null without a request or reply), ``trans_ids``
  (``{"host": [...], "guest": [...]}``, distinct, in order seen: the two id
  spaces collide), ``parts`` (the messages of the transaction, the
  request and every reply or part, the same for every kind), ``ranges``, ``pages``
  (moved: balloon and hot_remove, the response ranges; unballoon, the request
  ranges; hot_add, the response's page_count), ``pages_lower_bound`` (a part
  was cut short: ``pages`` counts what arrived), ``pages_requested``,
  ``outcome`` (accepted, refused, partial, at_floor, transient_failure,
  permanent_failure, failed, sent, unknown), ``detail`` (version offered,
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

import json
import tempfile
import textwrap
from collections.abc import Callable, Iterable
from typing import Any

from dmdissect.analysis.health import Health
from dmdissect.analysis.records import Series, Transaction
from dmdissect.analysis.sessions import Sessions
from dmdissect.escape import printable
from dmdissect.findings import Finding
from dmdissect.views.english import plural
from dmdissect.views.expert import SEVERITY_STYLES, worst
from dmdissect.views.output import Output
from dmdissect.views.phrases import mib
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
#: The column a table of several sessions starts with: the row's session number.
SESSION_COLUMN = ("session", 7)
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
    if txn.pages is None and "pages" in txn.unknown:
        asked = txn.pages_requested
        if asked is None:
            return "?", "?"
        return f"?/{asked}", f"?/{_mib_number(asked)}"
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
    return " ".join(f"[{f.severity.value}: {printable(f.message)}]" for f in findings)


def message_findings_text(txn: Transaction) -> str:
    """The findings of the transaction's messages: how many, and the worst with its frame."""
    if txn.worst_message_finding is None:
        return ""
    frame, worst = txn.worst_message_finding
    count = txn.message_finding_count
    return (
        f"[{plural(count, 'message finding')}, worst in frame {frame}: "
        f"{worst.severity.value}: {printable(worst.message)}]"
    )


def row_findings_text(txn: Transaction) -> str:
    """The findings cell: the transaction's own, then those of its messages."""
    if not txn.expert and not txn.dropped_findings and txn.worst_message_finding is None:
        return ""  # most rows: no finding at all
    return " ".join(t for t in (findings_text(txn.findings()), message_findings_text(txn)) if t)


def series_outcome(series: Series) -> str:
    count = series.count
    if series.kind == Kind.STATUS:
        text = plural(count, "status report")
        if series.num_avail is not None:
            text += f", latest avail {plural(series.num_avail, 'page')} ({mib(series.num_avail)})"
        if series.num_committed is not None:
            text += f", committed {series.num_committed} pages ({mib(series.num_committed)})"
        if series.sources:
            text += f" (from {', '.join(series.sources)})"
        return text
    types = ", ".join(f"{name} x{n}" for name, n in series.types.items())
    return f"{plural(count, 'message')} in no transaction: {types}"


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
        ids_text(row.ids, row.unknown),
        "?" if "parts" in row.unknown else str(row.parts_shown),
        pages,
        mibs,
        outcome_text(row),
        row_findings_text(row),
    ]


def plain_line(cells: list[str], columns: list[tuple[str, int]] = COLUMNS) -> str:
    """Fixed-width columns that grow for a longer value; nothing is cut."""
    template = PLAIN_TEMPLATE if columns is COLUMNS else line_template(columns)
    return template.format(*cells).rstrip()


def line_template(columns: list[tuple[str, int]]) -> str:
    """A format string padding each cell as a column of that width does (negative: left)."""
    return " ".join(
        f"{{:>{width}}}" if width > 0 else f"{{:<{-width}}}" if width else "{}"
        for _, width in columns
    )


#: :func:`plain_line`'s template for the table's columns, made once.
PLAIN_TEMPLATE = line_template(COLUMNS)


# --- writing ---------------------------------------------------------------------------


def render_timeline(
    rows: Iterable[Row],
    sessions: Sessions,
    output_format: str,
    out: Output,
    live: bool = False,
    health: Callable[[], list[Health]] | None = None,
) -> int:
    """Write the timeline; ``sessions`` must be complete once ``rows`` is exhausted.

    ``live`` (one pass): each row is written and flushed as soon as it is
    final, the column titles first and the sessions, known only at the end,
    last; nothing waits for a transaction that may never end.  ``health``,
    called once the rows are exhausted, gives each session's verdicts, that
    close the text (a "Health:" block) and come before the sessions in JSON.
    With several sessions (files, pcapng interfaces, the logs), each row says
    its session's number (see :mod:`dmdissect.analysis.sessions`).
    """
    if output_format in ("json", "jsonl"):
        return _json(rows, sessions, output_format, out, live, health)
    try:
        if live:
            return _live(rows, sessions, out)
        if out.styled or _is_tty(out):
            return _table(rows, sessions, out)
        return _plain(rows, sessions, out)
    finally:
        # After the table, even when reading stopped: the verdicts of what was read.
        if health is not None:
            _health_block(health(), out)


def _health_block(healths: list[Health], out: Output) -> None:
    """Each session's verdicts; with several, each block titled with its session."""
    fold = out.console.width if out.styled or _is_tty(out) else None
    several = len(healths) > 1
    for number, one in enumerate(healths, 1):
        out.line("")
        lines = verdict_lines(one)
        if several:
            lines[0] = (f"Health of session {number}:", lines[0][1])
        for line, style in lines:
            if fold is None:
                out.line(line)
                continue
            # On a terminal a long verdict folds at words, never inside one.
            for part in textwrap.wrap(
                line,
                fold,
                subsequent_indent="    ",
                break_long_words=False,
                break_on_hyphens=False,
            ):
                out.line(part, style)


def header_lines(sessions: Sessions) -> list[str]:
    """The session header; with several sessions, each numbered and named."""
    labelled = sessions.labelled()
    if len(labelled) == 1:
        return session_lines(labelled[0][1])
    lines: list[str] = []
    for number, (name, session) in enumerate(labelled, 1):
        if number > 1:
            lines.append("")
        lines.append(f"Session {number}: {printable(name or 'input')}")
        lines += session_lines(session)
    return lines


def _row_json(row: Row) -> dict[str, Any]:
    """A row's object; ``session`` is there when the row is not of the first session."""
    obj = row_object(row)
    if row.session is not None and row.session > 1:
        obj["session"] = row.session
    return obj


def _closing_objects(sessions: Sessions, health: Callable[[], list[Health]] | None) -> list:
    labelled = sessions.labelled()
    several = len(labelled) > 1
    out: list[dict[str, Any]] = []
    if health is not None:
        for number, one in enumerate(health(), 1):
            for verdict in one.verdicts:
                obj = verdict_object(verdict)
                if several:
                    obj["session"] = number
                out.append(obj)
    for number, (name, session) in enumerate(labelled, 1):
        obj = session_object(session)
        if several:
            obj.update(session=number, name=name)
        out.append(obj)
    return out


def _is_tty(out: Output) -> bool:
    return hasattr(out.stream, "isatty") and out.stream.isatty()


def _json(
    rows: Iterable[Row],
    sessions: Sessions,
    output_format: str,
    out: Output,
    live: bool = False,
    health: Callable[[], list[Health]] | None = None,
) -> int:
    # Here, not at the top: the JSON writer needs Scapy's field walk; the text table does not.
    from dmdissect.views.jsonout import dumps, dumps_line

    count = 0
    if output_format == "jsonl":
        try:
            for count, row in enumerate(rows, 1):
                out.raw(dumps_line(_row_json(row)) + "\n")
                if live:
                    out.flush()
        finally:
            for obj in _closing_objects(sessions, health):
                out.raw(dumps_line(obj) + "\n")
        return count
    out.raw("[")
    try:
        for count, row in enumerate(rows, 1):
            out.raw(("\n  " if count == 1 else ",\n  ") + dumps(_row_json(row)))
            if live:
                out.flush()
    finally:
        # Even when reading stops (torn input, a signal) the verdicts and the sessions of what
        # was read end the array, so what was written stays valid JSON.
        tail = [dumps(obj) for obj in _closing_objects(sessions, health)]
        out.raw(("\n  " if count == 0 else ",\n  ") + ",\n  ".join(tail) + "\n]\n")
    return count


def _plain(rows: Iterable[Row], sessions: Sessions, out: Output) -> int:
    count = 0
    with tempfile.SpooledTemporaryFile(SPOOL_BYTES, mode="w+", encoding="utf-8") as spool:
        try:
            for count, row in enumerate(rows, 1):
                line = plain_line(row_cells(row, sessions.first_time_of(row.session)))
                spool.write(f"{row.session or 1}\t{line}\n")
        finally:
            # Reading stopped (torn input, a signal): the rows read so far still come out.
            _write_spooled(spool, sessions, out)
    return count


def _write_spooled(spool: Any, sessions: Sessions, out: Output) -> None:
    """The session header, the column titles, then the spooled rows (with their session)."""
    for line in header_lines(sessions):
        out.line(line)
    out.line("")
    several = len(sessions.trackers) > 1
    titles = plain_line([title for title, _ in COLUMNS])
    width = SESSION_COLUMN[1]
    out.line(f"{SESSION_COLUMN[0]:>{width}} {titles}" if several else titles)
    out.flush()
    spool.seek(0)
    write = out.stream.write
    for record in spool:
        number, _, line = record.partition("\t")
        write(f"{number:>{width}} {line}" if several else line)


def _live(rows: Iterable[Row], sessions: Sessions, out: Output) -> int:
    """One pass: titles, each row as it becomes final, then the sessions.

    Whether the input holds several sessions is known only at its end, so a
    row of any session but the first names it in its kind cell.
    """
    count = 0
    fitted = out.styled or _is_tty(out)
    titles = [title for title, _ in COLUMNS]
    if fitted:
        _styled_lines(out, fit_line(titles, ["bold"] * len(titles), out.console.width))
    else:
        out.line(plain_line(titles))
    out.flush()
    try:
        for count, row in enumerate(rows, 1):
            cells = row_cells(row, sessions.first_time_of(row.session))
            if row.session is not None and row.session > 1:
                cells[2] += f" (session {row.session})"
            if fitted:
                _styled_lines(out, fit_line(cells, cell_styles(row), out.console.width))
            else:
                out.line(plain_line(cells))
            out.flush()
    finally:
        out.line("")
        for line in header_lines(sessions):
            out.line(line, "bold")
    return count


def _all_findings(txn: Transaction) -> list[Finding]:
    worst_message = txn.worst_message_finding
    return txn.findings() + ([worst_message[1]] if worst_message else [])


def _table(rows: Iterable[Row], sessions: Sessions, out: Output) -> int:
    """The same columns as in a pipe, styled, fitted to the terminal's width.

    Rows are spooled as their cells and styles (the header needs the whole
    input first), then each is fitted by :func:`fit_line`.
    """
    count = 0
    with tempfile.SpooledTemporaryFile(SPOOL_BYTES, mode="w+", encoding="utf-8") as spool:
        try:
            for count, row in enumerate(rows, 1):
                cells = row_cells(row, sessions.first_time_of(row.session))
                spool.write(json.dumps([row.session or 1, cells, cell_styles(row)]) + "\n")
        finally:
            from rich.text import Text

            for line in header_lines(sessions):
                # Folded by rich at spaces, never inside a number.
                out.console.print(Text(line, style="bold" if out.styled else ""))
            out.line("")
            width = out.console.width
            several = len(sessions.trackers) > 1
            columns = [SESSION_COLUMN, *COLUMNS] if several else COLUMNS
            titles = [title for title, _ in columns]
            _styled_lines(out, fit_line(titles, ["bold"] * len(titles), width, columns))
            spool.seek(0)
            for record in spool:
                number, cells, styles = json.loads(record)
                if several:
                    cells, styles = [str(number), *cells], ["", *styles]
                _styled_lines(out, fit_line(cells, styles, width, columns))
    return count


#: The columns laid out as in a pipe while the terminal is wide enough: ``start`` to ``MiB``.
FIXED_COLUMNS = 8
#: Room ``outcome`` and ``findings`` need beside the fixed columns to fold under themselves.
MIN_FOLD = 24
ELLIPSIS = "…"

Segments = list[tuple[str, str]]


def fit_line(
    cells: list[str],
    styles: list[str],
    width: int,
    columns: list[tuple[str, int]] = COLUMNS,
) -> list[Segments]:
    """One row as terminal lines no wider than ``width``, never breaking a number or a word.

    The cells are laid out as :func:`plain_line` lays them out.  A row too
    wide folds its last columns (outcome, findings) at spaces under their own
    column; on a terminal too narrow even for that, the row folds at cell and
    word boundaries, continuation lines indented past the ``start`` column.
    Only a single word wider than a whole line is cropped, with an ellipsis.
    """
    padded = [
        (cell.rjust(size) if size > 0 else cell.ljust(-size), style)
        for (_, size), cell, style in zip(columns, cells, styles)
    ]
    if len(plain_line(cells, columns)) <= width:
        return [_joined(padded)]
    # Every column but the last two (outcome, findings) keeps its place.
    fixed_count = len(columns) - (len(COLUMNS) - FIXED_COLUMNS)
    words = [(word, style) for cell, style in padded[fixed_count:] for word in cell.split()]
    fixed = padded[:fixed_count]
    indent = sum(len(text) for text, _ in fixed) + len(fixed)
    if width - indent >= MIN_FOLD:
        lines = _fill(words, width - indent)
        head = _joined(fixed)
        if not lines:
            return [head]
        return [head + [(" ", "")] + lines[0]] + [[(" " * indent, "")] + rest for rest in lines[1:]]
    indent = abs(columns[0][1]) + 1
    rows: list[Segments] = [[]]
    used = 0
    for text, style in fixed + words:
        if rows[-1] and used + 1 + len(text.rstrip()) > width:
            rows.append([])
            used = indent - 1
        if not rows[-1] and len(rows) > 1:
            text = text.strip()
        if len(text.strip()) > width - used - 1:
            text = text.strip()[: max(width - used - 2, 0)] + ELLIPSIS
        used += len(text) + (1 if rows[-1] or len(rows) > 1 else 0)
        rows[-1].append((text, style))
    return [
        _joined(row) if n == 0 else [(" " * (indent - 1), "")] + _joined(row)
        for n, row in enumerate(rows)
    ]


def _fill(words: Segments, room: int) -> list[Segments]:
    """Words greedily into lines of at most ``room`` columns; a longer word is cropped."""
    lines: list[Segments] = []
    current: Segments = []
    used = 0
    for word, style in words:
        if len(word) > room:
            word = word[: max(room - 1, 0)] + ELLIPSIS
        if current and used + 1 + len(word) > room:
            lines.append(current)
            current, used = [], 0
        if current:
            current.append((" ", ""))
            used += 1
        current.append((word, style))
        used += len(word)
    if current:
        lines.append(current)
    return lines


def _joined(cells: Segments) -> Segments:
    """Cells with one space between them, trailing blanks taken off as in a pipe."""
    out: Segments = []
    for index, cell in enumerate(cells):
        if index:
            out.append((" ", ""))
        out.append(cell)
    while out and not out[-1][0].strip():
        out.pop()
    if out:
        out[-1] = (out[-1][0].rstrip(), out[-1][1])
    return out


def _styled_lines(out: Output, lines: list[Segments]) -> None:
    from rich.text import Text

    for segments in lines:
        text = Text(no_wrap=True, overflow="crop")
        for part, style in segments:
            text.append(part, style=style or None)
        out.console.print(text, soft_wrap=True)


def cell_styles(row: Row) -> list[str]:
    """The style of each cell of a row on a terminal."""
    if isinstance(row, Series):
        return ["dim"] * len(COLUMNS)
    styles = [""] * len(COLUMNS)
    severity = worst(_all_findings(row))
    if severity is not None:
        styles[-1] = SEVERITY_STYLES[severity]
    if not row.complete:
        styles[8] = "yellow"
    elif row.outcome in (Outcome.ACCEPTED, Outcome.SENT):
        styles[8] = "green"
    elif row.outcome != Outcome.UNKNOWN:
        styles[8] = "red"
    return styles
