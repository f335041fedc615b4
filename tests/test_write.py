"""``read -w``: the messages written as a capture, read back by the real tshark and capinfos."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CAPTURE = ROOT / "captures" / "linux-qemu.pcapng"
FIELDS = ["frame.time_epoch", "frame.packet_flags_direction", "frame.comment", "frame.len"]


def dmdissect(*args: str, stdin=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dmdissect", *args], capture_output=True, cwd=ROOT, stdin=stdin
    )


def tshark_fields(path: str | Path, *, stdin: bytes | None = None) -> list[list[str]]:
    command = ["tshark", "-r", str(path), "-T", "fields", "-E", "occurrence=a"]
    command += [arg for field in FIELDS for arg in ("-e", field)]
    result = subprocess.run(command, input=stdin, capture_output=True, check=True)
    return [line.split("\t") for line in result.stdout.decode().splitlines()]


def capinfos(path: Path) -> dict[str, str]:
    result = subprocess.run(
        ["capinfos", "-t", "-E", "-c", str(path)], capture_output=True, text=True, check=True
    )
    return dict(
        (key.strip(), value.strip())
        for key, _, value in (line.partition(":") for line in result.stdout.splitlines()[1:])
    )


def test_written_pcapng_keeps_times_directions_and_comments(tmp_path):
    out = tmp_path / "out.pcapng"
    result = dmdissect("read", "-w", str(out), str(CAPTURE))
    assert result.returncode == 0, result.stderr
    assert result.stdout == b""
    assert capinfos(out) == {
        "File type": "Wireshark/... - pcapng",
        "File encapsulation": "USER 0",
        "Number of packets": "108",
    }
    original = tshark_fields(CAPTURE)
    written = tshark_fields(out)
    assert len(written) == 108
    for number, (theirs, ours) in enumerate(zip(original, written), 1):
        time, direction, comment, length = theirs
        assert (ours[0], ours[1], ours[3]) == (time, direction, length)
        # The source's own comment first, then dmdissect's sealed marker naming the origin.
        before = comment + "," if comment else ""
        assert ours[2].startswith(before + "dmdissect/1 "), (number, ours[2])
        assert f"\\norigin={CAPTURE}#{number}@" in ours[2]
        assert "\\ntransaction.kind=" in ours[2]
    assert sum(bool(row[2]) for row in original) == 8


def test_classic_pcap_with_F(tmp_path):
    out = tmp_path / "out.pcap"
    assert dmdissect("read", "-F", "pcap", "-w", str(out), str(CAPTURE)).returncode == 0
    info = capinfos(out)
    assert info["File type"] == "Wireshark/tcpdump/... - pcap"
    assert info["Number of packets"] == "108"
    assert [row[0] for row in tshark_fields(out)] == [row[0] for row in tshark_fields(CAPTURE)]


def test_count_limits_what_is_written(tmp_path):
    out = tmp_path / "five.pcapng"
    assert dmdissect("read", "-c", "5", "-w", str(out), str(CAPTURE)).returncode == 0
    assert capinfos(out)["Number of packets"] == "5"


def test_write_to_stdout_feeds_tshark():
    result = dmdissect("read", "-w", "-", str(CAPTURE))
    assert result.returncode == 0, result.stderr
    rows = tshark_fields("-", stdin=result.stdout)
    assert [row[0] for row in rows] == [row[0] for row in tshark_fields(CAPTURE)]


def test_print_lines_beside_the_file_with_P(tmp_path):
    out = tmp_path / "out.pcapng"
    result = dmdissect("read", "-P", "-c", "3", "-w", str(out), str(CAPTURE))
    assert [int(line.split()[0]) for line in result.stdout.decode().splitlines()] == [1, 2, 3]


def test_statistics_go_to_stderr_when_the_capture_takes_stdout():
    result = dmdissect("read", "-q", "-z", "dm,stat", "-w", "-", str(CAPTURE))
    assert result.returncode == 0
    assert result.stdout.startswith(b"\x0a\x0d\x0d\x0a")
    assert "All messages" in result.stderr.decode()


def test_P_with_capture_on_stdout_is_a_usage_error():
    result = dmdissect("read", "-P", "-w", "-", str(CAPTURE))
    assert result.returncode == 2
    assert result.stdout == b""
    assert b"-P" in result.stderr


def test_dmesg_log_written_with_its_directions(tmp_path):
    log = ROOT / "captures" / "linux-qemu-dmesg.log"
    out = tmp_path / "log.pcapng"
    assert dmdissect("read", "-w", str(out), str(log)).returncode == 0
    rows = tshark_fields(out)
    assert len(rows) == 43
    assert rows[0][2].startswith("dmdissect/1 ")
    assert f"\\norigin={log}:" in rows[0][2]


@pytest.mark.parametrize("fmt", ["pcapng", "pcap"])
def test_failed_write_leaves_no_file(tmp_path, fmt):
    out = tmp_path / "missing-dir" / "out.pcapng"
    result = dmdissect("read", "-F", fmt, "-w", str(out), str(CAPTURE))
    assert result.returncode == 2
    assert result.stderr.decode().startswith(f"dmdissect: error: cannot write {out}")
    assert not out.exists()


def test_display_filter_chooses_what_is_written(tmp_path):
    out = tmp_path / "big.pcapng"
    assert dmdissect("read", "-Y", "frame.len > 100", "-w", str(out), str(CAPTURE)).returncode == 0
    theirs = subprocess.run(
        [
            "tshark",
            "-r",
            str(CAPTURE),
            "-Y",
            "frame.len > 100",
            "-T",
            "fields",
            "-e",
            "frame.time_epoch",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert len(theirs) == 7
    assert [row[0] for row in tshark_fields(out)] == theirs


def test_two_inputs_are_written_on_two_interfaces(tmp_path):
    log = ROOT / "captures" / "linux-qemu-dmesg.log"
    out = tmp_path / "both.pcapng"
    result = dmdissect("read", "--concat", "-w", str(out), str(CAPTURE), str(log))
    assert result.returncode == 0, result.stderr
    interfaces = subprocess.run(
        ["tshark", "-r", str(out), "-T", "fields", "-e", "frame.interface_id"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert interfaces == ["0"] * 108 + ["1"] * 43
    footer = dmdissect("read", "-q", "-z", "session", str(out)).stdout.decode().splitlines()
    assert [line for line in footer if line.startswith("Session: ")] == [
        f"Session: {out} interface 0",
        f"Session: {out} interface 1",
    ]
