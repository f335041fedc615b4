"""Walk a layer's fields in C order into display-neutral nodes.

The tree and the JSON export both stand on this walk, so they cannot
disagree about which fields exist, what they are called or what they hold.
Everything comes from ``fields_desc`` through :mod:`dmdissect.layers.layout`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from scapy.fields import (
    AnyField,
    ConditionalField,
    EnumField,
    Field,
    FlagsField,
    MultipleTypeField,
    PacketField,
    PacketListField,
)
from scapy.packet import Packet

from dmdissect.layers import PROTOCOL_VERSIONS, DMVersion
from dmdissect.layers.compiled import layer_of
from dmdissect.layers.expressions import flags_text
from dmdissect.layers.layout import FieldSpot, layout_of
from dmdissect.layers.tables import TREE_PLANS
from dmdissect.layers.values import layer_name
from dmdissect.views import fieldtext
from dmdissect.views.english import plural
from dmdissect.views.fieldtext import (
    PAGE_COUNTS,
    bits_text,
    pages_text,
    struct_text_of,
)

#: How the tree shows a field the bytes end before (a log's facts say "not in this log").
MISSING_TEXT = "(missing: the bytes end before it)"


@dataclass(slots=True)
class Node:
    """One field: its JSON value, its display text and where it sits."""

    name: str
    value: Any
    text: str
    offset: int | None = None
    bits: str = ""
    children: list[Node] = field(default_factory=list)
    missing: bool = False
    extras: dict[str, Any] = field(default_factory=dict)
    #: Entries of a list left out of ``children`` (and ``value``) by a display limit.
    more: int = 0


def _resolve(fld: AnyField, pkt: Any) -> Field:
    """The plain field behind a typed variant or a condition."""
    if isinstance(fld, MultipleTypeField):
        return fld._find_fld_pkt(pkt)
    if isinstance(fld, ConditionalField):
        return _resolve(fld.fld, pkt)
    if not isinstance(fld, Field):
        raise TypeError(f"{fld!r}: a field container this view does not know")
    return fld


def _scalar(fld: Field, pkt: Any, name: str, value: Any) -> Node:
    extras: dict[str, Any] = {}
    if isinstance(value, bytes):
        return Node(name, value.hex(), value.hex() or "(empty)")
    if isinstance(fld, FlagsField):
        number = int(value)
        labels = list(fld.names) if isinstance(fld.names, (list, tuple)) else []
        names = [label for bit, label in enumerate(labels) if number >> bit & 1]
        extras[f"{name}_names"] = names
        # Bits without a name as one hex rest, never '?': LARGE+LOCAL+0xfc (0xff).
        shown = f"{flags_text(number, labels)} ({number:#x})" if number else f"{number:#x}"
        return Node(name, number, shown, extras=extras)
    if isinstance(fld, EnumField):
        label = fld.i2s.get(value) if fld.i2s else None
        extras[f"{name}_name"] = label
        return Node(name, value, f"{label} ({value})" if label else str(value), extras=extras)
    if isinstance(value, int):
        text = fld.i2repr(pkt, value)
        if name in PAGE_COUNTS:
            text = pages_text(value)
        elif name == "start_page":
            text = f"{value:#x} ({value})"
        elif name == "hot_add_alignment":
            text = f"{value} (2^{value} MiB = {1 << value} MiB)"
        return Node(name, value, text)
    return Node(name, value, str(value))


def _form_name(container: AnyField, fld: Field, layer: type, name: str) -> str:
    """The name a typed variant goes by (the layer's ``variant_names``), else ``name``."""
    if isinstance(container, MultipleTypeField) and fld is not container.dflt:
        return getattr(layer, "variant_names", {}).get(name, name)
    return name


def _form_names(layer: type, name: str) -> frozenset[str]:
    """Every name field ``name`` of ``layer`` may be shown under (one per typed form)."""
    return frozenset({name, getattr(layer, "variant_names", {}).get(name, name)})


def scalar_text(fld: AnyField, pkt: Any, name: str, value: Any) -> str:
    """The text :func:`walk` shows for a field that is neither a structure nor a list."""
    return _scalar(_resolve(fld, pkt), pkt, name, value).text


def struct_text(pkt: Any) -> str:
    """The line of a nested structure: a page range's start and size, else its summary."""
    return struct_text_of(layer_name(pkt))(pkt)


def _struct(name: str, pkt: Any, limit: int | None = None) -> Node:
    children = walk(pkt, limit)
    value = as_dict(children)
    text = struct_text(pkt)
    if layer_of(pkt) is DMVersion:
        value["version"] = pkt.version
        value["name"] = PROTOCOL_VERSIONS.get(pkt.version)
        children.append(Node("version", pkt.version, f"{pkt.version:#010x} = {text}"))
    return Node(name, value, text, children=children)


@cache
def field_order(layer: type) -> tuple[tuple[FieldSpot, str, Callable[[int], str] | None], ...]:
    """A layer's fields in C order with their bit positions and integer text, worked out once
    (from the generated plan, as :mod:`~dmdissect.views.fieldlines` works them out)."""
    name = layer.__name__
    return tuple(
        (spot, bits_text(bit, bits), fieldtext.int_text(spot.name, kind))
        for spot, (_, _, bit, bits, kind, _) in zip(
            layout_of(layer).c_order, TREE_PLANS[name], strict=True
        )
    )


#: What :func:`field_kinds` calls a plain list of packets and a plain nested packet.
LIST, STRUCT = "list", "struct"


@cache
def field_kinds(layer: type) -> tuple[tuple[str, Callable[[int], str] | None, str | None], ...]:
    """Per field of ``layer`` in C order: its name, its integer text (see :func:`field_order`)
    and :data:`LIST` or :data:`STRUCT` for a plain list or nested packet (a conditional
    or typed variant is neither): what a short line of known fields needs."""
    plan = []
    for spot, _, int_text in field_order(layer):
        fld = spot.field
        kind = None
        if isinstance(fld, PacketListField):
            kind = LIST
        elif isinstance(fld, PacketField):
            kind = STRUCT
        plan.append((spot.name, int_text, kind))
    return tuple(plan)


def walk(pkt: Any, limit: int | None = None) -> list[Node]:
    """The fields of one layer (not its payload), in C order.

    ``pkt`` is a Scapy packet or a compiled values object of the same layer.
    ``limit`` walks at most that many entries of each list (for display: the
    list node's ``more`` counts the others, and its value lacks them).
    """
    missing = getattr(pkt, "missing", ())
    why = getattr(pkt, "unknown_text", MISSING_TEXT)
    unreadable = getattr(pkt, "unreadable", ())
    nodes: list[Node] = []
    for spot, bits, int_text in field_order(layer_of(pkt)):
        name = spot.name
        if missing and name in missing:
            nodes.append(
                Node(
                    name,
                    None,
                    pkt.unreadable_text if name in unreadable else why,
                    spot.offset,
                    bits,
                    missing=True,
                )
            )
            continue
        value = getattr(pkt, name)
        if int_text is not None and type(value) is int:
            nodes.append(Node(name, value, int_text(value), spot.offset, bits))
            continue
        fld = _resolve(spot.field, pkt)
        if value is None and isinstance(spot.field, ConditionalField):
            continue
        name = _form_name(spot.field, fld, layer_of(pkt), name)
        if isinstance(fld, PacketListField):
            node = _list(name, value or [], fld, limit)
        elif isinstance(fld, PacketField):
            node = _struct(name, value, limit)
        else:
            node = _scalar(fld, pkt, name, value)
        node.offset, node.bits = spot.offset, bits
        nodes.append(node)
    return nodes


def _built_size(item: Any) -> int | None:
    """Bytes a whole variable-size structure took: what a Scapy packet rebuilds to, or
    what a values object's fields hold (fixed groups, then integers or bytes)."""
    if getattr(item, "missing", ()):
        return None
    if isinstance(item, Packet):
        return len(bytes(item))
    size = 0
    for group in layout_of(layer_of(item)).groups:
        if group.size is not None:
            size += group.size
            continue
        value = getattr(item, group.fields[0].name)
        if isinstance(value, bytes):
            size += len(value)
        elif isinstance(value, int) and isinstance(group.fields[0], MultipleTypeField):
            size += group.fields[0].flds[0][0].sz
        else:
            return None
    return size


def _list(name: str, items: list, fld: PacketListField, limit: int | None = None) -> Node:
    """A list of structures; items of a fixed size know their offset in the list."""
    inner = layout_of(fld.cls)
    fixed = None if any(g.size is None for g in inner.groups) else inner.fixed_size
    children = []
    offset: int | None = 0
    total = len(items)
    if limit is not None and total > limit:
        items = items[:limit]
    for index, item in enumerate(items):
        child = _struct(f"{name}[{index}]", item, limit)
        child.offset = offset
        size = fixed if fixed is not None else _built_size(item)
        offset = None if offset is None or size is None else offset + size
        children.append(child)
    return Node(
        name,
        [child.value for child in children],
        plural(total, "entry", "entries"),
        children=children,
        more=total - len(children),
    )


def as_dict(nodes: list[Node]) -> dict[str, Any]:
    """JSON object of a walk: each field under its C name, enum names beside it."""
    out: dict[str, Any] = {}
    for node in nodes:
        out[node.name] = node.value
        out.update(node.extras)
    return out
