"""``dmdissect read``: dissect every message of an input, like ``tshark -r``."""

from __future__ import annotations

import sys

import click

from dmdissect.cli.common import (
    COLORS,
    OUTPUT_FORMATS,
    display_filter_option,
    fail,
    guarded,
    input_options,
    one_pass,
    open_input,
    output_options,
    resolve_input,
    two_pass_option,
)

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
@guarded
def read(
    file,
    read_file,
    fmt,
    linktype,
    hex_order,
    verbose,
    show_hex,
    count,
    two_pass,
    display_filter,
    output_format,
    color,
    fields,
    field_options,
):
    """Dissect the messages of FILE (pcap, pcapng, hex dump or raw; '-' for stdin).

    One summary line per message by default; -V adds the field tree, -x the bytes.
    Text output ends with the session (protocol version, capabilities, time span)
    of the messages shown.  -Y shows only the messages a display filter matches,
    with their frame numbers and transaction links as in the whole input.  A
    file is shown in two passes (lines name the frame that ends their
    transaction); a pipe or terminal in one, each message as soon as it is
    read, with links back only (-2 holds them as for a file).
    """
    from dmdissect.analysis.registry import TimeReference
    from dmdissect.analysis.transactions import Tracker
    from dmdissect.pipeline import first, messages_of
    from dmdissect.views.output import Output
    from dmdissect.views.progress import InputProgress
    from dmdissect.views.render import render_messages, render_session

    writer = _fields_writer(output_format, fields, field_options)
    path = resolve_input(file, read_file)
    reference = display_filter.reference if display_filter is not None else TimeReference()
    live = one_pass(path, two_pass)
    # Live input: each line goes out when written, also when -2 held it first.
    flush = live or one_pass(path, False)
    with InputProgress() as progress:
        frames = open_input(path, fmt, linktype, hex_order, progress)
        tracker = Tracker(one_pass=live)
        if count is not None:
            frames = first(frames, count, tracker)
        messages = messages_of(frames, tracker, keep=display_filter)
        out = Output(color=COLORS[color])
        if writer is not None:
            writer(out, reference).write(_seen(messages, reference, display_filter))
            return
        try:
            render_messages(
                messages,
                output_format,
                verbose=verbose,
                show_hex=show_hex,
                out=out,
                reference=reference if display_filter is not None else None,
                flush=flush,
            )
        finally:
            # Also when reading stopped (torn input, a signal): the session of what was read.
            if output_format == "text" and not isinstance(sys.exc_info()[1], BrokenPipeError):
                render_session(tracker.session, out, separate=not (verbose or show_hex))


def _fields_writer(output_format: str, fields: tuple[str, ...], options: tuple[str, ...]):
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


def _seen(messages, reference, display_filter):
    """Messages on their way out, the time reference fed when no filter feeds it."""
    if display_filter is not None:
        yield from messages
        return
    for message in messages:
        reference.see(message)
        yield message
