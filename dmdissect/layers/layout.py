"""Where every field of a layer sits, computed from its ``fields_desc``.

Scapy lists little-endian bitfields from the most significant bit down, the
reverse of the C declaration.  Views, the JSON export and the truncation-aware
dissector all need the C view instead: the byte offset of each field, and for a
bitfield its bit position inside its storage unit.  This module derives that
once per class, so no other module ever restates a layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from scapy.fields import (
    AnyField,
    ConditionalField,
    MultipleTypeField,
    PacketField,
    PacketListField,
    _BitField,
)
from scapy.packet import Packet


@dataclass(frozen=True)
class FieldSpot:
    """One field: where its storage starts and how wide it is.

    ``offset`` and ``size`` are in bytes and describe the storage unit (the
    whole bitfield group for a bitfield); ``offset`` is None after the first
    variable-length field.  ``bit`` and ``bits`` give a bitfield's position
    counted from the least significant bit of its unit, as C declares it.
    """

    name: str
    field: AnyField
    offset: int | None
    size: int | None
    bit: int | None = None
    bits: int | None = None
    group: int = 0

    @property
    def is_bitfield(self) -> bool:
        return self.bit is not None


@dataclass(frozen=True)
class Group:
    """Fields that are read together: one storage unit, or one variable field."""

    index: int
    size: int | None
    fields: tuple[AnyField, ...]


@dataclass(frozen=True)
class Layout:
    groups: tuple[Group, ...]
    spots: tuple[FieldSpot, ...]

    @property
    def fixed_size(self) -> int:
        """Bytes taken by the fields before the first variable-length one."""
        total = 0
        for group in self.groups:
            if group.size is None:
                break
            total += group.size
        return total

    def span(self, name: str) -> tuple[int, int]:
        """Byte offset and size of the storage of field ``name``, which has a fixed place."""
        for spot in self.spots:
            if spot.name == name:
                if spot.offset is None or spot.size is None:
                    raise TypeError(f"{name} has no fixed place")
                return spot.offset, spot.size
        raise KeyError(name)

    def names_from(self, group: int) -> tuple[str, ...]:
        """C-ordered names of the fields in this group and every later one."""
        return tuple(spot.name for spot in self.c_order if spot.group >= group)

    @property
    def c_order(self) -> tuple[FieldSpot, ...]:
        """Fields in declaration order of the C header."""
        return tuple(sorted(self.spots, key=lambda s: (s.group, s.bit or 0)))


def packet_class(field: AnyField) -> type[Packet]:
    """The structure a packet field, or an optional one, holds.

    Scapy also allows a callback that picks the class; these layers never use one.
    """
    if isinstance(field, ConditionalField):
        return packet_class(field.fld)
    cls = getattr(field, "cls", None)
    if not (isinstance(cls, type) and issubclass(cls, Packet)):
        raise TypeError(f"{field!r} holds no packet class")
    return cls


def fixed_size_of(field: AnyField) -> int | None:
    """Bytes a non-bit field always takes, or None when it varies."""
    if isinstance(field, (ConditionalField, MultipleTypeField, PacketListField)):
        return None
    if isinstance(field, PacketField):
        inner = layout_of(field.cls)
        if any(g.size is None for g in inner.groups):
            return None
        return inner.fixed_size
    size = getattr(field, "sz", None)
    if isinstance(size, int) and size > 0 and getattr(field, "fmt", "") not in ("", None):
        return size
    return None


@cache
def layout_of(cls: type[Packet]) -> Layout:
    groups: list[Group] = []
    spots: list[FieldSpot] = []
    offset: int | None = 0
    pending: list[_BitField] = []
    pending_bits = 0
    size: int | None
    for field in cls.fields_desc:
        if isinstance(field, _BitField):
            pending.append(field)
            pending_bits += field.size
            if pending_bits % 8:
                continue
            size = pending_bits // 8
            index = len(groups)
            groups.append(Group(index, size, tuple(pending)))
            used = 0
            whole = len(pending) == 1
            for bit_field in pending:
                used += bit_field.size
                spots.append(
                    FieldSpot(
                        bit_field.name,
                        bit_field,
                        offset,
                        size,
                        bit=None if whole else pending_bits - used,
                        bits=None if whole else bit_field.size,
                        group=index,
                    )
                )
            offset = None if offset is None else offset + size
            pending, pending_bits = [], 0
            continue
        size = fixed_size_of(field)
        index = len(groups)
        groups.append(Group(index, size, (field,)))
        spots.append(FieldSpot(field.name, field, offset, size, group=index))
        offset = None if (offset is None or size is None) else offset + size
    if pending:
        raise TypeError(f"{cls.__name__}: bitfields do not fill whole bytes")
    return Layout(tuple(groups), tuple(spots))
