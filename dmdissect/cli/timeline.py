"""``dmdissect timeline``: the session as a table of transactions, like Wireshark's flow graph."""

from __future__ import annotations

import click

from dmdissect.cli.common import (
    COLORS,
    display_filter_option,
    guarded,
    input_options,
    one_pass,
    open_input,
    output_options,
    resolve_input,
    two_pass_option,
)
from dmdissect.cli.health import health_options, thresholds_of


@click.command()
@input_options
@display_filter_option("Show only the transactions and series with messages")
@two_pass_option
@output_options("session header, table and health verdicts")
@health_options
@guarded
def timeline(
    file,
    read_file,
    fmt,
    linktype,
    hex_order,
    display_filter,
    two_pass,
    output_format,
    color,
    **limits,
):
    """Show the transactions of FILE in time order (inputs as for read).

    One row per transaction (version, capabilities, balloon, unballoon, hot_add,
    hot_remove, info) with its frames, trans_ids, parts, pages and outcome;
    status reports summed up between them; the session (protocol version,
    capabilities, first and last time) on top.  JSON: one object per row, the
    session object last.  With -Y, a row is shown when any of its messages matches.
    On a pipe or terminal (one pass) each row is shown as soon as its
    transaction ends, in the order they end, and the session last; -2 gives
    the file layout (start order, session on top) there too.
    The health verdicts of the whole session (as dmdissect check gives them)
    follow the table, and come before the session object in JSON.
    """
    from functools import cache

    from dmdissect.analysis.health import HealthMonitor
    from dmdissect.analysis.transactions import Tracker
    from dmdissect.pipeline import transactions_of
    from dmdissect.views.output import Output
    from dmdissect.views.progress import InputProgress
    from dmdissect.views.timeline import render_timeline

    path = resolve_input(file, read_file)
    out = Output(color=COLORS[color])
    live = one_pass(path, two_pass)
    tracker = Tracker(one_pass=live)
    with InputProgress() as progress:
        frames = open_input(path, fmt, linktype, hex_order, progress)
        monitor = HealthMonitor(thresholds_of(limits))
        rows = transactions_of(frames, tracker, keep=display_filter, monitor=monitor)
        render_timeline(
            rows, tracker.session, output_format, out, live=live, health=cache(monitor.finish)
        )
