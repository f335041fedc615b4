"""Hostile input: truncated and corrupted captures, lying lengths, endless lines.

Whatever the bytes, reading keeps going, nothing escapes but a clean
InputError, and memory stays bounded by what is really there.
"""

from __future__ import annotations

import io
import random
import struct
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dmdissect.cli import main
from dmdissect.sources import read_frames
from dmdissect.sources.hex import iter_hex_frames
from dmdissect.views.session import clock
from fuzz.harness import exercise, exercise_every_format
from tests.torn import frames_and_error

ROOT = Path(__file__).resolve().parent.parent
FAULTY = (ROOT / "captures" / "faulty.pcapng").read_bytes()
LINUX = (ROOT / "captures" / "linux-qemu.pcapng").read_bytes()
DMESG = (ROOT / "captures" / "linux-qemu-dmesg.log").read_bytes()


def _frames(data: bytes) -> list[bytes]:
    frames, _ = frames_and_error(lambda: read_frames(io.BytesIO(data), "cut"))
    return [frame.data for frame in frames]


def test_a_capture_cut_at_every_byte_offset():
    """Every cut of the first 4 KiB of the faulty capture: earlier messages kept.

    All frames but the last of a cut capture are the whole capture's first
    frames, byte for byte; the last may be the torn record, shown with a finding.
    Every 13th cut also goes through every stage and view (the slow part).
    """
    whole = _frames(FAULTY)
    for cut in range(0, 4096):
        if cut % 13 == 0:
            exercise(FAULTY[:cut])
        frames = _frames(FAULTY[:cut])
        kept = max(len(frames) - 1, 0)
        assert frames[:kept] == whole[:kept], cut
    assert len(_frames(FAULTY[:4096])) > 10


def test_epoch_times_past_any_calendar_are_still_shown():
    assert clock(1e300) == f"{1e300:.6f} s (past any calendar date)"
    assert clock(1_767_225_600.5) == "2026-01-01 00:00:00.500000 UTC"


def test_a_hex_dump_cut_at_every_line():
    lines = DMESG.splitlines(keepends=True)[:120]
    counts = [exercise(b"".join(lines[:cut])) for cut in range(len(lines) + 1)]
    assert counts == sorted(counts)
    assert counts[-1] > 10


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), st.integers(1, 64))
def test_random_corruption_of_a_real_capture(rnd, flips):
    data = bytearray(LINUX[:8192])
    for _ in range(flips):
        data[rnd.randrange(len(data))] = rnd.randrange(256)
    exercise(bytes(data))


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=512))
def test_arbitrary_bytes_in_every_format(data):
    exercise_every_format(data)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rnd=st.randoms(use_true_random=False))
def test_cli_on_corrupted_captures_exits_0_or_2_without_traceback(rnd, tmp_path_factory):
    data = bytearray(LINUX[:4096])
    for _ in range(rnd.randrange(1, 32)):
        data[rnd.randrange(len(data))] = rnd.randrange(256)
    path = tmp_path_factory.mktemp("bad") / "bad.pcapng"
    path.write_bytes(bytes(data))
    for command in (
        ["read", str(path)],
        ["timeline", str(path)],
        ["read", "-V", "-c", "5", str(path)],
    ):
        result = CliRunner().invoke(main, command)
        assert result.exit_code in (0, 2), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output


def test_lying_lengths_stay_bounded():
    """range_count 2**31-1, info_size 4 GiB and a pcap record of 4 GiB: small peaks.

    The 4 GiB record stops reading (no frame of it); the two before it are shown.
    """
    balloon = struct.pack("<HHI", 7, 0xFFFF, 1) + struct.pack("<II", 0, 0x7FFFFFFF << 1)
    info = struct.pack("<HHI", 12, 0xFFFF, 1) + struct.pack("<II", 0, 0xFFFFFFFF)
    info += struct.pack("<II", 0, 0xFFFFFFFF) + b"\1" * 8
    pcap = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 147)
    records = b"".join(struct.pack("<IIII", 1, 0, len(m), len(m)) + m for m in (balloon, info))
    huge = struct.pack("<IIII", 2, 0, 0xFFFFFFFF, 0xFFFFFFFF) + b"\0" * 64
    tracemalloc.start()
    try:
        assert exercise(pcap + records + huge) == 2
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


