"""The health report: one self-contained HTML file (inline CSS and SVG, no script, no network).

Sections, top to bottom: the session card, the memory plot, the findings
and verdicts (each linking to its frames), the transactions, the reclaim
ledger, and the frames those link to.  Every piece of text that came from
the input is escaped; nothing in the page loads from anywhere, so it opens
offline and from an attachment.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from dmdissect import __version__
from dmdissect.analysis.health import LEDGER_KINDS, Health, Ledger
from dmdissect.views.english import plural
from dmdissect.views.output import printable
from dmdissect.views.plot import PAGES_PER_MIB, memory_svg
from dmdissect.views.session import session_lines

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
.card { border: 1px solid #ccc; border-radius: 6px; padding: 0.6em 1em; background: #fafafa; }
.card p { margin: 0.25em 0; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.error { color: #b00020; font-weight: bold; } .warning { color: #a65e00; } .note { color: #555; }
.plot svg { max-width: 100%; height: auto; }
:target { background: #fff3b0; }
"""


def _text(value: Any) -> str:
    """Input text made safe twice: control characters shown as escapes, then HTML-escaped."""
    return escape(printable(str(value)))


def _frame_links(frames: Iterable[int], prefix: str, listed: dict[int, Any]) -> str:
    """Frame numbers, each a link to its row in the frame list when the list holds it."""
    return ", ".join(
        f'<a href="#{prefix}frame-{f}">{f}</a>' if f in listed else str(f) for f in frames
    )


