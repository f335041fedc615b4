"""The plain ``read -V`` tree written by the compiled per-layer writers, against the walk.

:func:`~dmdissect.views.tree.plain_tree` writes a pipe's tree straight from
writers compiled from ``fields_desc``.  Its oracle is the tree drawn the slow
way: Scapy's own dissection of the same bytes, walked field by field
(:func:`~dmdissect.views.fields.walk`) and drawn by rich's Tree renderer.
Every compiled message type is covered, with lying sizes, cut bodies and
lists around the display limit; a message the writers leave to the walk (a
finding, a cut field) must give ``None``, never different text.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from peers import T0
from rich.console import Console
from sessions import (
    balloon_request,
    balloon_response,
    frames,
    handshake,
    hot_add_request,
    hot_add_response,
    status,
    unballoon_request,
    unballoon_response,
)

from dmdissect.analysis.dissect import dissect
from dmdissect.layers import MESSAGE_LAYERS, DMVersion
from dmdissect.layers.compiled import compile_layer
from dmdissect.layers.fields import SizedPacketListField
from dmdissect.layers.layout import layout_of
from dmdissect.pipeline import messages_of
from dmdissect.sources import open_frames
from dmdissect.sources.frame import Frame
from dmdissect.views.fieldlines import write_fields
from dmdissect.views.fieldtext import LIST_LIMIT
from dmdissect.views.outline import ASCII_GUIDES, UNICODE_GUIDES, to_rich
from dmdissect.views.reassembly import PART_RANGE_LIMIT
from dmdissect.views.tree import message_tree, plain_tree
from dmdissect.vocabulary import DirectionSource

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
COMPILED = sorted(t for t, layer in MESSAGE_LAYERS.items() if compile_layer(layer) is not None)


def drawn(message, first_time, encoding="utf-8") -> list[str]:
    """The tree as rich draws it in a pipe, its branches made by the field walk."""
    sink = io.TextIOWrapper(io.BytesIO(), encoding=encoding)
    console = Console(file=sink, no_color=True, color_system=None, width=1 << 16, soft_wrap=True)
    console.print(to_rich(message_tree(message, first_time)))
    sink.flush()
    sink.seek(0)
    return sink.read().splitlines()


def written(message, first_time, guides=UNICODE_GUIDES) -> list[str] | None:
    lines = plain_tree(message, first_time, guides)
    return None if lines is None else "\n".join(lines).split("\n")


def _versioned(layer) -> bool:
    """The layer shows a protocol version (an extra line the writers leave to the walk)."""
    return any(getattr(spot.field, "cls", None) is DMVersion for spot in layout_of(layer).c_order)


def _variable_entries(layer) -> bool:
    """The layer holds a list of variable-size entries (info), which the writers leave to
    the walk: an entry's offset depends on the sizes of those before it."""
    return any(isinstance(spot.field, SizedPacketListField) for spot in layout_of(layer).spots)


@st.composite
def messages(draw):
    """A header of a compiled type, a size that may lie, and a body of any length."""
    msg_type = draw(st.sampled_from(COMPILED))
    body = draw(st.binary(max_size=120))
    if msg_type in (7, 8, 14) and draw(st.booleans()):
        count = draw(st.integers(0, 12))
        word = count << 1 | draw(st.integers(0, 1))
        prefix = {
            7: struct.pack("<II", 0, word),
            8: struct.pack("<II", draw(st.integers(0, 1)), count),
            14: struct.pack("<IIQ", draw(st.integers(0, 2)), count, draw(st.integers(0, 1))),
        }
        body = prefix[msg_type] + body
    size = draw(st.one_of(st.just(8 + len(body)), st.integers(0, 0xFFFF)))
    return struct.pack("<HHI", msg_type, size, draw(st.integers(0, 2**32 - 1))) + body


@st.composite
def honest_messages(draw):
    """A compiled type's fixed part of random bytes, whole lists, and the true size."""
    msg_type = draw(st.sampled_from(COMPILED))
    fixed = compile_layer(MESSAGE_LAYERS[msg_type]).fixed
    body = bytearray(draw(st.binary(min_size=fixed, max_size=fixed)))
    if msg_type in (7, 8) and fixed >= 8:
        count = draw(st.integers(0, 6))
        word = count << 1 | draw(st.integers(0, 1)) if msg_type == 7 else count
        body[0:8] = struct.pack("<II", 0 if msg_type == 7 else draw(st.integers(0, 1)), word)
        body += draw(st.binary(min_size=8 * count, max_size=8 * count))
    data = struct.pack("<HHI", msg_type, 8 + len(body), draw(st.integers(0, 2**32 - 1)))
    return data + bytes(body)


