# ruff: noqa: E501  (log lines are quoted whole, as the programs print them)
"""A log line's summary written straight from its few facts equals the field walk's.

:func:`~dmdissect.views.summary.known_texts` writes the known fields of a
witnessed body from the layer's field order; the tree and JSON stand on
:func:`~dmdissect.views.fields.walk`, which is the oracle here, over every
message a log line can witness, with the numbers drawn by hypothesis.
"""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from dmdissect.analysis.dissect import dissect
from dmdissect.sources import read_frames
from dmdissect.views.summary import known_by_walk, known_texts

U32 = st.integers(0, (1 << 32) - 1)
U64 = st.integers(0, (1 << 64) - 1)
SMALL = st.integers(0, 3)

#: Every trace event that witnesses a message (hw/hyperv/trace-events), with its numbers.
TRACE = [
    (
        "hv_balloon_incoming_version incoming proto version {}.{}",
        (st.integers(0, 65535), st.integers(0, 65535)),
    ),
    ("hv_balloon_incoming_caps incoming caps 0x{:x}", (U32,)),
    ("hv_balloon_outgoing_balloon posting balloon {} for {}, remaining {}", (U32, U64, U64)),
    (
        "hv_balloon_incoming_balloon incoming balloon response {}, ranges {}, more {}",
        (U32, U32, SMALL),
    ),
    (
        "hv_balloon_outgoing_unballoon posting unballoon {} for {} @ 0x{:x}, remaining {}",
        (U32, U64, U64, U64),
    ),
    ("hv_balloon_incoming_unballoon incoming unballoon response {}", (U32,)),
    ("hv_balloon_outgoing_hot_add posting hot add {} for {} @ 0x{:x}", (U32, U64, U64)),
    (
        "hv_balloon_incoming_hot_add incoming hot add response {}, result {}, count {}",
        (U32, SMALL, U32),
    ),
]
#: The guest's lines that witness a message, and a status report of QMP and of ftrace.
OTHER = [
    (
        "[    1.737705] hv_balloon: Using Dynamic Memory protocol version {}.{}\n",
        "dmesg",
        (st.integers(0, 99), st.integers(0, 99)),
    ),
    ("[    1.737705] hv_balloon: Max. dynamic memory size: {} MB\n", "dmesg", (U64,)),
    ("[    1.737705] hv_balloon: Received Unknown type: {}\n", "dmesg", (st.integers(0, 1000),)),
    ("[    1.737705] hv_balloon: Capabilities not accepted by host\n", "dmesg", ()),
    (
        '{{"timestamp": {{"seconds": 1700000060, "microseconds": 0}}, "event": "HV_BALLOON_STATUS_REPORT", "data": {{"available": {}, "committed": {}}}}}\n',
        "qmp",
        (st.integers(0, 1 << 40).map(lambda n: n * 4096), st.integers(0, 1 << 40)),
    ),
    (
        "      hv_balloon-312     [002] .....    48.123456: balloon_status: available {}, committed {}; vm_memory_committed {}; pages_ballooned {}, pages_added {}, pages_onlined {}\n",
        "ftrace",
        (st.integers(-5, 1 << 40),) * 6,
    ),
]


def _bodies(text: str, fmt: str | None = None):
    frames = read_frames(io.BytesIO(text.encode()), "log", fmt)
    return [dissect(frame).body for frame in frames if frame.witness is not None]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_every_trace_witness_reads_as_the_walk_shows_it(data):
    for line, numbers in TRACE:
        values = [data.draw(n) for n in numbers]
        for body in _bodies(line.format(*values) + "\n", "qemu-trace"):
            assert body is None or known_texts(body) == known_by_walk(body), line


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_every_guest_and_qmp_witness_reads_as_the_walk_shows_it(data):
    seen = 0
    for line, fmt, numbers in OTHER:
        values = [data.draw(n) for n in numbers]
        for body in _bodies(line.format(*values), fmt):
            seen += body is not None
            assert body is None or known_texts(body) == known_by_walk(body), line
    assert seen >= 4  # the version, the info messages and the caps answer at least


def test_a_balloon_part_and_an_unballoon_part_read_as_hand_written():
    (request,) = _bodies(
        "hv_balloon_outgoing_unballoon posting unballoon 7 for 256 @ 0x5c000, remaining 0\n"
    )
    assert known_texts(request) == [
        "more_pages 0",
        "range_count 1",
        "range_array [start_page 0x5c000, page_cnt 256 (1 MiB)]",
    ]
    (part,) = _bodies(
        "hv_balloon_incoming_balloon incoming balloon response 9, ranges 510, more 1\n"
    )
    # C order (dm_balloon_response): the more_pages bit, then range_count
    assert known_texts(part) == ["more_pages 1", "range_count 510"]
