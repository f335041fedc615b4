"""The full field tree of a message (``read -V``), as an :class:`~.outline.Branch` tree.

Every field in C order with its value, meaning and place in the bytes;
expert findings hang under the field they concern, or under the message.
The fields come from the compiled values when the message was decoded on the
fast path (the same names and values as Scapy's packet, tested equal), so a
tree costs no Scapy dissection, and in a pipe the compiled writers draw it
without importing Scapy at all.  A list longer than :data:`LIST_LIMIT` shows
its first entries and says how many more there are (JSON has all of them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dmdissect.analysis.events import LogEvent
from dmdissect.analysis.message import Message
from dmdissect.analysis.records import Link
from dmdissect.findings import Finding
from dmdissect.layers.tables import DESCRIPTOR_SIZE, HEADER_DECODER, HEADER_SIZE
from dmdissect.layers.values import Values
from dmdissect.views.english import plural
from dmdissect.views.expert import SEVERITY_STYLES
from dmdissect.views.fieldlines import write_fields
from dmdissect.views.fieldtext import LIST_LIMIT, more_text
from dmdissect.views.outline import Branch, Label, LazyBranch, child_lines
from dmdissect.views.output import printable
from dmdissect.views.reassembly import transaction_lines, transaction_tree
from dmdissect.views.records import link_label
from dmdissect.views.summary import info_text

if TYPE_CHECKING:
    from dmdissect.views.fields import Node


def _walk(obj: Any) -> list[Node]:
    """The field walk of one layer, as the tree shows it: what the compiled writers do not
    write (findings under fields, cut fields, a terminal's styles); it loads Scapy."""
    from dmdissect.views.fields import walk

    return walk(obj, LIST_LIMIT)


def _label(node: Node, where: int | None) -> tuple[str, ...]:
    value = node.text, "red" if node.missing else ""
    if where is None:
        return (f"{node.name}: ", "bold", *value)
    place = f"offset {where}, {node.bits}" if node.bits else f"offset {where}"
    return (f"{node.name}: ", "bold", *value, f"  ({place})", "dim")


def finding_label(finding: Finding) -> tuple[str, ...]:
    return f"[{finding.severity.value}] {printable(finding.message)}", SEVERITY_STYLES[
        finding.severity
    ]


def _add(
    parent: Branch,
    nodes: list[Node],
    base: int | None,
    by_field: dict[str, list[Finding]],
    prefix: str = "",
) -> None:
    """Nodes under ``parent``; ``base`` is where their layer starts in the frame."""
    for node in nodes:
        where = None if base is None or node.offset is None else base + node.offset
        branch = parent.add(_label(node, where))
        if by_field:
            for finding in by_field.pop(prefix + node.name, []):
                branch.add(finding_label(finding))
        if node.children:
            _add(branch, node.children, where, by_field, f"{prefix}{node.name}.")
        if node.more:
            branch.add(more_text(node.name, node.more))


class _Fields(LazyBranch):
    """A layer's fields: compiled plain lines in a pipe, the walk's branches elsewhere.

    Used only where no finding hangs under a field (findings are placed by
    the walk, :func:`_add`).
    """

    __slots__ = ("obj", "base")

    def __init__(self, label: Label, obj: Any, base: int) -> None:
        super().__init__(label)
        self.obj = obj
        self.base = base

    def make(self) -> list[Branch]:
        holder = Branch("")
        _add(holder, _walk(self.obj), self.base, {})
        return holder.children

    def write_plain(self, lines: list[str], prefix: str, guides: tuple[str, ...]) -> bool:
        return write_fields(self.obj, self.base, prefix, guides, lines)


def _section(
    tree: Branch,
    label: Label,
    obj: Any,
    base: int,
    by_field: dict[str, list[Finding]],
    prefix: str = "",
) -> None:
    """A layer's branch under ``tree``: lazy unless findings must be placed under its fields."""
    if by_field:
        _add(tree.add(label), _walk(obj), base, by_field, prefix)
    else:
        tree.children.append(_Fields(label, obj, base))


def _header(message: Message) -> Any:
    """The header's fields: compiled values on the fast path, else Scapy's packet."""
    if isinstance(message.body, Values):
        return HEADER_DECODER(message.message_bytes, 0)[0]
    return message.header


def _log_head(kind: str, frame: Any, first_time: float | None) -> list[str]:
    head = [f"{kind} {frame.index}: from the {frame.source} log", "bold"]
    if frame.time is not None:
        rel = "" if first_time is None else f" (+{frame.time - first_time:.6f} s)"
        head += f", time {frame.time:.6f}{rel}", ""
    else:
        head += ", time (not in this log)", ""
    return head


def _tail(tree: Branch, message: Any, by_field: dict[str, list[Finding]]) -> Branch:
    link = message.transaction
    txn = link.reassembled_here() if isinstance(link, Link) else None
    if txn is not None:
        tree.children.append(transaction_tree(txn))
    leftovers = [f for group in by_field.values() for f in group]
    if leftovers:
        expert = tree.add(("Expert info", "bold"))
        for finding in leftovers:
            expert.add(finding_label(finding))
    return tree


def event_tree(event: LogEvent, first_time: float | None) -> Branch:
    """An event line: whose state, what happened, its facts, the line's words."""
    frame = event.frame
    info = event.event
    head = _log_head("Event", frame, first_time)
    head += f", {info.side} {info.name}", "", f", from {printable(frame.origin)}", "dim"
    tree = Branch(tuple(head))
    for key, value in info.facts.items():
        shown = (
            f"{value:#x} ({value})" if key.startswith("start") and isinstance(value, int) else value
        )
        tree.add(f"{key}: {printable(str(shown))}")
    if info.text:
        tree.add((f"line: {printable(info.text)}", "dim"))
    if isinstance(event.transaction, Link):
        tree.add((f"[transaction: {link_label(event.transaction)}]", "magenta"))
    return _tail(tree, event, {"": list(event.findings)})


def witness_tree(message: Message, first_time: float | None) -> Branch:
    """A message known from a log line: the fields it gave; the rest "(not in this log)"."""
    from dmdissect.analysis.witness import NOT_IN_LOG  # Scapy's layouts: logs only

    frame = message.frame
    head = _log_head("Frame", frame, first_time)
    head += f", {message.direction or 'direction unknown'} ({message.direction_source})", ""
    head += f", from {printable(frame.origin)}", "dim"
    tree = Branch(tuple(head))
    if isinstance(message.transaction, Link):
        tree.add((f"[transaction: {link_label(message.transaction)}]", "magenta"))
    header = tree.add(("Dynamic Memory header", "bold blue"))
    header.add(("type: ", "bold", f"{message.type_name} ({message.type})", ""))
    header.add(("size: ", "bold", NOT_IN_LOG, "red"))
    trans_id = NOT_IN_LOG if message.trans_id is None else str(message.trans_id)
    header.add(("trans_id: ", "bold", trans_id, "red" if message.trans_id is None else ""))
    by_field: dict[str, list[Finding]] = {"": list(message.findings)}
    if message.body is not None:
        _add(
            tree.add((message.type_name, "bold blue")),
            _walk(message.body),
            None,
            by_field,
        )
    extra = frame.witness.extra if frame.witness else {}
    if extra:
        logged = tree.add((f"also on the {frame.source} line", "bold"))
        for key, value in extra.items():
            logged.add(f"{key}: {printable(str(value))}")
    return _tail(tree, message, by_field)


def head_label(message: Message, first_time: float | None) -> tuple[str, ...]:
    """The tree's first line: frame, size, time, direction and where it came from."""
    frame = message.frame
    head = [f"Frame {frame.index}: {len(frame.data)} bytes", "bold"]
    if frame.time is not None:
        rel = "" if first_time is None else f" (+{frame.time - first_time:.6f} s)"
        head += f", time {frame.time:.6f}{rel}", ""
    head += _way(message.direction, message.direction_source)
    if frame.origin:
        head += f", from {printable(frame.origin)}", "dim"
    return tuple(head)


#: ", guest->host (capture)" of each direction and the source that told it.
_WAYS: dict[tuple[Any, Any], str] = {}


def plain_head(message: Message, first_time: float | None) -> str:
    """:func:`head_label` without its styles, in one f-string (a pipe's ``-V`` writes one
    a message)."""
    frame = message.frame
    key = (message.direction, message.direction_source)
    way = _WAYS.get(key)
    if way is None:
        way = _WAYS[key] = "".join(_way(*key))
    time = frame.time
    if time is None:
        when = ""
    elif first_time is None:
        when = f", time {time:.6f}"
    else:
        when = f", time {time:.6f} (+{time - first_time:.6f} s)"
    origin = frame.origin
    where = f", from {printable(origin)}" if origin else ""
    return f"Frame {frame.index}: {len(frame.data)} bytes{when}{way}{where}"


def _way(direction: Any, source: Any) -> tuple[str, str]:
    """The head's direction segment: which way, and who said so."""
    return f", {direction or 'direction unknown'} ({source})", ""


def link_text(link: Link) -> str:
    """The summary line's links, as Wireshark's [Request in] / [Response in]."""
    return f"[transaction: {link_label(link)}]"


def link_line(link: Link) -> tuple[str, ...]:
    return (link_text(link), "magenta")


def body_title(message: Message) -> tuple[str, ...]:
    """The body's branch: its type and summary."""
    summary = info_text(message)
    return (message.type_name, "bold blue", f": {summary}" if summary else "", "")


def body_text(message: Message) -> str:
    """:func:`body_title` without its styles."""
    summary = info_text(message)
    return f"{message.type_name}: {summary}" if summary else message.type_name


VMBUS_TITLE = ("VMBus in-band descriptor", "bold blue")
HEADER_TITLE = ("Dynamic Memory header", "bold blue")


def message_tree(message: Message | LogEvent, first_time: float | None) -> Branch:
    if isinstance(message, LogEvent):
        return event_tree(message, first_time)
    if message.frame.witness is not None:
        return witness_tree(message, first_time)
    frame = message.frame
    tree = Branch(head_label(message, first_time))
    if frame.comment:
        tree.add((f"comment: {printable(frame.comment)}", "italic"))
    if isinstance(message.transaction, Link):
        tree.add(link_line(message.transaction))
    by_field: dict[str, list[Finding]] = {}
    for finding in message.findings:
        by_field.setdefault(finding.field or "", []).append(finding)
    base = 0
    if message.vmbus is not None:
        _section(tree, VMBUS_TITLE, message.vmbus, 0, by_field, "vmbus.")
        base = DESCRIPTOR_SIZE
    _section(tree, HEADER_TITLE, _header(message), base, by_field)
    body = message.body
    if body is not None:
        _section(tree, body_title(message), body, base + HEADER_SIZE, by_field)
    for kind, rest in (
        ("bytes of what was cut short", message.cut),
        ("body (undecoded)" if body is None else "bytes after the message", message.trailing),
    ):
        if rest:
            more = "..." if len(rest) > 64 else ""
            tree.add(f"{kind}: {plural(len(rest), 'byte')}: {rest[:64].hex()}{more}")
    if message.extra:
        tree.add(f"bytes after the VMBus packet: {len(message.extra)}")
    link = message.transaction
    txn = link.reassembled_here() if isinstance(link, Link) else None
    if txn is not None:
        tree.children.append(transaction_tree(txn))
    leftovers = [f for group in by_field.values() for f in group]
    if leftovers:
        expert = tree.add(("Expert info", "bold"))
        for finding in leftovers:
            expert.add(finding_label(finding))
    return tree


def plain_tree(
    message: Message | LogEvent, first_time: float | None, guides: tuple[str, ...]
) -> list[str] | None:
    """The plain lines of :func:`message_tree`, written directly for a pipe (an entry
    may hold several lines, joined by newlines).

    The layers' lines come from their compiled writers
    (:mod:`~dmdissect.views.fieldlines`).  None for what the tree must draw
    instead: a log's event or facts, a message with findings (they hang
    under their fields), a comment, bytes cut short or left over, or fields
    without a writer.
    """
    if isinstance(message, LogEvent) or message.frame.witness is not None:
        return None
    frame = message.frame
    if message.findings or frame.comment or not isinstance(message.body, Values):
        return None
    body: Any = message.body
    if body.missing or message.consumed < message.available:
        return None
    head = plain_head(message, first_time)
    if "\t" in head:
        return None
    space, cont, fork, end = guides
    lines = [head]
    link = message.transaction
    txn = None
    if isinstance(link, Link):
        lines.append(fork + link_text(link))
        txn = link.reassembled_here()
    base = 0
    if message.framed:
        if message.extra:
            return None
        lines.append(fork + VMBUS_TITLE[0])
        if not write_fields(message.vmbus, 0, cont, guides, lines):
            return None
        base = DESCRIPTOR_SIZE
    lines.append(fork + HEADER_TITLE[0])
    if not write_fields(_header(message), base, cont, guides, lines):
        return None
    guide, under = (fork, cont) if txn is not None else (end, space)
    lines.append(guide + body_text(message))
    if not write_fields(body, base + HEADER_SIZE, under, guides, lines):
        return None
    if txn is not None and not transaction_lines(txn, lines, end, space, guides):
        child_lines(lines, [transaction_tree(txn)], "", guides)
    return lines
