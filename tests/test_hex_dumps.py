"""Whole kernel dumps taken at once give exactly what the line-by-line reader gives.

:mod:`dmdissect.sources.hex.dumps` checks a dump's rows by writing them again
from their bytes and takes them in one step.  Its oracle is the general
reader alone (``Framer.use_lane = False``): every input is read both ways
and the frames must be equal in every field.  The logs come from the port of
``print_hex_dump`` in ``tests/hexbuild.py``, with what the kernel really
varies (a stamp per row, stamps growing a digit, bytes that print as spaces
at a column's edge, sizes that lie, messages longer than the compiled
checks) and what it never does (a row edited by hand).
"""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dmdissect.sources.hex import dumps, iter_hex_frames
from dmdissect.sources.hex.framer import Framer
from tests.hexbuild import DUMP_PREFIX_OFFSET, both_ways, dmesg_stamp, hdr, print_hex_dump

SPACE_HEAVY = st.binary(max_size=90).map(lambda b: bytes(0x20 if x < 96 else x for x in b))


def _log(messages: list[bytes], times: list[list[float]], directions: list[str | None]) -> str:
    """Each message as the kernel prints it, each row stamped with its own time."""
    lines = []
    for message, stamps, direction in zip(messages, times, directions, strict=True):
        rows = list(print_hex_dump("hv_balloon: ", DUMP_PREFIX_OFFSET, 16, 1, message, True, None))
        if direction is not None:
            lines.append(f"{dmesg_stamp(stamps[0])}hv_balloon: {direction}")
        lines += [dmesg_stamp(stamps[min(i, len(stamps) - 1)]) + row for i, row in enumerate(rows)]
    return "\n".join(lines) + "\n"


@st.composite
def kernel_logs(draw):
    count = draw(st.integers(1, 6))
    messages, times, directions = [], [], []
    clock = draw(st.sampled_from([100.0, 99999.99999, 5.5]))
    for _ in range(count):
        body = draw(st.one_of(st.binary(max_size=120), SPACE_HEAVY))
        kind = draw(st.sampled_from([5, 7, 9, 10]))
        size = draw(st.one_of(st.just(8 + len(body)), st.integers(0, 300)))
        messages.append(hdr(kind, size, draw(st.integers(0, 2**32 - 1))) + body)
        rows = -(-len(messages[-1]) // 16)
        steps = draw(st.lists(st.sampled_from([0.0, 0.000001, 0.5]), min_size=rows, max_size=rows))
        stamps = []
        for step in steps:
            clock += step
            stamps.append(clock)
        times.append(stamps)
        directions.append(draw(st.sampled_from([None, "guest->host", "host->guest"])))
    return _log(messages, times, directions)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kernel_logs(), st.sampled_from([None, 7, 64, 333, 4096]))
def test_whole_dumps_change_nothing(log, step):
    general, fast = both_ways(log.encode(), step)
    assert fast == general


@settings(max_examples=200, deadline=None)
@given(kernel_logs(), st.data())
def test_a_row_edited_by_hand_changes_nothing(log, data):
    """One character of the log replaced: the dump is no longer the kernel's, and what
    the general reader makes of it is what comes out."""
    at = data.draw(st.integers(0, len(log) - 1))
    char = data.draw(st.sampled_from(["0", "f", " ", ".", "\t", "\n", "A", "]", ":"]))
    edited = log[:at] + char + log[at + 1 :]
    general, fast = both_ways(edited.encode())
    assert fast == general


class _Counted(Framer):
    """A framer that counts the lines it is fed one by one and the dumps it takes whole."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.lines = self.dumps = 0

    def feed(self, number, text):
        self.lines += 1
        return super().feed(number, text)

    def take_dump(self, *args) -> bool:
        taken = super().take_dump(*args)
        self.dumps += taken
        return taken


def test_a_clean_log_is_read_a_dump_at_a_time(monkeypatch):
    """A log of 2,000 status reports and balloon parts: all but the few dumps a chunk of
    the input cuts in two are taken whole, each in one step."""
    framers = []

    def counted(*args):
        framers.append(_Counted(*args))
        return framers[-1]

    monkeypatch.setattr("dmdissect.sources.hex.Framer", counted)
    status = hdr(5, 48, 1) + bytes(range(40))
    part = hdr(7, 176, 2) + bytes(168)
    messages = [status if n % 3 else part for n in range(2000)]
    times = [[100.0 + n / 50] * 11 for n in range(2000)]
    log = _log(messages, times, ["guest->host"] * 2000)
    frames = list(iter_hex_frames(io.BytesIO(log.encode()), "t"))
    assert [f.data for f in frames] == messages
    (framer,) = framers
    chunks = -(-len(log) // 65536)
    assert framer.dumps >= 2000 - 2 * chunks
    assert framer.lines <= 12 * 2 * chunks + 1


def test_messages_longer_than_the_compiled_checks():
    """Rows past :data:`~dmdissect.sources.hex.dumps.COMPILED_ROWS` are checked one by one."""
    rows = dumps.COMPILED_ROWS + 5
    message = hdr(7, 16 * rows - 3, 9) + bytes(range(256)) * rows
    message = message[: 16 * rows - 3]
    log = _log([message, message], [[1.0], [2.0]], ["host->guest", None])
    general, fast = both_ways(log.encode())
    assert fast == general and [f.data for f in fast] == [message, message]
    edited = log.replace(" 41 42 43 ", " 41 42 4c ", 1)
    general, fast = both_ways(edited.encode())
    assert fast == general


@pytest.mark.parametrize(
    "stamp",
    ["[  100.00 000]", "[1.0][2.00000]", "[  100.0000000", " [ 100.000000]", "[ 1.0]       "],
)
def test_a_row_whose_stamp_is_no_stamp(stamp):
    """A middle row whose stamp has the first row's width but is no dmesg stamp: the
    line reader does not take it as the kernel's row, so neither may the whole dump
    (the message after it makes the lane hand the first one out, as a file's end
    would not)."""
    status = hdr(5, 48, 1) + bytes(range(40))
    log = _log([status, status], [[100.0], [100.5]], ["guest->host", "guest->host"])
    lines = log.split("\n")
    lines[2] = stamp + lines[2][len("[  100.000000]") :]
    general, fast = both_ways("\n".join(lines).encode())
    assert fast == general


def test_a_lying_size_costs_no_check(monkeypatch):
    """First rows whose header claims 4,000 bytes, with no rows behind them: no dump is
    written again to be compared (the work per line stays that of one row)."""
    checked = []
    real = dumps._check

    def spy(rows, last):
        checked.append(rows)
        return real(rows, last)

    monkeypatch.setattr(dumps, "_check", spy)
    monkeypatch.setattr(dumps, "_check_any", lambda *args: checked.append("any"))
    liar = hdr(7, 4000, 1) + bytes(8)
    rows = print_hex_dump("hv_balloon: ", DUMP_PREFIX_OFFSET, 16, 1, liar, True, None)
    log = "\n".join(dmesg_stamp(100 + n) + rows[0] for n in range(3000)) + "\n"
    frames = list(iter_hex_frames(io.BytesIO(log.encode()), "t"))
    assert len(frames) == 3000 and checked == []
