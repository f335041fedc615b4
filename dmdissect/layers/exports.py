"""How each field of a layer goes into JSON, decided from its ``fields_desc``.

The JSON export of the fast path must not import Scapy (``read -T json``
starts as quickly as ``read``), so :mod:`dmdissect.layers.generate` writes
these plans into :mod:`dmdissect.layers.tables` and the views compile their
writers from there.  A field is exported directly when it is a plain
integer, an enumeration (its name beside it), a nested structure, a
trailing optional structure (left out when absent) or a list of structures;
anything else (flags, bytes, fields that change type) is :data:`OTHER`, and
the views export it through their field walk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scapy.packet import Packet

#: The kinds of field of a plan.
INT, ENUM, STRUCT, LIST, OPTIONAL, OTHER = "int", "enum", "struct", "list", "optional", "other"

#: One field of a plan: its name, its kind and, for an enumeration, its names by value.
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
            plan.append((spot.name, LIST, None))
        elif isinstance(fld, PacketField):
            plan.append((spot.name, STRUCT, None))
        elif isinstance(fld, EnumField):
            plan.append((spot.name, ENUM, {int(k): v for k, v in (fld.i2s or {}).items()}))
        elif getattr(fld, "fmt", None) or getattr(fld, "size", None):
            plan.append((spot.name, INT, None))
        else:
            plan.append((spot.name, OTHER, None))
    return tuple(plan)
