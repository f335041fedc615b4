"""How each field of a layer goes into JSON and the ``-V`` tree, from its ``fields_desc``.

The JSON export and the tree of the fast path must not import Scapy
(``read -T json`` and ``read -V`` start as quickly as ``read``), so
:mod:`dmdissect.layers.generate` writes these plans into
:mod:`dmdissect.layers.tables` and the views compile their writers from
there.  A field is exported directly when it is a plain integer, an
enumeration (its name beside it), a nested structure, a trailing optional
structure (left out when absent) or a list of structures; anything else
(flags, bytes, fields that change type) is :data:`OTHER`, and the views
export it through their field walk.  The tree's plan adds where each field
sits and how an integer is written (:data:`INT`, :data:`HEX` or
:data:`OWN_TEXT`, a field with its own conversion).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scapy.packet import Packet

#: The kinds of field of a plan.
INT, ENUM, STRUCT, LIST, OPTIONAL, OTHER = "int", "enum", "struct", "list", "optional", "other"
#: More kinds of the tree's plan: an integer Scapy shows in hex, one with a text of
#: its own, flags, and a field whose type changes with the packet (or a condition).
HEX, OWN_TEXT, FLAGS, VARIANT = "hex", "own text", "flags", "variant"

#: One field of a plan: its name, its kind and what the kind needs: an enumeration's
#: names by value, a structure's or a list item's layer name.
PlanField = tuple[str, str, Any]


def export_plan(layer: type[Packet]) -> tuple[PlanField, ...]:
    """The layer's fields in C order, each with how it is exported.

    Scapy is imported here, not with the kinds above: the views that read
    the generated plans use the kinds and never load Scapy.
    """
    from scapy.fields import (
        ConditionalField,
        EnumField,
        FlagsField,
        MultipleTypeField,
        PacketField,
        PacketListField,
    )

    from dmdissect.layers.fields import OptionalPacketField
    from dmdissect.layers.layout import layout_of

    plan: list[PlanField] = []
    for spot in layout_of(layer).c_order:
        fld = spot.field
        if isinstance(fld, OptionalPacketField):
            plan.append((spot.name, OPTIONAL, None))
        elif isinstance(fld, (MultipleTypeField, ConditionalField, FlagsField)):
            plan.append((spot.name, OTHER, None))
        elif isinstance(fld, PacketListField):
            plan.append((spot.name, LIST, fld.cls.__name__))
        elif isinstance(fld, PacketField):
            plan.append((spot.name, STRUCT, fld.cls.__name__))
        elif isinstance(fld, EnumField):
            plan.append((spot.name, ENUM, {int(k): v for k, v in (fld.i2s or {}).items()}))
        elif getattr(fld, "fmt", None) or getattr(fld, "size", None):
            plan.append((spot.name, INT, None))
        else:
            plan.append((spot.name, OTHER, None))
    return tuple(plan)


#: One field of the tree's plan: name, byte offset (None after a variable-length
#: field), bit and width inside its storage unit (None for whole fields), kind, and
#: what the kind needs: an enumeration's names, a structure's layer name, a list's
#: item layer name and item size (None when items vary).
TreeField = tuple[str, int | None, int | None, int | None, str, Any]


def tree_plan(layer: type[Packet]) -> tuple[TreeField, ...]:
    """The layer's fields in C order, each with its place and how the tree shows it."""
    from scapy.fields import (
        ConditionalField,
        EnumField,
        Field,
        FlagsField,
        MultipleTypeField,
        PacketField,
        PacketListField,
        XByteField,
        XIntField,
        XLongField,
        XShortField,
    )

    from dmdissect.layers.fields import OptionalPacketField
    from dmdissect.layers.layout import layout_of

    hex_reprs = {
        klass.i2repr
        for base in (XByteField, XShortField, XIntField, XLongField)
        for klass in (base, *base.__subclasses__())
    }
    plan: list[TreeField] = []
    for spot in layout_of(layer).c_order:
        fld = spot.field
        aux: Any = None
        if isinstance(fld, OptionalPacketField):
            kind, aux = OPTIONAL, fld.packet_cls.__name__
        elif isinstance(fld, (MultipleTypeField, ConditionalField)) or not isinstance(fld, Field):
            kind = VARIANT
        elif isinstance(fld, PacketListField):
            inner = layout_of(fld.cls)
            fixed = not any(group.size is None for group in inner.groups)
            kind, aux = LIST, (fld.cls.__name__, inner.fixed_size if fixed else None)
        elif isinstance(fld, PacketField):
            kind, aux = STRUCT, fld.cls.__name__
        elif isinstance(fld, FlagsField):
            kind = FLAGS
        elif isinstance(fld, EnumField):
            kind, aux = ENUM, {int(k): v for k, v in (fld.i2s or {}).items()}
        elif type(fld).i2h is not Field.i2h:
            kind = OWN_TEXT
        elif type(fld).i2repr is Field.i2repr:
            kind = INT
        elif type(fld).i2repr in hex_reprs:
            kind = HEX
        else:
            kind = OWN_TEXT
        plan.append((spot.name, spot.offset, spot.bit, spot.bits, kind, aux))
    return tuple(plan)
