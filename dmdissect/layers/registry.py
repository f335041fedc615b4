"""The protocol's fields under their stable names, derived from every layer's ``fields_desc``.

Display filters (``-Y``), ``-T fields``, ``dmdissect fields`` and generated
dissectors (the Wireshark Lua plugin) all need the same facts about each
field: its name, type, width, where it sits and which values have names.
This module derives them once from the layers through :mod:`layout`, so a
layer added to ``layers/`` shows up everywhere with no other change.

Names are the JSON paths of the field (``hdr.type``, ``range_count``,
``caps.hot_add``, ``range_array.start_page``, ``vmbus.len8``); the same name
with the prefix ``hvdm.`` is the Wireshark abbreviation.

The API, for code generators
----------------------------
``PROTOCOL_FIELDS``
    name -> :class:`ProtocolField`, in a stable order (header, then each
    message type's fields in C order, then the VMBus descriptor).  One entry
    per name: ``kind`` (uint, bool, enum, flags, bytes, struct, list),
    ``ftype`` (the ProtoField constructor: ``uint8`` .. ``uint64``, ``bool``,
    ``bytes``, ``none``), ``base`` (``dec``/``hex``), ``values`` (value strings),
    ``flags`` (bit number -> name), ``messages`` (the message types it occurs
    in), ``repeated`` (inside a list), ``widths`` (bits, one per distinct
    width) and ``varies`` (the name means different widths or places in
    different messages, like ``reservedz``: a generator then needs one
    ProtoField without a mask, or one per occurrence).
``HEADER_SLOTS``, ``VMBUS_SLOTS``, ``message_slots(msg_type)``
    The ordered :class:`Slot` tree of the header, the descriptor and each
    message body.  A slot is one field in one place: ``offset`` from the start
    of the message (header at 0; inside a list, from the start of the item),
    ``size`` the bytes of the storage unit a ProtoField reads (the 40/24-bit
    page range is one 8-byte unit with two masks), ``mask`` within that unit
    (None for a whole unit), ``shift``, ``bits``; ``children`` for a structure
    or for each item of a list; a list has ``item_size`` (None when items vary)
    and ``count_field`` or ``length_field`` naming the slot that counts it or
    gives its byte budget; ``optional`` when present only if ``hdr.size``
    reaches its end; a field whose type depends on other fields is one slot
    per form, each under its own name, with ``form`` naming the layer's field
    it is read from (``info.max_page_cnt``, a page count when ``when`` holds,
    and ``info.data``, bytes otherwise: both forms of the entry's ``data``).
    Every unit is little-endian.
``protocol_field(name)``
    Look a name up, with or without ``hvdm.``; None when unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from scapy.fields import (
    ConditionalField,
    EnumField,
    Field,
    FieldLenField,
    FlagsField,
    MultipleTypeField,
    PacketField,
    PacketListField,
    StrField,
    _BitField,
)

from dmdissect.layers.docs import FIELD_DOCS
from dmdissect.layers.fields import BoundedPacketListField, SizedPacketListField
from dmdissect.layers.header import HEADER_SIZE, DMHeader
from dmdissect.layers.layout import FieldSpot, fixed_size_of, layout_of
from dmdissect.layers.messages import MESSAGE_LAYERS
from dmdissect.layers.vmbus import VMBusDescriptor

#: The Wireshark abbreviation prefix: ``hvdm.range_count`` is ``range_count``.
PREFIX = "hvdm."

_UINT = {1: "uint8", 2: "uint16", 3: "uint24", 4: "uint32", 8: "uint64"}
_WORDS = (1, 2, 4, 8)


@dataclass(frozen=True)
class Slot:
    """One field in one place of one structure (see the module docstring)."""

    name: str
    kind: str
    ftype: str
    offset: int | None
    size: int | None
    bits: int | None = None
    mask: int | None = None
    shift: int = 0
    base: str = "dec"
    values: Mapping[int, str] | None = None
    flags: Mapping[int, str] | None = None
    children: tuple[Slot, ...] = ()
    item_size: int | None = None
    count_field: str | None = None
    length_field: str | None = None
    optional: bool = False
    when: Mapping[str, int] | None = None
    layer: str = ""
    #: The layer's field this slot is one typed form of (``data`` for ``info.data`` and
    #: ``info.max_page_cnt``): its value is read from there, when it is of the slot's type.
    form: str | None = None


@dataclass(frozen=True)
class ProtocolField:
    """One name of the registry and everything that is true of it in every message."""

    name: str
    kind: str
    ftype: str
    base: str
    description: str
    messages: tuple[int, ...]
    repeated: bool
    widths: tuple[int, ...]
    values: Mapping[int, str] | None = None
    flags: Mapping[int, str] | None = None
    varies: bool = False
    slots: tuple[tuple[int | None, Slot], ...] = field(default=(), repr=False)

    @property
    def abbrev(self) -> str:
        """The Wireshark filter name."""
        return PREFIX + self.name


def _bits_of(fld: Field) -> int | None:
    if isinstance(fld, _BitField):
        return abs(fld.size)
    size = getattr(fld, "sz", None)
    return 8 * size if isinstance(size, int) and size > 0 else None


def _hex(fld: Field) -> bool:
    """Scapy's X fields show hex; so does a page number (the tree shows start_page in hex)."""
    return type(fld).__name__.startswith("X") or fld.name == "start_page"


