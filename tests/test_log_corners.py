# ruff: noqa: E501  (log lines are quoted whole, as the programs print them)
"""Corners of the log readers: the prefixes a guest line comes with, and one-pass labels.

Every line is written by hand from the forms the programs print (log-sources.md:
printk's ``[%5lu.%06lu]``, ``dmesg -T``/``-d``/``-e``, syslog and journalctl's
output modes); the expected times are worked out with :mod:`datetime`, not with
the reader's own date code.
"""

from __future__ import annotations

import datetime
import io
import subprocess
import sys
from pathlib import Path

import pytest

from dmdissect.sources import read_frames
from dmdissect.sources.hex import timestamps
from tests.pcapfile import write_pcap

ROOT = Path(__file__).resolve().parent.parent
LINE = "hv_balloon: Freed 7 ballooned pages."
#: The reading machine's clock for syslog dates, which carry no year.
NOW = datetime.datetime(2026, 12, 1, 20, 0, 0, tzinfo=datetime.UTC).timestamp()


def _epoch(*parts: int, micro: int = 0) -> float:
    return datetime.datetime(*parts, micro, tzinfo=datetime.UTC).timestamp()


NOON = _epoch(2026, 12, 1, 12, 0, 0)


def _frame(prefix: str):
    (frame,) = read_frames(io.BytesIO(f"{prefix}{LINE}\n".encode()), "log", "dmesg")
    assert frame.event.facts == {"pages": 7}
    return frame


@pytest.fixture(autouse=True)
def _clock(monkeypatch):
    monkeypatch.setattr(timestamps, "_now", lambda: NOW)


@pytest.mark.parametrize(
    "prefix, time, step",
    [
        # printk, dmesg, dmesg -r (with the level), dmesg -x (facility and level words)
        ("[  100.500000] ", 100.5, 1e-6),
        ("<6>[  100.500000] ", 100.5, 1e-6),
        ("kern  :info  : [  100.500000] ", 100.5, 1e-6),
        # dmesg -d and journalctl -o short-delta: the line's own time, then the delta
        ("[  100.500000 <    0.000100>] ", 100.5, 1e-6),
        ("[  100.500000 <    0.000100>] vm01 kernel: ", 100.5, 1e-6),
        # dmesg -T
        ("[Tue Dec  1 12:00:00 2026] ", NOON, 1.0),
        # journalctl -k (short), short-precise, syslog with the kernel's own stamp kept
        ("Dec 01 12:00:00 vm01 kernel: ", NOON, 1.0),
        ("Dec  1 12:00:00 vm01 kernel: ", NOON, 1.0),
        ("Dec 01 12:00:00.123456 vm01 kernel: ", _epoch(2026, 12, 1, 12, 0, 0, micro=123456), 1e-6),
        ("Dec  1 12:00:00 vm01 kernel: [  100.500000] ", 100.5, 1e-6),
        # journalctl -o short-iso, short-iso-precise, rsyslog's RFC 3339 form
        ("2026-12-01T12:00:00+0000 vm01 kernel: ", NOON, 1.0),
        ("2026-12-01T13:00:00+0100 host-2 kernel: ", NOON, 1.0),
        ("2026-12-01T12:00:00.250000+00:00 vm01 kernel: ", NOON + 0.25, 1e-6),
        # dmesg --time-format iso
        ("2026-12-01T12:00:00,250000+00:00 ", NOON + 0.25, 1e-6),
        # journalctl -o short-monotonic, short-unix
        ("[  100.500000] vm01 kernel: ", 100.5, 1e-6),
        ("1796126400.250000 vm01 kernel: ", NOON + 0.25, 1e-6),
    ],
)
def test_every_stamp_form_gives_its_time_and_no_finding(prefix, time, step):
    frame = _frame(prefix)
    assert frame.time == pytest.approx(time, abs=1e-9)
    assert frame.time_step == pytest.approx(step)
    assert frame.findings == []


