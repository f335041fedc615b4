"""Display filters: the compiled predicate against a direct check on each message's JSON.

Messages are built from the C header (the ctypes oracle), with random field
values, lying counts, cut bytes and trailing bytes; filters are random
relations combined with and/or/not.  Each filter is generated together with
a plain Python function over the message's JSON object (and, for slices,
over the bytes the test itself built) that states the same condition with
Wireshark 4's semantics written out; the compiled predicate must agree with
it on every message.
"""

from __future__ import annotations

import ctypes
import operator
import re
import struct

import oracle
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dmdissect.filter import FilterError, compile_filter
from dmdissect.pipeline import messages_of
from dmdissect.sources.frame import Frame
from dmdissect.views.jsonout import message_object
from tests.randcapture import capture, json_values

# --- filters and their direct meaning on the JSON ---------------------------------------


#: Numeric fields and the largest value each can hold (from the C header's widths).
NUMERIC = {
    "hdr.type": 2**16 - 1,
    "hdr.size": 2**16 - 1,
    "hdr.trans_id": 2**32 - 1,
    "num_avail": 2**64 - 1,
    "num_pages": 2**32 - 1,
    "range_count": 2**31 - 1,
    "more_pages": 1,
    "range_array.page_cnt": 2**24 - 1,
    "range_array.start_page": 2**40 - 1,
    "version.major_version": 2**16 - 1,
    "caps.hot_add": 1,
    "info.data_size": 2**32 - 1,
    "info_size": 2**32 - 1,
    "frame.number": 2**64,
    "frame.len": 2**64,
    "transaction.number": 2**64,
    "transaction.part": 2**64,
    "transaction.request_frame": 2**64,
}
STRINGS = {
    "transaction.kind": ["balloon", "unballoon", "version", "status", "other", "info"],
    "transaction.role": ["request", "part", "report", "other"],
    "expert.severity": ["error", "warning", "note"],
    "type_name": ["DM_STATUS_REPORT", "DM_BALLOON_RESPONSE", "?"],
    "direction": ["guest->host", "host->guest"],
    "frame.comment": ["fault: cut", "balloon: asks"],
}
HEADER_TYPES = {7: "DM_BALLOON_RESPONSE", 5: "DM_STATUS_REPORT", 6: "DM_BALLOON_REQUEST"}
RELATIONS = {
    "==": (operator.eq, "any"),
    "eq": (operator.eq, "any"),
    "!=": (operator.ne, "all"),
    "ne": (operator.ne, "all"),
    "===": (operator.eq, "all"),
    "!==": (operator.ne, "any"),
    "<": (operator.lt, "any"),
    "lt": (operator.lt, "any"),
    "<=": (operator.le, "any"),
    ">": (operator.gt, "any"),
    "ge": (operator.ge, "any"),
    ">=": (operator.ge, "any"),
}


def holds(values: list, test, quant: str) -> bool:
    if quant == "any":
        return any(test(v) for v in values)
    return bool(values) and all(test(v) for v in values)


def number_text(draw, value: int) -> str:
    form = draw(st.sampled_from(["dec", "hex", "oct"]))
    if form == "hex":
        return hex(value)
    if form == "oct" and value:
        return "0" + format(value, "o")
    return str(value)


@st.composite
def numeric_relation(draw):
    name = draw(st.sampled_from(sorted(NUMERIC)))
    op = draw(st.sampled_from(sorted(RELATIONS)))
    value = draw(
        st.one_of(st.integers(0, 16), st.integers(0, 2**20)).filter(lambda v: v <= NUMERIC[name])
    )
    text = number_text(draw, value)
    if name == "hdr.type" and value in HEADER_TYPES and draw(st.booleans()):
        text = HEADER_TYPES[value]
    prefix = (
        draw(st.sampled_from(["", "", "hvdm."])) if not name.startswith(("frame", "trans")) else ""
    )
    quant = draw(st.sampled_from([None, None, "any", "all"]))
    test, default = RELATIONS[op]
    words = f"{quant} " if quant else ""
    source = f"{words}{prefix}{name} {op} {text}"
    return source, lambda obj, data: holds(
        json_values(obj, name, data), lambda v: test(v, value), quant or default
    )