def _units(spots: tuple[FieldSpot, ...]) -> dict[str, tuple[int, int]]:
    """Each bitfield's (unit offset, shift) once odd-sized neighbours join into one word.

    Little-endian units side by side are one little-endian integer, so the
    page range's 5-byte and 3-byte parts are one 8-byte word with two masks,
    which is what a dissector built on 1/2/4/8-byte integers can read.
    """
    out: dict[str, tuple[int, int]] = {}
    pending: list[FieldSpot] = []
    start = used = 0

    def flush() -> None:
        for spot in pending:
            offset = spot.offset if spot.offset is not None else start
            out[spot.name] = (start, (spot.bit or 0) + 8 * (offset - start))

    groups: dict[int, list[FieldSpot]] = {}
    for spot in spots:
        groups.setdefault(spot.group, []).append(spot)
    for members in groups.values():
        head = members[0]
        odd = isinstance(head.field, _BitField) and head.size not in _WORDS
        if head.offset is None or head.size is None or not (odd or pending):
            continue
        if not pending:
            start, used = head.offset, 0
        pending.extend(members)
        used += head.size
        if used in _WORDS:
            flush()
            pending, used = [], 0
    if pending:
        flush()
    return out


def _unit_size(spot: FieldSpot, units: dict[str, tuple[int, int]], spots: Any) -> int | None:
    if spot.name not in units:
        return spot.size
    start = units[spot.name][0]
    members = [s for s in spots if s.name in units and units[s.name][0] == start]
    return max(s.offset + s.size for s in members) - start


def _scalar(name: str, spot: FieldSpot, fld: Field, base_offset: int | None, unit: Any) -> Slot:
    bits = _bits_of(fld)
    offset = None if spot.offset is None or base_offset is None else base_offset + spot.offset
    size, shift, mask = spot.size, spot.bit or 0, None
    if unit is not None:
        unit_offset, shift = unit[0], unit[1]
        size = unit[2]
        offset = None if base_offset is None else base_offset + unit_offset
    if bits is not None and size is not None and bits < 8 * size:
        mask = ((1 << bits) - 1) << shift
    values = flags = None
    if isinstance(fld, FlagsField):
        kind, base = "flags", "hex"
        flags = dict(enumerate(fld.names))
    elif isinstance(fld, EnumField):
        kind, base = "enum", "dec"
        values = dict(fld.i2s or {})
    elif isinstance(fld, StrField):
        kind, base = "bytes", "none"
    elif bits == 1:
        kind, base = "bool", "dec"
    else:
        kind, base = "uint", "hex" if _hex(fld) else "dec"
    if kind == "bytes":
        ftype = "bytes"
    elif kind == "bool":
        ftype = "bool"
    else:
        ftype = _UINT.get(size or 0, "uint64")
    return Slot(
        name,
        kind,
        ftype,
        offset,
        None if kind == "bytes" else size,
        bits=None if kind == "bytes" else bits,
        mask=mask,
        shift=shift,
        base=base,
        values=values,
        flags=flags,
    )


