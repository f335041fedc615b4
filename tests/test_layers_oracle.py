"""The Scapy layers checked against an independent ctypes oracle of dynmem-proto.h.

Every expected byte and value here comes from ``tests/oracle.py`` (ctypes
structures declared from the C header) or is written out by hand; nothing is
produced by the code under test.  Both directions are covered for every
message type 0..14 and every nested structure: Scapy build -> bytes equal the
oracle's, oracle bytes -> Scapy dissection -> every field equals the oracle's.
"""

from __future__ import annotations

import ctypes
import tracemalloc
from dataclasses import dataclass, field

import oracle as O
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.config import conf
from scapy.packet import NoPayload, Packet

from dmdissect.layers import (
    DMBalloonRequest,
    DMBalloonResponse,
    DMCapabilitiesReport,
    DMCapabilitiesResponse,
    DMCaps,
    DMError,
    DMHeader,
    DMHotAddRequest,
    DMHotAddResponse,
    DMHotRemoveRequest,
    DMHotRemoveResponse,
    DMInfoEntry,
    DMInfoMessage,
    DMMessage,
    DMPageRange,
    DMStatusReport,
    DMUnballoonRequest,
    DMUnballoonResponse,
    DMVersion,
    DMVersionRequest,
    DMVersionResponse,
    VMBusDescriptor,
)

# --------------------------------------------------------------------------------
# What each message holds: (Scapy path, C path in the oracle, bit width)
# --------------------------------------------------------------------------------


def F(path: str, bits: int, c_path: str | None = None) -> tuple[str, str, int]:
    return (path, c_path or path, bits)


@dataclass(frozen=True)
class Spec:
    msg_type: int
    layer: type
    struct: type
    fields: tuple[tuple[str, str, int], ...]
    tail: str | None = None  # "ranges", "region" or "info"


SPECS = {
    0: Spec(0, DMError, O.dm_message, ()),
    1: Spec(
        1,
        DMVersionRequest,
        O.dm_version_request,
        (
            F("version.minor_version", 16),
            F("version.major_version", 16),
            F("is_last_attempt", 1),
            F("reservedz", 31),
        ),
    ),
    2: Spec(2, DMVersionResponse, O.dm_version_response, (F("is_accepted", 1), F("reservedz", 63))),
    3: Spec(
        3,
        DMCapabilitiesReport,
        O.dm_capabilities,
        (
            F("caps.balloon", 1, "caps.cap_bits.balloon"),
            F("caps.hot_add", 1, "caps.cap_bits.hot_add"),
            F("caps.hot_add_alignment", 4, "caps.cap_bits.hot_add_alignment"),
            F("caps.hot_remove", 1, "caps.cap_bits.hot_remove"),
            F("caps.reservedz", 57, "caps.cap_bits.reservedz"),
            F("min_page_cnt", 64),
            F("max_page_number", 64),
        ),
    ),
    4: Spec(
        4,
        DMCapabilitiesResponse,
        O.dm_capabilities_resp_msg,
        (
            F("is_accepted", 1),
            F("hot_remove", 1),
            F("suppress_pressure_reports", 1),
            F("reservedz", 61),
        ),
    ),
    5: Spec(
        5,
        DMStatusReport,
        O.dm_status,
        (
            F("num_avail", 64),
            F("num_committed", 64),
            F("page_file_size", 64),
            F("zero_free", 64),
            F("page_file_writes", 32),
            F("io_diff", 32),
        ),
    ),
    6: Spec(6, DMBalloonRequest, O.dm_balloon, (F("num_pages", 32), F("reservedz", 32))),
    7: Spec(
        7,
        DMBalloonResponse,
        O.dm_balloon_response,
        (F("reservedz", 32), F("more_pages", 1)),
        tail="ranges",
    ),
    8: Spec(
        8,
        DMUnballoonRequest,
        O.dm_unballoon_request,
        (F("more_pages", 1), F("reservedz", 31)),
        tail="ranges",
    ),
    9: Spec(9, DMUnballoonResponse, O.dm_unballoon_response, ()),
    10: Spec(
        10,
        DMHotAddRequest,
        O.dm_hot_add,
        (
            F("range.start_page", 40, "range.finfo.start_page"),
            F("range.page_cnt", 24, "range.finfo.page_cnt"),
        ),
        tail="region",
    ),
    11: Spec(11, DMHotAddResponse, O.dm_hot_add_response, (F("page_count", 32), F("result", 32))),
    12: Spec(12, DMInfoMessage, O.dm_info_msg, (F("reserved", 32),), tail="info"),
    13: Spec(
        13,
        DMHotRemoveRequest,
        O.dm_hot_remove,
        (F("virtual_node", 32), F("page_count", 32), F("qos_flags", 32), F("reservedZ", 32)),
    ),
    14: Spec(
        14,
        DMHotRemoveResponse,
        O.dm_hot_remove_response,
        (F("result", 32), F("more_pages", 1), F("reservedz", 63)),
        tail="ranges",
    ),
}
ALL_TYPES = sorted(SPECS)
HEADER_ONLY = {0, 9}
NESTED = {"version": DMVersion, "caps": DMCaps, "range": DMPageRange, "region": DMPageRange}


def test_specs_cover_every_c_member():
    """The table above names every member of every C struct, at its C width."""
    for spec in SPECS.values():
        assert O.STRUCT_TYPES[spec.struct] == spec.msg_type
        lengths = {"ranges": {"range_count"}, "info": {"info_size"}}.get(spec.tail, set())
        tops = {path.partition(".")[0] for path, _, _ in spec.fields} | lengths
        assert tops == {name for name, _, _ in O.members(spec.struct)}, spec.layer.__name__
        length_bits = 31 if spec.msg_type == 7 else 32 if lengths else 0
        declared = sum(bits for _, _, bits in spec.fields) + length_bits
        assert declared == 8 * (ctypes.sizeof(spec.struct) - 8), spec.layer.__name__
        for _, c_path, bits in spec.fields:  # each width is the C width
            obj = spec.struct()
            O.set_path(obj, c_path, (1 << bits) - 1)
            assert O.get_path(obj, c_path) == (1 << bits) - 1
            O.set_path(obj, c_path, 1 << bits)  # one bit wider wraps to 0
            assert O.get_path(obj, c_path) == 0


# --------------------------------------------------------------------------------
# One message, built both ways
# --------------------------------------------------------------------------------


@dataclass
class Msg:
    msg_type: int
    trans_id: int = 0
    values: dict = field(default_factory=dict)
    ranges: list = field(default_factory=list)  # [(start_page, page_cnt)]
    region: tuple | None = None  # hot add only
    info: list = field(default_factory=list)  # [(type, data bytes)]


