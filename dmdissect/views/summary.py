"""One tshark-like line per message: frame, time, direction, type, id, facts, findings.

A whole decoded message's facts are its summary (the layer's template in
:mod:`dmdissect.views.phrases`); only a message cut short or known from a log
line needs the field walk, which is imported then (it needs Scapy).
"""

from __future__ import annotations

from typing import Any

from dmdissect.analysis.events import LogEvent
from dmdissect.analysis.message import Message
from dmdissect.analysis.records import Link
from dmdissect.escape import printable
from dmdissect.layers.numbers import type_name
from dmdissect.layers.tables import HEADER_SIZE
from dmdissect.views.expert import SEVERITY_STYLES, worst
from dmdissect.views.phrases import summarize
from dmdissect.views.records import link_label


def witness_text(message: Message) -> str:
    """What a log line said of its message, then what it did not say."""
    from dmdissect.analysis.witness import unknown_fields, unreadable_fields

    body = message.body
    known = [] if body is None else known_texts(body)
    extra = message.frame.witness.extra if message.frame.witness else {}
    known.extend(f"{key} {_fact(value)}" for key, value in extra.items())
    unknown = unknown_fields(message)
    text = ", ".join(known)
    unreadable = unreadable_fields(message)
    if unreadable:
        text += f" ({', '.join(unreadable)}: unreadable)"
    if unknown:
        text += f" ({', '.join(unknown)}: not in this log)"
    return text.lstrip()


def known_texts(body: Any) -> list[str]:
    """``name text`` of each field a witnessed body knows, as :func:`walk` shows them.

    A log line's body holds a few plain numbers, a range or a list of ranges:
    those are written straight from the layer's field order; anything else
    takes the whole walk (:func:`known_by_walk`, which the tests hold this to).
    """
    from dmdissect.layers.compiled import layer_of
    from dmdissect.views.fields import LIST, STRUCT, field_kinds, struct_text

    missing = body.missing
    out = []
    for name, int_text, kind in field_kinds(layer_of(body)):
        if name in missing:
            continue
        value = getattr(body, name)
        if int_text is not None and type(value) is int:
            out.append(f"{name} {int_text(value)}")
        elif kind is LIST and type(value) is list and value:
            out.append(f"{name} [{', '.join(struct_text(item) for item in value)}]")
        elif kind is STRUCT and value is not None:
            out.append(f"{name} {struct_text(value)}")
        else:
            return known_by_walk(body)
    return out


def known_by_walk(body: Any) -> list[str]:
    """:func:`known_texts` through the field walk the tree and JSON stand on."""
    from dmdissect.views.fields import walk

    known = []
    for node in walk(body):
        if node.missing:
            continue
        if node.children and isinstance(node.value, list):
            known.append(f"{node.name} [{', '.join(c.text for c in node.children)}]")
        else:
            known.append(f"{node.name} {node.text}")
    return known


def _fact(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"major_version", "minor_version"}:
        return f"{value['major_version']}.{value['minor_version']}"
    return str(value)


def event_line(event: LogEvent, first_time: float | None, when: str | None = None) -> str:
    """An event's line: number, time, whose state, what happened, the line's own words."""
    frame = event.frame
    if when is None:
        time = frame.time
        when = "-" if time is None or first_time is None else f"{time - first_time:.6f}"
    info = event.event
    text = (
        printable(info.text) if info.text else ", ".join(f"{k} {v}" for k, v in info.facts.items())
    )
    return (
        f"{frame.index:>5} {when:>12} {info.side:<11} {'event ' + info.name:<26} "
        f"{frame.source or '':<14}{text}{transaction_text(event)}{findings_text(event)}"
    )


def info_text(message: Message) -> str:
    body = message.body
    if message.frame.witness is not None:
        return witness_text(message)
    if message.trans_id is None:
        return ""
    if body is None:
        return f"{message.available - HEADER_SIZE} bytes of body"
    if not body.missing:
        return summarize(body)
    from dmdissect.views.fields import walk

    present = [
        f"{node.name} {node.value}"
        for node in walk(body)
        if not node.missing and isinstance(node.value, int)
    ]
    return "cut short" + (f" after {', '.join(present)}" if present else "")


#: Findings a summary line names; the rest are counted (all of them are in -V and JSON).
LINE_FINDINGS = 16


def findings_text(message: Message | LogEvent) -> str:
    findings = message.findings
    if not findings:
        return ""
    text = "".join(
        f" [{f.severity.value}: {printable(f.message)}]" for f in findings[:LINE_FINDINGS]
    )
    more = len(findings) - LINE_FINDINGS
    return f"{text} [... {more} more findings in -V and -T json]" if more > 0 else text


def transaction_text(message: Message | LogEvent) -> str:
    """The message's place in its transaction; nothing for a series (status reports)."""
    link = message.transaction
    return f" [{link_label(link)}]" if isinstance(link, Link) else ""


def _columns(direction: str | None, msg_type: int | None) -> str:
    """The direction and type columns, padded once per pair (a summary is mostly these)."""
    columns = _COLUMNS.get((direction, msg_type))
    if columns is None:
        name = "?" if msg_type is None else type_name(msg_type)
        columns = _COLUMNS[direction, msg_type] = f"{direction or '?':<11} {name:<26}"
    return columns


_COLUMNS: dict[tuple[str | None, int | None], str] = {}
#: Frame number, time, the columns, the id and the facts (``%`` reads its format faster
#: than an f-string with widths; ``%s`` writes an int or a text as ``format`` does).
_LINE = "%5s %12s %s id=%-10s %s"


def summary_line(
    message: Message | LogEvent, first_time: float | None, when: str | None = None
) -> str:
    """The message's line; ``when`` replaces the time since ``first_time`` (``-t``)."""
    if isinstance(message, LogEvent):
        return event_line(message, first_time, when)
    frame = message.frame
    if when is None:
        time = frame.time
        when = "-" if time is None or first_time is None else f"{time - first_time:.6f}"
    trans_id: int | str | None = message.trans_id
    body = message.body
    if trans_id is None:
        trans_id = "-" if frame.witness is None else "?"
        info = info_text(message)
    elif body is not None and not body.missing and frame.witness is None:
        info = summarize(body)  # what info_text says of a whole message, one call nearer
    else:
        info = info_text(message)
    columns = _COLUMNS.get((message.direction, message.type))
    if columns is None:
        columns = _columns(message.direction, message.type)
    link = message.transaction
    line = _LINE % (frame.index, when, columns, trans_id, info)
    if link is not None and isinstance(link, Link):
        line += f" [{link_label(link)}]"
    return line + findings_text(message) if message.findings else line


def line_style(message: Message) -> str | None:
    severity = worst(message.findings)
    return None if severity is None else SEVERITY_STYLES[severity]
