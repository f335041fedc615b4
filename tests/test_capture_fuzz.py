"""Bent capture structures (fuzz/capturegen.py): nothing but InputError escapes, no frame
holds more than the file, no frame is made of a record none of whose bytes arrived, memory
bounded whatever a length claims.

A whole packet block that declares 0 bytes is a frame of 0 bytes: the real tshark shows it
(frame.len 0), and so does dmdissect, with its "shorter than the header" finding.  A torn
block or record that holds no byte of its packet is no frame at all."""

from __future__ import annotations

import io
import random
import struct
import subprocess
import tracemalloc

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dmdissect import findings as ei
from dmdissect.sources import read_frames
from fuzz.capturegen import LENGTHS, STATUS, block, epb, idb, option, shb
from fuzz.capturegen import capture as bent_capture
from fuzz.harness import exercise
from tests.torn import frames_and_error
from tests.tshark import require_tshark

#: The findings of a frame cut short by the end of its record or block.
TORN = {ei.CAPTURE_RECORD_TRUNCATED.id, ei.CAPTURE_BLOCK_TRUNCATED.id}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False))
def test_bent_captures_never_escape_and_give_no_phantom_frames(rnd: random.Random):
    data = bent_capture(rnd)
    exercise(data)
    frames, stop = frames_and_error(lambda: read_frames(io.BytesIO(data), "bent"))
    assert sum(len(frame.data) for frame in frames) <= len(data)
    for frame in frames:
        if not frame.data:
            # A 0-byte frame is a whole block that says 0 bytes: never the torn one.
            assert not any(f.id in TORN for f in frame.findings), frame.findings


def test_a_whole_zero_byte_packet_block_is_a_frame_as_in_tshark(tmp_path):
    for name, empty in (("spb", block(3, struct.pack("<I", 0))), ("epb", epb(b""))):
        path = tmp_path / f"{name}.pcapng"
        path.write_bytes(shb() + idb() + empty + epb(STATUS))
        tshark = subprocess.run(
            [require_tshark(), "-r", str(path), "-T", "fields", "-e", "frame.cap_len"],
            capture_output=True,
            text=True,
            check=True,
        )
        frames, stop = frames_and_error(lambda p=path, n=name: read_frames(open(p, "rb"), n))
        assert stop is None
        assert tshark.stdout.split() == ["0", str(len(STATUS))]
        assert [len(frame.data) for frame in frames] == [0, len(STATUS)]


def test_an_spb_holding_more_than_its_packet_is_damaged_as_in_tshark(tmp_path):
    """An SPB has no options: bytes after its padded packet are where tshark reads the
    trailer, so it calls the file damaged after the frames before; dmdissect too, with the
    frames tshark shows, one line naming the block and its offset, and exit status 2.
    A snap length shorter than the packet counts: the block may hold only that much."""
    from click.testing import CliRunner

    from dmdissect.cli.main import main

    snapped = block(1, struct.pack("<HHI", 147, 0, 16))  # an IDB with snap length 16
    cases = {
        "extra": (idb(), block(3, struct.pack("<I", len(STATUS)) + STATUS + bytes(8))),
        "snaplen": (snapped, block(3, struct.pack("<I", len(STATUS)) + STATUS)),
        "fits": (snapped, block(3, struct.pack("<I", len(STATUS)) + STATUS[:16])),
    }
    for name, (interface, spb) in cases.items():
        path = tmp_path / f"{name}.pcapng"
        before = shb() + interface + epb(STATUS)
        path.write_bytes(before + spb + epb(STATUS))
        tshark = subprocess.run(
            [require_tshark(), "-r", str(path), "-T", "fields", "-e", "frame.cap_len"],
            capture_output=True,
            text=True,
        )
        frames, stop = frames_and_error(lambda p=path: read_frames(open(p, "rb"), str(p)))
        lengths = [str(len(frame.data)) for frame in frames]
        assert lengths == tshark.stdout.split(), name
        result = CliRunner().invoke(main, ["read", "-T", "fields", "-e", "frame.len", str(path)])
        assert result.exit_code == tshark.returncode, (name, result.output)
        if name == "fits":
            assert tshark.returncode == 0 and stop is None and lengths == ["48", "16", "48"]
            continue
        assert tshark.returncode == 2 and "appears to be damaged" in tshark.stderr
        length = struct.unpack_from("<I", spb, 4)[0]
        assert stop == (
            f"{path}: record 2 at offset {len(before)}: SPB block length {length} is more "
            f"than its packet of 16 bytes needs (32 bytes); reading stopped"
            if name == "snaplen"
            else f"{path}: record 2 at offset {len(before)}: SPB block length {length} is "
            f"more than its packet of {len(STATUS)} bytes needs ({16 + len(STATUS)} bytes); "
            f"reading stopped"
        )


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