class _EndlessLine(io.RawIOBase):
    """``size`` bytes of hex digits with no newline, produced as they are read."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.left)
        buffer[:n] = b"a" * n
        self.left -= n
        return n


def test_a_100_mb_line_without_a_newline_is_read_in_bounded_memory():
    stream = io.BufferedReader(_EndlessLine(100 << 20))
    tracemalloc.start()
    try:
        frames = list(iter_hex_frames(stream, "endless"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert frames == []
    assert peak < 16 << 20


@pytest.mark.parametrize("seed", range(3))
def test_random_pcapng_block_lengths(seed):
    """Block lengths overwritten with random values, including huge ones."""
    rnd = random.Random(seed)
    data = bytearray(LINUX[:6000])
    offset = 0
    while offset + 8 <= len(data):
        length = struct.unpack_from("<I", data, offset + 4)[0]
        if rnd.random() < 0.1:
            struct.pack_into("<I", data, offset + 4, rnd.choice([0, 7, 12, 2**31, 2**32 - 4]))
        if length < 12:
            break
        offset += length
    exercise(bytes(data))


def _info_message(entries: int) -> bytes:
    """DM_INFO_MESSAGE (type 12) of ``entries`` entries of type 1 and no data, by hand."""
    body = struct.pack("<II", 1, 0) * entries
    fixed = struct.pack("<II", 0, len(body))  # reserved, info_size
    size = min(8 + len(fixed) + len(body), 0xFFFF)
    return struct.pack("<HHI", 12, size, 7) + fixed + body


def _dissect_peak(entries: int) -> int:
    from dmdissect.analysis.dissect import dissect
    from dmdissect.sources.frame import Frame

    data = _info_message(entries)
    tracemalloc.start()
    try:
        message = dissect(Frame(1, data))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(message.body.info) == entries
    assert {(e.type, e.data_size, e.data) for e in message.body.info} == {(1, 0, b"")}
    return peak


def test_an_info_message_of_thousands_of_empty_entries_costs_memory_linear_in_them():
    """Each entry used to keep a copy of every byte after it (Scapy keeps a packet's
    input), so 8x the entries cost about 30x the memory; now about 8x."""
    small, large = _dissect_peak(250), _dissect_peak(2000)
    assert large < 12 * small


#: Entries of a full 64 KiB info message: (65535 - header, reserved, info_size) // 8.
FULL_INFO_ENTRIES = (0xFFFF - 16) // 8


def test_a_full_info_message_of_empty_entries_builds_no_scapy_packet(monkeypatch):
    """Scapy took about 0.3 ms an entry (2.5 s for a 64 KiB message of 8,189 of them):
    the line, the JSON and the -V tree of one are written from compiled values alone."""
    from scapy.packet import Packet

    from dmdissect.analysis.dissect import dissect
    from dmdissect.sources.frame import Frame
    from dmdissect.views.jsonout import message_object
    from dmdissect.views.outline import plain_lines
    from dmdissect.views.summary import summary_line
    from dmdissect.views.tree import message_tree

    built = []
    real_init = Packet.__init__

    def counting_init(self, *args, **kwargs):
        built.append(type(self).__name__)
        real_init(self, *args, **kwargs)

    data = _info_message(FULL_INFO_ENTRIES)
    monkeypatch.setattr(Packet, "__init__", counting_init)
    message = dissect(Frame(1, data))
    line = summary_line(message, 0.0)
    entries = message_object(message)["info"]
    tree = plain_lines(message_tree(message, 0.0), False)
    monkeypatch.undo()
    assert built == []
    # The line names the first 16 entries and counts the rest; JSON holds them all.
    assert line.count("type 1 0 bytes") == 16
    assert f"; ... {FULL_INFO_ENTRIES - 16} more" in line
    assert line.endswith(f" [... {FULL_INFO_ENTRIES - 16} more findings in -V and -T json]")
    assert len(entries) == FULL_INFO_ENTRIES
    assert any("info[0]: type 1 0 bytes" in text for text in tree)


def _render_peak(messages: int) -> int:
    """Peak memory of writing ``messages`` full info messages' summary lines to a pipe."""
    import os

    from dmdissect.analysis.dissect import dissect
    from dmdissect.sources.frame import Frame
    from dmdissect.views.output import Output
    from dmdissect.views.render import render_messages

    data = _info_message(FULL_INFO_ENTRIES)
    with open(os.devnull, "w") as sink:
        tracemalloc.start()
        try:
            stream = (dissect(Frame(index, data)) for index in range(1, messages + 1))
            render_messages(stream, "text", out=Output(sink, color=False))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return peak


def test_summary_lines_of_long_messages_are_not_held_in_a_batch():
    """Lines went out 256 at a time whatever their length: ten info messages of 8,189
    entries held ten 130 KB lines (a hundred of them, 300 MB with their findings)."""
    one, ten = _render_peak(1), _render_peak(10)
    assert ten < 2 * one