@pytest.mark.parametrize(
    "prefix",
    [
        "",  # dmesg -t, journalctl -o cat
        "<6>",
        "kernel: ",
        # host names and program names with digits: no stamp, nothing to say
        "vm01 kernel: ",
        "host2 kernel: ",
        "guest-42.example.com kernel: ",
        "ip-10-0-0-5 kernel: ",
        "10.0.0.5 kernel: ",
        "2001:db8::17 kernel: ",
        "vm01 kernel[0]: ",
        "k8s-node-3 kernel: ",
        "[vm01] ",
    ],
)
def test_a_prefix_without_a_stamp_gives_no_time_and_no_finding(prefix):
    frame = _frame(prefix)
    assert frame.time is None and frame.time_step is None
    assert frame.findings == []


@pytest.mark.parametrize(
    "prefix, message",
    [
        ("[   55.0] ", "time stamp '[   55.0]' is not printk's [seconds.micros]"),
        ("[99999999999999.000000] ", "time stamp '[99999999999999.000000]' is out of range"),
        ("[   abc] ", "time stamp '[   abc]' is no time the kernel or syslog prints"),
        (
            "[Tue Dec 41 12:00:00 2026] ",
            "time stamp '[Tue Dec 41 12:00:00 2026]' is no time the kernel or syslog prints",
        ),
        (
            "Feb 30 10:00:00 vm01 kernel: ",
            "time stamp 'Feb 30 10:00:00 vm01 kernel:' is no time the kernel or syslog prints",
        ),
        (
            "Dec  1 25:00:00 vm01 kernel: ",
            "time stamp 'Dec  1 25:00:00 vm01 kernel:' is no time the kernel or syslog prints",
        ),
        (
            "2026-13-45T12:00:00Z vm01 kernel: ",
            "time stamp '2026-13-45T12:00:00Z vm01 kernel:' is no time the kernel or syslog prints",
        ),
        # calendar.timegm would count these as days of January 2027
        (
            "2026-12-45T12:00:00Z vm01 kernel: ",
            "time stamp '2026-12-45T12:00:00Z vm01 kernel:' is no time the kernel or syslog prints",
        ),
        (
            "2026-12-01T24:00:00Z ",
            "time stamp '2026-12-01T24:00:00Z' is no time the kernel or syslog prints",
        ),
        ("vm01 kernel: [   55.12] ", "time stamp '[   55.12]' is not printk's [seconds.micros]"),
        # dmesg -e: a real form, but what it shows is no time of the line's own
        (
            "[  +0.000100] ",
            "time stamp '[  +0.000100]' is dmesg -e's stamp, which is not the line's own time",
        ),
        (
            "[Dec 1 12:00] ",
            "time stamp '[Dec 1 12:00]' is dmesg -e's stamp, which is not the line's own time",
        ),
    ],
)
def test_a_stamp_that_cannot_be_read_is_said(prefix, message):
    frame = _frame(prefix)
    assert frame.time is None
    assert [(f.expert.id, f.message) for f in frame.findings] == [
        ("hvdm.log.time_unreadable", f"{message}: the line has no time")
    ]


# --- labels in one pass: at the end of the input, the end is known -----------------------

SEVEN = (
    "[    1.737193] hv_vmbus: registering driver hv_balloon\n"
    "[    1.737705] hv_balloon: Using Dynamic Memory protocol version 2.0\n"
    "[   66.665596] hv_balloon: Freed 52224 ballooned pages.\n"
    "[   66.665978] hv_balloon: Freed 47616 ballooned pages.\n"
    "[   66.666053] hv_balloon: Freed 20480 ballooned pages.\n"
    "[   66.666346] hv_balloon: Freed 48640 ballooned pages.\n"
    "[   66.666500] hv_balloon: Freed 6656 ballooned pages.\n"
)


def _labels(stdout: str) -> list[str]:
    return [
        line.rpartition(" [")[2].rstrip("]") if " [" in line else "" for line in stdout.splitlines()
    ]


def _dmdissect(args: list[str], **kwargs) -> str:
    env = {"PYTHONPATH": str(ROOT), "NO_COLOR": "1", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "dmdissect", *args],
        capture_output=True,
        env=env,
        check=True,
        **kwargs,
    )
    return result.stdout.decode()


