"""Bent capture structures (fuzz/capturegen.py): nothing but InputError escapes, no frame
holds more than the file, memory bounded whatever a length claims."""

from __future__ import annotations

import io
import random
import tracemalloc

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dmdissect.sources import read_frames
from fuzz.capturegen import LENGTHS, block, epb, idb, option, shb
from fuzz.capturegen import capture as bent_capture
from fuzz.harness import exercise
from tests.torn import frames_and_error


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False))
def test_bent_captures_never_escape_and_give_no_empty_frames(rnd: random.Random):
    data = bent_capture(rnd)
    exercise(data)
    frames, _ = frames_and_error(lambda: read_frames(io.BytesIO(data), "bent"))
    assert sum(len(frame.data) for frame in frames) <= len(data)


def test_every_block_length_near_a_minimum_is_reported_not_raised():
    for length in [n for n in LENGTHS if n < 64]:
        for kind in (1, 3, 6):
            data = shb() + idb() + block(kind, bytes(max(length - 12, 0)), length=length)
            frames, _ = frames_and_error(lambda d=data: read_frames(io.BytesIO(d), "x"))
            assert sum(len(f.data) for f in frames) <= len(data), (kind, length)


def test_options_at_65535_bytes_read_in_bounded_memory():
    data = shb() + idb() + epb(b"\x05\x00\x30\x00" + bytes(44), option(1, b"c" * 65535))
    tracemalloc.start()
    try:
        frames, stop = frames_and_error(lambda: read_frames(io.BytesIO(data), "x"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert stop is None
    assert len(frames) == 1 and len(frames[0].comment) == 65535
    assert peak < 8 << 20
