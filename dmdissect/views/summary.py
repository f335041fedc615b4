"""One tshark-like line per message: frame, time, direction, type, id, facts, findings."""

from __future__ import annotations

from functools import cache

from dmdissect.analysis.message import Message
from dmdissect.analysis.records import Link
from dmdissect.escape import printable
from dmdissect.layers import HEADER_SIZE, type_name
from dmdissect.views.expert import SEVERITY_STYLES, worst
from dmdissect.views.fields import walk
from dmdissect.views.records import link_label


def info_text(message: Message) -> str:
    body = message.body
    if message.trans_id is None:
        return ""
    if body is None:
        return f"{message.available - HEADER_SIZE} bytes of body"
    if not body.missing:
        return body.mysummary()
    present = [
        f"{node.name} {node.value}"
        for node in walk(body)
        if not node.missing and isinstance(node.value, int)
    ]
    return "cut short" + (f" after {', '.join(present)}" if present else "")


def findings_text(message: Message) -> str:
    if not message.findings:
        return ""
    return "".join(f" [{f.severity.value}: {printable(f.message)}]" for f in message.findings)


def transaction_text(message: Message) -> str:
    """The message's place in its transaction; nothing for a series (status reports)."""
    link = message.transaction
    return f" [{link_label(link)}]" if isinstance(link, Link) else ""


@cache
def _columns(direction: str | None, msg_type: int | None) -> str:
    """The direction and type columns, padded once per pair (a summary is mostly these)."""
    name = "?" if msg_type is None else type_name(msg_type)
    return f"{direction or '?':<11} {name:<26}"


def summary_line(message: Message, first_time: float | None, when: str | None = None) -> str:
    """The message's line; ``when`` replaces the time since ``first_time`` (``-t``)."""
    if when is None:
        time = message.frame.time
        when = "-" if time is None or first_time is None else f"{time - first_time:.6f}"
    trans_id = "-" if message.trans_id is None else message.trans_id
    return (
        f"{message.frame.index:>5} {when:>12} {_columns(message.direction, message.type)} "
        f"id={trans_id:<10} "
        f"{info_text(message)}{transaction_text(message)}{findings_text(message)}"
    )


def line_style(message: Message) -> str | None:
    severity = worst(message.findings)
    return None if severity is None else SEVERITY_STYLES[severity]