def test_a_log_from_a_pipe_is_labelled_in_one_pass_with_no_lookahead_said():
    labels = _labels(_dmdissect(["read", "-"], input=SEVEN.encode()))
    assert labels == [
        "",
        "response of version #1, final: accepted: 2.0 (WIN10)",
        *["event of unballoon #1"] * 5,
    ]


def test_the_same_log_from_a_file_names_the_frame_that_ends_the_transaction(tmp_path):
    path = tmp_path / "dmesg.log"
    path.write_text(SEVEN)
    labels = _labels(_dmdissect(["read", str(path)]))
    # 52224 + 47616 + 20480 + 48640 + 6656 pages, 66.666500 - 66.665596 s
    assert labels[2:] == [
        *["event of unballoon #1, reassembled in frame 7"] * 4,
        "event of unballoon #1, final: 5 parts, 175616 pages (686 MiB), unknown, 0.000904 s",
    ]


# --- QMP numbers QEMU never writes are still JSON: said by field, never taken ----------------

RANGE = "is out of range: QEMU's byte counts are whole numbers from 0 to 18446744073709551615"


def _qmp(available: str, seconds: str = "1700000060") -> str:
    return (
        f'{{"timestamp": {{"seconds": {seconds}, "microseconds": 250000}}, '
        f'"event": "HV_BALLOON_STATUS_REPORT", '
        f'"data": {{"available": {available}, "committed": 1962934272}}}}\r\n'
    )


@pytest.mark.parametrize(
    "available, wrong",
    [
        (
            "4096.0",
            "'available' 4096.0 is not an integer: QEMU writes byte counts as whole numbers",
        ),
        ("1e3", "'available' 1e3 is not an integer: QEMU writes byte counts as whole numbers"),
        ("4.5", "'available' 4.5 is not an integer: QEMU writes byte counts as whole numbers"),
        ("1e400", f"'available' 1e400 {RANGE}"),
        ("-1e400", f"'available' -1e400 {RANGE}"),
        ("-4096", f"'available' -4096 {RANGE}"),
        # 2**64: one past QEMU's 64-bit size; and more digits than any 64-bit number
        ("18446744073709551616", f"'available' 18446744073709551616 {RANGE}"),
        ("1" + "0" * 5000, f"'available' {'1' + '0' * 35}... {RANGE}"),
        ('"4096"', "'available' is \"4096\", not a number"),
        ("null", "'available' is null, not a number"),
        ("4097", "'available' 4097 is not a whole number of pages"),
    ],
)
def test_a_qmp_value_qemu_never_writes_is_said_by_field_and_the_rest_is_kept(available, wrong):
    # a greeting first, as a QMP client records it
    log = '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 8}}, "capabilities": []}}\r\n'
    frames = list(read_frames(io.BytesIO((log + _qmp(available)).encode()), "qmp.log"))
    (frame,) = frames
    assert frame.origin == "qmp.log:2"
    assert frame.time == 1700000060.25
    # committed (1962934272 bytes = 479232 pages of 4096) is read; available is unknown
    assert frame.witness.fields == {"num_committed": 479232}
    assert [(f.expert.id, f.message) for f in frame.findings] == [
        ("hvdm.log.qmp_value", f"HV_BALLOON_STATUS_REPORT: {wrong}")
    ]


def test_a_qmp_time_qemu_never_writes_is_shown_as_the_line_wrote_it():
    (frame,) = read_frames(io.BytesIO(_qmp("4096", seconds="1e400").encode()), "qmp.log", "qmp")
    assert frame.time is None
    assert frame.witness.fields == {"num_avail": 1, "num_committed": 479232}
    assert frame.findings[0].message == (
        'QMP timestamp {"seconds":1e400,"microseconds":250000} is no time QEMU prints: '
        "the event has no time"
    )