def _variant(
    name: str, spot: FieldSpot, fld: Field, base_offset: int | None, length_field: str | None
) -> Slot:
    """One typed form of a field whose type depends on others: its own width, or a length."""
    size = None if isinstance(fld, StrField) else fixed_size_of(fld)
    slot = _scalar(name, replace(spot, size=size), fld, base_offset, None)
    return slot if size is not None else replace(slot, length_field=length_field)


def _forms(
    layer: type, prefix: str, spot: FieldSpot, fld: MultipleTypeField, base_offset: int | None
) -> tuple[Slot, ...]:
    """A field whose type depends on others: one slot per form, each under its own name.

    The default form keeps the field's name; every other form goes by the name
    the layer's ``variant_names`` gives it and holds when ``variant_when`` does
    (``info.max_page_cnt``, the number an 8-byte MAX_PAGE_CNT entry's data is).
    One name then has one type, as a display filter needs.
    """
    _, length_field = _count_field(layer, spot.name, prefix)
    names = getattr(layer, "variant_names", {})
    if len(fld.flds) != 1 or spot.name not in names:
        raise TypeError(f"{layer.__name__}.{spot.name}: name its typed form in variant_names")
    ((form, _),) = fld.flds
    named = _variant(prefix + names[spot.name], spot, form, base_offset, length_field)
    default = _variant(prefix + spot.name, spot, fld.dflt, base_offset, length_field)
    when = _when(layer, fld)
    return tuple(
        replace(slot, form=spot.name, when=condition, layer=layer.__name__)
        for slot, condition in ((named, when), (default, None))
    )


def _count_field(layer: Any, list_name: str, prefix: str) -> tuple[str | None, str | None]:
    for fld in layer.fields_desc:
        if isinstance(fld, FieldLenField) or hasattr(fld, "count_of"):
            if getattr(fld, "count_of", None) == list_name:
                return prefix + fld.name, None
            if getattr(fld, "length_of", None) == list_name:
                return None, prefix + fld.name
    return None, None


def _when(layer: type, fld: MultipleTypeField) -> Mapping[str, int] | None:
    """The declared condition of a typed variant (``variant_when`` on the layer)."""
    return getattr(layer, "variant_when", {}).get(fld.name)


@cache
def _slots(layer: type, prefix: str, base_offset: int | None) -> tuple[Slot, ...]:
    """The slot tree of one structure, its offsets counted from ``base_offset``."""
    layout = layout_of(layer)
    spots = layout.spots
    units = _units(spots)
    out: list[Slot] = []
    for spot in layout.c_order:
        name = prefix + spot.name
        fld = spot.field
        unit = None
        if spot.name in units:
            unit = (*units[spot.name], _unit_size(spot, units, spots))
        offset = None if spot.offset is None or base_offset is None else base_offset + spot.offset
        if isinstance(fld, MultipleTypeField):
            out.extend(_forms(layer, prefix, spot, fld, base_offset))
            continue
        optional = isinstance(fld, ConditionalField)
        inner = fld.fld if isinstance(fld, ConditionalField) else fld
        if isinstance(inner, PacketListField):
            count_field, length_field = _count_field(layer, spot.name, prefix)
            item = layout_of(inner.cls)
            fixed = None if any(g.size is None for g in item.groups) else item.fixed_size
            if isinstance(inner, BoundedPacketListField):
                fixed = inner.item_size
            elif isinstance(inner, SizedPacketListField) and fixed is not None:
                fixed = None if any(g.size is None for g in item.groups) else fixed
            out.append(
                Slot(
                    name,
                    "list",
                    "none",
                    offset,
                    None,
                    children=_slots(inner.cls, name + ".", 0),
                    item_size=fixed,
                    count_field=count_field,
                    length_field=length_field,
                    layer=layer.__name__,
                )
            )
        elif isinstance(inner, PacketField):
            size = layout_of(inner.cls).fixed_size
            children = _slots(inner.cls, name + ".", offset)
            whole = getattr(inner.cls, "whole_values", None)
            if whole is not None:
                children += (_whole(name, offset, size, whole, inner.cls.__name__),)
            out.append(
                Slot(
                    name,
                    "struct",
                    "none",
                    offset,
                    size,
                    children=children,
                    optional=optional,
                    layer=layer.__name__,
                )
            )
        elif isinstance(inner, Field):
            slot = _scalar(name, spot, inner, base_offset, unit)
            out.append(_with(slot, optional=optional, layer=layer.__name__))
        else:
            raise TypeError(f"{layer.__name__}.{spot.name}: a field container inside a condition")
    return tuple(out)


