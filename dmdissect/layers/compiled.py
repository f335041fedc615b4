"""Fast decoders compiled once from each layer's ``fields_desc``.

Building a Scapy ``Packet`` costs tens of microseconds; a day of status
reports is 90,000 of them.  For layers made only of fixed integers,
little-endian bitfield groups, nested fixed structures and counted lists of
them, this module compiles ``fields_desc`` (through :mod:`layout`) into
``struct`` reads and shifts, producing a light *values* object instead of a
packet.  A values object has the same attribute names as the packet, the
layer's own methods and properties (such as
``DMVersion.version``) and a ``missing`` tuple, so summaries and the field
walk work on either.  No layout is written here: layers that use anything
else simply do not compile, and callers fall back to Scapy.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from functools import cache
from typing import Any

from scapy.fields import Field, MultipleTypeField, PacketField, StrLenField, _BitField
from scapy.packet import Packet

from dmdissect.layers.base import DMPacket
from dmdissect.layers.fields import (
    BoundedPacketListField,
    OptionalPacketField,
    SizedPacketListField,
)
from dmdissect.layers.header import HEADER_STRUCT
from dmdissect.layers.layout import layout_of

_INT_FORMATS = {1: "B", 2: "H", 4: "I", 8: "Q"}


class NotCompiled(Exception):
    """Raised by a decoder for input it leaves to Scapy (an announced structure cut short)."""


class Values:
    """Base of the generated values classes; ``__layer__`` names the Scapy layer."""

    __slots__ = ("missing",)
    __layer__: type[Packet]


def layer_of(obj: Any) -> type[Packet]:
    """The Scapy layer class of a packet or of a values object."""
    return getattr(obj, "__layer__", None) or type(obj)


def _borrowed_members(layer: type[Packet]) -> dict[str, Any]:
    """The layer's own methods and properties, defined below :class:`DMPacket`."""
    members: dict[str, Any] = {}
    for klass in reversed(layer.__mro__):
        if not issubclass(klass, DMPacket) or klass is DMPacket:
            continue
        for name, member in vars(klass).items():
            if name.startswith("__") or name in ("fields_desc", "name", "missing"):
                continue
            if callable(member) or isinstance(member, property):
                members[name] = member
    return members


@cache
def values_class(layer: type[Packet]) -> type[Values]:
    names = tuple(spot.name for spot in layout_of(layer).spots)
    namespace = dict(_borrowed_members(layer))
    namespace.update(__slots__=names, __layer__=layer)
    return type(f"{layer.__name__}Values", (Values,), namespace)


def _simple_int(field: Field) -> bool:
    """An unsigned little-endian integer read with one struct code."""
    return getattr(field, "fmt", None) in ("<B", "<H", "<I", "<Q")


class Decoder:
    """Decodes one layer from ``data`` at ``offset``; see :func:`compile_layer`.

    ``decode(data, offset)`` returns the values object and the offset after
    it; the caller checks that ``len(data)`` covers the fixed part first.
    """

    def __init__(
        self,
        layer: type[Packet],
        decode: Callable,
        fixed: int,
        source: str,
        words: list[tuple[int, list[tuple[str, int, int]]]] | None = None,
    ) -> None:
        self.layer = layer
        self.decode = decode
        self.fixed = fixed
        self.source = source
        #: The layer as whole little-endian words alone (a page range): lists of it
        #: are read with one ``struct`` call for every item, not one call each.
        self.words = words


