"""``dmdissect timeline``: the session as a table of transactions, like Wireshark's flow graph."""

from __future__ import annotations

from typing import Any

import click

from dmdissect.cli.common import (
    COLORS,
    display_filter_option,
    guarded,
    inputs_options,
    one_pass,
    open_inputs,
    output_options,
    resolve_inputs,
    two_pass_option,
)
from dmdissect.cli.health import health_options, thresholds_of


@click.command()
@inputs_options
@display_filter_option("Show only the transactions and series with messages")
@two_pass_option
@output_options("session header, table and health verdicts")
@health_options
@guarded
def timeline(
    files: tuple[str, ...],
    read_file: Any,
    concat: Any,
    boot_time: Any,
    fmt: Any,
    linktype: Any,
    hex_order: Any,
    display_filter: Any,
    two_pass: Any,
    output_format: Any,
    color: Any,
    **limits: Any,
) -> None:
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
    Several FILEs are merged by time (--concat: one after the other); each
    capture file and pcapng interface is its own session, the logs (QEMU's
    trace and QMP, the guest's dmesg and ftrace) one session together.  With
    several sessions the table starts with a session column (in one pass, a
    row of any session but the first names it), each session has its header
    and health block, and JSON rows of any session but the first carry
    "session".
    """
    from functools import cache

    from dmdissect.analysis.health import HealthMonitor
    from dmdissect.analysis.sessions import SessionHealth, Sessions
    from dmdissect.pipeline import transactions_of
    from dmdissect.views.output import Output
    from dmdissect.views.progress import InputProgress
    from dmdissect.views.timeline import render_timeline

    paths = resolve_inputs(files, read_file)
    out = Output(color=COLORS[color])
    live = len(paths) == 1 and one_pass(paths[0], two_pass)
    sessions = Sessions(one_pass=live)
    thresholds = thresholds_of(limits)
    with InputProgress() as progress:
        frames = open_inputs(
            paths, fmt, linktype, hex_order, progress, concat, boot_time, sessions.align
        )
        monitor = SessionHealth(sessions, lambda: HealthMonitor(thresholds))
        rows = transactions_of(frames, sessions, keep=display_filter, monitor=monitor)
        render_timeline(rows, sessions, output_format, out, live=live, health=cache(monitor.finish))
