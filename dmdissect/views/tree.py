"""The full field tree of a message (``read -V``), as a rich ``Tree``.

Every field in C order with its value, meaning and place in the bytes;
expert findings hang under the field they concern, or under the message.
"""

from __future__ import annotations

from rich.text import Text
from rich.tree import Tree

from dmdissect.analysis.message import Message
from dmdissect.findings import Finding
from dmdissect.layers import DESCRIPTOR_SIZE, HEADER_SIZE, plural
from dmdissect.views.fields import Node, walk
from dmdissect.views.output import printable
from dmdissect.views.summary import SEVERITY_STYLES, info_text
from dmdissect.views.timeline import transaction_tree


def _label(node: Node, where: int | None) -> Text:
    text = Text(f"{node.name}: ", style="bold")
    text.append(node.text, style="red" if node.missing else "")
    if where is not None:
        place = f"offset {where}" + (f", {node.bits}" if node.bits else "")
        text.append(f"  ({place})", style="dim")
    return text


def _finding(finding: Finding) -> Text:
    return Text(
        f"[{finding.severity.value}] {finding.message}", style=SEVERITY_STYLES[finding.severity]
    )


def _add(
    parent: Tree,
    nodes: list[Node],
    base: int | None,
    by_field: dict[str, list[Finding]],
    prefix: str = "",
) -> None:
    """Nodes under ``parent``; ``base`` is where their layer starts in the frame."""
    for node in nodes:
        where = None if base is None or node.offset is None else base + node.offset
        branch = parent.add(_label(node, where))
        for finding in by_field.pop(prefix + node.name, []):
            branch.add(_finding(finding))
        _add(branch, node.children, where, by_field, f"{prefix}{node.name}.")


def message_tree(message: Message, first_time: float | None) -> Tree:
    frame = message.frame
    head = Text(f"Frame {frame.index}: {len(frame.data)} bytes", style="bold")
    if frame.time is not None:
        rel = "" if first_time is None else f" (+{frame.time - first_time:.6f} s)"
        head.append(f", time {frame.time:.6f}{rel}")
    head.append(f", {message.direction or 'direction unknown'} ({message.direction_source})")
    if frame.origin:
        head.append(f", from {printable(frame.origin)}", style="dim")
    tree = Tree(head)
    if frame.comment:
        tree.add(Text(f"comment: {printable(frame.comment)}", style="italic"))
    by_field: dict[str, list[Finding]] = {}
    for finding in message.findings:
        by_field.setdefault(finding.field or "", []).append(finding)
    base = 0
    if message.vmbus is not None:
        vmbus = tree.add(Text("VMBus in-band descriptor", style="bold blue"))
        _add(vmbus, walk(message.vmbus), 0, by_field, "vmbus.")
        base = DESCRIPTOR_SIZE
    header = tree.add(Text("Dynamic Memory header", style="bold blue"))
    _add(header, walk(message.header), base, by_field)
    body = message.scapy_body
    if body is not None:
        title = Text(message.type_name, style="bold blue")
        summary = info_text(message)
        if summary:
            title.append(f": {summary}")
        _add(tree.add(title), walk(body), base + HEADER_SIZE, by_field)
    for kind, rest in (
        ("bytes of what was cut short", message.cut),
        ("body (undecoded)" if body is None else "bytes after the message", message.trailing),
    ):
        if rest:
            more = "..." if len(rest) > 64 else ""
            tree.add(Text(f"{kind}: {plural(len(rest), 'byte')}: {rest[:64].hex()}{more}"))
    if message.extra:
        tree.add(Text(f"bytes after the VMBus packet: {len(message.extra)}"))
    reassembled = getattr(message.transaction, "reassembled_here", None)
    txn = reassembled(message) if reassembled else None
    if txn is not None:
        tree.add(transaction_tree(txn))
    leftovers = [f for group in by_field.values() for f in group]
    if leftovers:
        expert = tree.add(Text("Expert info", style="bold"))
        for finding in leftovers:
            expert.add(_finding(finding))
    return tree
