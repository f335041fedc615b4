"""``dmdissect convert`` and the capture writer: what goes in comes back out.

Inputs are built with ``struct`` (helpers in tests/capbuild.py); outputs are read
back with dmdissect's readers and, where installed, with tshark.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from dmdissect import findings as ei
from dmdissect.cli.convert import convert
from dmdissect.sources import open_frames
from dmdissect.sources.frame import Frame
from dmdissect.sources.writer import write_frames
from tests.capbuild import (
    BALLOON_REQUEST,
    BALLOON_RESPONSE,
    CAPABILITIES,
    MESSAGES,
    STATUS,
    VERSION_REQUEST,
    VERSION_RESPONSE,
    epb,
    hand_pcapng,
    idb,
    pcap,
    shb,
)

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, input: bytes | None = None):
    return CliRunner().invoke(convert, list(args), input=input, catch_exceptions=False)


def micros(time: float | None) -> int | None:
    return None if time is None else round(time * 1_000_000)


def essentials(frames) -> list[tuple]:
    return [(f.data, micros(f.time), f.direction, f.comment) for f in frames]


def test_round_trip_pcapng(tmp_path):
    source = tmp_path / "in.pcapng"
    source.write_bytes(hand_pcapng()[0])
    out = tmp_path / "out.pcapng"
    result = run(str(source), str(out))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    before = list(open_frames(str(source)))
    after = list(open_frames(str(out)))
    assert essentials(after) == [
        (
            f.data,
            micros(f.time) if f.time is not None else micros(after[i].time),
            f.direction,
            f.comment,
        )
        for i, f in enumerate(before)
    ]
    assert [f.origin for f in after] == [
        f"{out}#{n}@{offset} (from {source}#{n}@{e[5]})"
        for n, (offset, e) in enumerate(zip(_epb_offsets(out), hand_pcapng()[1]), 1)
    ]
    assert [f.findings for f in after] == [[]] * len(before)


def _epb_offsets(path: Path) -> list[int]:
    data = path.read_bytes()
    offsets, pos = [], 0
    while pos < len(data):
        kind, length = struct.unpack_from("<II", data, pos)
        if kind == 6:
            offsets.append(pos)
        pos += length
    return offsets


def test_frame_without_time_gets_the_one_after_the_previous(tmp_path):
    source = tmp_path / "in.pcapng"
    source.write_bytes(hand_pcapng()[0])
    out = tmp_path / "out.pcapng"
    run(str(source), str(out))
    times = [f.time for f in open_frames(str(out))]
    assert times[2] == 1700000005.000001


def test_round_trip_nanoseconds(tmp_path):
    source = tmp_path / "in.pcap"
    source.write_bytes(
        pcap([(1700000000, 123456789, VERSION_REQUEST), (1, 999999999, STATUS)], nano=True)
    )
    for to in ("pcapng", "pcap"):
        out = tmp_path / f"out.{to}"
        result = run("--to", to, "--resolution", "ns", str(source), str(out))
        assert result.exit_code == 0
        assert [(f.data, f.time) for f in open_frames(str(out))] == [
            (VERSION_REQUEST, 1700000000.123456789),
            (STATUS, 1.999999999),
        ]


def test_pcap_output_keeps_bytes_and_times(tmp_path):
    source = tmp_path / "in.pcapng"
    source.write_bytes(hand_pcapng()[0])
    out = tmp_path / "out.pcap"
    assert run("--to", "pcap", str(source), str(out)).exit_code == 0
    data = out.read_bytes()
    assert data[:24] == struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 147)
    before = list(open_frames(str(source)))
    after = list(open_frames(str(out)))
    assert [(f.data, f.direction, f.comment) for f in after] == [
        (f.data, None, None) for f in before
    ]
    assert [micros(f.time) for f in after] == [
        1700000000123456,
        1700000005000000,
        1700000005000001,
        1700000002000000,
        1700000003500000,
        1700000004000000,
    ]


def test_raw_input_synthetic_times_and_origins(tmp_path):
    source = tmp_path / "msgs.bin"
    source.write_bytes(b"".join(MESSAGES))
    out = tmp_path / "out.pcapng"
    assert run("--format", "raw", str(source), str(out)).exit_code == 0
    frames = list(open_frames(str(out)))
    offsets = [sum(map(len, MESSAGES[:i])) for i in range(len(MESSAGES))]
    assert [(f.data, f.time, f.direction, f.comment) for f in frames] == [
        (m, i / 1_000_000, None, None) for i, m in enumerate(MESSAGES)
    ]
    assert [f.origin.split(" (from ")[1] for f in frames] == [
        f"{source}#{n}@{offset})" for n, offset in enumerate(offsets, 1)
    ]


def test_source_findings_survive_and_are_reported(tmp_path):
    source = tmp_path / "torn.pcap"
    source.write_bytes(pcap([(5, 0, VERSION_REQUEST), (6, 0, STATUS)])[:-5])
    out = tmp_path / "out.pcapng"
    result = run(str(source), str(out))
    # Torn input: every message read is written, the torn one flagged, then exit 2 as tshark.
    assert result.exit_code == 2
    assert result.stderr == (
        f"dmdissect: warning: {source}#2@56: record truncated: 43 of 48 bytes\n"
        f"dmdissect: error: {source}: record 2 at offset 56: record truncated: 43 of 48 bytes; "
        f"reading stopped\n"
    )
    frames = list(open_frames(str(out)))
    assert [(f.data, f.time, f.findings) for f in frames] == [
        (VERSION_REQUEST, 5.0, []),
        (STATUS[:43], 6.0, [ei.CAPTURE_RECORD_TRUNCATED("record truncated: 43 of 48 bytes")]),
    ]


def test_writer_frames_with_findings_comments_and_directions(tmp_path):
    frames = [
        Frame(1, VERSION_REQUEST, 12.5, "guest->host", "text", "dmesg.txt:17", "user note"),
        Frame(
            2,
            VERSION_RESPONSE,
            None,
            "host->guest",
            "text",
            "dmesg.txt:18",
            None,
            [ei.HEX_STARTS_LATE("odd line"), ei.HEX_ORDER_ASSUMED("just so")],
        ),
        Frame(3, CAPABILITIES, None),
    ]
    out = tmp_path / "w.pcapng"
    with out.open("wb") as handle:
        assert write_frames(frames, handle) == 3
    back = list(open_frames(str(out)))
    assert [
        (f.data, f.time, f.direction, f.direction_source, f.comment, f.findings, f.origin)
        for f in back
    ] == [
        (
            VERSION_REQUEST,
            12.5,
            "guest->host",
            "capture",
            "user note",
            [],
            f"{out}#1@{_epb_offsets(out)[0]} (from dmesg.txt:17)",
        ),
        (
            VERSION_RESPONSE,
            12.500001,
            "host->guest",
            "capture",
            None,
            [ei.HEX_STARTS_LATE("odd line"), ei.HEX_ORDER_ASSUMED("just so")],
            f"{out}#2@{_epb_offsets(out)[1]} (from dmesg.txt:18)",
        ),
        (CAPABILITIES, 12.500002, None, "unknown", None, [], f"{out}#3@{_epb_offsets(out)[2]}"),
    ]


def test_writer_pcapng_bytes_exactly(tmp_path):
    import io

    buffer = io.BytesIO()
    write_frames([Frame(1, STATUS, 1.5, "host->guest", origin="x:1")], buffer, resolution="ns")
    data = buffer.getvalue()
    user_appl = b"dmdissect " + __import__("dmdissect").__version__.encode()
    shb_body = (
        struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
        + struct.pack("<HH", 4, len(user_appl))
        + user_appl
        + b"\0" * (-len(user_appl) % 4)
        + b"\0\0\0\0"
    )
    idb_body = struct.pack("<HHI", 147, 0, 262144) + struct.pack("<HHBxxx", 9, 1, 9) + bytes(4)
    body = b"origin=x:1\n"
    comment = b"dmdissect/1 %08x\n" % zlib.crc32(body, zlib.crc32(STATUS)) + body
    epb_body = (
        struct.pack("<IIIII", 0, 0, 1_500_000_000, 48, 48)
        + STATUS
        + struct.pack("<HH", 1, len(comment))
        + comment
        + b"\0" * (-len(comment) % 4)
        + struct.pack("<HHI", 2, 4, 2)
        + bytes(4)
    )

    def block(kind: int, body: bytes) -> bytes:
        return struct.pack("<II", kind, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))

    assert data == block(0x0A0D0D0A, shb_body) + block(1, idb_body) + block(6, epb_body)


def test_stdin_to_stdout():
    source = shb("<") + idb("<", 147, tsresol=6) + epb("<", 0, 2_000_000, STATUS, flags=1)
    result = run("-", "-", input=source)
    assert result.exit_code == 0
    import io

    from dmdissect.sources.capture import iter_pcapng

    frames = list(iter_pcapng(io.BytesIO(result.stdout_bytes), "out"))
    assert [(f.data, f.time, f.direction) for f in frames] == [(STATUS, 2.0, "guest->host")]


def test_real_pipe_through_the_installed_command(tmp_path):
    source = pcap([(7, 1, BALLOON_REQUEST), (8, 2, BALLOON_RESPONSE)], ">", nano=True)
    command = [sys.executable, "-m", "dmdissect", "convert", "--to", "pcap", "-", "-"]
    result = subprocess.run(
        command,
        input=source,
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert (result.returncode, result.stderr) == (0, b"")
    out = tmp_path / "piped.pcap"
    out.write_bytes(result.stdout)
    assert [(f.data, micros(f.time)) for f in open_frames(str(out))] == [
        (BALLOON_REQUEST, 7_000_000),
        (BALLOON_RESPONSE, 8_000_000),
    ]


def test_registered_on_the_main_group():
    from dmdissect.cli.main import main

    assert main.get_command(None, "convert") is convert


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: None, "cannot read {p}: no such file"),
        (lambda p: p.write_bytes(b""), "{p} is empty"),
        (
            lambda p: p.write_bytes(pcap([(1, 0, STATUS)], linktype=1)),
            "{p}: link type 1 (ETHERNET) is not a Dynamic Memory link type; "
            "use --linktype 1 to force",
        ),
    ],
)
def test_input_errors_one_line_exit_2_no_output(tmp_path, make, message):
    source = tmp_path / "in.pcap"
    make(source)
    out = tmp_path / "out.pcapng"
    result = run(str(source), str(out))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"dmdissect: error: {message.format(p=source)}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["in.pcap"] if source.exists() else []
    )


def test_error_midway_leaves_no_output(tmp_path):
    source = tmp_path / "mixed.pcapng"
    source.write_bytes(
        shb("<") + idb("<", 147) + idb("<", 1) + epb("<", 0, 1, STATUS) + epb("<", 1, 2, STATUS)
    )
    out = tmp_path / "out.pcapng"
    out.write_bytes(b"old")
    result = run(str(source), str(out))
    assert result.exit_code == 2
    assert result.stderr == (
        f"dmdissect: error: {source}: link type 1 (ETHERNET) is not a "
        f"Dynamic Memory link type; use --linktype 1 to force\n"
    )
    assert out.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mixed.pcapng", "out.pcapng"]


def test_linktype_override(tmp_path):
    source = tmp_path / "eth.pcap"
    source.write_bytes(pcap([(1, 0, STATUS)], linktype=1))
    out = tmp_path / "out.pcapng"
    assert run("--linktype", "1", str(source), str(out)).exit_code == 0
    assert [f.data for f in open_frames(str(out))] == [STATUS]


def test_unwritable_output(tmp_path):
    source = tmp_path / "in.pcap"
    source.write_bytes(pcap([(1, 0, STATUS)]))
    out = tmp_path / "no" / "such" / "dir.pcapng"
    result = run(str(source), str(out))
    assert result.exit_code == 2
    assert result.stderr == f"dmdissect: error: cannot write {out}: No such file or directory\n"


def test_convert_onto_itself(tmp_path):
    source = tmp_path / "same.pcap"
    source.write_bytes(pcap([(3, 4, STATUS)]))
    assert run(str(source), str(source)).exit_code == 0
    assert [(f.data, micros(f.time)) for f in open_frames(str(source))] == [(STATUS, 3_000_004)]
    assert source.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a"


def test_output_file_mode_follows_umask(tmp_path):
    source = tmp_path / "in.pcap"
    source.write_bytes(pcap([(1, 0, STATUS)]))
    out = tmp_path / "out.pcapng"
    old = os.umask(0o022)
    try:
        run(str(source), str(out))
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o644


def test_bad_option_values_are_usage_errors(tmp_path):
    result = run("--to", "csv", "a", "b")
    assert result.exit_code == 2
    assert "Invalid value for '--to'" in result.stderr


def test_hex_input(tmp_path):
    pytest.importorskip("dmdissect.sources.hex", reason="the hex reader has not landed")
    source = tmp_path / "dump.txt"
    source.write_text("00000000: 0100 1000 0100 0000 0000 0200 0000 0000  ................\n")
    out = tmp_path / "out.pcapng"
    result = run(str(source), str(out))
    assert result.exit_code == 0
    assert [f.data for f in open_frames(str(out))] == [VERSION_REQUEST]


def tshark() -> str:
    path = shutil.which("tshark")
    if path is None:
        pytest.skip("tshark is not installed (Wireshark tools are optional in CI)")
    return path


def test_tshark_opens_converted_file(tmp_path):
    binary = tshark()
    source = tmp_path / "in.pcapng"
    source.write_bytes(hand_pcapng()[0])
    out = tmp_path / "out.pcapng"
    run(str(source), str(out))
    result = subprocess.run(
        [
            binary,
            "-r",
            str(out),
            "-T",
            "fields",
            "-E",
            "separator=|",
            "-e",
            "frame.len",
            "-e",
            "frame.time_epoch",
            "-e",
            "frame.p2p_dir",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "16|1700000000.123456000|1",
        "16|1700000005.000000000|0",
        "32|1700000005.000001000|",
        "48|1700000002.000000000|",
        "16|1700000003.500000000|0",
        "24|1700000004.000000000|1",
    ]
    shown = subprocess.run(
        [binary, "-r", str(out), "-T", "json", "--no-duplicate-keys", "-e", "frame.comment"],
        capture_output=True,
        text=True,
        check=True,
    )
    comments = [
        packet["_source"]["layers"].get("frame.comment", [])
        for packet in __import__("json").loads(shown.stdout)
    ]
    frames = hand_pcapng()[1]
    users = [["hello"], [], [], ["a\nb"], ["big"], []]
    for n, (frame, user, texts) in enumerate(zip(frames, users, comments, strict=True), 1):
        # The user's comments as they were, then one marker sealed for the packet's bytes.
        assert texts[:-1] == user
        first, body = texts[-1].split("\n", 1)
        digest = zlib.crc32(body.encode(), zlib.crc32(frame[0]))
        assert first == f"dmdissect/1 {digest:08x}"
        assert f"origin={source}#{n}@{frame[5]}\n" in body


@pytest.mark.parametrize("to", ["pcapng", "pcap"])
def test_tshark_reads_both_outputs(tmp_path, to):
    binary = tshark()
    source = tmp_path / "in.bin"
    source.write_bytes(b"".join(MESSAGES))
    out = tmp_path / f"out.{to}"
    run("--format", "raw", "--to", to, str(source), str(out))
    result = subprocess.run(
        [binary, "-r", str(out), "-T", "fields", "-e", "frame.len"], capture_output=True, text=True
    )
    assert (result.returncode, result.stdout.split()) == (0, [str(len(m)) for m in MESSAGES])
