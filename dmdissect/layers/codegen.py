"""Fast decoders derived from each layer's ``fields_desc``, written as Python source.

Building a Scapy ``Packet`` costs tens of microseconds; a day of status
reports is 90,000 of them.  For layers made only of fixed integers,
little-endian bitfield groups, nested fixed structures and counted lists of
them, this module turns ``fields_desc`` (through :mod:`layout`) into the
source of a function of ``struct`` reads and shifts that fills a light
*values* object instead of a packet (:mod:`dmdissect.layers.values`).  No
layout is written here: layers that use anything else simply do not
compile, and callers fall back to Scapy.  :mod:`dmdissect.layers.generate`
writes the source into :mod:`dmdissect.layers.tables`.
"""

from __future__ import annotations

import dataclasses
import struct
from dataclasses import dataclass
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
from dmdissect.layers.header import DMHeader
from dmdissect.layers.layout import layout_of, packet_class
from dmdissect.layers.messages import MESSAGE_LAYERS
from dmdissect.layers.vmbus import VMBusDescriptor

_INT_FORMATS = {1: "B", 2: "H", 4: "I", 8: "Q"}


def all_layers() -> tuple[type[DMPacket], ...]:
    """Every layer: the header, the VMBus descriptor, the messages and the structures in them.

    Nested structures come before the first layer that holds them.
    """
    found: list[type[DMPacket]] = []

    def visit(layer: type[DMPacket]) -> None:
        if layer in found:
            return
        for spot in layout_of(layer).spots:
            try:
                inner = packet_class(spot.field)
            except TypeError:
                continue
            if issubclass(inner, DMPacket):
                visit(inner)
        found.append(layer)

    roots: tuple[type[DMPacket], ...] = (DMHeader, VMBusDescriptor, *MESSAGE_LAYERS.values())
    for root in roots:
        visit(root)
    return tuple(found)


#: Every layer by its class name, the name the generated module uses.
LAYERS: dict[str, type[DMPacket]] = {layer.__name__: layer for layer in all_layers()}


def values_name(layer: type[Packet]) -> str:
    return f"{layer.__name__}Values"


def decoder_name(layer: type[Packet]) -> str:
    return f"decode_{layer.__name__}"


def _simple_int(field: Field) -> bool:
    """An unsigned little-endian integer read with one struct code."""
    return getattr(field, "fmt", None) in ("<B", "<H", "<I", "<Q")


Words = list[tuple[int, list[tuple[str, int, int]]]]


@dataclass
class LayerSource:
    """The source of one layer's decode function, and the module-level names it uses.

    ``symbols`` maps each name to the source expression that defines it in
    the generated module; ``fixed`` is the fixed part's size and ``words``
    the layer as whole little-endian words alone (a page range), when it is
    only that: lists of it are read with one ``struct`` call for every item.
    """

    layer: type[Packet]
    source: str
    fixed: int
    symbols: dict[str, str] = dataclasses.field(default_factory=dict)
    words: Words | None = None