def oracle_bytes(m: Msg) -> bytes:
    """The message as the C structs lay it out (header size = real length)."""
    spec = SPECS[m.msg_type]
    tail = b""
    if spec.tail == "ranges":
        tail = O.pack_ranges(m.ranges)
    elif spec.tail == "region" and m.region is not None:
        tail = O.pack_range(*m.region)
    elif spec.tail == "info":
        tail = b"".join(O.pack_info_entry(t, d) for t, d in m.info)
    obj = O.new(spec.struct, trans_id=m.trans_id, size=ctypes.sizeof(spec.struct) + len(tail))
    for path, c_path, _ in spec.fields:
        O.set_path(obj, c_path, m.values.get(path, 0))
        assert O.get_path(obj, c_path) == m.values.get(path, 0), "value wider than the C field"
    if spec.tail == "ranges":
        obj.range_count = len(m.ranges)
    if spec.tail == "info":
        obj.info_size = len(tail)
    return bytes(obj) + tail


def scapy_info_entry(info_type: int, data: bytes) -> DMInfoEntry:
    if info_type == 0 and len(data) == 8:
        return DMInfoEntry(type=0, data=int.from_bytes(data, "little"))
    if info_type == 0:  # a u64 unless told otherwise
        return DMInfoEntry(type=0, data_size=len(data), data=data)
    return DMInfoEntry(type=info_type, data=data)


def scapy_message(m: Msg) -> Packet:
    """The message built with the layers, every length left to auto-fill."""
    spec = SPECS[m.msg_type]
    kwargs: dict = {}
    for path, _, _ in spec.fields:
        head, _, rest = path.partition(".")
        if rest:
            kwargs.setdefault(head, {})[rest] = m.values.get(path, 0)
        else:
            kwargs[head] = m.values.get(path, 0)
    for name, value in list(kwargs.items()):
        if isinstance(value, dict):
            kwargs[name] = NESTED[name](**value)
    if spec.tail == "ranges":
        kwargs["range_array"] = [DMPageRange(start_page=s, page_cnt=c) for s, c in m.ranges]
    elif spec.tail == "region" and m.region is not None:
        kwargs["region"] = DMPageRange(start_page=m.region[0], page_cnt=m.region[1])
    elif spec.tail == "info":
        kwargs["info"] = [scapy_info_entry(t, d) for t, d in m.info]
    return DMHeader(trans_id=m.trans_id) / spec.layer(**kwargs)


def entry_tuple(entry: DMInfoEntry) -> tuple[int, int, bytes]:
    data = entry.data
    if isinstance(data, int):
        assert entry.type == 0 and entry.data_size == 8, "only MAX_PAGE_CNT/8 is a u64"
        data = data.to_bytes(8, "little")
    return entry.type, entry.data_size, bytes(data)


def check_dissection(
    data: bytes, msg_type: int, hdr: DMHeader | None = None, padding: bytes = b""
) -> DMHeader:
    """Dissect complete oracle bytes; compare every field with the oracle's reading.

    ``hdr`` is the header layer when the message was dissected inside another
    layer, followed by ``padding``.
    """
    spec = SPECS[msg_type]
    fixed = ctypes.sizeof(spec.struct)
    obj = O.parse(spec.struct, data)
    if hdr is None:
        hdr = DMHeader(data + padding)
    assert hdr.missing == ()
    assert (hdr.type, hdr.size, hdr.trans_id) == (obj.hdr.type, obj.hdr.size, obj.hdr.trans_id)
    assert hdr.type == msg_type and hdr.size == len(data)
    msg = hdr.payload
    assert type(msg) is spec.layer
    assert msg.missing == ()
    for path, c_path, _ in spec.fields:
        assert int(O.get_path(msg, path)) == O.get_path(obj, c_path), path
    for name in NESTED:
        if spec.tail == "region" and name == "region":
            continue
        if name in msg.fields:
            assert msg.fields[name].missing == ()
    if msg_type == 1:
        assert msg.version.version == obj.version.version
    if spec.tail == "ranges":
        assert msg.range_count == obj.range_count
        assert [(r.start_page, r.page_cnt) for r in msg.range_array] == O.parse_ranges(data[fixed:])
    elif spec.tail == "region":
        if len(data) == 24:
            region = msg.region
            assert region is not None and region.missing == ()
            assert (region.start_page, region.page_cnt) == O.unpack_range(data[16:24])
        else:
            assert msg.region is None
        assert (msg.range.start_page, msg.range.page_cnt) == (
            obj.range.finfo.start_page,
            obj.range.finfo.page_cnt,
        )
        assert msg.range.page_cnt << 40 | msg.range.start_page == obj.range.page_range
    elif spec.tail == "info":
        assert msg.info_size == obj.info_size
        assert [entry_tuple(e) for e in msg.info] == O.parse_info_entries(data[fixed:])
        assert all(e.missing == () for e in msg.info)
    if padding:
        assert bytes(msg.payload) == padding
    else:
        assert isinstance(msg.payload, NoPayload), "bytes left over"
    assert bytes(hdr) == data + padding
    return hdr


def both_ways(m: Msg) -> bytes:
    expected = oracle_bytes(m)
    built = bytes(scapy_message(m))
    assert built == expected, f"\nbuilt  {built.hex()}\noracle {expected.hex()}"
    check_dissection(expected, m.msg_type)
    return expected


# --------------------------------------------------------------------------------
# 1 + 2: fixed values, every type, both directions
# --------------------------------------------------------------------------------


def _pattern(bits: int, salt: int) -> int:
    """A value that differs in every byte and uses the top bit of the field."""
    raw = int.from_bytes(bytes((0x11 * (i + 1) + salt * 0x0D) & 0xFF for i in range(8)), "little")
    return (raw | 1 << (bits - 1)) & ((1 << bits) - 1)


def _values(msg_type: int, how: str) -> dict:
    out = {}
    for salt, (path, _, bits) in enumerate(SPECS[msg_type].fields):
        out[path] = {"zero": 0, "ones": (1 << bits) - 1, "pattern": _pattern(bits, salt)}[how]
    return out


_SAMPLE_RANGES = [(0x0123456789, 0xABCDEF), ((1 << 40) - 1, (1 << 24) - 1), (0, 1)]
_SAMPLE_INFO = [(0, (0x0102030405060708).to_bytes(8, "little")), (0xDEADBEEF, b"xyz")]


@pytest.mark.parametrize("how", ["zero", "ones", "pattern"])
@pytest.mark.parametrize("msg_type", ALL_TYPES)
def test_fixed_values_both_ways(msg_type, how):
    m = Msg(
        msg_type,
        trans_id={"zero": 0, "ones": 0xFFFFFFFF, "pattern": 0x89ABCDEF}[how],
        values=_values(msg_type, how),
    )
    spec = SPECS[msg_type]
    if spec.tail == "ranges":
        m.ranges = [] if how == "zero" else _SAMPLE_RANGES
    elif spec.tail == "region":
        m.region = None if how == "zero" else _SAMPLE_RANGES[1 if how == "ones" else 0]
    elif spec.tail == "info":
        m.info = [] if how == "zero" else _SAMPLE_INFO
    both_ways(m)


