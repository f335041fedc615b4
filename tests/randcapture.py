"""Random Dynamic Memory captures built from the C header, and field values read from JSON.

Shared by the display-filter and ``-T fields`` tests: messages come from the
ctypes oracle (never from dmdissect's layers), with random field values,
lying counts, cut bytes and trailing bytes; :func:`json_values` reads what a
field holds straight from a message's JSON object.
"""

from __future__ import annotations

import ctypes

import oracle
from hypothesis import strategies as st

from dmdissect.sources.frame import Frame
from dmdissect.vocabulary import Direction, DirectionSource

u32 = st.integers(0, 2**32 - 1)
small = st.integers(0, 20)


def _pack(obj) -> bytes:
    return bytes(obj)


@st.composite
def status(draw):
    obj = oracle.new(
        oracle.dm_status,
        trans_id=draw(u32),
        num_avail=draw(st.integers(0, 2**20)),
        num_committed=draw(st.integers(0, 2**20)),
    )
    return _pack(obj)


@st.composite
def balloon_request(draw):
    return _pack(oracle.new(oracle.dm_balloon, trans_id=draw(small), num_pages=draw(u32)))


@st.composite
def ranged(draw, cls):
    ranges = draw(
        st.lists(st.tuples(st.integers(0, 2**40 - 1), st.integers(0, 2**24 - 1)), max_size=5)
    )
    count = draw(st.one_of(st.just(len(ranges)), st.integers(0, 8)))
    base = ctypes.sizeof(cls)
    obj = oracle.new(cls, trans_id=draw(small), size=base + 8 * len(ranges))
    obj.range_count = count
    obj.more_pages = draw(st.integers(0, 1))
    return _pack(obj) + oracle.pack_ranges(ranges)


@st.composite
def version_request(draw):
    obj = oracle.new(oracle.dm_version_request, trans_id=draw(small))
    obj.version.major_version = draw(st.integers(0, 3))
    obj.version.minor_version = draw(st.integers(0, 3))
    return _pack(obj)


@st.composite
def capabilities(draw):
    obj = oracle.new(oracle.dm_capabilities, trans_id=draw(small), max_page_number=draw(u32))
    obj.caps.cap_bits.balloon = draw(st.integers(0, 1))
    obj.caps.cap_bits.hot_add = draw(st.integers(0, 1))
    return _pack(obj)


@st.composite
def info_message(draw):
    entries = draw(st.lists(st.binary(max_size=12), max_size=3))
    blob = b"".join(oracle.pack_info_entry(0, data) for data in entries)
    obj = oracle.new(
        oracle.dm_info_msg, trans_id=draw(small), size=ctypes.sizeof(oracle.dm_info_msg) + len(blob)
    )
    obj.info_size = len(blob)
    return _pack(obj) + blob


@st.composite
def message_bytes(draw):
    data = draw(
        st.one_of(
            status(),
            balloon_request(),
            ranged(oracle.dm_balloon_response),
            ranged(oracle.dm_unballoon_request),
            version_request(),
            capabilities(),
            info_message(),
            st.binary(min_size=0, max_size=24),
        )
    )
    change = draw(st.sampled_from(["none", "none", "cut", "trailing"]))
    if change == "cut" and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif change == "trailing":
        data += draw(st.binary(min_size=1, max_size=4))
    return data


@st.composite
def capture(draw):
    datas = draw(st.lists(message_bytes(), min_size=1, max_size=12))
    frames = []
    for index, data in enumerate(datas, 1):
        direction = draw(st.sampled_from([None, Direction.GUEST_TO_HOST, Direction.HOST_TO_GUEST]))
        frames.append(
            Frame(
                index,
                data,
                time=1000.0 + index * 0.5,
                direction=direction,
                direction_source=DirectionSource.CAPTURE if direction else "unknown",
                comment=draw(st.sampled_from([None, "fault: cut", "balloon: asks"])),
            )
        )
    return frames


def json_values(obj: dict, name: str, data: bytes) -> list:
    """What the field holds in one message, read straight from its JSON object."""
    special = {
        "frame.number": [obj["frame"]],
        "frame.len": [obj["length"]],
        "frame.comment": [obj["comment"]] if "comment" in obj else [],
        "type_name": [obj["type_name"]],
        "direction": [obj["direction"]] if obj["direction"] else [],
        "expert.severity": [e["severity"] for e in obj["expert"]],
        "expert.message": [e["message"] for e in obj["expert"]],
        "frame": [data] if data else [],
    }
    if name in special:
        return special[name]
    if name.startswith("transaction."):
        value = obj["transaction"].get(name.split(".", 1)[1])
        return [] if value is None else [value]
    node: list = [obj]
    for part in name.split("."):
        found = []
        for item in node:
            if isinstance(item, dict) and item.get(part) is not None:
                value = item[part]
                found.extend(value if isinstance(value, list) else [value])
        node = found
    return node