class _Writer:
    """Python source of one decode function, and the module-level names it refers to."""

    def __init__(self, layer: type[Packet]) -> None:
        self.symbols: dict[str, str] = {}
        self.lines = [
            f"def {decoder_name(layer)}(data: bytes, offset: int) -> tuple[Any, int]:",
            f"    obj = {values_name(layer)}()",
            "    obj.missing = ()",
        ]
        #: Every word read so far; stays the whole layer only while nothing else is read.
        self.all_words: Words = []
        self.only_words = True

    def ref(self, name: str, source: str) -> str:
        self.symbols[name] = source
        return name

    def unpack(self, fmt: str) -> str:
        return self.ref(f"_unpack_{fmt[1:]}", f"Struct({fmt!r}).unpack_from")

    def words(self, words: Words) -> None:
        """Consecutive storage units of 1, 2, 4 or 8 bytes, read with one ``struct`` call."""
        self.all_words.extend(words)
        fmt = "<" + "".join(_INT_FORMATS[size] for size, _ in words)
        targets = ", ".join(f"w{i}" for i in range(len(words))) + ","
        self.lines.append(f"    {targets} = {self.unpack(fmt)}(data, offset)")
        self.lines += _assignments(words, "obj", "    ")
        self.lines.append(f"    offset += {sum(size for size, _ in words)}")

    def bits(self, size: int, parts: list[tuple[str, int, int]]) -> None:
        """A little-endian unit of an odd size (3, 5, 6 or 7 bytes)."""
        self.only_words = False
        self.lines.append(f"    w = int.from_bytes(data[offset:offset + {size}], 'little')")
        for name, bit, mask in parts:
            self.lines.append(f"    obj.{name} = (w >> {bit}) & {mask:#x}")
        self.lines.append(f"    offset += {size}")

    def nested(self, name: str, inner: LayerSource) -> None:
        self.only_words = False
        self.lines.append(f"    obj.{name}, offset = {decoder_name(inner.layer)}(data, offset)")

    def counted(self, name: str, inner: LayerSource, count_name: str) -> None:
        """A list counted by ``count_name``, capped by the bytes that are there.

        Items made of whole words alone (page ranges) are read by one
        ``struct.iter_unpack`` over all of them and filled in line, which
        is what makes a 510-range part cheap.
        """
        self.only_words = False
        size = inner.fixed
        self.lines += [
            f"    count = min(obj.{count_name}, (len(data) - offset) // {size})",
            "    if count < 0:",
            "        count = 0",
        ]
        if inner.words is None:
            self.lines += [
                "    items = []",
                "    for _ in range(count):",
                f"        item, offset = {decoder_name(inner.layer)}(data, offset)",
                "        items.append(item)",
                f"    obj.{name} = items",
            ]
            return
        fmt = "<" + "".join(_INT_FORMATS[unit] for unit, _ in inner.words)
        targets = ", ".join(f"w{i}" for i in range(len(inner.words))) + ","
        self.lines += [
            "    items = []",
            "    append = items.append",
            f"    end = offset + count * {size}",
            f"    for {targets} in iter_unpack({fmt!r}, data[offset:end]):",
            f"        item = {values_name(inner.layer)}()",
            "        item.missing = ()",
            *_assignments(inner.words, "item", "        "),
            "        append(item)",
            "    offset = end",
            f"    obj.{name} = items",
        ]

    def optional(self, name: str, inner: LayerSource) -> None:
        """A structure present when the header's size reaches its end.

        When the size announces it but the bytes end first, the decoder gives
        up (:class:`NotCompiled`): Scapy's path reports the cut field.
        """
        self.only_words = False
        size = inner.fixed
        header = self.ref("_header_fields", "HEADER_STRUCT.unpack_from")
        self.lines += [
            f"    if {header}(data)[1] >= offset + {size}:",
            f"        if len(data) < offset + {size}:",
            "            raise NotCompiled",
            f"        obj.{name}, offset = {decoder_name(inner.layer)}(data, offset)",
            "    else:",
            f"        obj.{name} = None",
        ]

    def variant(self, name: str, when: dict[str, int], typed: Field, length_name: str) -> None:
        """A field that is the integer ``typed`` when the fields named in ``when`` have those
        values, else the bytes ``length_name`` counts (cut where the bytes end).

        An integer the bytes end inside gives up (:class:`NotCompiled`): Scapy's
        path reports the cut field.
        """
        self.only_words = False
        size = struct.calcsize(typed.fmt)
        test = " and ".join(f"obj.{field} == {int(value)!r}" for field, value in when.items())
        self.lines += [
            f"    if {test}:",
            f"        if len(data) < offset + {size}:",
            "            raise NotCompiled",
            f"        obj.{name}, = {self.unpack(typed.fmt)}(data, offset)",
            f"        offset += {size}",
            "    else:",
            f"        obj.{name} = data[offset:offset + obj.{length_name}]",
            f"        offset += len(obj.{name})",
        ]

    def sized(self, name: str, inner: LayerSource, size_name: str) -> None:
        """Structures packed into the bytes ``size_name`` counts, capped by the bytes there.

        As :class:`~dmdissect.layers.fields.SizedPacketListField` reads them;
        a structure whose fixed part the budget cuts gives up (:class:`NotCompiled`).
        """
        self.only_words = False
        self.lines += [
            f"    budget = max(0, min(obj.{size_name} or 0, len(data) - offset))",
            "    chunk = data[offset:offset + budget]",
            "    items = []",
            "    pos = 0",
            "    while pos < budget:",
            f"        if budget - pos < {inner.fixed}:",
            "            raise NotCompiled",
            f"        item, pos = {decoder_name(inner.layer)}(chunk, pos)",
            "        items.append(item)",
            f"    obj.{name} = items",
            "    offset += pos",
        ]

    def build(self, layer: type[Packet], fixed: int) -> LayerSource:
        self.lines.append("    return obj, offset")
        source = "\n".join(self.lines) + "\n"
        words = self.all_words if self.only_words and self.all_words else None
        return LayerSource(layer, source, fixed, self.symbols, words)


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