@pytest.mark.parametrize("msg_type", [t for t in ALL_TYPES if SPECS[t].fields])
def test_walking_one_bit_both_ways(msg_type):
    """Each single bit of each field lands on the C bit, and is read back from it."""
    spec = SPECS[msg_type]
    checked = 0
    for path, _, bits in spec.fields:
        for bit in range(bits):
            both_ways(Msg(msg_type, trans_id=1 << (bit % 32), values={path: 1 << bit}))
            checked += 1
    assert checked == sum(bits for _, _, bits in spec.fields)


@pytest.mark.parametrize(
    "cls, fields",
    [
        (DMVersion, [("minor_version", 16), ("major_version", 16)]),
        (
            DMCaps,
            [
                ("balloon", 1),
                ("hot_add", 1),
                ("hot_add_alignment", 4),
                ("hot_remove", 1),
                ("reservedz", 57),
            ],
        ),
        (DMPageRange, [("start_page", 40), ("page_cnt", 24)]),
        (DMInfoEntry, [("type", 32)]),
    ],
)
def test_nested_structures_walking_one(cls, fields):
    """The nested unions on their own: every bit both ways against the oracle union."""
    c_cls, prefix = {
        DMVersion: (O.dm_version, ""),
        DMCaps: (O.dm_caps, "cap_bits."),
        DMPageRange: (O.dm_mem_page_range, "finfo."),
        DMInfoEntry: (O.dm_info_header, ""),
    }[cls]
    for name, bits in fields:
        for bit in range(bits):
            obj = c_cls()
            O.set_path(obj, prefix + name, 1 << bit)
            expected = bytes(obj)
            kwargs = {name: 1 << bit}
            if cls is DMInfoEntry:
                kwargs["data"] = b""
                expected = O.pack_info_entry(1 << bit, b"")
            assert bytes(cls(**kwargs)) == expected, (name, bit)
            back = cls(expected)
            assert back.missing == ()
            assert getattr(back, name) == 1 << bit
            assert all(getattr(back, other) == 0 for other, _ in fields if other != name)


def test_nested_union_views():
    """The whole-word views of the unions agree with the bit views."""
    v = O.dm_version()
    v.version = 0x00020000
    assert (v.major_version, v.minor_version) == (2, 0)
    assert DMVersion(bytes(v)).version == 0x00020000
    assert DMVersion(major_version=1, minor_version=0).version == O.DYNMEM_PROTOCOL_VERSION_WIN8
    r = O.dm_mem_page_range()
    r.page_range = 0xFEDCBA9876543210
    got = DMPageRange(bytes(r))
    assert (got.start_page, got.page_cnt) == (r.finfo.start_page, r.finfo.page_cnt)
    assert (got.start_page, got.page_cnt) == (0x9876543210, 0xFEDCBA)
    c = O.dm_caps()
    c.caps = 0xFFFFFFFFFFFFFF80 | 0x41  # balloon, hot_remove, reservedz all ones
    got = DMCaps(bytes(c))
    assert (got.balloon, got.hot_add, got.hot_add_alignment, got.hot_remove, got.reservedz) == (
        1,
        0,
        0,
        1,
        (1 << 57) - 1,
    )


# --------------------------------------------------------------------------------
# 3: hypothesis, random values at full width, both directions
# --------------------------------------------------------------------------------

u32s = st.integers(0, 0xFFFFFFFF)
page_ranges = st.tuples(st.integers(0, (1 << 40) - 1), st.integers(0, (1 << 24) - 1))
info_entries = st.lists(
    st.one_of(
        st.tuples(st.just(0), st.binary(min_size=8, max_size=8)),  # MAX_PAGE_CNT u64
        st.tuples(u32s, st.binary(max_size=24)),
    ),
    max_size=4,
)


@st.composite
def messages(draw, msg_type: int) -> Msg:
    spec = SPECS[msg_type]
    m = Msg(msg_type, trans_id=draw(u32s))
    m.values = {path: draw(st.integers(0, (1 << bits) - 1)) for path, _, bits in spec.fields}
    if spec.tail == "ranges":
        m.ranges = draw(st.lists(page_ranges, max_size=20))
    elif spec.tail == "region":
        m.region = draw(st.none() | page_ranges)
    elif spec.tail == "info":
        m.info = draw(info_entries)
    return m


PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("msg_type", ALL_TYPES)
@PROPERTY
@given(data=st.data())
def test_random_build_equals_oracle(msg_type, data):
    m = data.draw(messages(msg_type))
    expected = oracle_bytes(m)
    assert bytes(scapy_message(m)) == expected


@pytest.mark.parametrize("msg_type", ALL_TYPES)
@PROPERTY
@given(data=st.data())
def test_random_oracle_bytes_dissect(msg_type, data):
    m = data.draw(messages(msg_type))
    check_dissection(oracle_bytes(m), msg_type)


@PROPERTY
@given(
    data=st.data(),
    msg_type=st.sampled_from(ALL_TYPES),
    vmbus_id=st.integers(0, (1 << 64) - 1),
    flags=st.integers(0, 0xFFFF),
)
def test_random_vmbus_wrapped(data, msg_type, vmbus_id, flags):
    m = data.draw(messages(msg_type))
    body = oracle_bytes(m)
    desc = O.vmpacket_descriptor(
        type=6, offset8=2, len8=(16 + len(body) + 7) // 8, flags=flags, trans_id=vmbus_id
    )
    expected = bytes(desc) + body + b"\0" * (-len(body) % 8)
    built = bytes(VMBusDescriptor(flags=flags, trans_id=vmbus_id) / scapy_message(m))
    assert built == expected
    got = VMBusDescriptor(expected)
    assert got.missing == ()
    assert (got.type, got.offset8, got.len8, got.flags, got.trans_id) == (
        desc.type,
        desc.offset8,
        desc.len8,
        desc.flags,
        desc.trans_id,
    )
    assert isinstance(got.payload, DMHeader)
    check_dissection(body, msg_type, hdr=got.payload, padding=b"\0" * (-len(body) % 8))
    assert bytes(got) == expected


# --------------------------------------------------------------------------------
# 4: real-world messages, bytes written out by hand
# --------------------------------------------------------------------------------