def _seconds(value: float | None, zero: float | None) -> str:
    if value is None or zero is None:
        return "-"
    return f"{value - zero:.3f}"


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def _table(head: list[str], rows: Iterable[list[str]], numeric: set[int]) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = []
    for row in rows:
        tds = "".join(
            f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        body.append(f"<tr>{tds}</tr>")
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _card(title: str, session: Any, health: Health, findings: list[Any]) -> str:
    lines = [f"<p>{_text(line)}</p>" for line in session_lines(session)]
    counts = ", ".join(f"{kind} {count}" for kind, count in session.counts.items()) or "none"
    lines.append(f"<p>Transactions: {_text(counts)}</p>")
    lines.append(f"<p>Status reports: {health.sample_count}</p>")
    severities: dict[str, int] = {}
    for item in findings:
        severities[item.severity.value] = severities.get(item.severity.value, 0) + 1
    summary = ", ".join(
        f'<span class="{s}">{plural(severities[s], s)}</span>'
        for s in ("error", "warning", "note")
        if s in severities
    )
    lines.append(f"<p>Findings and verdicts: {summary or 'none'}</p>")
    return f'<div class="card"><p><b>{_text(title)}</b></p>{"".join(lines)}</div>'


def _findings(findings: list[Any], dropped: int, prefix: str, listed: dict[int, Any]) -> str:
    if not findings:
        return "<p>None.</p>"
    rows = [
        [
            f'<span class="{item.severity.value}">{item.severity.value}</span>',
            f"<code>{_text(item.id)}</code>",
            _text(item.message),
            _frame_links(item.frames, prefix, listed),
        ]
        for item in findings
    ]
    more = f"<p>{dropped} more not listed.</p>" if dropped else ""
    return _table(["severity", "id", "message", "frames"], rows, set()) + more


def _transactions(health: Health, prefix: str, listed: dict[int, Any]) -> str:
    if not health.rows:
        return "<p>None.</p>"
    zero = health.first_time
    rows = []
    for row in health.rows:
        frames = [row.first_frame] + ([row.final_frame] if row.final_frame else [])
        outcome = _text(row.outcome or "unknown")
        if row.complete is False and row.reason:
            outcome += f"<br><small>incomplete: {_text(row.reason)}</small>"
        rows.append(
            [
                _text(f"{row.kind} #{row.number}"),
                _seconds(row.start, zero),
                "-" if row.duration is None else f"{row.duration:.3f}",
                _count(row.pages_requested),
                ("&ge;" if row.pages_at_least else "") + _count(row.pages),
                outcome,
                _frame_links(dict.fromkeys(frames), prefix, listed),
            ]
        )
    more = (
        f"<p>{health.dropped_rows} more transactions not listed.</p>" if health.dropped_rows else ""
    )
    head = ["transaction", "start (s)", "duration (s)", "pages asked", "pages moved", "outcome"]
    return _table([*head, "frames"], rows, {1, 2, 3, 4}) + more


def _ledger(ledger: Ledger) -> str:
    head = ["minute", *LEDGER_KINDS, "net", "net MiB"]

    def cells(
        label: str, counts: dict[str, int], unknown: dict[str, int], at_least: dict[str, int]
    ) -> list[str]:
        net = Ledger.net_of(counts, unknown, at_least)
        return [
            label,
            *(
                ("&ge;" if at_least[k] else "")
                + str(counts[k])
                + (f" + {unknown[k]} of unknown size" if unknown[k] else "")
                for k in LEDGER_KINDS
            ),
            "?" if net is None else str(net),
            "?" if net is None else f"{net / PAGES_PER_MIB:g}",
        ]

    rows = [
        cells("<b>total</b>" if minute is None else str(minute), counts, unknown, at_least)
        for minute, counts, unknown, at_least in ledger.buckets()
    ]
    return (
        "<p>Pages (4 KiB) by kind of transaction, per minute since the first message; net is "
        "what the guest gained (unballooned and hot-added minus ballooned and hot-removed). A "
        "transaction whose pages the input does not say is counted apart, and one whose parts "
        "were cut short counts what they showed (&ge;, at least); then the net is unknown "
        "(?).</p>" + _table(head, rows, set(range(1, len(head))))
    )


def _trans_id(facts: Any) -> str:
    """A message's trans_id; one a log line does not carry is unknown, an event has none."""
    if facts.trans_id is not None:
        return _count(facts.trans_id)
    return "(not in this log)" if facts.type_name.startswith("DM_") else "-"


def _frames(frames: dict[int, Any], zero: float | None, prefix: str) -> str:
    """The frames the page refers to; where each is in its file when that is not its number
    (a log's line, a frame of one of several inputs)."""
    if not frames:
        return "<p>None.</p>"
    files = {facts.file for facts in frames.values()}
    placed = len(files) > 1 or any(f.place != n for n, f in frames.items())
    rows = []
    for number, facts in sorted(frames.items()):
        row = [
            f'<a id="{prefix}frame-{number}"></a>{number}',
            _seconds(facts.time, zero),
            _text(facts.direction or "?"),
            _text(facts.type_name),
            _trans_id(facts),
            _text("; ".join(facts.findings)),
        ]
        if placed:
            where = "?" if facts.place is None else f"{facts.file}:{facts.place}"
            row.insert(1, _text(where))
        rows.append(row)
    head = ["frame", "time (s)", "direction", "type", "trans_id", "findings"]
    right = {1, 4}
    if placed:
        head.insert(1, "file:record or line")
        right = {2, 5}
    return _table(head, rows, right)


def render_section(number: int, path: str, run: Any, pressure_threshold: float) -> str:
    """One input's session: card, plot, findings, transactions, ledger and frames.

    ``number`` (1..) keeps the frame anchors of several inputs apart: ``s2-frame-7``.
    """
    prefix = f"s{number}-"
    health = run.health
    items = run.items()
    referenced = {f for item in items for f in item.frames}
    for row in health.rows:
        referenced.add(row.first_frame)
        if row.final_frame is not None:
            referenced.add(row.final_frame)
    listed = {f: run.frames[f] for f in sorted(referenced) if f in run.frames}
    svg = memory_svg(health, pressure_threshold, id_prefix=prefix)
    thinned = (
        f" (plotted: {len(health.samples)} of {health.sample_count} status reports)"
        if len(health.samples) < health.sample_count
        else ""
    )
    error = (
        ""
        if run.error is None
        else f'<p class="error">The input could not be read to its end: {_text(run.error)}</p>'
    )
    return "\n".join(
        [
            f"<section><h1>{_text(path)}</h1>",
            error,
            _card(path, run.session, health, items),
            f"<h2>Guest memory{thinned}</h2>",
            f'<div class="plot">{svg}</div>',
            "<h2>Findings and verdicts</h2>",
            _findings(items, run.dropped_findings, prefix, listed),
            "<h2>Transactions</h2>",
            _transactions(health, prefix, listed),
            "<h2>Reclaim ledger</h2>",
            _ledger(health.ledger),
            "<h2>Frames named above</h2>",
            _frames(listed, health.first_time, prefix),
            "</section>",
        ]
    )


def render_document(title: str, sections: list[str]) -> str:
    """The whole HTML document: a head with the style, then each input's section."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>dmdissect report: {_text(title)}</title>",
        f"<style>{STYLE}</style></head><body>",
        *sections,
        f"<p><small>Made by dmdissect {escape(__version__)}.</small></p>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