@pytest.mark.parametrize(
    "line",
    [
        "NaN",
        "[1, 2]",
        # Python's json reads these words; JSON has no such numbers
        '{"event": "HV_BALLOON_STATUS_REPORT", "data": {"available": NaN}}',
        '{"event": "HV_BALLOON_STATUS_REPORT", "data": {"available": -Infinity}}',
        '{"event": "HV_BALLOON_STATUS_REPORT", "data": ' + "[" * 5000 + "]" * 5000 + "}",
    ],
)
def test_what_is_no_json_object_is_still_said_so(line):
    log = _qmp("4096") + line + "\n"
    frames = list(read_frames(io.BytesIO(log.encode()), "qmp.log", "qmp"))
    assert [(f.origin, [x.expert.id for x in f.findings]) for f in frames][1:] == [
        ("qmp.log:2", ["hvdm.log.qmp_not_json"])
    ]


# --- times out of order: shown as they are, as tshark shows them -------------------------


def _time_column(stdout: str) -> list[str]:
    return [line.split()[1] for line in stdout.splitlines()]


def _tshark_times(capture: Path, *args: str) -> list[str]:
    result = subprocess.run(
        ["tshark", "-r", str(capture), *args, "-T", "fields", "-e", "_ws.col.Time"],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.splitlines()


@pytest.mark.parametrize(
    "args", [("-t", "r"), ("-t", "d"), ("-t", "dd", "-Y", "frame.number != 2")]
)
def test_a_frame_earlier_than_the_one_before_is_shown_as_tshark_shows_it(tmp_path, args):
    version_request = bytes.fromhex("01001000010000000000020000000000")
    capture = write_pcap(
        tmp_path / "ooo.pcap",
        [
            (1000.0, version_request),
            (1002.5, version_request),
            (1001.0, version_request),
            (1003.0, version_request),
        ],
    )
    expected = _tshark_times(capture, *args)
    # relative to the first frame; since the frame before (read or shown): -1.5 s for frame 3
    assert expected in (
        ["0.000000", "2.500000", "1.000000", "3.000000"],
        ["0.000000", "2.500000", "-1.500000", "2.000000"],
        ["0.000000", "1.000000", "2.000000"],
    )
    assert _time_column(_dmdissect(["read", *args, str(capture)])) == expected


QEMU_TRACE = (
    "4242@1796119200.000000:hv_balloon_state_change -> S_POST_RESET_CLOSED\n"
    "4242@1796119290.300000:hv_balloon_outgoing_balloon posting balloon 0 for 294912, remaining 294912\n"
    "4242@1796119290.300000:hv_balloon_state_change -> S_BALLOON_REPLY_WAIT\n"
)
#: 2026-12-01 10:01:30 UTC is epoch 1796119290: the guest's line of the host's request's second
#: (journalctl -o short-iso: whole seconds, and a year, so no guess by the clock).
JOURNAL = "2026-12-01T10:01:30+0000 vm01 kernel: hv_balloon: Ignore balloon-up request!\n"


def test_a_whole_second_guest_line_merged_after_the_request_keeps_the_time_it_says(tmp_path):
    trace, journal = tmp_path / "qemu.log", tmp_path / "journal.log"
    trace.write_text(QEMU_TRACE)
    journal.write_text(JOURNAL)
    inputs = [str(trace), str(journal)]
    relative = _time_column(_dmdissect(["read", "-t", "r", *inputs]))
    delta = _time_column(_dmdissect(["read", "-t", "d", *inputs]))
    # merged at the end of its second, after the request at .3; shown at the second it says
    assert relative == ["0.000000", "90.300000", "90.300000", "90.000000"]
    assert delta == ["0.000000", "90.300000", "0.000000", "-0.300000"]


def test_a_balloon_the_guest_alone_tells_has_unknown_parts_never_zero(tmp_path):
    path = tmp_path / "dmesg.log"
    # The guest prints this once, after however many responses it sent: no part is counted.
    path.write_text("[   55.047206] hv_balloon: Ballooned 101888 out of 363008 requested pages.\n")
    (label,) = _labels(_dmdissect(["read", str(path)]))
    assert (
        label == "event of balloon #1, final: ? parts, ? pages of 363008 (not in this log), unknown"
    )