@st.composite
def string_relation(draw):
    name = draw(st.sampled_from(sorted(STRINGS)))
    value = draw(st.sampled_from(STRINGS[name]))
    kind = draw(st.sampled_from(["==", "!=", "contains", "matches"]))
    if kind == "==":
        literal = (
            value if re.fullmatch(r"[A-Za-z_]+", value) and draw(st.booleans()) else f'"{value}"'
        )
        return f"{name} == {literal}", lambda obj, data: value in json_values(obj, name, data)
    if kind == "!=":
        return f'{name} != "{value}"', lambda obj, data: holds(
            json_values(obj, name, data), lambda v: v != value, "all"
        )
    piece = value[: draw(st.integers(1, len(value)))]
    if kind == "contains":
        return f'{name} contains "{piece}"', lambda obj, data: any(
            piece in v for v in json_values(obj, name, data)
        )
    upper = piece.upper()
    pattern = re.escape(upper).replace("\\", "\\\\")
    return f'{name} matches "^{pattern}"', lambda obj, data: any(
        v.lower().startswith(piece.lower()) for v in json_values(obj, name, data)
    )


@st.composite
def membership(draw):
    name = draw(st.sampled_from(sorted(NUMERIC)))
    top = min(NUMERIC[name], 40)
    singles = draw(st.lists(st.integers(0, top), min_size=1, max_size=3))
    low = draw(st.integers(0, top))
    high = min(low + draw(st.integers(0, 10)), NUMERIC[name])
    use_span = draw(st.booleans())
    separator = draw(st.sampled_from([" ", ", "]))
    items = [str(v) for v in singles] + ([f"{low}..{high}"] if use_span else [])
    negate = draw(st.booleans())

    def inside(v) -> bool:
        return v in singles or (use_span and low <= v <= high)

    source = f"{name} {'not in' if negate else 'in'} {{{separator.join(items)}}}"

    def check(obj, data):
        found = any(inside(v) for v in json_values(obj, name, data))
        return not found if negate else found

    return source, check


@st.composite
def presence(draw):
    name = draw(
        st.sampled_from(["expert", "range_array", "caps", "trailing", "version", "frame.comment"])
    )

    def check(obj, data):
        if name == "expert":
            return bool(obj["expert"])
        key = "comment" if name == "frame.comment" else name
        return obj.get(key) is not None

    return name, check


@st.composite
def frame_slice(draw):
    start = draw(st.integers(0, 6))
    length = draw(st.integers(1, 3))
    wanted = bytes(draw(st.lists(st.integers(0, 8), min_size=length, max_size=length)))
    literal = ":".join(f"{b:02x}" for b in wanted)
    return (
        f"frame[{start}:{length}] == {literal}",
        lambda obj, data: len(data) >= start + length and data[start : start + length] == wanted,
    )


#: Numeric fields that hold the small values these relations write.
WIDE = sorted(name for name, top in NUMERIC.items() if top >= 16)

#: What ``#N`` / ``#[...]`` takes of a message's one protocol layer (tshark 4.0's answers).
LAYERS = {
    "#1": True,
    "#2": False,
    "#0": False,
    "#[1-2]": True,
    "#[0-1]": True,
    "#[-1]": True,
    "#[-2]": False,
    "#[2:]": False,
    "#[1:]": True,
    "#[:2]": True,
    "#[:1]": False,
    "#[0:1]": False,
    "#[1,3]": True,
}


@st.composite
def layered(draw):
    """A numeric relation on ``field#N``: the field's values when layer 1 is chosen, else none."""
    name = draw(st.sampled_from(WIDE))
    layer = draw(st.sampled_from(sorted(LAYERS)))
    op = draw(st.sampled_from(sorted(RELATIONS)))
    value = draw(st.integers(0, 16))
    test, quant = RELATIONS[op]

    def check(obj, data):
        values = json_values(obj, name, data) if LAYERS[layer] else []
        return holds(values, lambda v: test(v, value), quant)

    return f"{name}{layer} {op} {value}", check


@st.composite
def reference(draw):
    """``field op ${other}``: tshark has no selected packet, so a reference has no value."""
    name, other = draw(st.sampled_from(WIDE)), draw(st.sampled_from(WIDE))
    op = draw(st.sampled_from(sorted(RELATIONS)))
    written = draw(st.sampled_from([f"${{{other}}}", f"${other}", f"${{{other}#1}}"]))
    return f"{name} {op} {written}", lambda obj, data: False


