"""The field registry against the C header (the ctypes oracle) and the JSON export.

Every scalar slot's offset, unit and mask must select exactly the bits the C
compiler gives that member: setting the member to all ones in a zeroed
ctypes struct must change exactly ``mask << 8*offset`` of the bytes.
"""

from __future__ import annotations

import ctypes

import oracle
import pytest

from dmdissect.analysis.registry import FIELDS, TimeReference, lookup
from dmdissect.layers.registry import (
    HEADER_SLOTS,
    PROTOCOL_FIELDS,
    VMBUS_SLOTS,
    message_slots,
    protocol_field,
)
from dmdissect.pipeline import messages_of
from dmdissect.sources import open_frames
from dmdissect.views.jsonout import message_object

SCALAR = {"uint", "bool", "enum", "flags"}


def _member(obj, name: str):
    """The ctypes object holding ``name``: looked up through anonymous union members."""
    if hasattr(type(obj), name):
        return obj
    for spec in type(obj)._fields_:
        inner = getattr(obj, spec[0])
        if isinstance(inner, (ctypes.Structure, ctypes.Union)):
            found = _member(inner, name)
            if found is not None:
                return found
    return None


def _set_ones(obj, path: str, bits: int) -> None:
    *parents, last = path.split(".")
    for part in parents:
        obj = getattr(_member(obj, part), part)
    setattr(_member(obj, last), last, (1 << bits) - 1)


def _changed_bits(cls, path: str, bits: int) -> int:
    zero = cls()
    ones = cls()
    _set_ones(ones, path, bits)
    return int.from_bytes(bytes(zero), "little") ^ int.from_bytes(bytes(ones), "little")


def _scalars(slots, optional: bool = False):
    """Scalar slots, through structures; ``optional`` picks those of optional structures."""
    for slot in slots:
        if slot.kind in SCALAR and not optional:
            yield slot
        elif slot.kind == "struct" and slot.optional == optional:
            yield from _scalars(slot.children)


def _slot_bits(slot) -> int:
    mask = slot.mask if slot.mask is not None else (1 << (8 * slot.size)) - 1
    return mask << (8 * slot.offset)


CASES = [
    (oracle.MESSAGE_STRUCTS[t], slot, slot.name)
    for t in range(15)
    for slot in _scalars(message_slots(t))
]
CASES += [(oracle.dm_header, slot, slot.name.split(".", 1)[1]) for slot in HEADER_SLOTS]
CASES += [(oracle.vmpacket_descriptor, slot, slot.name.split(".", 1)[1]) for slot in VMBUS_SLOTS]


@pytest.mark.parametrize(
    "cls, slot, path", CASES, ids=lambda c: getattr(c, "name", None) or getattr(c, "__name__", "")
)
def test_slot_selects_the_c_member(cls, slot, path):
    assert _changed_bits(cls, path, slot.bits) == _slot_bits(slot)


def test_list_items_select_the_c_members():
    for msg_type, item_cls in ((7, oracle.dm_mem_page_range), (12, oracle.dm_info_header)):
        (listed,) = [s for s in message_slots(msg_type) if s.kind == "list"]
        for slot in _scalars(listed.children):
            leaf = slot.name.rsplit(".", 1)[1]
            if slot.form is not None:
                # A typed form of the entry's data (C's flexible data[]): it starts there.
                assert slot.offset == getattr(item_cls, slot.form).offset, slot.name
                continue
            assert _changed_bits(item_cls, leaf, slot.bits) == _slot_bits(slot), slot.name


def test_optional_region_is_a_page_range_after_the_range():
    """The 24-byte hot-add form (not in the C header) appends one more page range."""
    (region,) = [s for s in message_slots(10) if s.optional]
    assert region.name == "region" and region.offset == oracle.ctypes.sizeof(oracle.dm_hot_add)
    for slot in _scalars(message_slots(10), optional=True):
        leaf = slot.name.rsplit(".", 1)[1]
        changed = _changed_bits(oracle.dm_mem_page_range, leaf, slot.bits)
        assert changed << (8 * region.offset) == _slot_bits(slot), slot.name