def test_every_compiled_message_layer_has_a_writer():
    """The writers are not vacuous: every fast-decoded type without a version line or
    variable-size entries has one."""
    missing = []
    for msg_type in COMPILED:
        layer = MESSAGE_LAYERS[msg_type]
        if _versioned(layer) or _variable_entries(layer):
            continue
        decoder = compile_layer(layer)
        data = struct.pack("<HHI", msg_type, 8 + decoder.fixed, 1) + bytes(decoder.fixed)
        body = dissect(Frame(1, data)).body
        if not write_fields(body, 8, "    ", UNICODE_GUIDES, []):
            missing.append(layer.__name__)
    assert missing == []


@settings(max_examples=400, deadline=None)
@given(messages(), st.sampled_from([None, "guest->host", "host->guest"]), st.booleans())
def test_the_written_tree_is_the_drawn_scapy_tree(data, direction, ascii_only):
    source = DirectionSource.CAPTURE if direction else "unknown"
    frame = Frame(1, data, time=5.0, direction=direction, direction_source=source)
    fast, slow = dissect(frame, fast=True), dissect(frame, fast=False)
    guides = ASCII_GUIDES if ascii_only else UNICODE_GUIDES
    lines = written(fast, 4.5, guides)
    if lines is not None:
        assert lines == drawn(slow, 4.5, "ascii" if ascii_only else "utf-8")


@settings(max_examples=300, deadline=None)
@given(honest_messages(), st.booleans())
def test_the_written_tree_of_whole_messages_is_the_drawn_scapy_tree(data, ascii_only):
    frame = Frame(3, data, time=9.0, direction="host->guest", direction_source="capture")
    guides = ASCII_GUIDES if ascii_only else UNICODE_GUIDES
    lines = written(dissect(frame), 1.25, guides)
    if lines is not None:
        assert lines == drawn(dissect(frame, fast=False), 1.25, "ascii" if ascii_only else "utf-8")