@st.composite
def arithmetic(draw):
    """``{field + k} * j op v`` and ``field op {a + b}``: arithmetic with Wireshark's braces."""
    name = draw(st.sampled_from(WIDE))
    op = draw(st.sampled_from(sorted(RELATIONS)))
    test, quant = RELATIONS[op]
    k, j, a, b = (draw(st.integers(0, 9)) for _ in range(4))
    if draw(st.booleans()):
        return f"{{{name} + {k}}} * {j} {op} {a}", lambda obj, data: holds(
            [(v + k) * j for v in json_values(obj, name, data)], lambda v: test(v, a), quant
        )
    return f"{name} {op} {{{a} + {b}}} - {k}", lambda obj, data: holds(
        json_values(obj, name, data), lambda v: unsigned_test(test, v, a + b - k), quant
    )


def unsigned_test(test, value: int, constant: int) -> bool:
    """tshark's answer for an unsigned field's value against a constant: a negative constant
    is of another type, so only ``!=`` holds between them (``hdr.size > -1`` is false)."""
    if constant < 0 <= value:
        return test is operator.ne
    return test(value, constant)


@st.composite
def field_set(draw):
    """``field in {other, v}``: a set holding another field's values and a literal."""
    name, other = draw(st.sampled_from(WIDE)), draw(st.sampled_from(WIDE))
    value = draw(st.integers(0, 16))

    def check(obj, data):
        others = json_values(obj, other, data)
        return any(v == value or v in others for v in json_values(obj, name, data))

    return f"{name} in {{{other}, {value}}}", check


@st.composite
def character(draw):
    """A character constant for a number: ``hdr.type == '\\x07'``, ``'\\007'`` or ``'a'``."""
    value = draw(st.sampled_from([5, 6, 7, 8, 97, 0]))
    form = draw(st.sampled_from(["hex", "oct", "plain"]))
    if form == "plain" and value >= 32:
        text = chr(value)
    elif form == "oct":
        text = f"\\{value:03o}"
    else:
        text = f"\\x{value:02x}"
    return f"hdr.type == '{text}'", lambda obj, data: value in json_values(obj, "hdr.type", data)


#: Message structures of the C header by type, for where their members' bytes are.
STRUCTS = {
    1: oracle.dm_version_request,
    3: oracle.dm_capabilities,
    5: oracle.dm_status,
    6: oracle.dm_balloon,
    7: oracle.dm_balloon_response,
    8: oracle.dm_unballoon_request,
    12: oracle.dm_info_msg,
}
RAW_FIELDS = [
    "hdr.type",
    "hdr.trans_id",
    "hdr.size",
    "num_avail",
    "num_pages",
    "range_count",
    "more_pages",
    "range_array.start_page",
    "range_array.page_cnt",
]


def raw_values(obj: dict, name: str, data: bytes) -> list[bytes]:
    """The bytes of each value of ``name``, placed by the C header's offsets and sizes."""
    present = json_values(obj, name, data)
    if not present:
        return []
    if name.startswith("hdr."):
        spans = [(at, size) for n, at, size in oracle.members(oracle.dm_header) if n == name[4:]]
    elif name.startswith("range_array."):
        cls = STRUCTS[obj["hdr"]["type"]]
        size = ctypes.sizeof(oracle.dm_mem_page_range)
        start = cls.range_array.offset
        spans = [(start + i * size, size) for i in range(len(present))]
    else:
        cls = STRUCTS[obj["hdr"]["type"]]
        spans = [(at, size) for n, at, size in oracle.members(cls) if n == name]
    return [data[at : at + size] for at, size in spans]


@st.composite
def raw_relation(draw):
    """``@field``: a slice, ``contains`` or ``len`` of the bytes each value was read from."""
    name = draw(st.sampled_from(RAW_FIELDS))
    form = draw(st.sampled_from(["index", "contains", "len", "equal"]))
    byte = draw(st.integers(0, 16))
    if form == "index":
        at = draw(st.integers(0, 1))
        return f"@{name}[{at}] == {byte:02x}", lambda obj, data: any(
            len(b) > at and b[at] == byte for b in raw_values(obj, name, data)
        )
    if form == "contains":
        return f"@{name} contains {byte:02x}", lambda obj, data: any(
            bytes([byte]) in b for b in raw_values(obj, name, data)
        )
    if form == "len":
        size = draw(st.sampled_from([1, 2, 4, 8]))
        return f"len(@{name}) == {size}", lambda obj, data: any(
            len(b) == size for b in raw_values(obj, name, data)
        )
    wanted = struct.pack("<H", byte)
    return f"@{name}[0:2] == {wanted.hex(':')}", lambda obj, data: any(
        b[:2] == wanted for b in raw_values(obj, name, data)
    )


