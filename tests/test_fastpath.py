"""The compiled decoders against Scapy's own dissection: same values, findings and output.

The fast path exists only for speed; these differential tests hold it to
being indistinguishable from the Scapy path on valid and malformed messages.
"""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from dmdissect.analysis.dissect import dissect
from dmdissect.layers import MESSAGE_LAYERS
from dmdissect.layers.compiled import compile_layer, layer_of
from dmdissect.layers.layout import layout_of
from dmdissect.sources.frame import Frame
from dmdissect.views.jsonout import message_object
from dmdissect.views.phrases import summarize, summary_phrase
from dmdissect.views.summary import summary_line
from dmdissect.vocabulary import DirectionSource

COMPILED = sorted(t for t, layer in MESSAGE_LAYERS.items() if compile_layer(layer) is not None)


def test_the_high_volume_messages_compile():
    """Every message type is decoded fast (an info message's entries of both forms too)."""
    assert COMPILED == list(range(15))


def assert_same(frame: Frame) -> None:
    fast = dissect(frame, fast=True)
    slow = dissect(frame, fast=False)
    assert (fast.type, fast.size, fast.trans_id) == (slow.type, slow.size, slow.trans_id)
    assert (fast.available, fast.consumed, fast.trailing) == (
        slow.available,
        slow.consumed,
        slow.trailing,
    )
    assert fast.findings == slow.findings
    assert message_object(fast) == message_object(slow)
    assert summary_line(fast, 0.0) == summary_line(slow, 0.0)
    for message in (fast, slow):
        if message.body is not None:
            assert_summaries_interpreted(message.body)


def assert_summaries_interpreted(obj) -> None:
    """The compiled summary of ``obj`` and of each structure in it equal the phrase tree's."""
    layer = layer_of(obj)
    template = summary_phrase(layer)
    if template is not None and not obj.missing:
        assert summarize(obj) == template.render(obj)
    for spot in layout_of(layer).spots:
        value = getattr(obj, spot.name, None)
        for item in value if isinstance(value, list) else [value]:
            if hasattr(item, "missing") and hasattr(layer_of(item), "fields_desc"):
                assert_summaries_interpreted(item)


@st.composite
def messages(draw):
    """A header of a compiled type, a size that may lie, and a body of any length."""
    msg_type = draw(st.sampled_from(COMPILED))
    body = draw(st.binary(min_size=0, max_size=120))
    if msg_type in (7, 8, 14) and draw(st.booleans()):
        count = draw(st.integers(0, 12))
        word = count << 1 | draw(st.integers(0, 1))
        prefix = {
            7: struct.pack("<II", 0, word),
            8: struct.pack("<II", draw(st.integers(0, 1)), count),
            14: struct.pack("<IIQ", draw(st.integers(0, 2)), count, draw(st.integers(0, 1))),
        }
        body = prefix[msg_type] + body
    if msg_type == 12 and draw(st.booleans()):
        # An info message: entries of every kind (a page count, bytes, empty, lying sizes).
        entries = b""
        for _ in range(draw(st.integers(0, 6))):
            kind = draw(st.integers(0, 2))
            data = draw(st.binary(min_size=0, max_size=12))
            size = draw(st.one_of(st.just(len(data)), st.just(8), st.integers(0, 40)))
            entries += struct.pack("<II", kind, size) + data
        info_size = draw(st.one_of(st.just(len(entries)), st.integers(0, 120)))
        body = struct.pack("<II", draw(st.integers(0, 1)), info_size) + entries + body[:8]
    true_size = 8 + len(body)
    size = draw(st.one_of(st.just(true_size), st.integers(0, 0xFFFF)))
    return struct.pack("<HHI", msg_type, size, draw(st.integers(0, 2**32 - 1))) + body


@settings(max_examples=400, deadline=None)
@given(messages(), st.sampled_from([None, "guest->host", "host->guest"]))
def test_fast_path_equals_scapy_path(data, direction):
    source = DirectionSource.CAPTURE if direction else "unknown"
    assert_same(Frame(1, data, time=5.0, direction=direction, direction_source=source))


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=0, max_size=64))
def test_fast_path_equals_scapy_path_on_noise(data):
    assert_same(Frame(1, data))


def test_fast_path_on_a_real_balloon_part():
    ranges = b"".join(struct.pack("<Q", (0x10000 + 512 * i) | 512 << 40) for i in range(10))
    data = struct.pack("<HHI", 7, 16 + len(ranges), 9) + struct.pack("<II", 0, 10 << 1 | 1) + ranges
    fast = dissect(Frame(1, data))
    assert type(fast.body).__name__ == "DMBalloonResponseValues"
    assert [(r.start_page, r.page_cnt) for r in fast.body.range_array] == [
        (0x10000 + 512 * i, 512) for i in range(10)
    ]
    assert summarize(fast.body) == "part: 10 ranges, 5120 pages, more follow"
    assert_same(Frame(1, data))


