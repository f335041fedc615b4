"""``dmdissect fields``: the field registry as a table or JSON, like ``tshark -G fields``.

One row per name a filter or ``-e`` accepts, with its type, width, where it
sits in each message type (byte offset from the message start, ``&`` mask
within its storage unit, ``item@`` inside each entry of a list), the message
types it occurs in and its description; enumerations list their names.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dmdissect.analysis.registry import FieldDef
from dmdissect.layers import MESSAGE_TYPES
from dmdissect.layers.registry import Slot

HEADINGS = ("field", "type", "bits", "position", "messages", "description")


def _position(slot: Slot, in_list: bool) -> str:
    if slot.offset is None:
        return "-"
    where = f"item@{slot.offset}" if in_list else f"@{slot.offset}"
    if slot.mask is not None:
        where += f" & {slot.mask:#x}"
    return where


def _places(field: FieldDef) -> dict[str, list[str]]:
    """Position text -> the message types where the field sits there."""
    protocol = field.protocol
    places: dict[str, list[str]] = {}
    if protocol is None:
        return places
    for msg_type, slot in protocol.slots:
        text = _position(slot, protocol.repeated)
        places.setdefault(text, []).append("" if msg_type is None else str(msg_type))
    return places


def _positions(field: FieldDef) -> str:
    places = _places(field)
    if not places:
        return "-"
    return next(iter(places)) if len(places) == 1 else "differs"


def _messages(field: FieldDef) -> str:
    protocol = field.protocol
    if protocol is None:
        return "-"
    if len(protocol.messages) == len(MESSAGE_TYPES):
        return "all"
    return ",".join(str(t) for t in protocol.messages)


def _type(field: FieldDef) -> str:
    protocol = field.protocol
    kind = protocol.kind if protocol is not None else field.kind
    return kind + ("[]" if field.repeated else "")


def _bits(field: FieldDef) -> str:
    protocol = field.protocol
    if protocol is None or not protocol.widths:
        return "-"
    return ",".join(str(w) for w in protocol.widths)


def _description(field: FieldDef) -> str:
    text = field.description
    protocol = field.protocol
    if protocol is not None and protocol.values:
        names = ", ".join(f"{n} {name}" for n, name in sorted(protocol.values.items()))
        text += f" (values: {names})"
    if protocol is not None and protocol.flags:
        names = ", ".join(f"bit {n} {name}" for n, name in sorted(protocol.flags.items()))
        text += f" (flags: {names})"
    places = _places(field)
    if len(places) > 1:
        where = "; ".join(f"{','.join(types)}: {pos}" for pos, types in places.items())
        text += f" (position by message type: {where}; a filter matches any)"
    elif protocol is not None and protocol.varies:
        text += " (width differs between message types; a filter matches any)"
    return text


def table_rows(fields: Iterable[FieldDef]) -> list[tuple[str, ...]]:
    return [
        (f.name, _type(f), _bits(f), _positions(f), _messages(f), _description(f)) for f in fields
    ]


def table_lines(fields: Iterable[FieldDef]) -> list[str]:
    """The aligned table: every column as wide as its widest cell, the last one free."""
    rows = [HEADINGS, *table_rows(fields)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADINGS) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return lines


def field_object(field: FieldDef) -> dict[str, Any]:
    """One registry entry as JSON (what a generator needs, for tools outside Python)."""
    out: dict[str, Any] = {
        "name": field.name,
        "abbrev": field.abbrev,
        "kind": field.kind,
        "repeated": field.repeated,
        "description": field.description,
        "group": field.group,
    }
    protocol = field.protocol
    if protocol is None:
        return out
    out.update(
        kind=protocol.kind,
        ftype=protocol.ftype,
        base=protocol.base,
        widths=list(protocol.widths),
        varies=protocol.varies,
        messages=list(protocol.messages),
        values={str(k): v for k, v in sorted((protocol.values or {}).items())} or None,
        flags={str(k): v for k, v in sorted((protocol.flags or {}).items())} or None,
        occurrences=[
            {
                "message": msg_type,
                "offset": slot.offset,
                "size": slot.size,
                "bits": slot.bits,
                "mask": slot.mask,
                "shift": slot.shift,
            }
            for msg_type, slot in protocol.slots
        ],
    )
    return out