relation = st.one_of(
    numeric_relation(),
    string_relation(),
    membership(),
    presence(),
    frame_slice(),
    layered(),
    reference(),
    arithmetic(),
    field_set(),
    character(),
    raw_relation(),
)


def combined(children):
    def join(pair, word):
        (a, fa), (b, fb) = pair
        if word in ("and", "&&"):
            return f"({a}) {word} ({b})", lambda o, d: fa(o, d) and fb(o, d)
        return f"({a}) {word} ({b})", lambda o, d: fa(o, d) or fb(o, d)

    def negate(child):
        text, fn = child
        return f"not ({text})", lambda o, d: not fn(o, d)

    return st.one_of(
        st.builds(join, st.tuples(children, children), st.sampled_from(["and", "&&", "or", "||"])),
        st.builds(negate, children),
    )


filters = st.recursive(relation, combined, max_leaves=4)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=capture(), case=filters)
def test_predicate_equals_the_condition_on_the_json(frames, case):
    text, condition = case
    keep = compile_filter(text)
    data = {frame.index: frame.data for frame in frames}
    for message in messages_of(frames):
        keep.see(message)
        obj = message_object(message)
        assert keep(message) == condition(obj, data[message.frame.index]), (text, obj)


# --- invalid filters: Wireshark's words and the column ----------------------------------


@pytest.mark.parametrize(
    "text, message, column",
    [
        ("foo", "foo is neither a field nor a protocol name.", 1),
        ("hdr.type ==", "Unexpected end of filter expression.", 12),
        ("hdr.type == foo", '"foo" is not a valid number.', 13),
        ("hdr.type = 1", '"=" was unexpected in this context.', 10),
        ("(hdr.type == 1", "Unexpected end of filter expression.", 15),
        ("hdr.type == 1 )", '")" was unexpected in this context.', 15),
        ("hdr.type == 1 frame.len", '"frame.len" was unexpected in this context.', 15),
        ("frame.number in {}", '"}" was unexpected in this context.', 18),
        ("hdr.type == 99999", '"99999" too big for this field, maximum 65535.', 13),
        (
            "range_count == 0x100000000",
            '"0x100000000" too big for this field, maximum 4294967295.',
            16,
        ),
        ("hdr.type == 1.5", '"1.5" is not a valid number.', 13),
        ("hdr.type == 09", '"09" is not a valid number.', 13),
        (
            'hdr.type == "abc"',
            'Unsigned integer (2 bytes) cannot be converted from a string ("abc").',
            13,
        ),
        (
            "hdr.type contains 1",
            "hdr.type (type=Unsigned integer (2 bytes)) cannot participate in contains comparison.",
            1,
        ),
        (
            'num_avail matches "x"',
            "num_avail (type=Unsigned integer (8 bytes)) cannot participate in matches comparison.",
            1,
        ),
        (
            "hdr.trans_id[0] == 1",
            '"hdr.trans_id" is a Unsigned integer (4 bytes) and cannot be sliced into a sequence '
            "of bytes.",
            1,
        ),
        ("caps == 1", "caps (type=Label) cannot participate in '==' comparison.", 1),
        ("  nosuch.field && expert", "nosuch.field is neither a field nor a protocol name.", 3),
        ("expert and frame[x] == 1", '"x" is not a valid slice.', 17),
        (
            'frame.comment matches "("',
            "Regex compilation error: missing ) at position 1.",
            23,
        ),
        ("nosuch(frame)", "The function 'nosuch' does not exist.", 1),
        ("frame.len == 16 && ", "Unexpected end of filter expression.", 20),
        ("!", "Unexpected end of filter expression.", 2),
        ("hdr.type == 7 $", '"$" was unexpected in this context.', 15),
        ("frame.len#a == 16", 'Expected digit or "[", not "a".', 11),
        ("frame.len# == 16", 'Expected digit or "[" after "#".', 11),
        ("frame.len#2147483648 == 16", '"2147483648" causes an integer overflow.', 11),
        (
            "frame.len#[1-1] == 16",
            "Range 1-1 isn't valid because 1 is greater or equal than 1",
            12,
        ),
        ("frame[-1-1] == 00", "Range -1-1 isn't valid because -1 and 1 have different signs", 6),
        ("frame[0:0] == 00", "Range 0:0 isn't valid because length 0 isn't positive", 6),
        ("nosuch#1 == 1", "nosuch is neither a field nor a protocol name.", 1),
        # As tshark 4.0: ${name} is a macro unless name is a field (a reference).
        ("frame.len == ${nosuch}", "macro 'nosuch' does not exist", 14),
        ("frame.len == $nosuch", "nosuch is neither a field nor a protocol name.", 15),
        ("frame.len == ${frame.len", "end of filter in the middle of a macro expression", 14),
        ("frame.len == ${}", "macro '' does not exist", 14),
        (
            "frame.len == ${frame.comment}",
            "frame.len (type=Unsigned integer) and ${frame.comment} (type=Character string) "
            "are not of compatible types.",
            1,
        ),
        ("${frame.len}", "${frame.len} is a field reference, which can only be compared with.", 1),
        ("count(${frame.len}) == 0", "Only fields can be used as parameter for count()", 7),
        ("len(frame.len) in {4}", "Only a field may be tested for membership in a set.", 1),
        ('upper(frame.comment) in {"A"}', "Only a field may be tested for membership in a set.", 1),
        ('string(frame[0:2]) == "x"', "Only fields can be used as parameter for string()", 8),
        (
            "@frame.len == 00",
            "frame.len has no bytes of its own in the frame: '@' takes a field read from the "
            "message.",
            1,
        ),
        ("@nosuch == 00", "nosuch is neither a field nor a protocol name.", 2),
        ('frame contains "ab\\q"', "\\q is not a valid character escape sequence", 19),
        ('frame contains "\\u0062"', "\\u0062 is not a valid universal character name", 17),
        ("hdr.type == 'ab'", "'ab' is not a valid character constant.", 13),
        ("frame.len == {1 / 0}", "Division by zero.", 17),
        ('frame.len == {1 + "a"}', 'Unsigned integer cannot be converted from a string ("a").', 19),
        (
            "frame.len in {1..frame.number}",
            "frame.number: a range in a set is between values, not fields.",
            18,
        ),
        (
            "hdr.type in {frame.comment}",
            "hdr.type (type=Unsigned integer (2 bytes)) and frame.comment (type=Character string) "
            "are not of compatible types.",
            14,
        ),
    ],
)
def test_invalid_filter_message_and_column(text, message, column):
    with pytest.raises(FilterError) as caught:
        compile_filter(text)
    assert (caught.value.message, caught.value.column) == (message, column)