@settings(max_examples=200, deadline=None)
@given(st.one_of(messages(), honest_messages()), st.integers(0, 2**64 - 1), st.integers(0, 0xFFFF))
def test_the_written_tree_behind_a_vmbus_descriptor(data, vmbus_id, flags):
    body = data + b"\0" * (-len(data) % 8)
    framed = struct.pack("<HHHHQ", 6, 2, (16 + len(body)) // 8, flags, vmbus_id) + body
    frame = Frame(7, framed, time=2.0, direction="guest->host", direction_source="capture")
    lines = written(dissect(frame), None)
    if lines is not None:
        assert lines == drawn(dissect(frame, fast=False), None)


def test_whole_valid_messages_are_written_not_left_to_the_walk():
    """A valid status report, balloon part and hot-add request take the written path."""
    status = struct.pack("<HHI", 5, 48, 1) + struct.pack("<QQQQII", 9, 8, 7, 6, 5, 4)
    ranges = b"".join(struct.pack("<Q", (0x100000 + 512 * i) | 512 << 40) for i in range(3))
    part = struct.pack("<HHI", 7, 16 + len(ranges), 2) + struct.pack("<II", 0, 3 << 1) + ranges
    hot_add = struct.pack("<HHI", 10, 24, 3) + struct.pack("<QQ", 0x400000 | 1 << 40, 0x1)
    short_hot_add = struct.pack("<HHI", 10, 16, 4) + hot_add[8:16]
    for data in (status, part, hot_add, short_hot_add):
        frame = Frame(1, data, time=1.0)
        lines = written(dissect(frame), 1.0)
        assert lines is not None, data
        assert lines == drawn(dissect(frame, fast=False), 1.0)


def test_lists_around_the_display_limit():
    for count in (0, 1, LIST_LIMIT - 1, LIST_LIMIT, LIST_LIMIT + 1, LIST_LIMIT + 2):
        ranges = b"".join(struct.pack("<Q", (0x1000 + 512 * i) | 512 << 40) for i in range(count))
        body = struct.pack("<II", 0, count << 1 | 1) + ranges
        data = struct.pack("<HHI", 7, (8 + len(body)) & 0xFFFF, 3) + body
        frame = Frame(1, data, time=1.0)
        lines = written(dissect(frame), 1.0)
        assert lines is not None
        assert lines == drawn(dissect(frame, fast=False), 1.0), count
        more = [line for line in lines if "more range" in line]
        assert len(more) == (count > LIST_LIMIT)


def test_sample_captures_written_as_rich_draws_them():
    """With the tracker's links and reassembled transactions, on every sample capture."""
    written_count = 0
    for path in sorted(CAPTURES.glob("*.pcapng")) + sorted(CAPTURES.glob("*.log")):
        first = None
        for message in messages_of(open_frames(str(path))):
            first = message.frame.time if first is None else first
            lines = written(message, first)
            if lines is not None:
                written_count += 1
                assert lines == drawn(message, first), (path.name, message.frame.index)
    assert written_count > 100


def test_a_reassembled_balloon_with_parts_over_the_range_limit():
    """The final part's reassembled tree: every part's ranges, cut at the limit and counted."""
    counts = (3, PART_RANGE_LIMIT, PART_RANGE_LIMIT + 7)
    timed = [*handshake(), (1.0, balloon_request(7, 512 * sum(counts)))]
    start = 0x100000
    for index, count in enumerate(counts):
        ranges = [(start + 512 * i, 512) for i in range(count)]
        start += 512 * count
        more = int(index < len(counts) - 1)
        timed.append((1.1 + index / 10, balloon_response(8 + index, ranges, more)))
    messages = list(messages_of(frames(timed)))
    final = messages[-1]
    lines = written(final, T0)
    assert lines is not None
    assert lines == drawn(final, T0)
    assert "... 7 more ranges (every one in -T json)" in "\n".join(lines)
    assert any(line.lstrip("│├└─ ").startswith("Reassembled balloon") for line in lines)


@st.composite
def exchanges(draw):
    """Balloon, unballoon and hot-add exchanges with parts, ids and pages that may not
    add up (so that transactions end incomplete, refused or with their own findings),
    between status reports."""
    page = st.integers(0, 0x3FFFF)
    ranges = st.lists(st.tuples(page, st.sampled_from([0, 1, 512])), max_size=3)
    trans_id = st.integers(1, 4)
    step = st.one_of(
        st.builds(balloon_request, trans_id, st.sampled_from([0, 1, 512, 2048])),
        st.builds(balloon_response, trans_id, ranges, st.integers(0, 1)),
        st.builds(unballoon_request, trans_id, ranges, st.integers(0, 1)),
        st.builds(unballoon_response, trans_id),
        st.builds(hot_add_request, trans_id, page, st.sampled_from([1, 512, 32768])),
        st.builds(hot_add_response, trans_id, st.sampled_from([0, 512, 32768]), st.integers(0, 1)),
        st.builds(status, trans_id, st.integers(0, 1 << 20), st.integers(0, 1 << 20)),
    )
    steps = draw(st.lists(step, min_size=1, max_size=12))
    return [*handshake(), *((1.0 + i / 10, packet) for i, packet in enumerate(steps))]


@settings(max_examples=150, deadline=None)
@given(exchanges(), st.booleans())
def test_transactions_written_as_rich_draws_them(timed, ascii_only):
    """The links and reassembled transactions (parts, totals, incomplete, the
    transaction's expert info) are written line for line as the tree draws them."""
    guides = ASCII_GUIDES if ascii_only else UNICODE_GUIDES
    for message in messages_of(frames(timed)):
        lines = written(message, T0, guides)
        if lines is not None:
            assert lines == drawn(message, T0, "ascii" if ascii_only else "utf-8")


def test_written_transactions_include_every_kind_of_line():
    """The hand-made session behind the test above reaches each line of a reassembled
    transaction on the written path (so that the comparison is not vacuous)."""
    timed = [
        *handshake(),
        (1.0, balloon_request(5, 1024)),
        (1.1, balloon_response(5, [(0x1000, 512), (0x1200, 0)], more=1)),
        (1.2, balloon_response(6, [(0x2000, 512)])),
        (1.3, hot_add_request(7, 0x400000, 512)),
        (1.4, hot_add_response(7, 512, 1)),
        (1.5, unballoon_request(8, [(0x90000, 512)])),
        (1.6, unballoon_response(8)),
        (1.7, unballoon_request(9, [(0x1000, 512)])),
    ]
    text = []
    for message in messages_of(frames(timed)):
        lines = written(message, T0)
        if lines is not None:
            assert lines == drawn(message, T0)
            text += lines
    joined = "\n".join(text)
    for expected in (
        "Reassembled balloon",
        "part 2: frame",
        "range 0: start_page 0x2000",
        "Transaction expert info",
        "Reassembled hot_add",
        "totals: ",
        "incomplete: ",
    ):
        assert expected in joined, expected
