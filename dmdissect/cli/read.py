"""``dmdissect read``: dissect every message of an input, like ``tshark -r``."""

from __future__ import annotations

import sys
from typing import Any

import click

from dmdissect.cli.common import (
    COLORS,
    OUTPUT_FORMATS,
    PROFILE_KEY,
    display_filter_option,
    fail,
    guarded,
    inputs_options,
    one_pass,
    open_inputs,
    output_options,
    resolve_inputs,
    two_pass_option,
    warn_filter,
)

#: tshark's own bound on -c (a C int).
MAX_COUNT = 2**31 - 1
TIME_FORMATS = ("r", "d", "dd", "e", "a", "ad", "u", "ud")


def _stats(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list:
    if not values:
        # Without -z, neither the statistics nor the filter compiler is loaded (start-up).
        return []
    from dmdissect.analysis.stats import parse_stat

    def column_filter(text: str) -> Any:
        # Only an io,stat column with a filter needs the compiler (lark, the field registry).
        from dmdissect.filter import FilterError, compile_filter

        try:
            compiled = compile_filter(text, profile=ctx.meta.get(PROFILE_KEY))
        except FilterError as exc:
            raise ValueError(
                f"-z io,stat filter {text!r}: {exc.message.rstrip('.')} (column {exc.column})"
            ) from None
        warn_filter(f"-z io,stat filter {text!r}", compiled)
        return compiled

    try:
        return [parse_stat(value, column_filter) for value in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


@click.command()
@inputs_options
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
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="No per-message output: only the -z statistics (as tshark -q).",
)
@click.option(
    "-z",
    "stats",
    multiple=True,
    metavar="STAT",
    callback=_stats,
    help="Statistics after the messages (repeatable): dm,stat; expert; transactions; "
    "io,stat,INTERVAL[,FILTER...]; session.",
)
@click.option(
    "-t",
    "time_format",
    type=click.Choice(TIME_FORMATS),
    default="r",
    show_default=True,
    help="Time column as tshark -t: r relative, d delta, dd delta shown, e epoch, "
    "a/ad local time (with date), u/ud UTC (with date).",
)
@click.option(
    "-l", "line_buffered", is_flag=True, help="Flush the output after every message (as tshark -l)."
)
@two_pass_option
@display_filter_option("Show only the messages")
@output_options(
    "summary lines (and -V/-x)",
    (*OUTPUT_FORMATS, "fields"),
    "; fields: the -e fields of each message, as tshark -T fields",
)
@click.option(
    "-e",
    "fields",
    multiple=True,
    metavar="FIELD",
    help="With -T fields: a field to print (repeat for more; names: 'dmdissect fields').",
)
@click.option(
    "-E",
    "field_options",
    multiple=True,
    metavar="OPTION",
    help="With -T fields, as tshark: header=y|n, separator=/t|/s|<char>, quote=d|s|n, "
    "occurrence=f|l|a, aggregator=,|/s|<char>, bom=y|n.",
)
@click.option(
    "-w",
    "write_path",
    metavar="FILE",
    help="Write the messages (those -Y keeps) to FILE as a capture, '-' for standard output "
    "(as tshark -w); no message lines then unless -P.",
)
@click.option(
    "-F",
    "capture_format",
    type=click.Choice(("pcapng", "pcap")),
    default="pcapng",
    show_default=True,
    help="Capture format of -w: pcapng keeps directions and comments.",
)
@click.option(
    "-P", "print_lines", is_flag=True, help="With -w, print the messages too (as tshark -P)."
)
@guarded
def read(
    files: tuple[str, ...],
    read_file: Any,
    concat: Any,
    fmt: Any,
    linktype: Any,
    hex_order: Any,
    verbose: Any,
    show_hex: Any,
    count: Any,
    quiet: Any,
    stats: Any,
    time_format: Any,
    boot_time: Any,
    line_buffered: Any,
    two_pass: Any,
    display_filter: Any,
    output_format: Any,
    color: Any,
    fields: Any,
    field_options: Any,
    write_path: Any,
    capture_format: Any,
    print_lines: Any,
) -> None:
    """Dissect the messages of FILE (pcap, pcapng, hex dump, raw or a log; '-' for stdin).

    One summary line per message by default; -V adds the field tree, -x the
    bytes.  Several FILEs are merged by time (--concat: one after the other),
    each capture file and interface its own session; the logs (QEMU's trace
    and QMP, the guest's dmesg and ftrace) are one session together, the
    guest's clock aligned to the host's (--boot-time, or their version
    negotiation).  -Y shows only the messages a display filter matches, with
    their frame numbers and transaction links as in the whole input.  -z
    statistics follow the messages (-q: only them) and count every message
    read.  The session summary (protocol version, capabilities, time span)
    ends the output on a terminal; in a pipe only with -z session.  -w writes
    the messages as a capture.  A file is shown in two passes (lines name the
    frame that ends their transaction); a pipe or terminal in one, each
    message as soon as it is read, with links back only (-2 holds them as for
    a file).
    """
    from dmdissect.analysis.sessions import Sessions
    from dmdissect.analysis.timeref import TimeReference
    from dmdissect.views.output import Output
    from dmdissect.views.progress import InputProgress
    from dmdissect.views.reading import ReadPlan, run_read

    if write_path == "-" and print_lines:
        raise click.UsageError("-P prints to standard output, where -w - writes the capture")
    if print_lines and not write_path:
        raise click.UsageError("-P goes with -w")
    fields_writer = _fields_writer(output_format, fields, field_options)
    paths = resolve_inputs(files, read_file)
    reference = display_filter.reference if display_filter is not None else TimeReference()
    live = len(paths) == 1 and one_pass(paths[0], two_pass)
    # With the capture on stdout, whatever else is asked for goes to stderr.
    out = Output(stream=sys.stderr if write_path == "-" else None, color=COLORS[color])
    plan = ReadPlan(
        output_format=output_format,
        verbose=verbose,
        show_hex=show_hex,
        quiet=quiet or bool(write_path and not print_lines),
        stats=stats,
        time_format=time_format,
        count=count,
        # Live input: each line goes out when written, also when -2 held it first.
        flush=line_buffered or live or (len(paths) == 1 and one_pass(paths[0], False)),
        one_pass=live,
        display_filter=display_filter,
        reference=reference,
        fields_writer=None if fields_writer is None else fields_writer(out, reference),
        write_path=write_path,
        capture_format=capture_format,
    )
    sessions = Sessions(one_pass=live)
    with InputProgress() as progress:
        frames = open_inputs(
            paths, fmt, linktype, hex_order, progress, concat, boot_time, sessions.align
        )
        run_read(frames, plan, out, sessions)


def _fields_writer(output_format: str, fields: tuple[str, ...], options: tuple[str, ...]) -> Any:
    """A function that makes the ``-T fields`` writer, or None; bad -e/-E end the command."""
    if output_format != "fields":
        if fields or options:
            fail("-e and -E need -T fields")
        return None
    from dmdissect.views.fieldsout import (
        FieldsOptionError,
        FieldsWriter,
        parse_options,
        resolve_fields,
    )

    try:
        layout = parse_options(options)
        chosen = resolve_fields(fields)
    except FieldsOptionError as exc:
        fail(str(exc))
    return lambda out, reference: FieldsWriter(chosen, layout, out, reference, names=fields)
