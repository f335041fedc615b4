"""The plain lines of a layer's fields in the ``read -V`` tree, from a writer compiled per layer.

In a pipe a field tree is plain text with known indentation: every line of a
layer's fields is its guides, ``name: text`` and ``(offset N, bits ...)``,
and only the texts and offsets change from one message to the next.  For
each layer, and each guide prefix the layer is drawn under, this module
writes the Python source of one function that appends exactly those lines,
from the same C-order walk as :func:`~dmdissect.views.fields.walk` (the
fields' order, offsets, bit positions and integer texts of
:func:`~dmdissect.views.fields.field_order`), and compiles it once.  Lists of
fixed-size structures become a loop; a trailing optional structure that is
absent gets a writer of its own.

Only what the walk shows without judgement is compiled: whole values
objects of the fast decoders, of layers made of integers, enumerations,
nested fixed structures and lists of them.  Anything else (a Scapy packet,
a field cut short, fields that change type, variable-size entries,
the extra line of a version) has no writer, and the tree is drawn from the
walk as before; the tests hold the two equal on random and malformed
messages.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from scapy.fields import (
    ConditionalField,
    EnumField,
    FlagsField,
    MultipleTypeField,
    PacketField,
    PacketListField,
)

from dmdissect.layers import DMVersion
from dmdissect.layers.fields import OptionalPacketField
from dmdissect.layers.layout import layout_of
from dmdissect.views.fields import LIST_LIMIT, field_order, more_text, scalar_text, struct_text_of

#: A compiled writer: ``write(values, base, lines)`` appends the layer's field lines and
#: returns True, or returns False when the values miss a field (the walk draws them).
Writer = Callable[[Any, int, list[str]], bool]


class _Unsupported(Exception):
    """A field the compiled writer does not follow: the tree uses the walk instead."""


class _Source:
    """Python source of one writer, the objects it refers to, and fresh local names."""

    def __init__(self) -> None:
        self.names: dict[str, Any] = {}
        self.lines: list[str] = []
        self.count = 0
        #: Lines of text not yet appended (their indent, and f-string bodies): one
        #: ``append`` takes every line up to the next statement.
        self.pending: tuple[int, list[str]] | None = None

    def ref(self, value: Any) -> str:
        name = f"r{len(self.names)}"
        self.names[name] = value
        return name

    def local(self, stem: str) -> str:
        self.count += 1
        return f"{stem}{self.count}"

    def emit(self, indent: int, line: str) -> None:
        self.flush()
        self.lines.append("    " * indent + line)

    def text(self, indent: int, template: str) -> None:
        """A line of text (an f-string body), appended with the lines next to it."""
        if self.pending is not None and self.pending[0] == indent:
            self.pending[1].append(template)
            return
        self.flush()
        self.pending = indent, [template]

    def flush(self) -> None:
        if self.pending is not None:
            indent, templates = self.pending
            self.pending = None
            self.lines.append("    " * indent + f"append(f{chr(10).join(templates)!r})")


def _literal(text: str) -> str:
    """Constant text inside an f-string: braces doubled."""
    return text.replace("{", "{{").replace("}", "}}")


def _append(src: _Source, indent: int, parts: list[str]) -> None:
    """``append(f"...")`` of constant text and ``{expression}`` parts, alternating."""
    template = "".join(f"{{{part}}}" if i % 2 else _literal(part) for i, part in enumerate(parts))
    src.text(indent, template)


def _enum_text(field: EnumField) -> Callable[[int], str]:
    """``NAME (n)`` for a named value, else the number: :func:`fields._scalar`'s enum text."""
    named = {value: f"{label} ({value})" for value, label in (field.i2s or {}).items() if label}
    return lambda value: named.get(value) or str(value)


def _scalar_text(fld: Any, name: str) -> Callable[[Any], str]:
    """Any other field's text, as the walk gives it (flags, bytes)."""
    return lambda obj: scalar_text(fld, obj, name, getattr(obj, name))


@cache
def _optional(layer: type) -> tuple[str, ...]:
    """Names of the layer's fields that a values object may leave as None (absent)."""
    return tuple(
        spot.name
        for spot in layout_of(layer).c_order
        if isinstance(spot.field, OptionalPacketField)
    )


def _fields(
    src: _Source,
    indent: int,
    layer: Any,
    obj: str,
    base: str,
    prefix: str,
    guides: tuple[str, ...],
    absent: tuple[str, ...] = (),
) -> None:
    """Source appending the field lines of ``layer`` (object ``obj``, starting at ``base``)."""
    if layer is DMVersion:
        raise _Unsupported("a version shows an extra line")
    space, cont, fork, end = guides
    order = [entry for entry in field_order(layer) if entry[0].name not in absent]
    for index, (spot, bits, int_text) in enumerate(order):
        guide, under = (end, space) if index == len(order) - 1 else (fork, cont)
        head = f"{prefix}{guide}{spot.name}: "
        value = f"{obj}.{spot.name}"
        if spot.offset is None:
            raise _Unsupported("a field after a variable-length one")
        where = f"{base} + {spot.offset}" if spot.offset else base
        place = ("  (offset ", where, f", {bits})" if bits else ")")
        fld = spot.field
        if isinstance(fld, OptionalPacketField):
            fld = fld.fld
        if isinstance(fld, (MultipleTypeField, ConditionalField)):
            raise _Unsupported(spot.name)
        if isinstance(fld, PacketListField):
            _list(src, indent, spot.name, fld, value, where, head, place, prefix + under, guides)
        elif isinstance(fld, PacketField):
            inner = src.local("s")
            src.emit(indent, f"{inner} = {value}")
            text = src.ref(struct_text_of(fld.cls))
            _append(src, indent, [head, f"{text}({inner})", *place])
            child_base = src.local("b")
            src.emit(indent, f"{child_base} = {where}")
            _fields(src, indent, fld.cls, inner, child_base, prefix + under, guides)
        elif int_text is str:
            _append(src, indent, [head, value, *place])
        elif int_text is not None:
            _append(src, indent, [head, f"{src.ref(int_text)}({value})", *place])
        elif isinstance(fld, EnumField) and not isinstance(fld, FlagsField):
            _append(src, indent, [head, f"{src.ref(_enum_text(fld))}({value})", *place])
        else:
            text = src.ref(_scalar_text(spot.field, spot.name))
            _append(src, indent, [head, f"{text}({obj})", *place])


