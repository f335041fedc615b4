"""The plain lines of a layer's fields in the ``read -V`` tree, from a writer compiled per layer.

In a pipe a field tree is plain text with known indentation: every line of a
layer's fields is its guides, ``name: text`` and ``(offset N, bits ...)``,
and only the texts and offsets change from one message to the next.  For
each layer, and each guide prefix the layer is drawn under, this module
writes the Python source of one function that appends exactly those lines,
from the plan :mod:`dmdissect.layers.generate` derives from ``fields_desc``
into :mod:`dmdissect.layers.tables` (the fields' order, offsets, bit
positions and kinds, which :func:`~dmdissect.views.fields.field_order` reads
too, with the texts of :mod:`~dmdissect.views.fieldtext`), and compiles it
once, without importing Scapy.  Lists of
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

from dmdissect.layers.exports import ENUM, LIST, OPTIONAL, STRUCT, VARIANT
from dmdissect.layers.tables import TREE_PLANS
from dmdissect.layers.values import Values
from dmdissect.views.fieldtext import (
    LIST_LIMIT,
    bits_text,
    cached_mib,
    inline,
    int_text,
    more_text,
    struct_text_of,
)

#: The layer whose tree shows one more line, the version's word and name (see the walk).
VERSION_LAYER = "DMVersion"

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

    def shared(self, value: Any) -> str:
        """A name of ``value`` made once, however many lines use it."""
        for name, known in self.names.items():
            if known is value:
                return name
        return self.ref(value)

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


def _text_of(src: _Source, text: Callable[[Any], str], expression: str) -> str:
    """The f-string body of ``text(expression)``: written inline where
    :func:`~dmdissect.views.fieldtext.inline` knows the text, else a call."""
    body = inline(text, expression, "{mib}")
    if body is not None and "{mib}" in body:
        body = body.replace("{mib}", src.shared(cached_mib))
    return f"{{{src.ref(text)}({expression})}}" if body is None else body


def _line(src: _Source, indent: int, head: str, body: str, place: tuple[str, str, str]) -> None:
    """A field's line: constant ``head``, the value's f-string ``body``, its place."""
    before, where, after = place
    src.text(indent, f"{_literal(head)}{body}{_literal(before)}{{{where}}}{_literal(after)}")


def _enum_text(names: dict[int, str]) -> Callable[[int], str]:
    """``NAME (n)`` for a named value, else the number: :func:`fields._scalar`'s enum text."""
    named = {value: f"{label} ({value})" for value, label in names.items() if label}
    return lambda value: named.get(value) or str(value)


def _scalar_text(layer: str, name: str) -> Callable[[Any], str]:
    """Any other field's text (flags, bytes), as the walk gives it: the walk, and Scapy,
    are loaded the first time such a field is written."""

    def text(obj: Any) -> str:
        from dmdissect.layers.codegen import LAYERS
        from dmdissect.layers.layout import layout_of
        from dmdissect.views.fields import scalar_text

        (fld,) = (spot.field for spot in layout_of(LAYERS[layer]).c_order if spot.name == name)
        return scalar_text(fld, obj, name, getattr(obj, name))

    return text


@cache
def _optional(layer: str) -> tuple[str, ...]:
    """Names of the layer's fields that a values object may leave as None (absent)."""
    return tuple(entry[0] for entry in TREE_PLANS[layer] if entry[4] == OPTIONAL)


def _fields(
    src: _Source,
    indent: int,
    layer: str,
    obj: str,
    base: str,
    prefix: str,
    guides: tuple[str, ...],
    absent: tuple[str, ...] = (),
) -> None:
    """Source appending the field lines of ``layer`` (object ``obj``, starting at ``base``)."""
    if layer == VERSION_LAYER:
        raise _Unsupported("a version shows an extra line")
    space, cont, fork, end = guides
    order = [entry for entry in TREE_PLANS[layer] if entry[0] not in absent]
    for index, (name, offset, bit, bits, kind, aux) in enumerate(order):
        guide, under = (end, space) if index == len(order) - 1 else (fork, cont)
        head = f"{prefix}{guide}{name}: "
        value = f"{obj}.{name}"
        if offset is None:
            raise _Unsupported("a field after a variable-length one")
        where = f"{base} + {offset}" if offset else base
        shown_bits = bits_text(bit, bits)
        place = ("  (offset ", where, f", {shown_bits})" if shown_bits else ")")
        number_text = int_text(name, kind)
        if kind == VARIANT:
            raise _Unsupported(name)
        if kind == LIST:
            _list(src, indent, name, aux, value, where, head, place, prefix + under, guides)
        elif kind in (STRUCT, OPTIONAL):
            inner = src.local("s")
            src.emit(indent, f"{inner} = {value}")
            _line(src, indent, head, _text_of(src, struct_text_of(aux), inner), place)
            child_base = src.local("b")
            src.emit(indent, f"{child_base} = {where}")
            _fields(src, indent, aux, inner, child_base, prefix + under, guides)
        elif number_text is not None:
            _line(src, indent, head, _text_of(src, number_text, value), place)
        elif kind == ENUM:
            _append(src, indent, [head, f"{src.ref(_enum_text(aux))}({value})", *place])
        else:
            text = src.ref(_scalar_text(layer, name))
            _append(src, indent, [head, f"{text}({obj})", *place])


def _list(
    src: _Source,
    indent: int,
    name: str,
    item: tuple[str, int | None],
    value: str,
    where: str,
    head: str,
    place: tuple[str, str, str],
    prefix: str,
    guides: tuple[str, ...],
) -> None:
    """Source of a list of fixed-size structures: at most :data:`LIST_LIMIT`, then a count."""
    layer, size = item
    if size is None or _optional(layer):
        raise _Unsupported(name)
    space, cont, fork, end = guides
    items, total, more, last = (src.local(stem) for stem in ("items", "total", "more", "last"))
    entry, index, at = (src.local(stem) for stem in ("item", "i", "at"))
    src.emit(indent, f"{items} = {value} or ()")
    src.emit(indent, f"{total} = len({items})")
    words = src.ref(("entries", "entry"))
    _append(src, indent, [head, total, " ", f"{words}[{total} == 1]", *place])
    src.emit(indent, f"{more} = {total} - {LIST_LIMIT} if {total} > {LIST_LIMIT} else 0")
    src.emit(indent, f"if {more}:")
    src.emit(indent + 1, f"{items} = {items}[:{LIST_LIMIT}]")
    src.emit(indent, f"{last} = -1 if {more} else {total} - 1")
    src.emit(indent, f"{at} = {where}")
    src.emit(indent, f"for {index}, {entry} in enumerate({items}):")
    src.emit(indent + 1, f"if {index} == {last}:")
    text = _text_of(src, struct_text_of(layer), entry)
    for branch, (guide, under) in enumerate(((end, space), (fork, cont))):
        if branch:
            src.emit(indent + 1, "else:")
        head = f"{_literal(prefix + guide + name)}[{{{index}}}]: "
        src.text(indent + 2, f"{head}{text}  (offset {{{at}}})")
        _fields(src, indent + 2, layer, entry, at, prefix + under, guides)
    src.emit(indent + 1, f"{at} += {size}")
    src.emit(indent, f"if {more}:")
    _append(src, indent + 1, [f"{prefix}{end}", f"{src.ref(more_text)}({src.ref(name)}, {more})"])


@cache
def _writer(
    layer: str, prefix: str, guides: tuple[str, ...], absent: tuple[str, ...]
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
    exec(compile(source, f"<tree lines of {layer}>", "exec"), namespace)
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
    if not issubclass(kind, Values):
        return _never
    layer = kind.layer_name
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
