"""``dmdissect read``: dissect every message of an input, like ``tshark -r``."""

from __future__ import annotations

import click

from dmdissect.cli.common import (
    COLORS,
    guarded,
    input_options,
    open_input,
    output_options,
    resolve_input,
)
from dmdissect.pipeline import first, messages_of

#: tshark's own bound on -c (a C int).
MAX_COUNT = 2**31 - 1


@click.command()
@input_options
@click.option("-V", "--verbose", is_flag=True, help="Show the full field tree of every message.")
@click.option(
    "-x", "--hex", "show_hex", is_flag=True, help="Show the hex and ASCII of each message's bytes."
)
@click.option(
    "-c",
    "--count",
    type=click.IntRange(1, MAX_COUNT),
    metavar="N",
    help=f"Read only the first N messages, 1 to {MAX_COUNT} (as tshark -c).",
)
@output_options("summary lines (and -V/-x)")
@guarded
def read(file, read_file, fmt, linktype, hex_order, verbose, show_hex, count, output_format, color):
    """Dissect the messages of FILE (pcap, pcapng, hex dump or raw; '-' for stdin).

    One summary line per message by default; -V adds the field tree, -x the bytes.
    Text output ends with the session (protocol version, capabilities, time span)
    of the messages shown.
    """
    from dmdissect.analysis.transactions import Tracker
    from dmdissect.views.output import Output
    from dmdissect.views.progress import InputProgress
    from dmdissect.views.render import render_messages, render_session

    path = resolve_input(file, read_file)
    with InputProgress() as progress:
        frames = open_input(path, fmt, linktype, hex_order, progress)
        tracker = Tracker()
        if count is not None:
            frames = first(frames, count, tracker)
        messages = messages_of(frames, tracker)
        out = Output(color=COLORS[color])
        render_messages(messages, output_format, verbose=verbose, show_hex=show_hex, out=out)
    if output_format == "text":
        render_session(tracker.session, out, separate=not (verbose or show_hex))
