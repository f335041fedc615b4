"""The guest's memory over time, drawn with matplotlib (SVG for the report, PNG on its own).

One figure: committed and available memory from the status reports, the
memory ballooned out and hot-added so far (running totals of the finished
transactions), and pressure as Hyper-V defines it on a second axis with the
alarm threshold; every transaction is marked where it started.  matplotlib is
imported here only, so no other command pays for it, and only its
object-oriented API is used (no pyplot state, no display needed).
"""

from __future__ import annotations

import io
from typing import Any, BinaryIO

from dmdissect.analysis.health import Health
from dmdissect.layers.header import PAGES_PER_MIB

#: Marker colour per transaction kind (colour-blind safe, Okabe-Ito).
KIND_COLORS = {
    "balloon": "#D55E00",
    "unballoon": "#009E73",
    "hot_add": "#0072B2",
    "hot_remove": "#CC79A7",
}


def _running_totals(health: Health, zero: float) -> dict[str, list[tuple[float, float]]]:
    """Step points (seconds, MiB) of memory ballooned out and hot-added so far."""
    out: dict[str, list[tuple[float, float]]] = {"ballooned": [(0.0, 0.0)], "hot_added": []}
    ballooned = added = 0
    for row in sorted(
        (r for r in health.rows if r.start is not None and r.pages), key=lambda r: r.start or 0
    ):
        t = (row.start or 0) - zero
        if row.kind == "balloon":
            ballooned += row.pages or 0
        elif row.kind == "unballoon":
            ballooned -= row.pages or 0
        elif row.kind == "hot_add" and row.outcome in ("accepted", "partial"):
            added += row.pages or 0
        elif row.kind == "hot_remove":
            added -= row.pages or 0
        else:
            continue
        out["ballooned"].append((t, ballooned / PAGES_PER_MIB))
        out["hot_added"].append((t, added / PAGES_PER_MIB))
    if out["hot_added"]:
        out["hot_added"].insert(0, (0.0, 0.0))
    return out


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
    for name, label, color in (
        ("ballooned", "ballooned out so far", "#D55E00"),
        ("hot_added", "hot-added so far", "#0072B2"),
    ):
        points = _running_totals(health, zero)[name]
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
            times, [s.pressure for s in samples], color="#000000", linewidth=0.9, label="pressure"
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
        axes.set_title(title, fontsize=10)
    return figure


def memory_svg(health: Health, pressure_threshold: float, title: str = "") -> str:
    """The figure as an SVG document, ready to be placed inline in HTML."""
    buffer = io.StringIO()
    memory_figure(health, pressure_threshold, title).savefig(
        buffer, format="svg", metadata={"Date": None}
    )
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def write_memory_png(
    health: Health, pressure_threshold: float, stream: BinaryIO, title: str = ""
) -> None:
    memory_figure(health, pressure_threshold, title).savefig(stream, format="png")
