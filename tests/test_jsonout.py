"""The fast JSON export of fields equals the one built from the display walk."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dmdissect.analysis.dissect import dissect
from dmdissect.pipeline import dissected
from dmdissect.sources import open_frames
from dmdissect.sources.frame import Frame
from dmdissect.views.fields import as_dict, walk
from dmdissect.views.jsonfields import json_by_plan, json_fields, json_writer

CAPTURES = sorted((Path(__file__).resolve().parent.parent / "captures").glob("*.pcapng"))


def both_exports(message):
    """The fast export of each layer (body, and the VMBus descriptor of a framed
    message) is the walk's, on the compiled values and on Scapy's packets."""
    for body in (message.body, message.scapy_body, message.vmbus):
        if body is not None:
            assert json_fields(body) == as_dict(walk(body))
            assert list(json_fields(body)) == list(as_dict(walk(body)))
            assert json.dumps(json_fields(body)) == json.dumps(as_dict(walk(body)))


@pytest.mark.parametrize("path", CAPTURES, ids=[p.name for p in CAPTURES])
def test_every_message_of_the_shipped_captures(path):
    for message in dissected(open_frames(str(path))):
        both_exports(message)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 15), st.binary(max_size=96), st.booleans())
def test_random_messages(msg_type, body, lie):
    size = 8 + len(body) + (8 if lie else 0)
    data = struct.pack("<HHI", msg_type, size & 0xFFFF, 7) + body
    both_exports(dissect(Frame(1, data)))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 15), st.binary(max_size=64), st.integers(0, 0xFFFF), st.booleans())
def test_random_messages_behind_a_vmbus_descriptor(msg_type, body, flags, lie):
    data = struct.pack("<HHI", msg_type, (8 + len(body) + (8 if lie else 0)) & 0xFFFF, 7) + body
    data += b"\0" * (-len(data) % 8)
    framed = struct.pack("<HHHHQ", 6, 2, (16 + len(data)) // 8, flags, 99) + data
    fast, slow = dissect(Frame(1, framed)), dissect(Frame(1, framed), fast=False)
    assert type(slow.vmbus).__name__ == "VMBusDescriptor"
    both_exports(fast)
    both_exports(slow)


def test_a_vmbus_descriptor_exactly():
    data = struct.pack("<HHI", 5, 48, 1) + bytes(40)
    framed = struct.pack("<HHHHQ", 6, 2, (16 + len(data)) // 8, 1, 99) + data
    message = dissect(Frame(1, framed))
    assert type(message.vmbus).__name__ == "VMBusDescriptorValues"
    assert json_fields(message.vmbus) == {
        "type": 6,
        "type_name": "VM_PKT_DATA_INBAND",
        "offset8": 2,
        "len8": 8,
        "flags": 1,
        "trans_id": 99,
    }
    both_exports(message)


def test_a_hot_add_request_with_and_without_its_region_exactly():
    """The optional region is an object when the size announces it and absent (not
    null: the walk leaves it out) when it does not; both through the compiled writer."""
    assert json_writer("DMHotAddRequest") is not None
    ranged = struct.pack("<Q", 0x400000 | 512 << 40)
    region = struct.pack("<Q", 0x400000 | 1024 << 40)
    long_form = struct.pack("<HHI", 10, 24, 1) + ranged + region
    short_form = struct.pack("<HHI", 10, 16, 1) + ranged
    assert json_fields(dissect(Frame(1, long_form)).body) == {
        "range": {"start_page": 0x400000, "page_cnt": 512},
        "region": {"start_page": 0x400000, "page_cnt": 1024},
    }
    assert json_fields(dissect(Frame(1, short_form)).body) == {
        "range": {"start_page": 0x400000, "page_cnt": 512},
    }
    for data in (long_form, short_form):
        both_exports(dissect(Frame(1, data)))


def test_enum_flags_and_nested_values_exactly():
    data = struct.pack("<HHI", 13, 24, 1) + struct.pack("<IIII", 2, 4096, 3, 0)
    assert json_fields(dissect(Frame(1, data)).body) == {
        "virtual_node": 2,
        "page_count": 4096,
        "qos_flags": 3,
        "qos_flags_names": ["LARGE", "LOCAL"],
        "reservedZ": 0,
    }
    data = struct.pack("<HHI", 1, 16, 1) + struct.pack("<HHI", 0, 1, 1)
    assert json_fields(dissect(Frame(1, data)).body) == {
        "version": {"minor_version": 0, "major_version": 1, "version": 0x10000, "name": "WIN8"},
        "is_last_attempt": 1,
        "reservedz": 0,
    }


# --- the encoder --------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_encoded_json_is_ascii_and_means_what_the_standard_library_says(value):
    """Lone surrogates, characters past ASCII, integers past 64 bits: still valid ASCII JSON.

    The standard library's own encoding is the oracle for what the text means.
    """
    import json

    from dmdissect.views.jsonout import dumps_line

    text = dumps_line(value)
    assert text.isascii()
    assert "\n" not in text
    assert json.loads(text) == json.loads(json.dumps(value))


def test_a_comment_with_a_lone_surrogate_and_an_accent_stays_valid_json():
    import json

    from dmdissect.views.jsonout import dumps_line

    text = dumps_line({"comment": "caf\u00e9 \ud800 \u202e", "frame": 1})
    assert text == '{"comment":"caf\\u00e9 \\ud800 \\u202e","frame":1}'
    assert json.loads(text)["comment"] == "caf\u00e9 \ud800 \u202e"


def test_the_compiled_writer_exports_the_high_volume_messages_as_the_plan_does():
    """Status reports and balloon traffic go through the writer compiled from the plan,
    and it gives the very object the field-by-field plan gives, key order included."""
    from dmdissect.layers import MESSAGE_LAYERS

    assert all(json_writer(MESSAGE_LAYERS[t].__name__) is not None for t in (5, 6, 7, 8, 9))
    seen = set()
    for path in CAPTURES:
        for message in dissected(open_frames(str(path))):
            for body in (message.body, message.scapy_body):
                if body is None:
                    continue
                seen.add(message.type)
                fast, plan = json_fields(body), json_by_plan(body)
                assert fast == plan == as_dict(walk(body))
                assert json.dumps(fast) == json.dumps(plan)
    assert {5, 6, 7, 8, 9} <= seen


def test_a_balloon_part_of_510_ranges_exactly():
    """A long part's ranges, made in place by the part's compiled writer: each range's
    start and count as the bytes hold them, in order, as the walk exports them."""
    ranges = [(0x100000 + 1024 * i, 1 + i % 7) for i in range(510)]
    words = b"".join(struct.pack("<Q", start | count << 40) for start, count in ranges)
    data = struct.pack("<HHI", 7, 16 + len(words), 9) + struct.pack("<II", 0, 510 << 1 | 1)
    body = dissect(Frame(1, data + words)).body
    exported = json_fields(body)
    assert exported["range_array"] == [{"start_page": s, "page_cnt": c} for s, c in ranges]
    assert (exported["range_count"], exported["more_pages"]) == (510, 1)
    assert exported == as_dict(walk(body))