def _with(slot: Slot, **changes: Any) -> Slot:
    return replace(slot, **changes)


def _whole(name: str, offset: int | None, size: int, values: Any, layer: str) -> Slot:
    """A union read as one integer, where its layer names the values (``version.version``)."""
    return Slot(
        f"{name}.{name.rsplit('.', 1)[-1]}",
        "enum",
        _UINT.get(size, "uint64"),
        offset,
        size,
        bits=8 * size,
        base="hex",
        values=dict(values),
        layer=layer,
    )


#: The header's slots, at the start of every message.
HEADER_SLOTS = _slots(DMHeader, "hdr.", 0)
#: The VMBus descriptor's slots, offsets from the start of the frame.
VMBUS_SLOTS = _slots(VMBusDescriptor, "vmbus.", 0)


def message_slots(msg_type: int) -> tuple[Slot, ...]:
    """The body slots of one message type in C order, offsets from the message start."""
    layer = MESSAGE_LAYERS.get(msg_type)
    if layer is None:
        return ()
    return _slots(layer, "", HEADER_SIZE)


def _flatten(slots: Iterable[Slot], repeated: bool = False) -> Iterator[tuple[Slot, bool]]:
    for slot in slots:
        yield slot, repeated
        yield from _flatten(slot.children, repeated or slot.kind == "list")


def _description(name: str, layers: list[str]) -> str:
    text = FIELD_DOCS.get(name) or FIELD_DOCS.get(name.rsplit(".", 1)[-1])
    if text:
        return text
    return f"{name.rsplit('.', 1)[-1]} of {', '.join(sorted(set(layers)))}"


def _build() -> dict[str, ProtocolField]:
    every = tuple(sorted(MESSAGE_LAYERS))
    seen: dict[str, list[tuple[int | None, Slot, bool]]] = {}
    for slot, repeated in _flatten(HEADER_SLOTS):
        seen.setdefault(slot.name, []).append((None, slot, repeated))
    for msg_type in every:
        for slot, repeated in _flatten(message_slots(msg_type)):
            seen.setdefault(slot.name, []).append((msg_type, slot, repeated))
    for slot, repeated in _flatten(VMBUS_SLOTS):
        seen.setdefault(slot.name, []).append((None, slot, repeated))
    out: dict[str, ProtocolField] = {}
    for name, places in seen.items():
        slots = [slot for _, slot, _ in places]
        first = slots[0]
        msg_types = tuple(t for t, _, _ in places if t is not None)
        if name.startswith(("hdr.", "vmbus.")):
            msg_types = every
        widths = tuple(sorted({s.bits for s in slots if s.bits is not None}))
        shapes = {(s.kind, s.size, s.mask, s.bits) for s in slots}
        values: dict[int, str] = {}
        for s in slots:
            values.update(s.values or {})
        kinds = {s.kind for s in slots}
        kind = first.kind if len(kinds) == 1 else ("enum" if "enum" in kinds else first.kind)
        ftype = max((s.ftype for s in slots), key=lambda t: _FTYPE_RANK.get(t, 0))
        out[name] = ProtocolField(
            name=name,
            kind=kind,
            ftype=ftype,
            base=first.base,
            description=_description(name, [s.layer for s in slots if s.layer]),
            messages=msg_types,
            repeated=any(r for _, _, r in places),
            widths=widths,
            values=values or None,
            flags=first.flags,
            varies=len(shapes) > 1,
            slots=tuple((t, s) for t, s, _ in places),
        )
    return out


_FTYPE_RANK = {"none": 0, "bool": 1, "uint8": 2, "uint16": 3, "uint24": 4, "uint32": 5}
_FTYPE_RANK.update(uint64=6, bytes=7)

#: Every protocol field by name, in a stable order (see the module docstring).
PROTOCOL_FIELDS: dict[str, ProtocolField] = _build()


def protocol_field(name: str) -> ProtocolField | None:
    """The field called ``name`` (``hvdm.`` optional), or None."""
    if name.startswith(PREFIX):
        name = name[len(PREFIX) :]
    return PROTOCOL_FIELDS.get(name)
