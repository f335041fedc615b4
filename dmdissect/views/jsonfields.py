"""The JSON object of one layer's fields, without Scapy on the fast path.

Exactly what the display walk gives (``as_dict(walk(obj))`` of
:mod:`dmdissect.views.fields`, tested equal), but compiled per layer from the
export plans that :mod:`dmdissect.layers.generate` writes into
:mod:`dmdissect.layers.tables` from ``fields_desc``: a status report or a
balloon part is one function call, and ``read -T json`` never imports Scapy
for the layers the plans export directly.  A field the plans leave to the
walk (flags, bytes, fields that change type) loads the walk, and Scapy, the
first time one is seen.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from dmdissect.layers.exports import ENUM, INT, LIST, OPTIONAL, OTHER, STRUCT
from dmdissect.layers.numbers import PROTOCOL_VERSIONS
from dmdissect.layers.tables import EXPORT_PLANS, VALUES
from dmdissect.layers.values import layer_name

#: The layer whose JSON adds its word and the version's name (see the walk's ``_struct``).
_VERSION = "DMVersion"

Writer = Callable[[Any], dict[str, Any] | None]


@cache
def json_writer(name: str) -> Writer | None:
    """The plan of layer ``name`` compiled into one function for a whole, decoded object.

    It returns None (and :func:`json_fields` follows the plan field by field)
    when a value is not the plain integer the plan expects; layers with
    fields the plan sends through the walk do not compile at all.
    """
    plan = EXPORT_PLANS[name]
    if name == _VERSION or any(kind == OTHER for _, kind, _ in plan):
        return None
    namespace: dict[str, Any] = {"json_fields": json_fields}
    reads: list[str] = []
    checks: list[str] = []
    items: list[str] = []
    optional: list[str] = []
    for index, (field, kind, names) in enumerate(plan):
        value = f"v{index}"
        reads.append(f"    {value} = obj.{field}")
        if optional and kind != OPTIONAL:
            return None  # the writer keeps C order by putting optional fields last
        if kind in (INT, ENUM):
            checks.append(f"type({value}) is not int")
            items.append(f"{field!r}: {value}")
            if kind == ENUM:
                namespace[f"names{index}"] = names
                items.append(f"{field + '_name'!r}: names{index}.get({value})")
        elif kind == STRUCT:
            items.append(f"{field!r}: json_fields({value})")
        elif kind == OPTIONAL:
            optional += [
                f"    if {value} is not None:",
                f"        out[{field!r}] = json_fields({value})",
            ]
        else:
            items.append(f"{field!r}: {_list_source(namespace, index, value, names)}")
    lines = ["def write(obj):", *reads]
    if checks:
        lines += [f"    if {' or '.join(checks)}:", "        return None"]
    if optional:
        lines += [f"    out = {{{', '.join(items)}}}", *optional, "    return out"]
    else:
        lines.append(f"    return {{{', '.join(items)}}}")
    exec(compile("\n".join(lines) + "\n", f"<json of {name}>", "exec"), namespace)
    return namespace["write"]


def _list_source(namespace: dict[str, Any], index: int, value: str, layer: str) -> str:
    """The expression of a list field's JSON: a balloon part's 510 ranges are each a
    dict made in place when they are whole values of a layer of plain integers (what
    the generated decoder makes of every range), else :func:`json_fields` of each."""
    plan = EXPORT_PLANS[layer]
    if layer == _VERSION or not plan or any(kind != INT for _, kind, _ in plan):
        return f"[json_fields(item) for item in {value} or []]"
    namespace[f"item{index}"] = VALUES[layer]
    whole = " and ".join(f"type(i.{field}) is int" for field, _, _ in plan)
    made = ", ".join(f"{field!r}: i.{field}" for field, _, _ in plan)
    return (
        f"[{{{made}}} if type(i) is item{index} and not i.missing and {whole}"
        f" else json_fields(i) for i in {value} or []]"
    )


#: The compiled writer of each class of object (values, witness or Scapy), found once:
#: None for a log's witness (its unknown fields are left out) and for layers the
#: writer does not follow.  A balloon part's 510 ranges each come through here.
_WRITERS: dict[type, Writer | None] = {}


def json_fields(obj: Any) -> dict[str, Any]:
    """The JSON object of one layer's fields: exactly ``as_dict(walk(obj))``, faster."""
    kind = type(obj)
    if kind in _WRITERS:
        write = _WRITERS[kind]
    else:
        logged = hasattr(obj, "unknown_text")  # a class attribute of the witness classes
        write = _WRITERS[kind] = None if logged else json_writer(layer_name(obj))
    if write is not None and not obj.missing:
        done = write(obj)
        if done is not None:
            return done
    return json_by_plan(obj)


def json_by_plan(obj: Any) -> dict[str, Any]:
    """:func:`json_fields` field by field, for what the compiled writer leaves."""
    name = layer_name(obj)
    missing = obj.missing
    # A log's unknown fields are left out; a cut message's missing ones are null.
    logged = hasattr(obj, "unknown_text")
    out: dict[str, Any] = {}
    for field, kind, names in EXPORT_PLANS[name]:
        if field in missing:
            if not logged:
                out[field] = None
            continue
        value = getattr(obj, field)
        if kind == INT and type(value) is int:
            out[field] = value
        elif kind == ENUM and type(value) is int:
            out[field] = value
            out[f"{field}_name"] = names.get(value)
        elif kind == STRUCT:
            out[field] = json_fields(value)
        elif kind == OPTIONAL:
            if value is not None:
                out[field] = json_fields(value)
        elif kind == LIST:
            out[field] = [json_fields(item) for item in value or []]
        else:
            from dmdissect.layers.codegen import LAYERS
            from dmdissect.views.fields import _form_names, as_dict, walk

            shown = _form_names(LAYERS[name], field)
            out.update(as_dict([node for node in walk(obj) if node.name in shown]))
    if name == _VERSION:
        out["version"] = obj.version
        out["name"] = PROTOCOL_VERSIONS.get(obj.version)
    return out