def _list(
    src: _Source,
    indent: int,
    name: str,
    fld: PacketListField,
    value: str,
    where: str,
    head: str,
    place: tuple[str, str, str],
    prefix: str,
    guides: tuple[str, ...],
) -> None:
    """Source of a list of fixed-size structures: at most :data:`LIST_LIMIT`, then a count."""
    inner = layout_of(fld.cls)
    if any(group.size is None for group in inner.groups) or _optional(fld.cls):
        raise _Unsupported(name)
    space, cont, fork, end = guides
    items, total, more, last = (src.local(stem) for stem in ("items", "total", "more", "last"))
    item, index, at = (src.local(stem) for stem in ("item", "i", "at"))
    src.emit(indent, f"{items} = {value} or ()")
    src.emit(indent, f"{total} = len({items})")
    words = src.ref(("entries", "entry"))
    _append(src, indent, [head, total, " ", f"{words}[{total} == 1]", *place])
    src.emit(indent, f"{more} = {total} - {LIST_LIMIT} if {total} > {LIST_LIMIT} else 0")
    src.emit(indent, f"if {more}:")
    src.emit(indent + 1, f"{items} = {items}[:{LIST_LIMIT}]")
    src.emit(indent, f"{last} = -1 if {more} else {total} - 1")
    src.emit(indent, f"{at} = {where}")
    src.emit(indent, f"for {index}, {item} in enumerate({items}):")
    src.emit(indent + 1, f"if {index} == {last}:")
    text = f"{src.ref(struct_text_of(fld.cls))}({item})"
    for branch, (guide, under) in enumerate(((end, space), (fork, cont))):
        if branch:
            src.emit(indent + 1, "else:")
        label = [f"{prefix}{guide}{name}[", index, "]: ", text, "  (offset ", at, ")"]
        _append(src, indent + 2, label)
        _fields(src, indent + 2, fld.cls, item, at, prefix + under, guides)
    src.emit(indent + 1, f"{at} += {inner.fixed_size}")
    src.emit(indent, f"if {more}:")
    _append(src, indent + 1, [f"{prefix}{end}", f"{src.ref(more_text)}({src.ref(name)}, {more})"])


@cache
def _writer(
    layer: type, prefix: str, guides: tuple[str, ...], absent: tuple[str, ...]
) -> Writer | None:
    """The compiled writer of ``layer`` drawn under ``prefix``, or None when it has none."""
    src = _Source()
    try:
        _fields(src, 1, layer, "obj", "base", prefix, guides, absent)
    except _Unsupported:
        return None
    src.flush()
    source = "\n".join(
        [
            "def write(obj, base, lines):",
            "    if obj.missing:",
            "        return False",
            "    append = lines.append",
            *src.lines,
            "    return True\n",
        ]
    )
    namespace = dict(src.names)
    exec(compile(source, f"<tree lines of {layer.__name__}>", "exec"), namespace)
    return namespace["write"]


#: The writer of each class of objects under each prefix (see :func:`_dispatch`).
_DISPATCH: dict[tuple[type, str, tuple[str, ...]], Writer] = {}


def _never(obj: Any, base: int, lines: list[str]) -> bool:
    return False


def _dispatch(kind: type, prefix: str, guides: tuple[str, ...]) -> Writer:
    """The writer of values objects of class ``kind``, chosen once per class and prefix.

    A layer with optional fields has one writer per set of absent fields, so
    that is looked at on every object.
    """
    layer = getattr(kind, "__layer__", None)
    if layer is None:
        return _never
    optional = _optional(layer)
    if optional:

        def choose(obj: Any, base: int, lines: list[str]) -> bool:
            if obj.missing:
                return False
            absent = tuple(name for name in optional if getattr(obj, name) is None)
            writer = _writer(layer, prefix, guides, absent)
            return writer is not None and writer(obj, base, lines)

        return choose
    return _writer(layer, prefix, guides, ()) or _never


def write_fields(
    obj: Any, base: int, prefix: str, guides: tuple[str, ...], lines: list[str]
) -> bool:
    """Append the lines of ``obj``'s fields; False (nothing written) where no writer applies."""
    key = (type(obj), prefix, guides)
    dispatch = _DISPATCH.get(key)
    if dispatch is None:
        dispatch = _DISPATCH[key] = _dispatch(*key)
    return dispatch(obj, base, lines)
