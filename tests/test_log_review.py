# ruff: noqa: E501  (log lines are quoted whole, as the programs print them)
"""Logs as users really have them: NULs, long noise before the first hv_balloon line.

The lines are typed from the format strings in log-sources.md (hw/hyperv/trace-events,
qapi/machine.json, drivers/hv/hv_balloon.c); the expected frames are written out.
"""

from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner

from dmdissect.cli import main
from dmdissect.sources import read_frames
from dmdissect.sources.detect import detect_format


def frames_of(data: bytes, fmt: str | None = None):
    return list(read_frames(io.BytesIO(data), "log", fmt))


def kinds(frames):
    return [
        (f.origin, f.event.name if f.event else f.witness.type.name, [x.id for x in f.findings])
        for f in frames
    ]


DMESG_VERSION = b"[    1.737705] hv_balloon: Using Dynamic Memory protocol version 2.0\n"
NUL_ID = "hvdm.log.line_nul"


@pytest.mark.parametrize("fmt", [None, "dmesg"])
def test_nul_bytes_in_a_dmesg_are_a_finding_not_a_refusal(fmt):
    frames = frames_of(DMESG_VERSION + b"\x00\x00\n", fmt)
    assert kinds(frames) == [
        ("log:1", "DM_VERSION_RESPONSE", []),
        ("log:2", "unreadable", [NUL_ID]),
    ]
    assert frames[1].findings[0].message == "2 NUL bytes left out of the line"


def test_a_bel_and_a_nul_do_not_make_a_log_binary():
    frames = frames_of(DMESG_VERSION + b"\x07\x00\n")
    assert kinds(frames)[1] == ("log:2", "unreadable", [NUL_ID])


def test_a_syslog_after_an_unclean_shutdown_reads_the_line_glued_to_the_zeros():
    data = (
        b"Jan  1 10:00:53 guestvm kernel: [   53.310013] hv_balloon: Ballooned 101888 out of 363008 requested pages.\n"
        + b"\x00" * 4096
        + b"Jan  1 10:05:00 guestvm kernel: [    0.000512] hv_balloon: Using Dynamic Memory protocol version 2.0\n"
    )
    frames = frames_of(data)
    assert kinds(frames) == [
        ("log:1", "ballooned", []),
        ("log:2", "unreadable", [NUL_ID]),
        ("log:2", "DM_VERSION_RESPONSE", []),
    ]
    assert frames[1].findings[0].message == "4096 NUL bytes left out of the line"


@pytest.mark.parametrize("fmt", [None, "qemu-trace"])
def test_nul_bytes_in_a_qemu_trace(fmt):
    data = (
        b"hv_balloon_state_change -> S_VERSION\n\x00\x00\x00\nhv_balloon_state_change -> S_IDLE\n"
    )
    assert kinds(frames_of(data, fmt)) == [
        ("log:1", "state_change", []),
        ("log:2", "unreadable", [NUL_ID]),
        ("log:3", "state_change", []),
    ]


def test_nul_bytes_in_a_qmp_log():
    data = (
        b'{"timestamp": {"seconds": 1700000060, "microseconds": 250000}, "event": "HV_BALLOON_STATUS_REPORT", "data": {"committed": 1946955776, "available": 3190927360}}\n'
        b"\x00\x00\x00\n"
    )
    assert kinds(frames_of(data)) == [
        ("log:1", "DM_STATUS_REPORT", []),
        ("log:2", "unreadable", [NUL_ID]),
    ]


def test_a_nul_line_after_the_head_is_a_finding_too():
    data = (
        b"hv_balloon_state_change -> S_IDLE\n" * 3000
        + b"\x00\n"
        + b"hv_balloon_state_change -> S_IDLE\n"
    )
    assert len(data) > 65536
    frames = frames_of(data)
    assert kinds(frames)[3000] == ("log:3001", "unreadable", [NUL_ID])
    assert len(frames) == 3002


def test_raw_messages_are_still_not_text():
    # DM_VERSION_REQUEST (type 1, size 12, trans_id 1, version 2.0, last attempt 0) twice.
    message = bytes.fromhex("01000c00 01000000 00000200 00000000".replace(" ", ""))[:12]
    assert detect_format(message * 2) == "raw"


def test_forced_log_format_refuses_binary_data_without_log_lines():
    result = CliRunner().invoke(
        main, ["read", "--format", "dmesg", "-"], input=bytes(range(256)) * 4
    )
    assert result.exit_code == 2
    assert "is binary data, not a dmesg log" in result.output


# --- the first hv_balloon line after the head -----------------------------------------------

