"""The full field tree of a message (``read -V``), as an :class:`~.outline.Branch` tree.

Every field in C order with its value, meaning and place in the bytes;
expert findings hang under the field they concern, or under the message.
The fields come from the compiled values when the message was decoded on the
fast path (the same names and values as Scapy's packet, tested equal), so a
tree costs no Scapy dissection.  A list longer than :data:`LIST_LIMIT` shows
its first entries and says how many more there are (JSON has all of them).
"""

from __future__ import annotations

from dmdissect.analysis.events import LogEvent
from dmdissect.analysis.message import Message
from dmdissect.analysis.records import Link
from dmdissect.analysis.witness import NOT_IN_LOG
from dmdissect.findings import Finding
from dmdissect.layers import DESCRIPTOR_SIZE, HEADER_SIZE, DMHeader, plural
from dmdissect.layers.compiled import Values, compile_layer
from dmdissect.views.expert import SEVERITY_STYLES
from dmdissect.views.fields import Node, walk
from dmdissect.views.outline import Branch
from dmdissect.views.output import printable
from dmdissect.views.reassembly import transaction_tree
from dmdissect.views.records import link_label
from dmdissect.views.summary import info_text

#: Entries of a list shown in the tree; the rest are counted on one line.
LIST_LIMIT = 256
#: What the entries of a list are called in "... N more ranges" (one, several).
ENTRY_WORDS = {"range_array": ("range", "ranges")}
OTHER_ENTRIES = ("entry", "entries")

_HEADER = compile_layer(DMHeader)


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
            one, several = ENTRY_WORDS.get(node.name, OTHER_ENTRIES)
            word = one if node.more == 1 else several
            branch.add(f"... {node.more} more {word} (every one in -T json)")


def _header(message: Message):
    """The header's fields: compiled values on the fast path, else Scapy's packet."""
    if isinstance(message.body, Values) and _HEADER is not None:
        return _HEADER.decode(message.message_bytes, 0)[0]
    return message.header


def _log_head(kind: str, frame, first_time: float | None) -> list[str]:
    head = [f"{kind} {frame.index}: from the {frame.source} log", "bold"]
    if frame.time is not None:
        rel = "" if first_time is None else f" (+{frame.time - first_time:.6f} s)"
        head += f", time {frame.time:.6f}{rel}", ""
    else:
        head += ", time (not in this log)", ""
    return head


def _tail(tree: Branch, message, by_field: dict[str, list[Finding]]) -> Branch:
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
            walk(message.body, LIST_LIMIT),
            None,
            by_field,
        )
    extra = frame.witness.extra if frame.witness else {}
    if extra:
        logged = tree.add((f"also on the {frame.source} line", "bold"))
        for key, value in extra.items():
            logged.add(f"{key}: {printable(str(value))}")
    return _tail(tree, message, by_field)


def message_tree(message: Message | LogEvent, first_time: float | None) -> Branch:
    if isinstance(message, LogEvent):
        return event_tree(message, first_time)
    if message.frame.witness is not None:
        return witness_tree(message, first_time)
    frame = message.frame
    head = [f"Frame {frame.index}: {len(frame.data)} bytes", "bold"]
    if frame.time is not None:
        rel = "" if first_time is None else f" (+{frame.time - first_time:.6f} s)"
        head += f", time {frame.time:.6f}{rel}", ""
    head += f", {message.direction or 'direction unknown'} ({message.direction_source})", ""
    if frame.origin:
        head += f", from {printable(frame.origin)}", "dim"
    tree = Branch(tuple(head))
    if frame.comment:
        tree.add((f"comment: {printable(frame.comment)}", "italic"))
    if isinstance(message.transaction, Link):
        # The summary line's links, as Wireshark's [Request in] / [Response in].
        tree.add((f"[transaction: {link_label(message.transaction)}]", "magenta"))
    by_field: dict[str, list[Finding]] = {}
    for finding in message.findings:
        by_field.setdefault(finding.field or "", []).append(finding)
    base = 0
    if message.vmbus is not None:
        vmbus = tree.add(("VMBus in-band descriptor", "bold blue"))
        _add(vmbus, walk(message.vmbus, LIST_LIMIT), 0, by_field, "vmbus.")
        base = DESCRIPTOR_SIZE
    header = tree.add(("Dynamic Memory header", "bold blue"))
    _add(header, walk(_header(message), LIST_LIMIT), base, by_field)
    body = message.body
    if body is not None:
        summary = info_text(message)
        title = (message.type_name, "bold blue", f": {summary}" if summary else "", "")
        _add(tree.add(title), walk(body, LIST_LIMIT), base + HEADER_SIZE, by_field)
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
