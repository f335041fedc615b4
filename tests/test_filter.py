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

import operator
import re

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


relation = st.one_of(numeric_relation(), string_relation(), membership(), presence(), frame_slice())


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
            "Regex compilation error: missing ), unterminated subpattern at position 0.",
            23,
        ),
        ("nosuch(frame)", "The function 'nosuch' does not exist.", 1),
        ("frame.len == 16 && ", "Unexpected end of filter expression.", 20),
        ("!", "Unexpected end of filter expression.", 2),
        ("hdr.type == 7 $", '"$" was unexpected in this context.', 15),
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