OTHER_EVENT = "719585@1767225600.{:06d}:memory_region_ops_read cpu 0 mr 0x5581 addr 0xfed000f0 value 0x1a2b size 4 name 'hpet'\n"
BALLOON_TRACE = (
    "719585@1767225610.000000:hv_balloon_state_change -> S_VERSION\n"
    "719585@1767225610.000100:hv_balloon_incoming_version incoming proto version 2.0\n"
)
QEMU_WARNING = "qemu-system-x86_64: warning: host doesn't support requested feature: CPUID.80000001H:ECX.svm [bit 2]\n"
BOOT_LINE = "[    0.{:06d}] ACPI: Added _OSI(Module Device)\n"


def late_inputs():
    yield "qemu-trace", "".join(OTHER_EVENT.format(i) for i in range(2000)) + BALLOON_TRACE
    yield "qemu-trace", QEMU_WARNING * 800 + BALLOON_TRACE
    yield "dmesg", "".join(BOOT_LINE.format(i) for i in range(2000)) + DMESG_VERSION.decode()


@pytest.mark.parametrize(("fmt", "text"), list(late_inputs()))
def test_a_log_whose_first_balloon_line_comes_after_the_head_is_read(tmp_path, fmt, text):
    assert len(text) > 65536
    path = tmp_path / "late.log"
    path.write_text(text)
    result = CliRunner().invoke(main, ["read", "-T", "jsonl", str(path)])
    assert result.exit_code == 0, result.output
    frames = [json.loads(line) for line in result.output.splitlines()]
    assert {frame["source"] for frame in frames} == {fmt}
    assert frames[-1]["origin"] == f"{path}:{text.count(chr(10))}"


def test_a_compressed_log_whose_first_balloon_line_comes_late_is_read(tmp_path):
    import gzip

    path = tmp_path / "late.log.gz"
    path.write_bytes(gzip.compress((QEMU_WARNING * 800 + BALLOON_TRACE).encode()))
    result = CliRunner().invoke(main, ["read", str(path)])
    assert result.exit_code == 0, result.output
    assert "hv_balloon_state_change" not in result.output
    assert len(result.output.splitlines()) == 2


def test_text_with_neither_a_dump_nor_a_log_line_says_it_was_read_to_the_end(tmp_path):
    path = tmp_path / "noise.log"
    path.write_text(QEMU_WARNING * 800)
    result = CliRunner().invoke(main, ["read", str(path)])
    assert (result.exit_code, result.output) == (
        2,
        f"dmdissect: error: {path} holds no hex dump of a Dynamic Memory message (and is not a "
        "capture nor a log of QEMU's hv-balloon, QMP or the guest's hv_balloon driver)\n",
    )


def test_a_pipe_is_not_read_twice_and_the_error_says_how_far_it_looked():
    import subprocess
    import sys

    text = QEMU_WARNING * 800 + BALLOON_TRACE
    command = [sys.executable, "-m", "dmdissect", "read", "-"]
    result = subprocess.run(command, input=text.encode(), capture_output=True, check=False)
    assert result.returncode == 2
    assert result.stderr.decode() == (
        "dmdissect: error: <stdin> holds no hex dump of a Dynamic Memory message, and its first "
        "64 KiB are not a log of QEMU's hv-balloon, QMP or the guest's hv_balloon driver "
        "(--format qemu-trace, qmp, dmesg, ftrace or debugfs reads it as that log)\n"
    )
    forced = subprocess.run(
        command[:-1] + ["--format", "qemu-trace", "-"],
        input=text.encode(),
        capture_output=True,
        check=False,
    )
    assert forced.returncode == 0
    assert len(forced.stdout.decode().splitlines()) == 2


# --- read -w on a log ---------------------------------------------------------------------

FTRACE_LINE = "      hv_balloon-312     [001] .....  4538.123456: balloon_status: available 779035, committed 475331; vm_memory_committed 475331; pages_ballooned 0, pages_added 0, pages_onlined 0\n"


def test_read_w_on_a_log_alone_writes_nothing_and_says_so(tmp_path):
    log = tmp_path / "ft.txt"
    log.write_text(FTRACE_LINE * 3)
    out = tmp_path / "o.pcapng"
    result = CliRunner().invoke(main, ["read", str(log), "-w", str(out)])
    assert (result.exit_code, result.output) == (
        2,
        "dmdissect: error: 3 log lines carry facts, not message bytes: nothing to write\n",
    )