def test_long_generated_filters_compile_and_match():
    """A script's filter of thousands of terms: no recursion limit, the same answers."""
    frames = [Frame(i, bytes([5, 0, 8, 0, i, 0, 0, 0])) for i in range(1, 6)]
    anyof = compile_filter(" or ".join(f"frame.number == {n}" for n in range(3, 3000)))
    noneof = compile_filter(" && ".join(f"hdr.trans_id != {n}" for n in range(2, 3000)))
    negated = compile_filter("not " * 3001 + "frame.number == 1")
    got = [(anyof(m), noneof(m), negated(m)) for m in messages_of(frames)]
    assert got == [
        (False, True, False),
        (False, False, True),
        (True, False, True),
        (True, False, True),
        (True, False, True),
    ]


def test_too_deep_nesting_is_an_error():
    with pytest.raises(FilterError) as caught:
        compile_filter("frame.len" + " + 1" * 200 + " == 3")
    assert (caught.value.message, caught.value.column) == (
        "The filter nests more than 100 levels deep.",
        1,
    )


# --- layers, raw bytes, references and arithmetic on hand-written messages ---------------

#: DM_BALLOON_RESPONSE, trans_id 9: more_pages 1, two ranges (0x10, 512 pages), (0x2000, 1).
BALLOON_RESPONSE = struct.pack("<HHIII", 7, 32, 9, 0, 2 << 1 | 1) + struct.pack(
    "<QQ", 0x10 | 512 << 40, 0x2000 | 1 << 40
)
#: A DM_STATUS_REPORT header, trans_id 3, whose body the bytes leave out.
STATUS_CUT = struct.pack("<HHI", 5, 56, 3)