def H(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", "").replace("|", ""))


REAL_WORLD = {
    # Linux VERSION_REQUEST, first offer: WIN10 (2.0), not the last attempt, trans_id 1.
    "linux_version_win10": (
        H("01 00 10 00 01 00 00 00 | 00 00 02 00 | 00 00 00 00"),
        Msg(1, 1, {"version.minor_version": 0, "version.major_version": 2, "is_last_attempt": 0}),
    ),
    # ... then WIN8 (1.0), then WIN7 (0.3) as the last attempt.
    "linux_version_win8": (
        H("01 00 10 00 02 00 00 00 | 00 00 01 00 | 00 00 00 00"),
        Msg(1, 2, {"version.minor_version": 0, "version.major_version": 1}),
    ),
    "linux_version_win7_last": (
        H("01 00 10 00 03 00 00 00 | 03 00 00 00 | 01 00 00 00"),
        Msg(1, 3, {"version.minor_version": 3, "version.major_version": 0, "is_last_attempt": 1}),
    ),
    # QEMU accepts and echoes the trans_id.
    "qemu_version_accepted": (
        H("02 00 10 00 01 00 00 00 | 01 00 00 00 00 00 00 00"),
        Msg(2, 1, {"is_accepted": 1}),
    ),
    # Linux caps: balloon=1, hot_add=1, hot_add_alignment=7 (128 MiB), min 0, max all ones.
    "linux_caps": (
        H(
            "03 00 20 00 02 00 00 00 | 1f 00 00 00 00 00 00 00 | 00 00 00 00 00 00 00 00"
            "| ff ff ff ff ff ff ff ff"
        ),
        Msg(
            3,
            2,
            {
                "caps.balloon": 1,
                "caps.hot_add": 1,
                "caps.hot_add_alignment": 7,
                "min_page_cnt": 0,
                "max_page_number": 0xFFFFFFFFFFFFFFFF,
            },
        ),
    ),
    # Linux on arm64: no hot add.
    "linux_arm64_caps": (
        H(
            "03 00 20 00 02 00 00 00 | 1d 00 00 00 00 00 00 00 | 00 00 00 00 00 00 00 00"
            "| ff ff ff ff ff ff ff ff"
        ),
        Msg(
            3,
            2,
            {
                "caps.balloon": 1,
                "caps.hot_add": 0,
                "caps.hot_add_alignment": 7,
                "max_page_number": 0xFFFFFFFFFFFFFFFF,
            },
        ),
    ),
    # QEMU caps response: accepted, hot_remove, suppress_pressure_reports.
    "qemu_caps_response": (
        H("04 00 10 00 02 00 00 00 | 07 00 00 00 00 00 00 00"),
        Msg(4, 2, {"is_accepted": 1, "hot_remove": 1, "suppress_pressure_reports": 1}),
    ),
    # Linux status: only num_avail (1000 MiB) and num_committed (512 MiB) are filled.
    "linux_status": (
        H(
            "05 00 30 00 07 00 00 00 | 00 e8 03 00 00 00 00 00 | 00 00 02 00 00 00 00 00"
            "| 00 00 00 00 00 00 00 00 | 00 00 00 00 00 00 00 00 | 00 00 00 00 | 00 00 00 00"
        ),
        Msg(5, 7, {"num_avail": 256000, "num_committed": 131072}),
    ),
    # Balloon request at the Windows limit: 585,728 pages.
    "balloon_request_585728": (
        H("06 00 10 00 03 00 00 00 | 00 f0 08 00 | 00 00 00 00"),
        Msg(6, 3, {"num_pages": 585728}),
    ),
    # Linux balloon response: 3 ranges of 512 pages (2 MiB), last part.
    "linux_balloon_3x512": (
        H(
            "07 00 28 00 0b 00 00 00 | 00 00 00 00 | 06 00 00 00"
            "| 00 22 01 00 00 00 02 00 | 00 24 01 00 00 00 02 00"
            "| 00 26 01 00 00 00 02 00"
        ),
        Msg(7, 11, {"more_pages": 0}, ranges=[(0x12200, 512), (0x12400, 512), (0x12600, 512)]),
    ),
    # ... a part with more to follow.
    "linux_balloon_more": (
        H("07 00 18 00 0c 00 00 00 | 00 00 00 00 | 03 00 00 00| 00 00 10 00 00 00 02 00"),
        Msg(7, 12, {"more_pages": 1}, ranges=[(0x100000, 512)]),
    ),
    # Guest at its floor: no ranges, last part.
    "balloon_floor": (H("07 00 10 00 0d 00 00 00 | 00 00 00 00 | 00 00 00 00"), Msg(7, 13)),
    # QEMU unballoon part: one range of 524288 pages, more_pages=1.
    "qemu_unballoon_part": (
        H("08 00 18 00 04 00 00 00 | 01 00 00 00 | 01 00 00 00| 00 00 20 00 00 00 00 08"),
        Msg(8, 4, {"more_pages": 1}, ranges=[(0x200000, 0x80000)]),
    ),
    "unballoon_response": (H("09 00 08 00 0e 00 00 00"), Msg(9, 14)),
    # QEMU hot add: always 24 bytes, range then region.
    "qemu_hot_add_24": (
        H("0a 00 18 00 05 00 00 00 | 00 00 14 00 00 00 00 04 | 00 00 14 00 00 00 00 08"),
        Msg(
            10,
            5,
            {"range.start_page": 0x140000, "range.page_cnt": 0x40000},
            region=(0x140000, 0x80000),
        ),
    ),
    "hot_add_16": (
        H("0a 00 10 00 06 00 00 00 | 00 00 14 00 00 00 00 04"),
        Msg(10, 6, {"range.start_page": 0x140000, "range.page_cnt": 0x40000}),
    ),
    # Hot add permanent failure: result=1 with page_count=0; transient: result=0.
    "hot_add_stop_asking": (
        H("0b 00 10 00 0f 00 00 00 | 00 00 00 00 | 01 00 00 00"),
        Msg(11, 15, {"page_count": 0, "result": 1}),
    ),
    "hot_add_transient": (
        H("0b 00 10 00 12 00 00 00 | 00 00 00 00 | 00 00 00 00"),
        Msg(11, 18, {"page_count": 0, "result": 0}),
    ),
    "hot_add_ok": (
        H("0b 00 10 00 10 00 00 00 | 00 00 04 00 | 01 00 00 00"),
        Msg(11, 16, {"page_count": 0x40000, "result": 1}),
    ),
    # Hyper-V info message: one MAX_PAGE_CNT entry, u64 of 0x100000 pages (4 GiB).
    "hyperv_info_max_page_cnt": (
        H(
            "0c 00 20 00 00 00 00 00 | 00 00 00 00 | 10 00 00 00"
            "| 00 00 00 00 | 08 00 00 00 | 00 00 10 00 00 00 00 00"
        ),
        Msg(12, 0, {"reserved": 0}, info=[(0, (0x100000).to_bytes(8, "little"))]),
    ),
    # Hot remove, LARGE|LOCAL, 1 GiB from node 1.
    "hot_remove_request": (
        H("0d 00 18 00 08 00 00 00 | 01 00 00 00 | 00 00 04 00 | 03 00 00 00| 00 00 00 00"),
        Msg(13, 8, {"virtual_node": 1, "page_count": 0x40000, "qos_flags": 3}),
    ),
    "hot_remove_response": (
        H(
            "0e 00 28 00 11 00 00 00 | 01 00 00 00 | 02 00 00 00"
            "| 01 00 00 00 00 00 00 00 | 00 00 20 00 00 00 02 00"
            "| 00 02 20 00 00 00 02 00"
        ),
        Msg(14, 17, {"result": 1, "more_pages": 1}, ranges=[(0x200000, 512), (0x200200, 512)]),
    ),
    "error": (H("00 00 08 00 09 00 00 00"), Msg(0, 9)),
}


@pytest.mark.parametrize("name", sorted(REAL_WORLD))
def test_real_world_message(name):
    raw, m = REAL_WORLD[name]
    assert oracle_bytes(m) == raw, "the oracle disagrees with the hand-written bytes"
    assert bytes(scapy_message(m)) == raw
    check_dissection(raw, m.msg_type)


def test_real_world_values_by_hand():
    """Spot values read off the hand-written bytes, without the oracle."""
    caps = DMHeader(REAL_WORLD["linux_caps"][0])[DMCapabilitiesReport]
    assert (
        caps.caps.balloon,
        caps.caps.hot_add,
        caps.caps.hot_add_alignment,
        caps.caps.hot_remove,
        caps.caps.reservedz,
    ) == (1, 1, 7, 0, 0)
    assert (caps.min_page_cnt, caps.max_page_number) == (0, 0xFFFFFFFFFFFFFFFF)
    req = DMHeader(REAL_WORLD["linux_version_win10"][0])[DMVersionRequest]
    assert (req.version.version, req.is_last_attempt, req.reservedz) == (0x00020000, 0, 0)
    req = DMHeader(REAL_WORLD["linux_version_win7_last"][0])[DMVersionRequest]
    assert (req.version.version, req.is_last_attempt) == (0x00000003, 1)
    hdr = DMHeader(REAL_WORLD["qemu_hot_add_24"][0])
    assert hdr.size == 24
    hot = hdr[DMHotAddRequest]
    assert (hot.range.start_page, hot.range.page_cnt) == (0x140000, 0x40000)
    assert (hot.region.start_page, hot.region.page_cnt) == (0x140000, 0x80000)
    assert DMHeader(REAL_WORLD["hot_add_16"][0])[DMHotAddRequest].region is None
    info = DMHeader(REAL_WORLD["hyperv_info_max_page_cnt"][0])[DMInfoMessage]
    assert info.info_size == 16 and len(info.info) == 1
    assert (info.info[0].type, info.info[0].data_size, info.info[0].data) == (0, 8, 0x100000)
    bal = DMHeader(REAL_WORLD["linux_balloon_3x512"][0])[DMBalloonResponse]
    assert (bal.reservedz, bal.more_pages, bal.range_count) == (0, 0, 3)
    assert [(r.start_page, r.page_cnt) for r in bal.range_array] == [
        (0x12200, 512),
        (0x12400, 512),
        (0x12600, 512),
    ]
    more = DMHeader(REAL_WORLD["linux_balloon_more"][0])[DMBalloonResponse]
    assert (more.more_pages, more.range_count) == (1, 1)
    unb = DMHeader(REAL_WORLD["qemu_unballoon_part"][0])[DMUnballoonRequest]
    assert (unb.more_pages, unb.reservedz, unb.range_count) == (1, 0, 1)
    assert (unb.range_array[0].start_page, unb.range_array[0].page_cnt) == (0x200000, 524288)
    rem = DMHeader(REAL_WORLD["hot_remove_request"][0])[DMHotRemoveRequest]
    assert int(rem.qos_flags) == O.DM_REMOVE_QOS_LARGE | O.DM_REMOVE_QOS_LOCAL
    assert rem.qos_flags.LARGE and rem.qos_flags.LOCAL


# The 56-byte balloon response of hex-formats.md: the first 16 bytes, and the 30 of `xxd -p`.
HEX_FORMATS_16 = H("07 00 38 00 28 e3 01 d2 31 32 49 7e 0a 00 00 00")
HEX_FORMATS_30 = H("0700380028e301d23132497e0a000000901c4b077c6ec54e0e484e5706de")


def test_hex_formats_balloon_response_first_16_bytes():
    hdr = DMHeader(HEX_FORMATS_16)
    assert hdr.missing == ()
    assert (hdr.type, hdr.size, hdr.trans_id) == (7, 0x38, 0xD201E328)
    msg = hdr.payload
    assert type(msg) is DMBalloonResponse
    assert msg.missing == ()
    # word at 8: 0x7e493231; word at 12: 0x0000000a = range_count 5 << 1 | more_pages 0
    assert (msg.reservedz, msg.more_pages, msg.range_count) == (0x7E493231, 0, 5)
    assert msg.range_array == []  # claims 5 ranges, the bytes hold none
    obj = O.parse(O.dm_balloon_response, HEX_FORMATS_16)
    assert (obj.hdr.type, obj.hdr.size, obj.hdr.trans_id) == (7, 56, 0xD201E328)
    assert (obj.reservedz, obj.more_pages, obj.range_count) == (0x7E493231, 0, 5)
    assert 16 + 8 * obj.range_count == obj.hdr.size


def test_hex_formats_balloon_response_30_bytes():
    msg = DMHeader(HEX_FORMATS_30)[DMBalloonResponse]
    assert msg.range_count == 5
    # one whole range (bytes 16..23), 6 bytes of the next are not a range
    assert [(r.start_page, r.page_cnt) for r in msg.range_array] == [(0x7C074B1C90, 0x4EC56E)]
    assert O.parse_ranges(HEX_FORMATS_30[16:]) == [(0x7C074B1C90, 0x4EC56E)]


def test_buggy_guest_size_16_with_ranges():
    """A guest that sends hdr.size=16 on a response with ranges: bytes decode anyway."""
    raw = H(
        "07 00 10 00 21 00 00 00 | 00 00 00 00 | 04 00 00 00"
        "| 00 22 01 00 00 00 02 00 | 00 24 01 00 00 00 02 00"
    )
    obj = O.new(O.dm_balloon_response, 0x21, size=16, range_count=2)
    assert bytes(obj) + O.pack_ranges([(0x12200, 512), (0x12400, 512)]) == raw
    built = DMHeader(trans_id=0x21, size=16) / DMBalloonResponse(
        range_array=[
            DMPageRange(start_page=0x12200, page_cnt=512),
            DMPageRange(start_page=0x12400, page_cnt=512),
        ]
    )
    assert bytes(built) == raw
    hdr = DMHeader(raw)
    assert hdr.size == 16
    msg = hdr[DMBalloonResponse]
    assert msg.range_count == 2
    assert [(r.start_page, r.page_cnt) for r in msg.range_array] == [(0x12200, 512), (0x12400, 512)]


def test_unballoon_response_sent_as_type_7():
    """A guest sends the 8-byte unballoon response with type 7: a truncated balloon response."""
    hdr = DMHeader(H("07 00 08 00 05 00 00 00"))
    assert (hdr.type, hdr.size, hdr.trans_id) == (7, 8, 5)
    assert hdr.missing == ()
    msg = hdr.payload  # nothing of a balloon response is made up
    assert isinstance(msg, NoPayload) or msg.missing == (
        "reservedz",
        "more_pages",
        "range_count",
        "range_array",
    )


def test_vmbus_real_world():
    """QEMU's VMBus packet copying the DM trans_id, around a 24-byte hot add."""
    body = REAL_WORLD["qemu_hot_add_24"][0]
    raw = H("06 00 02 00 05 00 00 00 | 05 00 00 00 00 00 00 00") + body
    desc = O.vmpacket_descriptor(type=6, offset8=2, len8=5, flags=0, trans_id=5)
    assert bytes(desc) + body == raw
    assert (
        bytes(VMBusDescriptor(trans_id=5) / scapy_message(REAL_WORLD["qemu_hot_add_24"][1])) == raw
    )
    got = VMBusDescriptor(raw)
    assert (got.type, got.offset8, got.len8, got.flags, got.trans_id) == (6, 2, 5, 0, 5)
    hot = got[DMHotAddRequest]
    assert (hot.region.start_page, hot.region.page_cnt) == (0x140000, 0x80000)


# --------------------------------------------------------------------------------
# 5: auto-filled lengths
# --------------------------------------------------------------------------------


@pytest.mark.parametrize("msg_type", ALL_TYPES)
def test_type_and_size_autofill(msg_type):
    spec = SPECS[msg_type]
    raw = bytes(DMHeader() / spec.layer())
    assert len(raw) == ctypes.sizeof(spec.struct) == O.C_SIZES[spec.struct]
    hdr = O.parse(O.dm_header, raw)
    assert (hdr.type, hdr.size, hdr.trans_id) == (msg_type, ctypes.sizeof(spec.struct), 0)
    assert raw[8:] == bytes(ctypes.sizeof(spec.struct) - 8)


@pytest.mark.parametrize(
    "layer, c_struct, count_bits",
    [
        (DMBalloonResponse, O.dm_balloon_response, 31),
        (DMUnballoonRequest, O.dm_unballoon_request, 32),
        (DMHotRemoveResponse, O.dm_hot_remove_response, 32),
    ],
)
@pytest.mark.parametrize("n", [0, 1, 2, 7, 20, 510])
def test_range_count_autofill(layer, c_struct, count_bits, n):
    ranges = [(i * 512, 512) for i in range(n)]
    raw = bytes(
        DMHeader(trans_id=3)
        / layer(
            more_pages=1, range_array=[DMPageRange(start_page=s, page_cnt=c) for s, c in ranges]
        )
    )
    obj = O.new(c_struct, 3, size=ctypes.sizeof(c_struct) + 8 * n, range_count=n, more_pages=1)
    assert raw == bytes(obj) + O.pack_ranges(ranges)
    assert O.parse(c_struct, raw).range_count == n


@pytest.mark.parametrize(
    "layer, c_struct, claimed",
    [
        (DMBalloonResponse, O.dm_balloon_response, (1 << 31) - 1),
        (DMUnballoonRequest, O.dm_unballoon_request, 0xFFFFFFFF),
        (DMHotRemoveResponse, O.dm_hot_remove_response, 0xFFFFFFFF),
        (DMBalloonResponse, O.dm_balloon_response, 0),
    ],
)
def test_range_count_explicit_is_kept(layer, c_struct, claimed):
    ranges = [(0x1000, 512), (0x2000, 512)]
    raw = bytes(
        DMHeader(trans_id=4)
        / layer(
            range_count=claimed,
            more_pages=1,
            range_array=[DMPageRange(start_page=s, page_cnt=c) for s, c in ranges],
        )
    )
    obj = O.new(c_struct, 4, size=ctypes.sizeof(c_struct) + 16, range_count=claimed, more_pages=1)
    assert raw == bytes(obj) + O.pack_ranges(ranges)


def test_balloon_range_count_31_bits_does_not_touch_more_pages():
    raw = bytes(DMHeader() / DMBalloonResponse(range_count=(1 << 31) - 1, more_pages=0))
    assert raw[12:16] == H("fe ff ff ff")
    raw = bytes(DMHeader() / DMBalloonResponse(range_count=0, more_pages=1))
    assert raw[12:16] == H("01 00 00 00")


@pytest.mark.parametrize("sizes", [[], [0], [8], [3], [8, 0, 5], [1, 2, 3, 4, 5, 6, 7]])
def test_info_size_and_data_size_autofill(sizes):
    entries = [
        (0, bytes(range(1, 9))) if s == 8 and i == 0 else (i + 1, bytes([0xA0 + i]) * s)
        for i, s in enumerate(sizes)
    ]
    m = Msg(12, 0x77, {"reserved": 0}, info=entries)
    raw = both_ways(m)
    obj = O.parse(O.dm_info_msg, raw)
    assert obj.info_size == sum(8 + s for s in sizes)
    assert [size for _, size, _ in O.parse_info_entries(raw[16:])] == sizes


def test_info_entry_autofill_alone():
    assert bytes(DMInfoEntry(type=0, data=0x100000)) == O.pack_info_entry(
        0, (0x100000).to_bytes(8, "little")
    )
    assert bytes(DMInfoEntry(type=9, data=b"abc")) == O.pack_info_entry(9, b"abc")
    assert bytes(DMInfoEntry(type=9)) == O.pack_info_entry(9, b"")


def test_info_size_explicit_is_kept():
    raw = bytes(
        DMHeader()
        / DMInfoMessage(reserved=5, info_size=0xFFFFFFFF, info=[DMInfoEntry(type=3, data=b"ab")])
    )
    obj = O.new(O.dm_info_msg, 0, size=26, reserved=5, info_size=0xFFFFFFFF)
    assert raw == bytes(obj) + O.pack_info_entry(3, b"ab")


def test_hot_add_16_or_24():
    r = DMPageRange(start_page=0x140000, page_cnt=0x40000)
    short = bytes(DMHeader(trans_id=1) / DMHotAddRequest(range=r))
    assert short == bytes(O.new(O.dm_hot_add, 1, range__page_range=0x40000 << 40 | 0x140000))
    assert len(short) == 16 and O.parse(O.dm_header, short).size == 16
    long = bytes(
        DMHeader(trans_id=1)
        / DMHotAddRequest(range=r, region=DMPageRange(start_page=0x100000, page_cnt=0x80000))
    )
    assert long == bytes(
        O.new(O.dm_hot_add, 1, size=24, range__page_range=0x40000 << 40 | 0x140000)
    ) + O.pack_range(0x100000, 0x80000)
    assert len(long) == 24 and O.parse(O.dm_header, long).size == 24


def test_hot_add_region_decided_by_header_size():
    """24 bytes whose header says 16: the receiver goes by hdr.size, no region."""
    raw = H("0a 00 10 00 05 00 00 00 | 00 00 14 00 00 00 00 04 | 00 00 14 00 00 00 00 08")
    msg = DMHeader(raw)[DMHotAddRequest]
    assert msg.region is None
    assert (msg.range.start_page, msg.range.page_cnt) == (0x140000, 0x40000)


def _vmbus_sample(body_len: int) -> Msg:
    if body_len == 8:
        return Msg(9, 1)
    return Msg(12, 1, info=[(7, b"\x55" * (body_len - 24))] if body_len >= 24 else [])


@pytest.mark.parametrize("body_len", [8, 16] + list(range(24, 41)))
def test_vmbus_len8_and_padding(body_len):
    """Message lengths 8, 16 and 24..40 (every remainder mod 8) get padded to 8."""
    m = _vmbus_sample(body_len)
    body = oracle_bytes(m)
    assert len(body) == body_len
    padded = (16 + body_len + 7) // 8
    desc = O.vmpacket_descriptor(type=6, offset8=2, len8=padded, flags=0, trans_id=0)
    raw = bytes(VMBusDescriptor() / scapy_message(m))
    assert raw == bytes(desc) + body + b"\0" * (padded * 8 - 16 - body_len)
    assert len(raw) % 8 == 0


def test_vmbus_len8_explicit_is_kept():
    raw = bytes(
        VMBusDescriptor(len8=0x1234, offset8=3, flags=1, type=7, trans_id=2)
        / DMHeader()
        / DMError()
    )
    desc = O.vmpacket_descriptor(type=7, offset8=3, len8=0x1234, flags=1, trans_id=2)
    assert raw == bytes(desc) + bytes(O.new(O.dm_message))


# --------------------------------------------------------------------------------
# 6: malformed input
# --------------------------------------------------------------------------------


def _sample(msg_type: int, **extra) -> Msg:
    m = Msg(msg_type, 0x5EED0000 + msg_type, _values(msg_type, "pattern"))
    for key, value in extra.items():
        setattr(m, key, value)
    return m


TRUNCATION_SAMPLES = {t: _sample(t) for t in ALL_TYPES}
TRUNCATION_SAMPLES[7] = _sample(7, ranges=_SAMPLE_RANGES[:2])
TRUNCATION_SAMPLES[8] = _sample(8, ranges=_SAMPLE_RANGES[:2])
TRUNCATION_SAMPLES[14] = _sample(14, ranges=_SAMPLE_RANGES[:2])
TRUNCATION_SAMPLES[12] = _sample(12, info=[(5, b"ABCDEFGHIJ")])
TRUNCATION_SAMPLES["10+region"] = _sample(10, region=(0x100000, 0x80000))
TRUNCATION_SAMPLES["12+max_page_cnt"] = _sample(12, info=[(0, (0x123456789).to_bytes(8, "little"))])

TRUNCATION_PARAMS = [pytest.param(key, id=str(key)) for key in TRUNCATION_SAMPLES]


def _check_truncated(full: bytes, n: int, m: Msg) -> None:
    spec = SPECS[m.msg_type]
    data = full[:n]
    hdr = DMHeader(data)  # must not raise
    want_missing = ("type", "size", "trans_id")[(n >= 2) + (n >= 4) + (n >= 8) :]
    assert hdr.missing == want_missing, n
    if n >= 2:
        assert hdr.type == m.msg_type
    if n >= 4:
        assert hdr.size == len(full)
    if n >= 8:
        assert hdr.trans_id == m.trans_id
    if n < 8:
        return  # what follows a cut header: test_cut_header_has_no_body
    msg = hdr.payload
    assert type(msg) is spec.layer, f"{n} bytes: got {type(msg).__name__}"
    obj = O.parse(spec.struct, full)
    for name, offset, size in O.members(spec.struct):
        present = offset + size <= n
        assert (name in msg.missing) is not present, (n, name, msg.missing)
        if not present:
            continue
        paths = [(p, c) for p, c, _ in spec.fields if p == name or p.startswith(name + ".")]
        for path, c_path in paths or [(name, name)]:
            assert int(O.get_path(msg, path)) == O.get_path(obj, c_path), (n, path)
    fixed = ctypes.sizeof(spec.struct)
    if spec.tail == "ranges":
        claimed_present = "range_count" not in msg.missing
        expected = O.parse_ranges(data[fixed:]) if claimed_present else []
        assert [(r.start_page, r.page_cnt) for r in msg.range_array] == expected, n
    elif spec.tail == "region" and m.region is not None and n >= 16:
        if n >= 24:
            assert (msg.region.start_page, msg.region.page_cnt) == m.region
        else:
            assert "region" in msg.missing, (n, msg.missing)
    elif spec.tail == "info" and n > fixed:
        entries = msg.info
        want = O.parse_info_entries(data[fixed:])
        if n >= fixed + 8:
            assert len(entries) == 1
            entry = entries[0]
            assert (entry.type, entry.data_size) == want[0][:2]
            if "data" not in entry.missing:
                got = entry.data
                if isinstance(got, int):
                    got = got.to_bytes(8, "little")
                assert bytes(got) == want[0][2], n
        else:
            for entry in entries:  # a partial entry: what is there must be right
                if "type" not in entry.missing:
                    assert entry.type == m.info[0][0]


@pytest.mark.parametrize("key", TRUNCATION_PARAMS)
def test_truncated_at_every_offset(key):
    m = TRUNCATION_SAMPLES[key]
    full = oracle_bytes(m)
    for n in range(1, len(full) + 1):  # 0 bytes: test_empty_input_is_all_missing
        _check_truncated(full, n, m)


def test_empty_input_is_all_missing():
    assert DMHeader(b"").missing == ("type", "size", "trans_id")


def test_truncation_exact_missing():
    """A few cuts with their `missing` written out in C declaration order."""
    full = oracle_bytes(TRUNCATION_SAMPLES[1])
    assert DMHeader(full[:5]).missing == ("trans_id",)
    assert DMHeader(full[:3]).missing == ("size", "trans_id")
    msg = DMHeader(full[:12])[DMVersionRequest]
    assert msg.missing == ("is_last_attempt", "reservedz")
    assert msg.version.version == O.parse(O.dm_version_request, full).version.version
    msg = DMHeader(full[:11])[DMVersionRequest]
    assert msg.missing == ("version", "is_last_attempt", "reservedz")

    full = oracle_bytes(TRUNCATION_SAMPLES[3])
    msg = DMHeader(full[:20])[DMCapabilitiesReport]
    assert msg.missing == ("min_page_cnt", "max_page_number")
    assert msg.caps.hot_add_alignment == _values(3, "pattern")["caps.hot_add_alignment"]

    full = oracle_bytes(TRUNCATION_SAMPLES[7])
    msg = DMHeader(full[:12])[DMBalloonResponse]
    assert msg.missing == ("more_pages", "range_count", "range_array")
    assert msg.reservedz == _values(7, "pattern")["reservedz"]

    full = oracle_bytes(TRUNCATION_SAMPLES[14])
    msg = DMHeader(full[:20])[DMHotRemoveResponse]
    assert msg.missing == ("more_pages", "reservedz", "range_array")
    assert msg.range_count == 2 and msg.range_array == []

    full = oracle_bytes(TRUNCATION_SAMPLES[12])
    msg = DMHeader(full[:14])[DMInfoMessage]
    assert msg.missing == ("info_size", "info")
    entry = DMHeader(full[:21])[DMInfoMessage].info[0]
    assert entry.missing == ("data_size", "data") and entry.type == 5


def test_cut_header_has_no_body():
    full = HEX_FORMATS_16
    for n in range(1, 8):
        hdr = DMHeader(full[:n])
        assert not isinstance(hdr.payload, DMMessage), (n, repr(hdr))


def test_truncated_hot_add_region_is_missing():
    """hdr.size=24 announces a region; bytes that stop first leave it missing, not invented."""
    full = REAL_WORLD["qemu_hot_add_24"][0]
    for n in range(16, 24):
        msg = DMHeader(full[:n])[DMHotAddRequest]
        assert msg.missing == ("region",), n
        assert msg.region is None
        assert (msg.range.start_page, msg.range.page_cnt) == (0x140000, 0x40000)


def test_truncated_max_page_cnt_keeps_info_layer():
    """A MAX_PAGE_CNT entry cut inside its u64: the message and the entry's head survive."""
    full = REAL_WORLD["hyperv_info_max_page_cnt"][0]
    for n in range(24, 32):
        msg = DMHeader(full[:n]).getlayer(DMInfoMessage)
        assert msg is not None, n
        assert msg.missing == ()
        assert (msg.reserved, msg.info_size) == (0, 16)
        assert len(msg.info) == 1
        entry = msg.info[0]
        assert (entry.type, entry.data_size) == (0, 8)
        assert entry.missing == ("data",)


@pytest.mark.parametrize("msg_type", sorted(HEADER_ONLY))
def test_header_only_message_has_its_layer(msg_type):
    raw = oracle_bytes(Msg(msg_type, 1))
    hdr = DMHeader(raw)
    assert type(hdr.payload) is SPECS[msg_type].layer
    assert hdr.payload.missing == ()
    assert bytes(hdr) == raw


@pytest.mark.parametrize("msg_type", sorted(set(ALL_TYPES) - HEADER_ONLY))
def test_truncated_after_header_has_message_layer(msg_type):
    """8 bytes of a type with a body: the body layer is there, every C member missing."""
    spec = SPECS[msg_type]
    raw = oracle_bytes(TRUNCATION_SAMPLES[msg_type])[:8]
    msg = DMHeader(raw).payload
    assert type(msg) is spec.layer
    for name, _, _ in O.members(spec.struct):
        assert name in msg.missing


def test_truncated_after_header_exact_missing():
    raw = oracle_bytes(TRUNCATION_SAMPLES[1])[:8]
    assert DMHeader(raw)[DMVersionRequest].missing == ("version", "is_last_attempt", "reservedz")
    raw = oracle_bytes(TRUNCATION_SAMPLES[7])[:8]
    assert DMHeader(raw)[DMBalloonResponse].missing == (
        "reservedz",
        "more_pages",
        "range_count",
        "range_array",
    )


@pytest.mark.parametrize(
    "layer, c_struct, claimed",
    [
        (DMBalloonResponse, O.dm_balloon_response, (1 << 31) - 1),
        (DMUnballoonRequest, O.dm_unballoon_request, 0xFFFFFFFF),
        (DMHotRemoveResponse, O.dm_hot_remove_response, 0xFFFFFFFF),
    ],
)
def test_huge_range_count_decodes_what_is_there(layer, c_struct, claimed):
    ranges = [(0x1234567890, 0x123456), ((1 << 40) - 1, 1)]
    obj = O.new(c_struct, 1, size=0xFFFF, range_count=claimed, more_pages=1)
    raw = bytes(obj) + O.pack_ranges(ranges) + b"\xaa\xbb\xcc"  # and a partial third
    tracemalloc.start()
    try:
        msg = DMHeader(raw)[layer]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # nothing sized by the claimed count
    assert msg.range_count == claimed and msg.more_pages == 1
    assert [(r.start_page, r.page_cnt) for r in msg.range_array] == ranges


def test_info_entry_data_size_all_ones():
    raw = bytes(O.new(O.dm_info_msg, 2, size=0x40, info_size=14)) + O.pack_info_entry(
        1, b"ABCDEF", data_size=0xFFFFFFFF
    )
    msg = DMHeader(raw)[DMInfoMessage]
    assert msg.info_size == 14
    assert len(msg.info) == 1
    entry = msg.info[0]
    assert (entry.type, entry.data_size, bytes(entry.data)) == (1, 0xFFFFFFFF, b"ABCDEF")
    # MAX_PAGE_CNT with a size that is not 8 is not read as a u64
    raw = bytes(O.new(O.dm_info_msg, 2, size=0x40, info_size=0xFFFFFFFF)) + O.pack_info_entry(
        0, b"\x01\x02\x03", data_size=0xFFFFFFFF
    )
    entry = DMHeader(raw)[DMInfoMessage].info[0]
    assert (entry.type, entry.data_size, bytes(entry.data)) == (0, 0xFFFFFFFF, b"\x01\x02\x03")


def test_info_size_larger_than_bytes():
    raw = (
        bytes(O.new(O.dm_info_msg, 2, info_size=0xFFFFFFFF))
        + O.pack_info_entry(0, (5).to_bytes(8, "little"))
        + O.pack_info_entry(4, b"zz")
    )
    msg = DMHeader(raw)[DMInfoMessage]
    assert [entry_tuple(e) for e in msg.info] == [(0, 8, (5).to_bytes(8, "little")), (4, 2, b"zz")]


def test_info_size_smaller_than_bytes():
    """Only info_size bytes are entries; what follows is not read as one."""
    raw = (
        bytes(O.new(O.dm_info_msg, 2, size=32, info_size=8))
        + O.pack_info_entry(3, b"")
        + O.pack_info_entry(4, b"12345678")[:8]
    )
    msg = DMHeader(raw)[DMInfoMessage]
    assert msg.info_size == 8
    assert [entry_tuple(e) for e in msg.info] == [(3, 0, b"")]
    assert bytes(msg.payload) == O.pack_info_entry(4, b"12345678")[:8]


def test_info_entries_cut_by_info_size():
    """An entry claiming more data than info_size leaves gets only what info_size allows."""
    raw = bytes(O.new(O.dm_info_msg, 2, size=40, info_size=12)) + O.pack_info_entry(
        6, b"abcdefghijklmnop"
    )
    msg = DMHeader(raw)[DMInfoMessage]
    assert [entry_tuple(e) for e in msg.info] == [(6, 16, b"abcd")]


def test_unknown_type_keeps_header():
    raw = H("00 80 20 00 01 02 03 04") + bytes(range(24))
    hdr = DMHeader(raw)
    assert (hdr.type, hdr.size, hdr.trans_id) == (0x8000, 32, 0x04030201)
    assert bytes(hdr.payload) == bytes(range(24))


@settings(max_examples=300, deadline=None)
@given(msg_type=st.sampled_from(ALL_TYPES), trans_id=u32s, body=st.binary(max_size=120))
def test_random_bodies_never_raise(msg_type, trans_id, body):
    """Any body after a valid header: no exception even with debug_dissector, right layer."""
    raw = bytes(O.new(O.dm_message, trans_id, size=8 + len(body), msg_type=msg_type)) + body
    old = conf.debug_dissector
    conf.debug_dissector = True
    try:
        hdr = DMHeader(raw)
    finally:
        conf.debug_dissector = old
    assert (hdr.type, hdr.size, hdr.trans_id) == (msg_type, 8 + len(body), trans_id)
    if body:
        assert type(hdr.payload) is SPECS[msg_type].layer
