"""What ``read`` writes around the messages: statistics, the session, in tshark's order.

tshark prints the packets, then the ``-z`` statistics; ``-q`` leaves the
packets out.  The session summary (protocol version, capabilities, time
span) is a human's footer: on a terminal it follows the messages, in a pipe
stdout holds only the message lines unless ``-z session`` asks for it, so a
script reading the lines never has to cut it off.  With ``-T json``/``jsonl``
the statistics come as one more JSON value, ``{"statistics": {...}}``, after
the messages (alone with ``-q``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from dmdissect.analysis.sessions import Sessions
from dmdissect.pipeline import first, kept, messages_of, tapped
from dmdissect.sources.errors import InputError, TornInput
from dmdissect.sources.frame import Frame
from dmdissect.views.output import Output


@dataclass
class ReadPlan:
    """What ``read`` was asked to do, as its options said it."""

    output_format: str = "text"
    verbose: bool = False
    show_hex: bool = False
    #: No message output (``-q``, or ``-w`` without ``-P``).
    quiet: bool = False
    stats: list[Any] | None = None
    time_format: str = "r"
    count: int | None = None
    #: Flush after every message (``-l``, live input).
    flush: bool = False
    #: Live input: one pass, nothing held (see :class:`~dmdissect.analysis.transactions.Tracker`).
    one_pass: bool = False
    display_filter: Any = None
    reference: Any = None
    #: The ``-T fields`` writer, when that is the output.
    fields_writer: Any = None
    write_path: str | None = None
    capture_format: str = "pcapng"


def run_read(
    frames: Iterable[Frame], plan: ReadPlan, out: Output, sessions: Sessions | None = None
) -> None:
    """Frames in, everything ``read`` prints and writes out, in one pass.

    The order of the stages is tshark's: the tracker and the ``-z`` taps see
    every message read, the display filter then chooses what is shown and
    written (``-w``), and the statistics come last.  A torn input still
    writes the ``-w`` capture of what was read before the error goes on.
    """
    from dmdissect.views.render import render_messages
    from dmdissect.views.timefmt import TimeColumn

    stats = plan.stats or []
    if sessions is None:
        sessions = Sessions(one_pass=plan.one_pass)
    for stat in stats:
        if hasattr(stat, "rows"):
            sessions.on_rows.append(stat.rows)
    times = TimeColumn(plan.time_format)
    if plan.count is not None:
        frames = first(frames, plan.count, sessions)
    messages = messages_of(frames, sessions)
    if stats or plan.display_filter is not None:
        messages = tapped(messages, [times, *stats])
    else:
        times.follow()  # every message read is shown: the column needs no tap
    if plan.display_filter is not None:
        messages = kept(messages, plan.display_filter)
    shown = 0
    torn: TornInput | None = None
    logged = [0, 0]

    def show(messages: Iterator[Any]) -> None:
        nonlocal shown
        if plan.quiet:
            for _ in messages:
                pass
        elif plan.fields_writer is not None:
            plan.fields_writer.write(_seen(messages, plan.reference, plan.display_filter))
        else:
            shown = render_messages(
                messages,
                plan.output_format,
                verbose=plan.verbose,
                show_hex=plan.show_hex,
                out=out,
                reference=plan.reference if plan.display_filter is not None else None,
                times=times,
                flush=plan.flush,
            )

    try:
        if plan.write_path is None:
            show(messages)
        else:
            from dmdissect.sources.output import output_file
            from dmdissect.sources.writer import CaptureWriter

            with output_file(plan.write_path) as handle:
                capture = CaptureWriter(handle, plan.capture_format)
                try:
                    show(_writing(messages, capture, plan.flush, logged))
                except TornInput as exc:
                    # What was read before the damage is written, as editcap does; then the error.
                    torn = exc
                capture.flush()
    finally:
        # Also when reading stopped (torn input, a signal): the statistics of what was read.
        if not isinstance(sys.exc_info()[1], BrokenPipeError):
            write_after(
                out,
                "text" if plan.output_format == "fields" else plan.output_format,
                sessions,
                stats,
                quiet=plan.quiet,
                separate=bool(shown) and not (plan.verbose or plan.show_hex),
            )
    if torn is not None:
        raise torn
    if logged[1]:
        from dmdissect.views.english import plural

        what = plural(logged[1], "log line") + (" carries" if logged[1] == 1 else " carry")
        if not logged[0]:
            raise InputError(f"{what} facts, not message bytes: nothing to write")
        sys.stderr.write(f"dmdissect: warning: {what} facts, not message bytes: not written\n")


def _writing(
    messages: Iterable[Any], capture: Any, flush: bool, logged: list[int]
) -> Iterator[Any]:
    """Messages passed on after their frames went into the ``-w`` capture.

    Each carries the same notes (transaction, findings) as ``convert`` writes.
    A log's lines (witnesses and events) have no bytes to write: they are
    counted in ``logged`` (written, skipped), never written as empty packets.
    """
    from dmdissect.views.capture_notes import notes

    for message in messages:
        frame = message.frame
        if frame.witness is not None or frame.event is not None:
            logged[1] += 1
            yield message
            continue
        logged[0] += 1
        capture.write(frame, notes(message))
        if flush:
            capture.flush()
        yield message


def _seen(messages: Iterable[Any], reference: Any, display_filter: Any) -> Iterator[Any]:
    """Messages on their way out, the time reference fed when no filter feeds it."""
    if display_filter is not None:
        yield from messages
        return
    for message in messages:
        reference.see(message)
        yield message


def footer_wanted(out: Output, stats: list[Any], quiet: bool) -> bool:
    """The session summary without ``-z session``: on a terminal, unless ``-q``."""
    if stats:
        from dmdissect.analysis.stats import SessionStat

        if any(isinstance(stat, SessionStat) for stat in stats):
            return False
    is_tty = hasattr(out.stream, "isatty") and out.stream.isatty()
    return is_tty and not quiet


def write_after(
    out: Output,
    output_format: str,
    sessions: Sessions,
    stats: list[Any],
    *,
    quiet: bool,
    separate: bool,
) -> None:
    """The footer (when wanted) and every statistic, after the messages.

    ``separate`` puts a blank line before the first text block when the
    message lines did not end with one.
    """
    if not stats and (output_format != "text" or not footer_wanted(out, stats, quiet)):
        return
    # Loaded only now: most reads end without a footer or statistics (start-up).
    from dmdissect.analysis.stats import SessionStat
    from dmdissect.views.stats import sessions_lines, stat_lines, statistics_object

    labelled = sessions.labelled()
    if output_format != "text":
        if stats:
            from dmdissect.views.jsonout import dumps, dumps_line

            obj = statistics_object(stats, labelled)
            out.raw((dumps(obj) if output_format == "json" else dumps_line(obj)) + "\n")
        return
    blocks: list[tuple[list[str], str | None]] = []
    if footer_wanted(out, stats, quiet):
        blocks.append((sessions_lines(labelled), "bold"))
    for stat in stats:
        style = "bold" if isinstance(stat, SessionStat) else None
        blocks.append((stat_lines(stat, labelled), style))
    for index, (lines, style) in enumerate(blocks):
        if lines and lines[0] != "" and (separate or index):
            out.line("")
        for line in lines:
            out.line(line, style)
