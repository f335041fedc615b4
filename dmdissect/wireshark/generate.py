"""The Wireshark Lua dissector, generated from the Scapy layers.

Everything the plugin knows comes from here: one ``ProtoField`` per field
(named ``hvdm.`` + its dmdissect name, with its width, bit mask, value
string and base), one plan per layer (its storage groups in order, the
counted and sized lists, the optional and type-changing fields), the summary
templates of :mod:`dmdissect.views.phrases`, the expert info ids of the
static checks and the constants they use.  :mod:`~dmdissect.wireshark.emit`
writes each plan out as straight-line Lua (its dissecting function and its
summary), so per packet the plugin runs code and walks no table;
``runtime.lua`` (beside this module) holds what every message shares: the
number formats, the expert checks and the packet-comment reader;
``dissect.lua`` the dissection of one packet, and ``register.lua`` the
dissector Wireshark calls (which adds no tree item nobody asked for) and its
registration.  No message is written by hand, so a layer added to
``dmdissect/layers`` (and its summary's words to :mod:`dmdissect.views.phrases`)
is in the next generated plugin with no other change.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

from scapy.fields import (
    ConditionalField,
    Field,
    MultipleTypeField,
    PacketField,
    _BitField,
)
from scapy.packet import Packet

from dmdissect import __version__
from dmdissect.analysis.expert import MAX_PART_BYTES, _reserved_plan
from dmdissect.analysis.registry import FIELDS
from dmdissect.layers import (
    DESCRIPTOR_SIZE,
    HEADER_SIZE,
    MESSAGE_LAYERS,
    MESSAGE_TYPES,
    PAGES_PER_MIB,
    SENDER,
    DMHeader,
    VMBusDescriptor,
)
from dmdissect.layers.base import DMPacket
from dmdissect.layers.expressions import All, Equals, lua_value
from dmdissect.layers.fields import (
    BoundedPacketListField,
    OptionalPacketField,
    SizedPacketListField,
)
from dmdissect.layers.layout import Group, layout_of, packet_class
from dmdissect.layers.registry import PROTOCOL_FIELDS, ProtocolField, Slot
from dmdissect.layers.vmbus import VM_PKT_DATA_INBAND, VMBUS_PACKET_TYPES
from dmdissect.sources.markers import MARKER_MAGIC
from dmdissect.views.phrases import Version, summary_phrase
from dmdissect.vocabulary import Direction
from dmdissect.wireshark.emit import layer_functions
from dmdissect.wireshark.experts import CHECKS, EXPERTS, TRANSACTION_FIELDS

PROTOCOL = "hvdm"
#: The tree functions (runtime.lua's locals) the dissection is built over: the real ones,
#: or stand-ins that learn which fields are wanted or only note which fields a packet has;
#: and whether items get labels (the stand-ins that only note need none).
TREE_PARAMETERS = (
    "add",
    "add_le",
    "tvb_range",
    "set_text",
    "append_text",
    "set_generated",
    "set_hidden",
    "set_len",
    "add_proto_expert_info",
    "labels",
)
#: The widest mask Wireshark 4.0's Lua API applies: it takes a number and keeps
#: 32 bits of it (64-bit masks came in 4.2, as UInt64).
MAX_LUA_MASK = 0xFFFFFFFF


class Lua(str):
    """Lua source to be written as is (a variable name), not quoted."""


def lua(value: Any) -> str:
    if isinstance(value, Lua):
        return str(value)
    if isinstance(value, dict) and all(isinstance(k, str) and k.isidentifier() for k in value):
        return "{" + ", ".join(f"{k} = {lua(v)}" for k, v in value.items()) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{lua(k)}] = {lua(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(lua(v) for v in value) + "}"
    return lua_value(value)


@dataclass(frozen=True)
class ProtoFieldSpec:
    """One ``ProtoField``: the constructor and its arguments."""

    abbrev: str
    label: str
    kind: str
    base: str | None = None
    values: tuple[tuple[int, str], ...] | None = None
    mask: int | None = None
    blurb: str = ""

    def lua(self) -> str:
        args = [lua(self.abbrev), lua(self.label)]
        if self.kind.startswith("uint"):
            args.append(f"base.{self.base or 'DEC'}")
            args.append(lua(dict(self.values)) if self.values else "nil")
            args.append(str(self.mask) if self.mask else "nil")
            args.append(lua(self.blurb))
        elif self.kind == "framenum":
            args += ["base.NONE", "frametype.NONE", "nil", lua(self.blurb)]
        elif self.kind == "bool":
            display = "base.NONE" if self.base in (None, "NONE") else self.base
            args += [display, "nil", str(self.mask) if self.mask else "nil", lua(self.blurb)]
        else:
            args.append(lua(self.blurb))
        return f"ProtoField.{self.kind}({', '.join(args)})"


def _size(part: Slot | Group) -> int:
    """The size of a slot or group that has one (an integer field's always does)."""
    if part.size is None:
        raise TypeError(f"{part!r} has no fixed size")
    return part.size


def _dm(layer: type[Packet]) -> type[DMPacket]:
    """The layers are all Dynamic Memory layers (with summaries and variants)."""
    if not issubclass(layer, DMPacket):
        raise TypeError(f"{layer.__name__} is not a Dynamic Memory layer")
    return layer


class Generator:
    """Collects fields and layer plans while walking the layers, then writes Lua."""

    def __init__(self) -> None:
        self.fields: dict[ProtoFieldSpec, str] = {}
        self.plans: dict[str, dict[str, Any]] = {}

    def field(self, spec: ProtoFieldSpec) -> Lua:
        var = self.fields.get(spec)
        if var is None:
            var = f"F[{len(self.fields) + 1}]"
            self.fields[spec] = var
        return Lua(var)

    # --- one field -----------------------------------------------------------------

    def _slot(self, name: str, cls: type) -> tuple[ProtocolField, Slot]:
        """The registry's entry for ``name`` and its slot in layer ``cls``."""
        entry = PROTOCOL_FIELDS[name]
        for _, slot in entry.slots:
            if slot.layer == cls.__name__:
                return entry, slot
        raise KeyError(f"{name} has no slot in {cls.__name__}")

    def _proto(
        self,
        entry: ProtocolField,
        slot: Slot,
        length: int,
        mask: int | None,
        value: bool = False,
    ) -> Lua:
        """The ProtoField of ``slot`` read from ``length`` bytes with ``mask`` (or a value).

        A number is declared with its name's type in the registry whatever
        window of its storage unit is read, as a C dissector declares it (a
        24-bit part of a 64-bit word is an FT_UINT64), so that tshark's
        ``len()`` and ``-G fields`` give the unit's width whatever window
        Lua 4.0 can mask, and one name has one type in every message.
        """
        label = entry.name.rsplit(".", 1)[-1]
        if slot.ftype == "bool":
            display = "NONE" if value or mask is None else str(8 * length)
            return self.field(
                ProtoFieldSpec(entry.abbrev, label, "bool", display, None, mask, entry.description)
            )
        # The registry's names: a name two messages share has its values in both (a hot-remove
        # response's result is named like a hot-add response's), so one filter means one thing.
        names = slot.values or entry.values
        values = tuple(sorted(names.items())) if names and length <= 4 else None
        # reservedz is 31 bits in one message and 63 in another: an FT_UINT64 in both, since
        # tshark checks a filter's constant against the type of the name's first field.
        kind = entry.ftype
        return self.field(
            ProtoFieldSpec(
                entry.abbrev, label, kind, slot.base.upper(), values, mask, entry.description
            )
        )

    def _int(
        self, cls: type, name: str, size: int, offset: int | None, bit: int | None, bits: int | None
    ) -> dict:
        """A number read from its storage group of ``size`` bytes at ``offset``.

        The value is read from the group (as the layers dissect it); the tree
        item uses the registry's storage unit and mask, which may span
        neighbouring groups (the page range's 40/24-bit word).  A mask
        Wireshark 4.0's Lua cannot take (beyond 32 bits) is narrowed to a
        4-byte window of the unit, or to the field's own bytes when it is
        wider than that and byte-aligned, or else the value is given as read.
        """
        entry, slot = self._slot(name, cls)
        spec: dict[str, Any] = {"n": name.rsplit(".", 1)[-1], "k": "int", "size": size}
        if bit is not None:
            spec.update(bit=bit, bits=bits)
        if slot.mask is None:
            spec.update(add="whole", f=self._proto(entry, slot, size, None))
            return spec
        unit_off = 0 if slot.offset is None or offset is None else slot.offset - offset
        if slot.mask <= MAX_LUA_MASK:
            spec.update(add="unit", unit_off=unit_off, unit_size=slot.size)
            spec["f"] = self._proto(entry, slot, _size(slot), slot.mask)
            if unit_off != 0 or slot.size != size:
                own = None if bit is None or bits is None else ((1 << bits) - 1) << bit
                spec["fallback"] = self._proto(entry, slot, size, own)
            return spec
        width = slot.bits or 0
        low, high = slot.shift // 8, (slot.shift + width - 1) // 8
        # The widest window Wireshark 4.0 can mask (4 bytes) that ends with the
        # field's last byte: it keeps the neighbour's bits of the unit in view
        # (page_cnt over bytes 4-7 with mask 0xffffff00, the 40/24-bit split).
        # Bytes before the field's are earlier groups of the unit, so present.
        start = max(0, high - 3)
        if low >= start:
            length = high - start + 1
            sub_mask = ((1 << width) - 1) << (slot.shift - 8 * start)
            whole = sub_mask == (1 << (8 * length)) - 1
            spec.update(add="sub", sub_off=unit_off + start, sub_len=length)
            spec["f"] = self._proto(entry, slot, length, None if whole else sub_mask)
            return spec
        length = high - low + 1
        if slot.shift % 8 == 0 and width == 8 * length:
            # Wider than a mask can be, but whole bytes: the field over its own bytes.
            spec.update(add="sub", sub_off=unit_off + low, sub_len=length)
            spec["f"] = self._proto(entry, slot, length, None)
            return spec
        spec.update(add="value", f=self._proto(entry, slot, size, None, value=True))
        return spec

    def _none(self, abbrev: str, label: str) -> Lua:
        return self.field(ProtoFieldSpec(abbrev, label, "none"))

    # --- one layer -------------------------------------------------------------------

    def layer(self, layer: type[Packet], prefix: str, base: int | None) -> str:
        """The plan of ``cls`` with its fields named ``prefix`` + name; its key.

        ``base`` is where the structure starts, counted as the registry counts
        (from the message start; from the item start inside a list).
        """
        cls = _dm(layer)
        key = f"{prefix}{cls.__name__}"
        if key in self.plans:
            return key
        self.plans[key] = {}
        layout = layout_of(cls)
        length_of = {
            getattr(f, "length_of", None): f.name
            for f in cls.fields_desc
            if getattr(f, "length_of", None)
        }
        count_of = {
            getattr(f, "count_of", None): f.name
            for f in cls.fields_desc
            if getattr(f, "count_of", None)
        }
        groups, counted, sized, optional = [], [], [], []
        for group in layout.groups:
            spots = [s for s in layout.spots if s.group == group.index]
            first = group.fields[0]
            abbrev = f"{PROTOCOL}.{prefix}{first.name}"
            here = None if base is None or spots[0].offset is None else base + spots[0].offset
            if isinstance(first, _BitField) or (
                getattr(first, "fmt", None) in ("<B", "<H", "<I", "<Q")
                and not isinstance(first, (PacketField, ConditionalField, MultipleTypeField))
            ):
                at = None if base is None or spots[0].offset is None else base + spots[0].offset
                specs = [
                    self._int(cls, f"{prefix}{s.name}", _size(group), at, s.bit, s.bits)
                    for s in spots
                ]
                groups.append({"size": group.size, "fields": specs})
            elif isinstance(first, BoundedPacketListField):
                count = count_of[first.name]
                entry = self.layer(first.item_cls, f"{prefix}{first.name}.", 0)
                spec = {
                    "n": first.name,
                    "k": "list",
                    "count": count,
                    "item": first.item_size,
                    "f": self._none(abbrev, first.name),
                    "entry": {"layer": entry},
                }
                counted.append(
                    {
                        "n": first.name,
                        "count": count,
                        "item": first.item_size,
                        "word": count.removesuffix("_count"),
                    }
                )
                groups.append({"fields": [spec]})
            elif isinstance(first, SizedPacketListField):
                length = length_of[first.name]
                entry = self.layer(first.item_cls, f"{prefix}{first.name}.", 0)
                spec = {
                    "n": first.name,
                    "k": "sized",
                    "length": length,
                    "f": self._none(abbrev, first.name),
                    "entry": {"layer": entry},
                }
                sized.append({"n": first.name, "length": length})
                groups.append({"fields": [spec]})
            elif isinstance(first, OptionalPacketField):
                size = layout_of(first.packet_cls).fixed_size
                spec = {
                    "n": first.name,
                    "k": "optional",
                    "cond": first.cond,
                    "size": size,
                    "layer": self.layer(first.packet_cls, f"{prefix}{first.name}.", here),
                    "f": self._none(abbrev, first.name),
                }
                optional.append({"n": first.name, "size": size})
                groups.append({"fields": [spec]})
            elif isinstance(first, MultipleTypeField):
                when = cls.variant_when[first.name]
                cond = All(*(Equals(name, value) for name, value in when.items()))
                # Each form under the registry's name of it (info.max_page_cnt, info.data).
                named = f"{prefix}{cls.variant_names[first.name]}"
                choices = [
                    {"cond": cond, "field": self._alternative(cls, named, fld, length_of)}
                    for fld, _ in first.flds
                ]
                spec = {
                    "n": first.name,
                    "k": "choice",
                    "choices": choices,
                    "otherwise": self._alternative(cls, prefix + first.name, first.dflt, length_of),
                }
                groups.append({"fields": [spec]})
            elif type(first) is PacketField:
                spec = {
                    "n": first.name,
                    "k": "struct",
                    "layer": self.layer(packet_class(first), f"{prefix}{first.name}.", here),
                    "f": self._none(abbrev, first.name),
                }
                groups.append({"size": group.size, "fields": [spec]})
            else:
                raise TypeError(f"{cls.__name__}.{first.name}: no Wireshark form for {first!r}")
        summary = summary_phrase(cls)
        plan: dict[str, Any] = {
            "groups": groups,
            "fixed": layout.fixed_size,
            "names_from": [list(layout.names_from(g.index)) for g in layout.groups],
            "order": [s.name for s in layout.c_order],
            "counted": counted,
            "sized": sized,
            "optional": optional,
            "length_of": length_of,
            "reserved": [
                {
                    "n": name,
                    "layer": None if inner is None else self._nested(cls, prefix, name, base),
                }
                for name, inner in _reserved_plan(cls.__name__)
            ],
            "summary": summary,
        }
        if isinstance(summary, Version):
            template = summary
            size = sum(
                s.size or 0 for s in layout.spots if s.name in (template.major, template.minor)
            )
            plan["version"] = {
                "major": template.major,
                "minor": template.minor,
                "names": template.names,
                "size": size,
                "f_value": self._whole_value(f"{prefix}version"),
                "f_name": self.field(ProtoFieldSpec(f"{PROTOCOL}.{prefix}name", "name", "string")),
            }
        self.plans[key] = plan
        return key

    def _whole_value(self, name: str) -> Lua:
        """The registry's union-as-one-number field (``version.version``)."""
        entry = PROTOCOL_FIELDS[name]
        slot = entry.slots[0][1]
        return self._proto(entry, slot, _size(slot), None)

    def _derived(self, name: str, kind: str) -> Lua:
        """The ProtoField of one of the analysis registry's own fields (not a layer's)."""
        return self.field(
            ProtoFieldSpec(
                f"{PROTOCOL}.{name}", name.rsplit(".", 1)[-1], kind, blurb=FIELDS[name].description
            )
        )

    def _nested(self, cls: type, prefix: str, name: str, base: int | None) -> str:
        """The plan key of the structure field ``name`` of ``cls`` (already planned)."""
        spot = next(s for s in layout_of(cls).spots if s.name == name)
        here = None if base is None or spot.offset is None else base + spot.offset
        return self.layer(packet_class(spot.field), f"{prefix}{name}.", here)

    def _alternative(self, cls: type, name: str, fld: Field, length_of: dict) -> dict:
        """One form of a field whose type depends on others: the registry's slot ``name``.

        The form's value is kept under the layer's field name (``obj.data``),
        as the summaries read it.
        """
        entry, slot = self._slot(name, cls)
        if slot.kind != "bytes":
            spec: dict[str, Any] = {"n": fld.name, "k": "int", "size": slot.size, "add": "whole"}
            spec["f"] = self._proto(entry, slot, _size(slot), None)
            return spec
        return {
            "n": fld.name,
            "k": "bytes",
            "length": length_of[fld.name],
            "f": self.field(
                ProtoFieldSpec(entry.abbrev, fld.name, "bytes", blurb=entry.description)
            ),
        }

    # --- the whole plugin ------------------------------------------------------------------

    def lua(self) -> str:
        header = self.layer(DMHeader, "hdr.", 0)
        vmbus = self.layer(VMBusDescriptor, "vmbus.", 0)
        messages = {t: self.layer(cls, "", HEADER_SIZE) for t, cls in MESSAGE_LAYERS.items()}
        named = {
            "F_HDR": self._none(f"{PROTOCOL}.hdr", DMHeader().name),
            "F_VMBUS": self._none(f"{PROTOCOL}.vmbus", VMBusDescriptor().name),
            "F_DIRECTION": self.field(
                ProtoFieldSpec(f"{PROTOCOL}.direction", "direction", "string")
            ),
            "F_DIRECTION_SOURCE": self.field(
                ProtoFieldSpec(f"{PROTOCOL}.direction_source", "direction_source", "string")
            ),
            "F_TYPE_NAME": self.field(
                ProtoFieldSpec(f"{PROTOCOL}.type_name", "type_name", "string")
            ),
            "F_TRANSACTION": self._none(f"{PROTOCOL}.transaction", "transaction"),
            "F_EXPERT": self._none(f"{PROTOCOL}.expert", "expert"),
            "F_EXPERT_ID": self.field(ProtoFieldSpec(f"{PROTOCOL}.expert.id", "id", "string")),
            "F_EXPERT_GROUP": self.field(
                ProtoFieldSpec(f"{PROTOCOL}.expert.group", "group", "string")
            ),
            "F_EXPERT_SEVERITY": self.field(
                ProtoFieldSpec(f"{PROTOCOL}.expert.severity", "severity", "string")
            ),
            "F_EXPERT_MESSAGE": self.field(
                ProtoFieldSpec(f"{PROTOCOL}.expert.message", "message", "string")
            ),
            "F_EXPERT_FIELD": self._derived("expert.field", "string"),
            # The bytes the layers did not decode, named as dmdissect's registry names them.
            "F_TRAILING": self._derived("trailing", "bytes"),
            "F_CUT": self._derived("cut", "bytes"),
            "F_UNDECODED": self._derived("body", "bytes"),
            "F_VMBUS_TRAILING": self._derived("vmbus_trailing", "bytes"),
        }
        transaction = [
            {
                "key": name,
                "kind": kind,
                "f": self.field(
                    ProtoFieldSpec(
                        f"{PROTOCOL}.{name}",
                        name.split(".")[-1],
                        {"number": "uint32", "frame": "framenum", "bool": "bool"}.get(
                            kind, "string"
                        ),
                        "DEC" if kind == "number" else None,
                        blurb=blurb,
                    )
                ),
            }
            for name, kind, blurb in TRANSACTION_FIELDS
        ]
        # A frame link of a capture written with -Y counts the input's frames, not the
        # written ones: a plain number under a name of its own (input_request_frame), so it
        # never links to a wrong frame and one name keeps one type.
        for spec in transaction:
            if spec["kind"] == "frame":
                name = str(spec["key"])
                blurb = dict((n, b) for n, _, b in TRANSACTION_FIELDS)[name]
                stem, leaf = name.rsplit(".", 1)
                spec["f_input"] = self.field(
                    ProtoFieldSpec(
                        f"{PROTOCOL}.{stem}.input_{leaf}",
                        f"input_{leaf}",
                        "uint32",
                        "DEC",
                        blurb=blurb + " (a frame number of the input)",
                    )
                )
        constants = {
            "header_size": HEADER_SIZE,
            "header_first": layout_of(DMHeader).groups[0].size,
            "descriptor_size": DESCRIPTOR_SIZE,
            "vmbus_inband": VM_PKT_DATA_INBAND,
            "max_part_bytes": MAX_PART_BYTES,
            "pages_per_mib": PAGES_PER_MIB,
            "pages_per_mib_shift": PAGES_PER_MIB.bit_length() - 1,
            "guest_to_host": Direction.GUEST_TO_HOST.value,
            "host_to_guest": Direction.HOST_TO_GUEST.value,
            "protocol_column": PROTOCOL.upper(),
            "marker_magic": MARKER_MAGIC.replace("/", "%/").replace("-", "%-"),
            "comment_field": "frame.comment",
        }
        experts = "\n".join(
            f"EXPERTS[{lua(e.id)}] = {{e = ProtoExpert.new({lua(e.id)}, "
            f"{lua(e.summary)}, expert.group.{e.group}, expert.severity.{e.lua_severity}), "
            f"severity = {lua(e.severity)}, group = {lua(e.group.lower())}}}"
            for e in EXPERTS
        )
        by_severity = {e.severity: e.id for e in EXPERTS if e.id.startswith("hvdm.other.")}
        lines = [
            f"-- Hyper-V Dynamic Memory dissector, generated by dmdissect {__version__}.",
            "-- Generated from dmdissect's Scapy layers: regenerate with",
            "-- 'dmdissect wireshark --output FILE' rather than editing it.",
            "",
            'hvdm = Proto("hvdm", "Hyper-V Dynamic Memory")',
            "F = {}",
        ]
        lines += [f"{var} = {spec.lua()}" for spec, var in self.fields.items()]
        lines += [f"local {name} = {var}" for name, var in named.items()]
        lines.append("local EXPERTS = {}")
        lines.append(experts)
        lines.append(
            "local expert_list = {}\n"
            "for _, def in pairs(EXPERTS) do expert_list[#expert_list + 1] = def.e end\n"
            "hvdm.experts = expert_list\nhvdm.fields = F"
        )
        lines.append("local BY_SEVERITY = " + lua(by_severity))
        lines.append("local CHECK_IDS = " + lua(CHECKS))
        lines.append("local CONST = " + lua(constants))
        described = {
            key: {k: v for k, v in plan.items() if k not in ("groups", "summary")}
            for key, plan in self.plans.items()
        }
        lines.append("local LAYERS = " + lua(described))
        lines.append("local SUMMARY = {}")
        lines.append("local MESSAGES = " + lua(messages))
        lines.append("local MESSAGE_TYPES = " + lua(MESSAGE_TYPES))
        lines.append(
            "local SENDER = " + lua({int(t): s.direction.value for t, s in SENDER.items() if s})
        )
        lines.append("local VMBUS_TYPES = " + lua(VMBUS_PACKET_TYPES))
        lines.append(f"local HEADER = {lua(header)}")
        lines.append(f"local VMBUS = {lua(vmbus)}")
        lines.append("local TRANSACTION_FIELDS = " + lua(transaction))
        lines.append(
            "local LINKTYPE_CHOICES = "
            + lua([[f"USER{n}", f"USER{n} (DLT {147 + n})", n] for n in range(16)])
        )
        lines.append("")
        here = resources.files("dmdissect.wireshark")
        parts = ("runtime.lua", "dissect.lua", "register.lua")
        runtime, dissect, register = (here.joinpath(name).read_text() for name in parts)
        functions = "\n\n".join(layer_functions(key, self.plans) for key in self.plans)
        # The layer functions and the packet's dissection, made once per set of tree
        # functions (register.lua says which sets and why).
        build = (
            f"local function build({', '.join(TREE_PARAMETERS)})\n"
            "local DISSECT, ITEM = {}, {}\n"
            f"{functions}\n\n{dissect}\nreturn dissect\nend\n"
        )
        return "\n".join(lines) + "\n" + runtime + "\n" + build + "\n" + register


def plugin_source() -> str:
    """The whole Lua plugin as text."""
    return Generator().lua()
