"""Signals while reading: raised only inside the frame generators, never lose a frame read.

A signal that arrives while a source is reading stops the read at once; one
that arrives while the views work is held until the next frame is asked for,
and no frame is read after it.
"""

from __future__ import annotations

import signal

import pytest

from dmdissect import interrupt
from dmdissect.interrupt import Interrupted, interruptible


@pytest.fixture(autouse=True)
def clean_state():
    interrupt._state.reading = False
    interrupt._state.pending = None
    yield
    interrupt._state.reading = False
    interrupt._state.pending = None


def counted(reads: list[int], total: int = 5):
    """Frames 1..total, each noted in ``reads`` when the source reads it."""
    for number in range(1, total + 1):
        reads.append(number)
        yield number


def test_frames_pass_through_and_nothing_is_marked_as_reading_after():
    assert list(interruptible(counted([]))) == [1, 2, 3, 4, 5]
    assert interrupt._state.reading is False


def test_a_signal_before_reading_starts_stops_before_the_first_frame():
    reads: list[int] = []
    interrupt._handler(signal.SIGINT, None)
    with pytest.raises(Interrupted) as stop:
        next(interruptible(counted(reads)))
    assert stop.value.status == 130
    assert reads == []


def test_a_signal_while_the_views_work_stops_before_the_next_frame_is_read():
    reads: list[int] = []
    frames = interruptible(counted(reads))
    assert next(frames) == 1
    assert next(frames) == 2
    # The consumer is working on frame 2: the handler only notes the signal.
    assert interrupt._state.reading is False
    interrupt._handler(signal.SIGTERM, None)
    with pytest.raises(Interrupted) as stop:
        next(frames)
    assert stop.value.status == 143
    assert reads == [1, 2]
    assert interrupt._state.pending is None and interrupt._state.reading is False


def test_a_signal_while_a_source_reads_stops_the_read_at_once():
    reads: list[int] = []

    def blocked():
        yield from counted(reads, 2)
        # A read that would wait for input: the signal arrives in it.
        assert interrupt._state.reading is True
        interrupt._handler(signal.SIGINT, None)
        reads.append(99)  # never reached: the handler raised inside the read

    frames = interruptible(blocked())
    assert [next(frames), next(frames)] == [1, 2]
    with pytest.raises(Interrupted):
        next(frames)
    assert reads == [1, 2]
    assert interrupt._state.reading is False