@pytest.mark.parametrize(
    "text, frames",
    [
        ("@range_count == 05:00:00:00", [1]),
        ("@more_pages == 05:00:00:00", [1]),
        ("@range_array.page_cnt[5:3] == 00:02:00", [1]),
        ("@range_array.start_page == 00:20:00:00:00:01:00:00", [1]),
        ("@range_array.start_page[0] == 10", [1]),
        ("@hdr.trans_id == 03:00:00:00", [2]),
        ("@hdr == 05:00:38:00:03:00:00:00", [2]),
        ("len(@range_array) == 16", [1]),
        ("len(hdr.type) == 2 && len(range_count) == 4", [1]),
        ("len(range_array.start_page) == 8", [1]),
        ("@num_avail", []),
        ("range_array.page_cnt#1 == 1", [1]),
        ("range_array.page_cnt#2 == 1", []),
        ("range_array.page_cnt#[-1] == 512", [1]),
        ("hdr.type#[2:]", []),
        ("count(range_array.page_cnt#2) == 0", []),
        ("hdr.type == ${hdr.type}", []),
        ("!(hdr.type == ${hdr.type})", [1, 2]),
        ("hdr.type != $hdr.type", []),
        ("hdr.trans_id in {hdr.type, 9}", [1]),
        ("hdr.trans_id in {hdr.type, 3..4}", [2]),
        ("{hdr.trans_id + 1} * 2 == 8", [2]),
        ("hdr.trans_id == {4 * 2} + 1", [1]),
        ("-hdr.trans_id < {-2 - 2}", [1]),
        ("hdr.trans_id % 4 == 1 && hdr.trans_id / 4 == 2", [1]),
        ("count(range_array.page_cnt) == 2", [1]),
        ("count(num_avail) == 0", []),
        ("hdr.type == '\\x07'", [1]),
        ("hdr.type == '\\a' || hdr.type == '\\005'", [1, 2]),
        ('hvdm contains "\\x20\\000"', [1]),
        ("hvdm[4:4] > 08:00:00:00 && hvdm[4:4] < 0a", [1]),
    ],
)
def test_layers_raw_bytes_references_and_arithmetic(text, frames):
    keep = compile_filter(text)
    messages = list(messages_of([Frame(1, BALLOON_RESPONSE), Frame(2, STATUS_CUT)]))
    assert [m.frame.index for m in messages if keep(m)] == frames


@pytest.mark.parametrize(
    "pattern, frames",
    [
        ("BALLOON", [1, 2]),
        ("(?-i)BALLOON", [2]),
        ("(?s-i)balloon.asks", [1]),
        ("(?i)balloon", [1, 2]),
        ("^fault", [3]),
    ],
)
def test_matches_is_case_insensitive_unless_the_pattern_says(pattern, frames):
    comments = ["balloon\nasks", "BALLOON", "Fault: cut"]
    keep = compile_filter(f'frame.comment matches "{pattern}"')
    built = [Frame(i, STATUS_CUT, comment=c) for i, c in enumerate(comments, 1)]
    assert [m.frame.index for m in messages_of(built) if keep(m)] == frames


# --- the predicate reads the fast-path message -------------------------------------------


def test_new_constructs_build_no_scapy_packet(monkeypatch):
    """Evaluating layers, @field, references, braces and sets never builds a Scapy packet."""
    from pathlib import Path

    from scapy.packet import Packet

    from dmdissect.layers.header import DMHeader
    from dmdissect.sources import open_frames

    root = Path(__file__).resolve().parent.parent / "captures"
    messages = [
        m
        for name in ("linux-qemu.pcapng", "linux-qemu-vmbus.pcapng")
        for m in messages_of(open_frames(str(root / name)))
    ]
    filters = [
        compile_filter(text)
        for text in (
            "@range_array.page_cnt[5:3] == 00:02:00",
            "hdr.type#1 in {hdr.trans_id, 5}",
            "range_array.start_page#[1-2] > 0",
            "{range_count + 1} * 2 > 1000",
            "@vmbus.len8 == 04:00",
            "len(hdr.size) == 2",
            "!(hdr.type == ${hdr.type})",
            "@hdr.trans_id[0] != ff",
            "num_avail#[-1] > 0",
            "len(@caps.hot_add) == 8",
        )
    ]
    built = []
    original = Packet.__init__

    def counting(self, *args, **kwargs):
        built.append(type(self).__name__)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Packet, "__init__", counting)
    matched = [sum(1 for m in messages if keep(m)) for keep in filters]
    assert all(matched) and len(messages) > 200, matched
    assert built == []
    DMHeader(b"\x05\x00\x08\x00\x00\x00\x00\x00")
    assert built[:1] == ["DMHeader"]  # the count does see a packet being built
