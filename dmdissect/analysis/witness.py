"""Messages known only from a log line: the facts the line gives, every other field unknown.

A log line that witnesses a message ("posting balloon 3 for 585728 ...")
carries a few of its fields and no bytes.  It becomes a :class:`Message`
whose body is a values object of the message's layer (the same attribute
names as a decoded message, see :mod:`dmdissect.layers.values`) holding
the known fields; every other field is None and listed in ``missing``, and
the class says why: ``(not in this log)``, never a zero.  The field walk,
the summary and the tracker read such a body like a decoded one.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from scapy.fields import ConditionalField, PacketField, PacketListField

from dmdissect.layers import MESSAGE_LAYERS
from dmdissect.layers.compiled import values_class
from dmdissect.layers.layout import layout_of, packet_class
from dmdissect.sources.frame import Frame

#: How a view shows a field the log does not carry.
NOT_IN_LOG = "(not in this log)"
#: How a view shows a field the log carries with a value the field cannot take.
UNREADABLE_IN_LOG = "(unreadable in this log)"


@cache
def witness_class(layer: type) -> type:
    """The values class of ``layer`` for log facts: unknown fields say so.

    ``unreadable`` names the fields among ``missing`` that the line does hold,
    with a value they cannot take: views say so apart from those it lacks.
    """
    base = values_class(layer)
    attributes = {
        "__slots__": ("unreadable",),
        "unknown_text": NOT_IN_LOG,
        "unreadable_text": UNREADABLE_IN_LOG,
    }
    return type(f"{base.__name__}Witness", (base,), attributes)


def _inner(field: Any) -> Any:
    return field.fld if isinstance(field, ConditionalField) else field


@cache
def _plan(layer: type) -> tuple[tuple[str, type | None, type | None], ...]:
    """Per field of ``layer``: its name, and the layer of its entries or of its structure."""
    plan = []
    for spot in layout_of(layer).spots:
        field = _inner(spot.field)
        listed = packet_class(field) if isinstance(field, PacketListField) else None
        nested = packet_class(field) if isinstance(field, PacketField) else None
        plan.append((spot.name, listed, nested))
    return tuple(plan)


def build_values(layer: type, known: dict[str, Any], unreadable: tuple[str, ...] = ()) -> Any:
    """A values object of ``layer`` with the ``known`` fields; the rest None and missing,
    and those named in ``unreadable`` (unknown too) marked so."""
    obj = witness_class(layer)()
    obj.unreadable = unreadable
    missing = []
    for name, listed, nested in _plan(layer):
        if name not in known:
            setattr(obj, name, None)
            missing.append(name)
            continue
        value = known[name]
        if listed is not None:
            value = [build_values(listed, item) for item in value]
        elif nested is not None:
            value = build_values(nested, value)
        setattr(obj, name, value)
    obj.missing = tuple(missing)
    return obj


def witnessed(frame: Frame, message: Any) -> None:
    """Fill ``message`` (a fresh :class:`~dmdissect.analysis.message.Message`) from a witness."""
    witness = frame.witness
    assert witness is not None
    message.type = witness.type
    message.trans_id = witness.trans_id
    layer = MESSAGE_LAYERS.get(witness.type)
    message.body = (
        None if layer is None else build_values(layer, witness.fields, witness.unreadable)
    )
    message.direction = frame.direction
    message.direction_source = frame.direction_source
    message.findings = list(frame.findings)


def known_facts(message: Any) -> list[tuple[str, Any]]:
    """``(name, value)`` of every known field of a witnessed body, nested names dotted."""
    out: list[tuple[str, Any]] = []
    body = message.body
    if body is None:
        return out

    def visit(obj: Any, prefix: str) -> None:
        for spot in layout_of(type(obj).__layer__).spots:
            if spot.name in obj.missing:
                continue
            value = getattr(obj, spot.name)
            if isinstance(value, list):
                out.append((prefix + spot.name, [_flat(v) for v in value]))
            elif hasattr(value, "missing"):
                visit(value, f"{prefix}{spot.name}.")
            else:
                out.append((prefix + spot.name, value))

    visit(body, "")
    return out


def _flat(obj: Any) -> dict[str, Any]:
    return {spot.name: getattr(obj, spot.name) for spot in layout_of(type(obj).__layer__).spots}


def unknown_fields(message: Any) -> list[str]:
    """Names of the fields a witnessed message's log line does not carry (those it
    carries unreadably are :func:`unreadable_fields`)."""
    body = message.body
    held = message.trans_id is not None or "trans_id" in getattr(body, "unreadable", ())
    names = [] if held else ["trans_id"]
    names.append("size")
    if body is None:
        return names

    def visit(obj: Any, prefix: str) -> None:
        for spot in layout_of(type(obj).__layer__).spots:
            value = getattr(obj, spot.name)
            if spot.name in obj.missing:
                if spot.name not in obj.unreadable:
                    names.append(prefix + spot.name)
            elif hasattr(value, "missing"):
                visit(value, f"{prefix}{spot.name}.")

    visit(body, "")
    return names


def unreadable_fields(message: Any) -> list[str]:
    """Names of the fields a witnessed message's log line holds with a value they cannot
    take (QMP's ``"available": 4096.0``): unknown, but in the log."""
    body = message.body
    if body is None:
        return []
    # The header's trans_id, printed beyond its format's bits, is the body's to name.
    names: list[str] = ["trans_id"] if "trans_id" in body.unreadable else []

    def visit(obj: Any, prefix: str) -> None:
        for spot in layout_of(type(obj).__layer__).spots:
            value = getattr(obj, spot.name)
            if spot.name in obj.unreadable:
                names.append(prefix + spot.name)
            elif hasattr(value, "missing"):
                visit(value, f"{prefix}{spot.name}.")

    visit(body, "")
    return names