def test_every_c_member_has_a_slot():
    """Each fixed member after hdr is covered: no field of the header is left out."""
    for msg_type, cls in oracle.MESSAGE_STRUCTS.items():
        names = {s.name.split(".")[0] for s in message_slots(msg_type)}
        for name, _, _ in oracle.members(cls):
            assert name in names, (msg_type, name)


def test_page_range_is_one_word_with_two_masks():
    (ranges,) = [s for s in message_slots(7) if s.name == "range_array"]
    start, count = ranges.children
    assert (start.offset, start.size, start.mask, start.shift) == (0, 8, (1 << 40) - 1, 0)
    assert (count.offset, count.size, count.mask, count.shift) == (0, 8, ((1 << 24) - 1) << 40, 40)
    assert ranges.count_field == "range_count" and ranges.item_size == 8


def test_names_that_vary_say_so():
    reservedz = PROTOCOL_FIELDS["reservedz"]
    assert reservedz.varies and reservedz.widths == (31, 32, 61, 63)
    assert reservedz.messages == (1, 2, 4, 6, 7, 8, 14)
    assert PROTOCOL_FIELDS["range_count"].widths == (31, 32)
    assert not PROTOCOL_FIELDS["num_avail"].varies
    assert PROTOCOL_FIELDS["range_array.page_cnt"].repeated
    assert PROTOCOL_FIELDS["hdr.type"].values[7] == "DM_BALLOON_RESPONSE"
    assert PROTOCOL_FIELDS["qos_flags"].flags == {0: "LARGE", 1: "LOCAL"}
    assert PROTOCOL_FIELDS["version.version"].values[0x20000] == "WIN10"


def test_prefix_and_derived_names():
    assert protocol_field("hvdm.range_count") is PROTOCOL_FIELDS["range_count"]
    assert lookup("hvdm.transaction.kind") is FIELDS["transaction.kind"]
    for name in (
        "frame.number frame.time frame.time_relative frame.len frame.interface frame.comment "
        "frame.file direction type_name transaction.kind transaction.number transaction.role "
        "transaction.part transaction.request_frame transaction.final_frame "
        "transaction.complete expert.id expert.severity expert.message vmbus.len8"
    ).split():
        assert lookup(name) is not None, name
    assert lookup("no.such.field") is None


def _json_values(obj, path: list[str]) -> list:
    if obj is None:
        return []
    if isinstance(obj, list):
        return [v for item in obj for v in _json_values(item, path)]
    if not path:
        return [obj]
    if not isinstance(obj, dict):
        return []
    return _json_values(obj.get(path[0]), path[1:])


@pytest.mark.parametrize(
    "path",
    [
        "captures/linux-qemu.pcapng",
        "captures/windows-hyperv.pcapng",
        "captures/faulty.pcapng",
        "captures/linux-qemu-vmbus.pcapng",
    ],
)
def test_getters_agree_with_the_json(path):
    """Every protocol field's values equal what the JSON export holds at that path."""
    ref = TimeReference()
    for message in messages_of(open_frames(path)):
        ref.see(message)
        obj = message_object(message)
        for name, field in PROTOCOL_FIELDS.items():
            if field.kind in ("struct", "list"):
                continue
            got = FIELDS[name].get(message, ref)
            want = _json_values(obj, name.split("."))
            if field.kind == "bytes":
                want = [bytes.fromhex(v) if isinstance(v, str) else v for v in want]
            assert got == want, (message.frame.index, name)
        assert FIELDS["frame.number"].get(message, ref) == [obj["frame"]]
        assert FIELDS["transaction.kind"].get(message, ref) == [obj["transaction"]["kind"]]
        severities = [f["severity"] for f in obj["expert"]]
        assert FIELDS["expert.severity"].get(message, ref) == severities