def _length_field(layer: type[Packet], name: str) -> str | None:
    """The field that counts the bytes of field ``name`` (``length_of``)."""
    for fld in layer.fields_desc:
        if getattr(fld, "length_of", None) == name:
            return str(fld.name)
    return None


def _variant(layer: type[Packet], fld: Any) -> tuple[dict[str, int], Field, str] | None:
    """A field of two forms the layer's ``variant_when`` tells apart: an integer, or bytes
    whose length another field gives; as (when, the integer field, the length's field)."""
    when = getattr(layer, "variant_when", {}).get(fld.name)
    if when is None or len(fld.flds) != 1 or not isinstance(fld.dflt, StrLenField):
        return None
    typed = fld.flds[0][0]
    length_name = _length_field(layer, fld.name)
    if not _simple_int(typed) or length_name is None:
        return None
    return dict(when), typed, length_name


def _count_field(layer: type[Packet], list_name: str) -> str | None:
    for field in layer.fields_desc:
        if getattr(field, "count_of", None) == list_name:
            return field.name
    return None


def _unit(group: Any, spots: Any) -> tuple[int, list[tuple[str, int | None, int]]] | None:
    """A fixed little-endian storage unit as (size, fields), or None.

    Fields are (name, bit, mask) with ``bit`` None for a field that is the
    whole unit (a flag set is its number).  Big-endian bitfields are left to Scapy.
    """
    first = group.fields[0]
    if group.size is None:
        return None
    if isinstance(first, _BitField):
        if not first.rev:
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
def layer_source(layer: type[Packet]) -> LayerSource | None:
    """The decode function of ``layer`` as source; None when it uses fields this cannot follow."""
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
            inner = layer_source(first.cls)
            count_name = _count_field(layer, first.name)
            if inner is None or count_name is None or inner.fixed != first.item_size:
                return None
            writer.counted(first.name, inner, count_name)
        elif isinstance(first, OptionalPacketField) and first.announced_by_size:
            inner = layer_source(first.packet_cls)
            if inner is None:
                return None
            writer.optional(first.name, inner)
        elif type(first) is PacketField:
            inner = layer_source(first.cls)
            if inner is None or group.size is None:
                return None
            writer.nested(first.name, inner)
        elif isinstance(first, SizedPacketListField):
            inner = layer_source(first.item_cls)
            size_name = _length_field(layer, first.name)
            if inner is None or size_name is None:
                return None
            writer.sized(first.name, inner, size_name)
        elif isinstance(first, MultipleTypeField) and (variant := _variant(layer, first)):
            writer.variant(first.name, *variant)
        else:
            return None
    _write_units(writer, units)
    return writer.build(layer, layout.fixed_size)
