"""Render a stream of messages in the output format the user chose.

The summary lines are all most reads need; JSON, the ``-V`` tree and the
``-x`` bytes are imported by the formats that use them (the tree needs
Scapy's fields), so a plain ``read`` starts without them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from dmdissect.analysis.message import Message
from dmdissect.analysis.records import Session
from dmdissect.analysis.timeref import TimeReference
from dmdissect.views.outline import ASCII_GUIDES, plain_lines
from dmdissect.views.output import Output
from dmdissect.views.session import session_lines
from dmdissect.views.summary import line_style, summary_line
from dmdissect.views.timefmt import TimeColumn

if TYPE_CHECKING:
    from dmdissect.views.hexview import hex_text
    from dmdissect.views.tree import message_tree, plain_tree


def _detail_views(verbose: bool) -> None:
    """Import the ``-x`` view, and the ``-V`` tree (it needs Scapy) when ``verbose``, once
    for the per-message functions below."""
    global hex_text, message_tree, plain_tree
    from dmdissect.views.hexview import hex_text

    if verbose:
        from dmdissect.views.tree import message_tree, plain_tree


def render_messages(
    messages: Iterable[Message],
    output_format: str,
    *,
    verbose: bool = False,
    show_hex: bool = False,
    color: bool | None = None,
    out: Output | None = None,
    reference: TimeReference | None = None,
    flush: bool = False,
    times: TimeColumn | None = None,
) -> int:
    """Write every message; returns how many were written.

    Relative times count from the first message written, or from
    ``reference`` (the first message of the input) when a display filter
    chose the messages, as tshark's do.  ``flush`` sends each message on at
    once (live input, ``-l``: a reader of the pipe sees it while the input is
    open).  ``times`` formats the time column instead (``-t``; it must have
    seen each message first, see :class:`~dmdissect.views.timefmt.TimeColumn`).
    """
    out = out or Output(color=color)
    if output_format == "json":
        return _json_array(messages, out, flush)
    if output_format == "jsonl":
        return _json_lines(messages, out, flush)
    if out.plain and not (verbose or show_hex):
        return _plain_summaries(messages, out, reference, flush, times)
    if verbose or show_hex:
        _detail_views(verbose)
        if out.plain:
            return _plain_details(messages, out, reference, flush, times, verbose, show_hex)
    first_time: float | None = None
    count = 0
    for count, message in enumerate(messages, 1):
        when = None if times is None else times.text(message)
        if first_time is None:
            first_time = _time_zero(times, message, reference)
        if verbose:
            out.tree(message_tree(message, first_time))
        elif message.findings:
            out.line(summary_line(message, first_time, when), line_style(message))
        else:
            out.line(summary_line(message, first_time, when))
        rows = _hex(message) if show_hex else []
        if rows and verbose:
            out.line("")  # tshark -V -x: a blank line between the tree and the bytes
        if rows:
            out.line("\n".join(rows))
        if verbose or show_hex:
            out.line("")
        if flush:
            out.flush()
    return count


#: Summary lines a pipe gets per write (one write per line costs more than the line).
BATCH = 256
#: A line longer than this goes out with those before it at once: a batch of lines of
#: thousands of findings each (an info message of 8,000 empty entries) would hold
#: hundreds of megabytes.
LONG_LINE = 4096


def _plain_summaries(
    messages: Iterable[Message],
    out: Output,
    reference: TimeReference | None,
    flush: bool,
    times: TimeColumn | None,
) -> int:
    """The summary lines of :func:`render_messages` for a pipe, written :data:`BATCH` at
    a time (at once with ``flush`` or after a line over :data:`LONG_LINE`); those read
    before an error still go out."""
    first_time: float | None = None
    count = 0
    lines: list[str] = []
    try:
        for count, message in enumerate(messages, 1):
            when = None if times is None else times.text(message)
            if first_time is None:
                first_time = _time_zero(times, message, reference)
            line = summary_line(message, first_time, when)
            lines.append(line)
            if flush or len(lines) >= BATCH or len(line) > LONG_LINE:
                out.raw("\n".join(lines) + "\n")
                lines.clear()
                if flush:
                    out.flush()
    finally:
        if lines:
            out.raw("\n".join(lines) + "\n")
    return count


#: Bytes of ``-V``/``-x`` text a pipe gets per write (a tree is a few hundred bytes).
DETAIL_BATCH = 1 << 16


def _plain_details(
    messages: Iterable[Message],
    out: Output,
    reference: TimeReference | None,
    flush: bool,
    times: TimeColumn | None,
    verbose: bool,
    show_hex: bool,
) -> int:
    """The ``-V``/``-x`` texts of :func:`render_messages` for a pipe, written about
    :data:`DETAIL_BATCH` bytes at a time (each at once with ``flush``); those read
    before an error still go out."""
    first_time: float | None = None
    count = 0
    texts: list[str] = []
    held = 0
    guides = out.guides
    try:
        for count, message in enumerate(messages, 1):
            when = None if times is None else times.text(message)
            if first_time is None:
                first_time = _time_zero(times, message, reference)
            text = _plain(message, first_time, when, verbose, show_hex, guides)
            texts.append(text)
            held += len(text)
            if flush or held >= DETAIL_BATCH:
                out.raw("".join(texts))
                texts.clear()
                held = 0
                if flush:
                    out.flush()
    finally:
        if texts:
            out.raw("".join(texts))
    return count


def _hex(message: Message) -> list[str]:
    """The ``-x`` rows of a message (as one text); one read from a log has no bytes,
    and says so."""
    frame = message.frame
    if frame.source is not None:
        return [f"(no bytes: read from the {frame.source} log)"]
    return [hex_text(frame.data)] if frame.data else []


def _plain(
    message: Message,
    first_time: float | None,
    when: str | None,
    verbose: bool,
    show_hex: bool,
    guides: tuple[str, ...],
) -> str:
    """A message's ``-V`` or ``-x`` text for a pipe, written at once: its line or tree,
    its bytes and a blank line."""
    if verbose:
        lines = plain_tree(message, first_time, guides)
        if lines is None:
            lines = plain_lines(message_tree(message, first_time), guides is ASCII_GUIDES)
    else:
        lines = [summary_line(message, first_time, when)]
    rows = _hex(message) if show_hex else []
    if rows and verbose:
        lines.append("")  # tshark -V -x: a blank line between the tree and the bytes
    lines += rows
    lines += ("", "")
    return "\n".join(lines)


def render_session(session: Session, out: Output, separate: bool = True) -> None:
    """The session after the messages: it is known only once the input ends.

    ``separate`` puts a blank line first (views that end each message with
    one already have it).
    """
    if separate:
        out.line("")
    for line in session_lines(session):
        out.line(line, "bold")


def _json_lines(messages: Iterable[Message], out: Output, flush: bool = False) -> int:
    """One JSON object a line, about :data:`DETAIL_BATCH` bytes a write (each at once
    with ``flush``); those read before an error still go out."""
    from dmdissect.views.jsonout import dumps_line, message_object

    count = 0
    lines: list[str] = []
    held = 0
    try:
        for count, message in enumerate(messages, 1):
            line = dumps_line(message_object(message))
            lines.append(line)
            held += len(line)
            if flush or held >= DETAIL_BATCH:
                lines.append("")
                out.raw("\n".join(lines))
                lines.clear()
                held = 0
                if flush:
                    out.flush()
    finally:
        if lines:
            lines.append("")
            out.raw("\n".join(lines))
    return count


def _json_array(messages: Iterable[Message], out: Output, flush: bool = False) -> int:
    """A JSON array written a batch of elements at a time (as :func:`_json_lines`), so
    memory stays flat.

    The array is closed even when reading fails part-way (the error still
    ends the command), so that what was written stays valid JSON.
    """
    from dmdissect.views.jsonout import dumps, message_object

    count = 0
    elements: list[str] = []
    held = 0
    # What goes before the next batch: the first element opens the array's lines.
    lead = "\n  "
    out.raw("[")
    try:
        for count, message in enumerate(messages, 1):
            element = dumps(message_object(message))
            elements.append(element)
            held += len(element)
            if flush or held >= DETAIL_BATCH:
                out.raw(lead + ",\n  ".join(elements))
                lead = ",\n  "
                elements.clear()
                held = 0
                if flush:
                    out.flush()
    finally:
        if elements:
            out.raw(lead + ",\n  ".join(elements))
        out.raw("\n]\n" if count else "]\n")
    return count


def _time_zero(
    times: TimeColumn | None, message: Message, reference: TimeReference | None
) -> float | None:
    """What relative times count from: the chosen format's origin, else the reference
    frame's time, else the first message's."""
    if times is not None:
        return times.first
    return message.frame.time if reference is None else reference.time