@settings(max_examples=300, deadline=None)
@given(
    messages(),
    st.integers(0, 0xFFFF),
    st.integers(0, 2**64 - 1),
    st.binary(max_size=24),
    st.booleans(),
)
def test_fast_path_equals_scapy_path_behind_a_vmbus_descriptor(data, flags, vmbus_id, tail, fit):
    """The descriptor decoded by its compiled layer, len8 honest (padded) or lying."""
    from dmdissect.views.outline import plain_lines
    from dmdissect.views.tree import message_tree

    body = data + b"\0" * (-len(data) % 8)
    len8 = (16 + len(body)) // 8 if fit else (16 + len(data) + len(tail)) // 8 + (flags % 3) - 1
    framed = struct.pack("<HHHHQ", 6, 2, max(len8, 0), flags, vmbus_id) + body + tail
    frame = Frame(
        1, framed, time=5.0, direction="host->guest", direction_source=DirectionSource.CAPTURE
    )
    assert_same(frame)
    fast, slow = dissect(frame, fast=True), dissect(frame, fast=False)
    assert (fast.framed, fast.extra, fast.message_bytes) == (
        slow.framed,
        slow.extra,
        slow.message_bytes,
    )
    assert plain_lines(message_tree(fast, 5.0)) == plain_lines(message_tree(slow, 5.0))


def test_fast_path_on_a_part_of_510_ranges_and_on_one_cut_inside_them():
    """The list read in one go matches Scapy's item by item, whole or cut mid-range."""
    ranges = b"".join(struct.pack("<Q", (512 * i) | (i % 7 + 1) << 40) for i in range(510))
    data = struct.pack("<HHI", 7, 16 + len(ranges), 3) + struct.pack("<II", 0, 510 << 1) + ranges
    fast = dissect(Frame(1, data))
    assert [(r.start_page, r.page_cnt) for r in fast.body.range_array] == [
        (512 * i, i % 7 + 1) for i in range(510)
    ]
    assert_same(Frame(1, data))
    assert_same(Frame(1, data[:-5]))


def assert_precheck_sound(frame: Frame) -> None:
    """The cheap well-formed precheck never hides a finding the full checks would give."""
    from dmdissect.analysis.expert import _vmbus, check, sound_check, well_formed

    for fast in (True, False):
        message = dissect(frame, fast=fast)
        full = check(message, quick=False)
        assert message.findings == list(frame.findings) + full
        if message.body is not None:
            # The precheck compiled for the body's layer answers as the general one.
            assert sound_check(type(message.body))(message) == well_formed(message)
        if message.body is not None and well_formed(message):
            assert full == (_vmbus(message) if message.framed else [])


@settings(max_examples=400, deadline=None)
@given(messages(), st.sampled_from([None, "guest->host", "host->guest"]), st.binary(max_size=9))
def test_precheck_agrees_with_the_full_checks(data, direction, tail):
    source = DirectionSource.CAPTURE if direction else "unknown"
    for raw in (data, data + tail, data + b"\0" * len(tail)):
        assert_precheck_sound(Frame(1, raw, time=5.0, direction=direction, direction_source=source))


@settings(max_examples=200, deadline=None)
@given(messages(), st.integers(0, 2), st.binary(max_size=12), st.booleans())
def test_precheck_agrees_with_the_full_checks_behind_a_vmbus_descriptor(data, pad, tail, fit):
    body = data + (b"\0" if pad else b"\1") * (-len(data) % 8)
    len8 = (16 + len(body)) // 8 if fit else (16 + len(body) + len(tail)) // 8
    framed = struct.pack("<HHHHQ", 6, 2, len8, 0, 1) + body + tail
    assert_precheck_sound(
        Frame(1, framed, direction="host->guest", direction_source=DirectionSource.CAPTURE)
    )


def test_precheck_agrees_on_every_sample_capture_and_skips_the_full_checks_there(monkeypatch):
    """Every message of the shipped captures; on well-formed ones the full checks never run."""
    from pathlib import Path

    from dmdissect.analysis import expert
    from dmdissect.sources import open_frames

    captures = Path(__file__).resolve().parent.parent / "captures"
    frames = [f for p in sorted(captures.glob("*.pcapng")) for f in open_frames(str(p))]
    assert len(frames) > 50
    for frame in frames:
        assert_precheck_sound(frame)
    # Operation count: the full checks run on a well-formed message only for the rare,
    # once-a-session types (info entries, reserved bits inside the capabilities).
    full_runs: list = []
    original = expert._size
    monkeypatch.setattr(expert, "_size", lambda m, *a: full_runs.append(m) or original(m, *a))
    clean = [f for f in frames if "faulty" not in str(f.file)]
    quiet = [m for m in map(dissect, clean) if not m.findings]
    assert len(quiet) > 50
    assert {m.type_name for m in full_runs if not m.findings} <= {
        "DM_CAPABILITIES_REPORT",
        "DM_INFO_MESSAGE",
    }
    assert len(full_runs) < len(clean) // 10