def test_read_w_writes_only_the_messages_with_bytes_of_a_dmesg_with_a_dump(tmp_path):
    # DM_VERSION_REQUEST, size 12, trans_id 1, version 2.0, printed by print_hex_dump.
    log = tmp_path / "g.log"
    log.write_text(
        DMESG_VERSION.decode()
        + "[    1.800000] hv_balloon: 00000000: 01 00 0c 00 01 00 00 00 00 00 02 00              ............\n"
    )
    out = tmp_path / "o.pcapng"
    result = CliRunner().invoke(main, ["read", str(log), "-w", str(out)])
    assert result.exit_code == 0, result.output
    assert (
        result.output
        == "dmdissect: warning: 1 log line carries facts, not message bytes: not written\n"
    )
    back = CliRunner().invoke(main, ["read", "-T", "jsonl", str(out)])
    frames = [json.loads(line) for line in back.output.splitlines()]
    assert [(f["hdr"]["type"], f["hdr"]["size"], f["hdr"]["trans_id"]) for f in frames] == [
        (1, 12, 1)
    ]


# --- guest logs that cannot be put on the host's clock ---------------------------------------

QMP_REPORT = '{{"timestamp": {{"seconds": {}, "microseconds": 0}}, "event": "HV_BALLOON_STATUS_REPORT", "data": {{"committed": 1946955776, "available": 3190927360}}}}\n'


def test_unaligned_guest_logs_are_a_session_of_their_own_never_a_negative_span(tmp_path):
    qmp = tmp_path / "qmp.log"
    qmp.write_text(QMP_REPORT.format(1767225647) + QMP_REPORT.format(1767225657))
    ftrace = tmp_path / "ft.txt"
    ftrace.write_text(FTRACE_LINE + FTRACE_LINE.replace("4538.123456", "4548.123456"))
    result = CliRunner().invoke(main, ["timeline", str(qmp), str(ftrace)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line for line in lines if line.startswith(("Session", "Time:"))] == [
        f"Session 1: {qmp}",
        "Time: 2026-01-01 00:00:47.000000 UTC to 2026-01-01 00:00:57.000000 UTC (10.000000 s), 2 messages",
        f"Session 2: {ftrace}",
        "Time: 4538.123456 s to 4548.123456 s (10.000000 s), 2 messages",
    ]
    assert "the guest's logs are a session of their own" in result.output
    assert " -1" not in result.output


# --- dmesg alone: where one request ends and the next begins --------------------------------


def timeline_rows(tmp_path, text: str) -> list[tuple]:
    path = tmp_path / "g.log"
    path.write_text(text)
    result = CliRunner().invoke(main, ["timeline", "-T", "json", str(path)])
    assert result.exit_code == 0, result.output
    return [
        (t["kind"], t["frames"], t["pages"], t["pages_requested"], t["outcome"])
        for t in json.loads(result.output)
        if t.get("kind") in ("hot_add", "unballoon")
    ]


def test_dmesg_hot_adds_are_separate_and_a_failure_or_an_ignore_ends_one(tmp_path):
    rows = timeline_rows(
        tmp_path,
        DMESG_VERSION.decode()
        + "[   78.508552] hv_balloon: Hot adding 32768 pages starting at pfn 0x140000.\n"
        "[   78.513898] hv_balloon: hot_add memory failed error is -12\n"
        "[   78.613898] hv_balloon: Memory hot add failed\n"
        "[   90.508552] hv_balloon: Hot adding 32768 pages starting at pfn 0x148000.\n"
        "[   90.613898] hv_balloon: Online 32768 pages starting at pfn 0x148000\n"
        "[  100.000000] hv_balloon: Ignore hot-add request!\n",
    )
    # add_memory() failed with -12 (not -EEXIST): Linux's hot_add_req() answers result 0,
    # transient; the hibernation-capable guest's ignore answers result 1, permanent.
    assert rows == [
        ("hot_add", [2, 3, 4], 0, 32768, "transient_failure"),
        ("hot_add", [5, 6], 32768, 32768, "accepted"),
        ("hot_add", [7], 0, None, "permanent_failure"),
    ]


def test_dmesg_unballoons_seconds_apart_are_two_requests(tmp_path):
    rows = timeline_rows(
        tmp_path,
        DMESG_VERSION.decode() + "[   66.665596] hv_balloon: Freed 1000 ballooned pages.\n"
        "[   66.665978] hv_balloon: Freed 2000 ballooned pages.\n"
        "[   96.374226] hv_balloon: Freed 3000 ballooned pages.\n"
        "[   96.374574] hv_balloon: Freed 4000 ballooned pages.\n",
    )
    assert rows == [
        ("unballoon", [2, 3], 3000, 3000, "unknown"),
        ("unballoon", [4, 5], 7000, 7000, "unknown"),
    ]