class _Writer:
    """Python source of one decode function, and the objects it refers to."""

    def __init__(self, layer: type[Packet]) -> None:
        self.names: dict[str, Any] = {"make": values_class(layer)}
        self.lines = ["def decode(data, offset):", "    obj = make()", "    obj.missing = ()"]
        #: Every word read so far; stays the whole layer only while nothing else is read.
        self.all_words: list[tuple[int, list[tuple[str, int, int]]]] = []
        self.only_words = True

    def ref(self, value: Any) -> str:
        name = f"ref{len(self.names)}"
        self.names[name] = value
        return name

    def words(self, words: list[tuple[int, list[tuple[str, int, int]]]]) -> None:
        """Consecutive storage units of 1, 2, 4 or 8 bytes, read with one ``struct`` call."""
        self.all_words.extend(words)
        fmt = "<" + "".join(_INT_FORMATS[size] for size, _ in words)
        unpack = self.ref(struct.Struct(fmt).unpack_from)
        targets = ", ".join(f"w{i}" for i in range(len(words))) + ","
        self.lines.append(f"    {targets} = {unpack}(data, offset)")
        self.lines += _assignments(words, "obj", "    ")
        self.lines.append(f"    offset += {sum(size for size, _ in words)}")

    def bits(self, size: int, parts: list[tuple[str, int, int]]) -> None:
        """A little-endian unit of an odd size (3, 5, 6 or 7 bytes)."""
        self.only_words = False
        self.lines.append(f"    w = int.from_bytes(data[offset:offset + {size}], 'little')")
        for name, bit, mask in parts:
            self.lines.append(f"    obj.{name} = (w >> {bit}) & {mask:#x}")
        self.lines.append(f"    offset += {size}")

    def nested(self, name: str, decoder: Decoder) -> None:
        self.only_words = False
        self.lines.append(f"    obj.{name}, offset = {self.ref(decoder.decode)}(data, offset)")

    def counted(self, name: str, decoder: Decoder, count_name: str) -> None:
        """A list counted by ``count_name``, capped by the bytes that are there.

        Items made of whole words alone (page ranges) are read by one
        ``struct.iter_unpack`` over all of them and filled in line, which
        is what makes a 510-range part cheap.
        """
        self.only_words = False
        size = decoder.fixed
        self.lines += [
            f"    count = min(obj.{count_name}, (len(data) - offset) // {size})",
            "    if count < 0:",
            "        count = 0",
        ]
        if decoder.words is None:
            inner = self.ref(decoder.decode)
            self.lines += [
                "    items = []",
                "    for _ in range(count):",
                f"        item, offset = {inner}(data, offset)",
                "        items.append(item)",
                f"    obj.{name} = items",
            ]
            return
        fmt = "<" + "".join(_INT_FORMATS[unit] for unit, _ in decoder.words)
        targets = ", ".join(f"w{i}" for i in range(len(decoder.words))) + ","
        self.lines += [
            "    items = []",
            "    append = items.append",
            f"    end = offset + count * {size}",
            f"    for {targets} in {self.ref(struct.iter_unpack)}({fmt!r}, data[offset:end]):",
            f"        item = {self.ref(values_class(decoder.layer))}()",
            "        item.missing = ()",
            *_assignments(decoder.words, "item", "        "),
            "        append(item)",
            "    offset = end",
            f"    obj.{name} = items",
        ]

    def sized(self, name: str, decoder: Decoder, budget_name: str) -> None:
        """Variable-size structures in a byte budget (``info_size``), capped by the bytes.

        As :class:`~dmdissect.layers.fields.SizedPacketListField`: each item
        reads only inside the budget, and the budget is used up.  An item the
        budget ends inside of is left to Scapy's path (:class:`NotCompiled`),
        which reports the fields it lacks.  One values object per item, no
        packet: an info message of 8,000 empty entries costs milliseconds.
        """
        self.only_words = False
        self.lines += [
            f"    budget = min(obj.{budget_name}, len(data) - offset)",
            "    chunk = data[offset:offset + budget]",
            "    items = []",
            "    append = items.append",
            "    pos = 0",
            "    while pos < budget:",
            f"        if budget - pos < {decoder.fixed}:",
            f"            raise {self.ref(NotCompiled)}",
            f"        item, pos = {self.ref(decoder.decode)}(chunk, pos)",
            "        append(item)",
            "    offset += budget",
            f"    obj.{name} = items",
        ]

    def variant(self, name: str, when: dict[str, int], size: int, length_name: str) -> None:
        """A field that is an integer when ``when`` holds, else bytes of ``length_name``.

        An integer the bytes end inside of is left to Scapy's path; bytes are
        taken as far as they go, as Scapy's length field does.
        """
        self.only_words = False
        test = " and ".join(f"obj.{field} == {int(value)}" for field, value in when.items())
        unpack = self.ref(struct.Struct("<" + _INT_FORMATS[size]).unpack_from)
        self.lines += [
            f"    if {test}:",
            f"        if len(data) < offset + {size}:",
            f"            raise {self.ref(NotCompiled)}",
            f"        obj.{name}, = {unpack}(data, offset)",
            f"        offset += {size}",
            "    else:",
            f"        obj.{name} = data[offset:offset + obj.{length_name}]",
            f"        offset += len(obj.{name})",
        ]

    def optional(self, name: str, decoder: Decoder) -> None:
        """A structure present when the header's size reaches its end.

        When the size announces it but the bytes end first, the decoder gives
        up (:class:`NotCompiled`): Scapy's path reports the cut field.
        """
        self.only_words = False
        size = decoder.fixed
        header = self.ref(HEADER_STRUCT.unpack_from)
        self.lines += [
            f"    if {header}(data)[1] >= offset + {size}:",
            f"        if len(data) < offset + {size}:",
            f"            raise {self.ref(NotCompiled)}",
            f"        obj.{name}, offset = {self.ref(decoder.decode)}(data, offset)",
            "    else:",
            f"        obj.{name} = None",
        ]

    def build(self, layer: type[Packet], fixed: int) -> Decoder:
        self.lines.append("    return obj, offset")
        source = "\n".join(self.lines) + "\n"
        namespace = dict(self.names)
        exec(compile(source, f"<decoder of {layer.__name__}>", "exec"), namespace)
        words = self.all_words if self.only_words and self.all_words else None
        return Decoder(layer, namespace["decode"], fixed, source, words)


