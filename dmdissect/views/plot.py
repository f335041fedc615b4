"""The guest's memory over time, drawn with matplotlib (SVG for the report, PNG on its own).

One figure: committed and available memory from the status reports, the
memory ballooned out (net, since the first message: what was out before
the input began is unknown, so a session that starts by giving pages back
draws below zero), hot-added and hot-removed since the first message
(running totals of the finished transactions), and pressure as Hyper-V
defines it on a second axis with the alarm threshold; every transaction is
marked where it started.  matplotlib is imported here only, so no other
command pays for it, and only its object-oriented API is used (no pyplot
state, no display needed).
"""

from __future__ import annotations

import io
import math
import re
from typing import Any, BinaryIO

from dmdissect.analysis.health import Health
from dmdissect.layers.numbers import PAGES_PER_MIB
from dmdissect.views.output import printable

#: Marker colour per transaction kind (colour-blind safe, Okabe-Ito).
KIND_COLORS = {
    "balloon": "#D55E00",
    "unballoon": "#009E73",
    "hot_add": "#0072B2",
    "hot_remove": "#CC79A7",
}


def _running_totals(health: Health, zero: float) -> dict[str, list[tuple[float, float]]]:
    """Step points (seconds, MiB) of memory ballooned out (net), hot-added and hot-removed.

    Every total counts from the first message, the only start the input shows.
    Hot-removed memory is its own line, never subtracted from the hot-added
    one: a host removing boot memory would otherwise draw "hot-added so far"
    below zero.  Once a transaction's pages are unknown (a log that does not
    say them) or only a lower bound (a part cut short), its line's total is
    unknown from there on: the line ends (NaN) instead of drawing that
    transaction as 0.
    """
    names = {"balloon": "ballooned", "unballoon": "ballooned", "hot_add": "hot_added"}
    names["hot_remove"] = "hot_removed"
    totals: dict[str, float] = dict.fromkeys(("ballooned", "hot_added", "hot_removed"), 0.0)
    out: dict[str, list[tuple[float, float]]] = {name: [(0.0, 0.0)] for name in totals}
    for row in sorted(
        (r for r in health.rows if r.start is not None and r.pages != 0), key=lambda r: r.start or 0
    ):
        name = names.get(row.kind)
        if name is None or (
            row.kind == "hot_add" and row.outcome not in ("accepted", "partial", None)
        ):
            continue
        if row.pages is None or row.pages_at_least:
            totals[name] = math.nan
        else:
            totals[name] += -row.pages if row.kind == "unballoon" else row.pages
        out[name].append(((row.start or 0) - zero, totals[name] / PAGES_PER_MIB))
    return out


def _pressure(sample: Any) -> float:
    """A report's pressure, NaN (no point) where committed + available is 0 (undefined)."""
    return sample.pressure if sample.committed + sample.available else math.nan


def memory_figure(health: Health, pressure_threshold: float, title: str = "") -> Any:
    """The matplotlib Figure of the session's memory; the caller chooses the format."""
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "dmdissect"
    # Text as <text> elements: smaller, selectable, and the axis labels can be found in the page.
    matplotlib.rcParams["svg.fonttype"] = "none"
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 5.2), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    zero = health.first_time or 0.0
    samples = health.samples
    times = [s.time - zero for s in samples]
    if samples:
        axes.plot(
            times,
            [s.committed / PAGES_PER_MIB for s in samples],
            label="committed",
            color="#E69F00",
            linewidth=1.4,
        )
        axes.plot(
            times,
            [s.available / PAGES_PER_MIB for s in samples],
            label="available",
            color="#56B4E9",
            linewidth=1.4,
        )
    totals = _running_totals(health, zero)
    for name, label, color in (
        ("ballooned", "ballooned out since the first message (net)", "#D55E00"),
        ("hot_added", "hot-added since the first message", "#0072B2"),
        ("hot_removed", "hot-removed since the first message", "#CC79A7"),
    ):
        points = totals[name]
        if any(math.isnan(p[1]) for p in points):
            label += " (ends where a transaction's pages are not known)"
        if len(points) > 1:
            end = (health.last_time or zero) - zero
            xs = [p[0] for p in points] + [max(end, points[-1][0])]
            ys = [p[1] for p in points] + [points[-1][1]]
            axes.step(xs, ys, where="post", label=label, color=color, linestyle="--")
    marked: set[str] = set()
    for row in health.rows:
        if row.start is not None and row.kind in ("balloon", "unballoon", "hot_add", "hot_remove"):
            axes.axvline(
                row.start - zero,
                color=KIND_COLORS[row.kind],
                alpha=0.35,
                linewidth=0.8,
                label=None if row.kind in marked else f"{row.kind} request",
            )
            marked.add(row.kind)
    axes.set_xlabel("time since the first message (s)")
    axes.set_ylabel("guest memory (MiB)")
    axes.grid(True, alpha=0.3)
    if samples:
        pressure_axes = axes.twinx()
        pressure_axes.plot(
            times, [_pressure(s) for s in samples], color="#000000", linewidth=0.9, label="pressure"
        )
        pressure_axes.axhline(
            pressure_threshold,
            color="#000000",
            linestyle=":",
            linewidth=0.9,
            label=f"alarm threshold {pressure_threshold:g}%",
        )
        pressure_axes.set_ylabel("pressure: committed / (committed + available) (%)")
        pressure_axes.set_ylim(0, 110)
        lines, labels = axes.get_legend_handles_labels()
        more_lines, more_labels = pressure_axes.get_legend_handles_labels()
        axes.legend(lines + more_lines, labels + more_labels, loc="upper left", fontsize=8)
    elif axes.get_legend_handles_labels()[0]:
        axes.legend(loc="upper left", fontsize=8)
    if not samples:
        axes.text(
            0.5,
            0.5,
            "no status reports in this input",
            transform=axes.transAxes,
            ha="center",
            va="center",
        )
    if title:
        # A title is input text (a file name): never mathtext, never a control character.
        axes.set_title(printable(title), fontsize=10, parse_math=False)
    return figure


#: An id matplotlib writes, and a reference to one (``url(#p1)``, ``href="#m2"``).
_SVG_ID = re.compile(r'(\bid="|url\(#|href="#)([^")]+)')


def memory_svg(
    health: Health, pressure_threshold: float, title: str = "", id_prefix: str = ""
) -> str:
    """The figure as an SVG document, ready to be placed inline in HTML.

    matplotlib numbers its ids per figure (``figure_1``, ``axes_1``), so two
    plots in one page would share them; ``id_prefix`` keeps each page's ids
    unique, references included.
    """
    buffer = io.StringIO()
    memory_figure(health, pressure_threshold, title).savefig(
        buffer, format="svg", metadata={"Date": None}
    )
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    if id_prefix:
        text = _SVG_ID.sub(lambda m: m.group(1) + id_prefix + m.group(2), text)
    return text


def write_memory_png(
    health: Health, pressure_threshold: float, stream: BinaryIO, title: str = ""
) -> None:
    memory_figure(health, pressure_threshold, title).savefig(stream, format="png")