def _assignments(
    words: list[tuple[int, list[tuple[str, int, int]]]], target: str, indent: str
) -> list[str]:
    """Lines setting each field of ``target`` from the words ``w0``, ``w1``, ..."""
    lines = []
    for index, (size, parts) in enumerate(words):
        for name, bit, mask in parts:
            whole = bit == 0 and mask == (1 << (8 * size)) - 1
            value = f"w{index}" if whole else f"(w{index} >> {bit}) & {mask:#x}"
            lines.append(f"{indent}{target}.{name} = {value}")
    return lines


def _count_field(layer: type[Packet], list_name: str) -> str | None:
    for field in layer.fields_desc:
        if getattr(field, "count_of", None) == list_name:
            return field.name
    return None


def _length_field(layer: type[Packet], name: str) -> str | None:
    """The field that gives the length of ``name`` in bytes (``length_of``)."""
    for field in layer.fields_desc:
        if getattr(field, "length_of", None) == name:
            return field.name
    return None


def _variant(
    layer: type[Packet], field: MultipleTypeField
) -> tuple[dict[str, int], int, str] | None:
    """An integer-or-bytes field as (when it is the integer, its size, its length field)."""
    when = layer.variant_when.get(field.name) if issubclass(layer, DMPacket) else None
    length_name = _length_field(layer, field.name)
    if when is None or length_name is None or len(field.flds) != 1:
        return None
    typed = field.flds[0][0]
    if not _simple_int(typed) or not isinstance(field.dflt, StrLenField):
        return None
    return dict(when), typed.sz, length_name


def _unit(group: Any, spots: Any) -> tuple[int, list[tuple[str, int | None, int]]] | None:
    """A fixed little-endian storage unit as (size, fields), or None.

    Fields are (name, bit, mask) with ``bit`` None for a field that is the
    whole unit.  Big-endian bitfields and flag sets are left to Scapy.
    """
    first = group.fields[0]
    if group.size is None:
        return None
    if isinstance(first, _BitField):
        if not first.rev or any(type(f).__name__ == "FlagsField" for f in group.fields):
            return None
        if spots[0].bit is None:
            return group.size, [(first.name, None, (1 << (8 * group.size)) - 1)]
        return group.size, [(s.name, s.bit, (1 << s.bits) - 1) for s in spots]
    if _simple_int(first):
        return group.size, [(first.name, None, (1 << (8 * group.size)) - 1)]
    return None


def _spans(units: list) -> list[tuple[int, list[tuple[str, int, int]]]]:
    """Join adjacent units into words of 1, 2, 4 or 8 bytes where they add up.

    Little-endian units side by side are one little-endian integer, so a
    40-bit and a 24-bit field become one 8-byte word read once.
    """
    spans: list = []
    size, parts = 0, []
    for unit_size, unit_parts in units:
        for name, bit, mask in unit_parts:
            parts.append((name, (bit or 0) + 8 * size, mask))
        size += unit_size
        if size in _INT_FORMATS:
            spans.append((size, parts))
            size, parts = 0, []
    if parts:
        spans.append((size, parts))
    return spans


def _write_units(writer: _Writer, units: list) -> None:
    words: list = []
    for size, parts in _spans(units):
        if size in _INT_FORMATS:
            words.append((size, parts))
            continue
        if words:
            writer.words(words)
            words = []
        writer.bits(size, parts)
    if words:
        writer.words(words)


@cache
def compile_layer(layer: type[Packet]) -> Decoder | None:
    """A fast decoder for ``layer``, or None when it uses fields this cannot follow."""
    writer = _Writer(layer)
    units: list = []
    layout = layout_of(layer)
    for group in layout.groups:
        spots = [s for s in layout.spots if s.group == group.index]
        unit = _unit(group, spots)
        if unit is not None:
            units.append(unit)
            continue
        _write_units(writer, units)
        units = []
        first = group.fields[0]
        if isinstance(first, BoundedPacketListField):
            inner = compile_layer(first.cls)
            count_name = _count_field(layer, first.name)
            if inner is None or count_name is None or inner.fixed != first.item_size:
                return None
            writer.counted(first.name, inner, count_name)
        elif isinstance(first, OptionalPacketField) and first.announced_by_size:
            inner = compile_layer(first.packet_cls)
            if inner is None:
                return None
            writer.optional(first.name, inner)
        elif type(first) is PacketField:
            inner = compile_layer(first.cls)
            if inner is None or group.size is None:
                return None
            writer.nested(first.name, inner)
        elif isinstance(first, SizedPacketListField):
            inner = compile_layer(first.item_cls)
            budget_name = _length_field(layer, first.name)
            if inner is None or budget_name is None:
                return None
            writer.sized(first.name, inner, budget_name)
        elif isinstance(first, MultipleTypeField) and len(group.fields) == 1:
            variant = _variant(layer, first)
            if variant is None:
                return None
            writer.variant(first.name, *variant)
        else:
            return None
    _write_units(writer, units)
    return writer.build(layer, layout.fixed_size)
