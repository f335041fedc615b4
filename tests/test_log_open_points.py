# ruff: noqa: E501  (log lines are quoted whole, as the programs print them)
"""The review's open points on logs: values a field cannot hold, lines that must not vanish.

Each log line is typed from its format string (log-sources.md: hw/hyperv/trace-events,
drivers/hv/hv_balloon.c, hv_trace_balloon.h, qapi/machine.json); the expected values are
worked out by hand, or by the C header through ctypes (tests/oracle.py).
"""

from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner

from dmdissect.analysis.dissect import dissect
from dmdissect.cli import main
from dmdissect.sources import read_frames
from tests import oracle


def frames_of(data: bytes, fmt: str | None = None):
    return list(read_frames(io.BytesIO(data), "log", fmt))


def ids(frame) -> list[str]:
    return [finding.expert.id for finding in frame.findings]


# --- 2l: the caps QEMU traces carry reserved bits -----------------------------------------


def test_traced_caps_with_reserved_bits_set_raise_the_same_finding_as_the_message():
    (frame,) = frames_of(b"hv_balloon_incoming_caps incoming caps 0xffffffff\n")
    message = dissect(frame)
    caps = message.body.caps
    assert (caps.balloon, caps.hot_add, caps.hot_add_alignment, caps.hot_remove) == (1, 1, 15, 1)
    assert "reservedz" in caps.missing  # bits 32-63 are not on the line
    [finding] = message.findings
    # the same caps in a message: the ctypes header says what the decoder must flag
    obj = oracle.new(oracle.dm_capabilities, caps__caps=0xFFFFFFFF)
    decoded = dissect(type(frame)(0, bytes(obj)))
    [from_bytes] = [f for f in decoded.findings if f.field == "caps.reservedz"]
    assert finding.expert.id == from_bytes.expert.id == "hvdm.reserved.nonzero"
    assert finding.field == "caps.reservedz"
    assert obj.caps.cap_bits.reservedz == 0x1FFFFFF
    assert finding.message == (
        "reserved field caps.reservedz is not zero (0x1ffffff in the 25 bits the trace shows)"
    )


def test_traced_caps_of_a_linux_guest_raise_nothing():
    (frame,) = frames_of(b"hv_balloon_incoming_caps incoming caps 0x1f\n")
    message = dissect(frame)
    caps = message.body.caps
    assert (caps.balloon, caps.hot_add, caps.hot_add_alignment, caps.hot_remove) == (1, 1, 7, 0)
    assert message.findings == []


# --- 2n: ftrace numbers beyond what %lld / %ld print -------------------------------------

FTRACE_LINE = "      hv_balloon-312     [002] .....    48.123456: balloon_status: available {}, committed {}; vm_memory_committed {}; pages_ballooned 2, pages_added {}, pages_onlined 3\n"


def test_ftrace_numbers_beyond_64_bits_are_a_finding_and_never_shown_as_values():
    line = FTRACE_LINE.format(-5, 99999999999999999999, 1, -9223372036854775809)
    (frame,) = frames_of(line.encode())
    message = dissect(frame)
    assert frame.witness.fields == {}  # -5 and the 20-digit committed are no page counts
    assert frame.witness.extra == {
        "vm_memory_committed": 1,
        "pages_ballooned": 2,
        "pages_onlined": 3,
        "task": "hv_balloon",
        "pid": 312,
        "cpu": 2,
    }
    assert message.body.num_committed is None and "num_committed" in message.body.missing
    assert [(f.expert.id, f.message) for f in frame.findings] == [
        (
            "hvdm.log.ftrace_range",
            "committed 99999999999999999999 is beyond what %lld prints (64 bits): not taken as a value",
        ),
        (
            "hvdm.log.ftrace_range",
            "pages_added -9223372036854775809 is beyond what %ld prints (64 bits): not taken as a value",
        ),
        ("hvdm.log.ftrace_negative", "available -5 is negative: not sent as is"),
    ]


def test_ftrace_numbers_at_the_64_bit_limits_are_values():
    # 2**63 - 1 is the largest a signed 64-bit %lld prints; a u64 num_committed holds it
    line = FTRACE_LINE.format(7, 9223372036854775807, -9223372036854775808, 0)
    (frame,) = frames_of(line.encode())
    assert frame.witness.fields == {"num_avail": 7, "num_committed": 2**63 - 1}
    assert frame.witness.extra["vm_memory_committed"] == -(2**63)
    assert frame.findings == []


# --- section 3: no line dropped silently -------------------------------------------------


def test_trace_lines_with_garbled_or_out_of_range_prefixes_are_kept_without_a_time():
    data = (
        b"4242@99999999999999999999.000000:hv_balloon_state_change -> S_IDLE\n"
        b"4242@1767225653.9999999:hv_balloon_state_change -> S_IDLE\n"
        b"2026-13-01T10:00:00.000000Z hv_balloon_state_change -> S_IDLE\n"
        b"4242@1767225653.999999:hv_balloon_state_change -> S_IDLE\n"
    )
    frames = frames_of(data)
    assert [(f.origin, f.event.name, f.event.facts, f.time) for f in frames] == [
        ("log:1", "state_change", {"state": "S_IDLE"}, None),
        ("log:2", "state_change", {"state": "S_IDLE"}, None),
        ("log:3", "state_change", {"state": "S_IDLE"}, None),
        ("log:4", "state_change", {"state": "S_IDLE"}, 1767225653.999999),
    ]
    assert [(ids(f), [x.message for x in f.findings]) for f in frames[:3]] == [
        (
            ["hvdm.log.time_unreadable"],
            [
                "prefix '4242@99999999999999999999.000000:' is no time QEMU prints: the line has no time"
            ],
        ),
        (
            ["hvdm.log.time_unreadable"],
            ["prefix '4242@1767225653.9999999:' is no time QEMU prints: the line has no time"],
        ),
        (
            ["hvdm.log.time_unreadable"],
            ["prefix '2026-13-01T10:00:00.000000Z ' is no time QEMU prints: the line has no time"],
        ),
    ]
    assert frames[3].findings == []


def test_a_trace_event_name_inside_other_text_is_not_a_trace_line():
    assert frames_of(b"see hv_balloon_state_change -> S_IDLE\n", "qemu-trace") == []


def dmesg_kinds(data: bytes):
    return [
        (f.origin, f.event.name if f.event else f.witness.type.name, f.time, ids(f))
        for f in frames_of(data, "dmesg")
    ]


def test_dmesg_lines_of_the_driver_garbled_are_findings_and_reading_goes_on():
    data = (
        b"[    1.000000] hv_balloon: Freed 99999999999999999999999 ballooned pages.\n"
        b"[    2.000000] hv_balloon: Freed \xff\xfe ballooned pages.\n"
        b"[    3.000000] hv_balloon: Hot adding 32768 pages starting at pfn 0xZZ.\n"
        b"[    4.000000] hv_balloon: \x1b[31mIgnore balloon-up request!\n"
        b"[    5.000000] hv_balloon: Freed 4294967296 ballooned pages.\n"
        b"[    6.000000] hv_balloon: Freed 4294967295 ballooned pages.\n"
    )
    assert dmesg_kinds(data) == [
        ("log:1", "unreadable", 1.0, ["hvdm.log.dmesg_format"]),
        ("log:2", "unreadable", 2.0, ["hvdm.log.dmesg_format"]),
        ("log:3", "unreadable", 3.0, ["hvdm.log.dmesg_format"]),
        ("log:4", "unreadable", 4.0, ["hvdm.log.dmesg_format"]),
        ("log:5", "unreadable", 5.0, ["hvdm.log.dmesg_format"]),
        ("log:6", "freed", 6.0, []),
    ]
    frames = frames_of(data, "dmesg")
    assert [f.findings[0].message for f in frames[:5]] == [
        "hv_balloon line does not match the driver's 'Freed %u ballooned pages.'",
        "hv_balloon line does not match the driver's 'Freed %u ballooned pages.'",
        "hv_balloon line does not match the driver's 'Hot adding %lu pages starting at pfn 0x%lx.'",
        "hv_balloon line does not match the driver's 'Ignore balloon-up request!'",
        # %u is 32 bits: 2**32 is one more than it prints
        "hv_balloon line 4294967296 is beyond what %u prints: not the driver's 'Freed %u ballooned pages.'",
    ]
    assert frames[5].event.facts == {"pages": 4294967295}


def test_an_hv_balloon_line_the_driver_never_prints_is_a_note_but_dump_lines_are_not():
    data = (
        b"[    1.737193] hv_balloon: Using Dynamic Memory protocol version 2.0\n"
        b"[    2.000000] hv_balloon: a line of some other kernel\n"
        b"[   72.000000] hv_balloon: host->guest\n"
        b"[   72.000000] hv_balloon: 00000000: 06 00 10 00 05 00 00 00 00 02 00 00 00 00 00 00  ................\n"
    )
    frames = frames_of(data, "dmesg")
    assert [(f.origin, f.event.name if f.event else None, ids(f)) for f in frames] == [
        ("log:1", None, []),
        ("log:2", "unknown", ["hvdm.log.dmesg_unknown"]),
        ("log:4", None, []),
    ]
    assert frames[1].event.text == "a line of some other kernel"
    assert frames[2].data.hex() == "06001000050000000002000000000000"


def test_dmesg_time_stamps_that_cannot_be_read_are_findings():
    data = (
        b"[99999999999999.000000] hv_balloon: Freed 1 ballooned pages.\n"
        b"[   55.0\x00] hv_balloon: Freed 2 ballooned pages.\n"
        b"Feb 30 10:00:00 guestvm kernel: hv_balloon: Freed 3 ballooned pages.\n"
        b"<6>hv_balloon: Freed 4 ballooned pages.\n"
        b"[   56.000001] hv_balloon: Freed 5 ballooned pages.\n"
    )
    frames = frames_of(data, "dmesg")
    assert [(f.origin, f.event.facts, f.time, ids(f)) for f in frames] == [
        ("log:1", {"pages": 1}, None, ["hvdm.log.time_unreadable"]),
        ("log:2", {}, None, ["hvdm.log.line_nul"]),
        ("log:2", {"pages": 2}, None, ["hvdm.log.time_unreadable"]),
        ("log:3", {"pages": 3}, None, ["hvdm.log.time_unreadable"]),
        ("log:4", {"pages": 4}, None, []),
        ("log:5", {"pages": 5}, 56.000001, []),
    ]
    assert [f.findings[0].message for f in (frames[0], frames[2], frames[3])] == [
        "time stamp '[99999999999999.000000]' is out of range: the line has no time",
        "time stamp '[   55.0]' is not printk's [seconds.micros]: the line has no time",
        "time stamp 'Feb 30 10:00:00 guestvm kernel:' is no time the kernel or syslog prints: the line has no time",
    ]


# --- 2m: the query reply is the host's state, not a report the guest sent -----------------

QMP_EVENT = '{{"timestamp": {{"seconds": {}, "microseconds": 0}}, "event": "HV_BALLOON_STATUS_REPORT", "data": {{"available": 3154116608, "committed": 1962934272}}}}\r\n'
QMP_QUERY = '{"return": {"available": 3154116608, "committed": 1962934272}}\r\n'


def test_the_query_reply_is_a_host_event_and_counts_as_no_status_report(tmp_path):
    path = tmp_path / "qmp.log"
    path.write_text(
        QMP_EVENT.format(1700000060) + QMP_QUERY + QMP_EVENT.format(1700000061) + QMP_QUERY
    )
    (frame2,) = [f for f in frames_of(path.read_bytes()) if f.origin == "log:2"]
    assert frame2.event.name == "status_query" and frame2.witness is None
    # 3154116608 / 4096 = 770048 pages, 1962934272 / 4096 = 479232
    assert frame2.event.text == (
        "query-hv-balloon-status-report: the last status report QEMU holds: "
        "available 770048 pages, committed 479232 pages"
    )
    result = CliRunner().invoke(main, ["timeline", str(path)])
    assert result.exit_code == 0, result.output
    [row] = [line for line in result.output.splitlines() if "status #1" in line]
    assert "2 status reports, latest avail 770048 pages" in row
    jsonl = CliRunner().invoke(main, ["read", "-T", "jsonl", str(path)])
    kinds = [json.loads(line).get("type_name", "event") for line in jsonl.output.splitlines()]
    assert kinds == ["DM_STATUS_REPORT", "event", "DM_STATUS_REPORT", "event"]


# --- 2k: status reports that pause and resume did not stop ----------------------------------


def qmp_reports(seconds) -> str:
    return "".join(QMP_EVENT.format(1700000000 + s) for s in seconds)


def test_a_pause_the_reports_resume_after_is_no_stop(tmp_path):
    path = tmp_path / "qmp.log"
    path.write_text(qmp_reports([0, 1, 2, 3, 4, 15, 16, 17, 18, 19]))
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.output.splitlines() == [
        f"{path}:5: warning hvdm.health.status.gap: no status report for 11.0 s (frames 5 to 6; --status-gap 5 s) [frames 5, 6]",
        "checked 1 input: 0 errors, 1 warning, 0 notes; fail: 1 finding at or above warning",
    ]


def test_reports_that_stop_before_the_log_ends_are_a_finding_on_the_last_one(tmp_path):
    qmp = tmp_path / "qmp.log"
    qmp.write_text(qmp_reports([0, 1, 2]))
    trace = tmp_path / "qemu.log"
    trace.write_text(
        "1@1700000001.000000:hv_balloon_state_change -> S_IDLE\n"
        "1@1700000020.000000:hv_balloon_state_change -> S_BALLOON_RB_WAIT\n"
    )
    # The health verdict saying the same is off: check then shows the log's own finding.
    rule = ["--rule", "hvdm.health.status.stopped=off"]
    result = CliRunner().invoke(main, ["check", *rule, str(qmp), str(trace)])
    # merged by time: the reports are frames 1, 3, 4 (the trace's first line is frame 2)
    assert result.output.splitlines()[0] == (
        f"{qmp}:3: warning hvdm.log.status_stopped: status reports stopped: none after frame 4, "
        "in the 18.0 s to the end of the log (the guest sends one about every second) [frame 4]"
    )


# --- section 4: wording that says no more than the logs do -----------------------------------

BOOT_TRACE = (
    "4242@1767225603.115835:hv_balloon_state_change -> S_POST_RESET_CLOSED\n"
    "4242@1767225603.115835:hv_balloon_state_change -> S_VERSION\n"
    "4242@1767225603.115835:hv_balloon_incoming_version incoming proto version 2.0\n"
    "4242@1767225603.116538:hv_balloon_state_change -> S_CAPS\n"
)
GUEST_BOOT = (
    "[    0.912345] hv_vmbus: registering driver hv_balloon\n"
    "[    1.737193] hv_balloon: Using Dynamic Memory protocol version 2.0\n"
)


def check_lines(*args) -> list[str]:
    return CliRunner().invoke(main, ["check", *map(str, args)]).output.splitlines()


def test_the_boot_time_reset_is_no_host_reset_with_a_guest_log_merged_in(tmp_path):
    trace, dmesg = tmp_path / "qemu.log", tmp_path / "dmesg.log"
    dmesg.write_text(GUEST_BOOT)
    trace.write_text(BOOT_TRACE)
    assert not any("host_reset" in line for line in check_lines(trace, dmesg))
    # a second reset in the same trace is one
    trace.write_text(BOOT_TRACE + BOOT_TRACE.replace("1767225603", "1767225903"))
    resets = [line for line in check_lines(trace, dmesg) if "host_reset" in line]
    assert resets == [
        f"{trace}:5: note hvdm.log.host_reset: the host reset the device: the channel starts over [frame 7]"
    ]


def test_a_trace_without_times_and_a_guest_dmesg_say_the_trace_has_no_times(tmp_path):
    trace, dmesg = tmp_path / "qemu.log", tmp_path / "dmesg.log"
    trace.write_text("".join(line.split(":", 1)[1] + "\n" for line in BOOT_TRACE.splitlines()))
    dmesg.write_text(GUEST_BOOT)
    out = CliRunner().invoke(main, ["timeline", str(trace), str(dmesg)]).output
    assert (
        f"Clock: {dmesg} not aligned to the host's clock: the host's log has no times (QEMU prints them with -msg timestamp=on); the guest's logs are a session of their own"
        in out.splitlines()
    )


UNANSWERED = (
    "4242@1767225650.000000:hv_balloon_state_change -> S_BALLOON_POSTING\n"
    "4242@1767225650.000000:hv_balloon_outgoing_balloon posting balloon 3 for 1000, remaining 1000\n"
    "4242@1767225650.000000:hv_balloon_state_change -> S_BALLOON_REPLY_WAIT\n"
    "4242@1767225653.000000:hv_balloon_map_slot mapping memslot 0 / 16 @ 0x0\n"
)


def test_never_answered_respects_the_reply_timeout_as_health_does(tmp_path):
    trace = tmp_path / "qemu.log"
    trace.write_text(UNANSWERED)
    # the log ends 3 s after the request: within the default 5 s nothing can be said
    assert check_lines(trace) == [
        f"{trace}:2: note hvdm.health.answer_unknown: balloon #1: no reply before the input ended, less than 5 s after the request",
        "checked 1 input: 0 errors, 0 warnings, 1 note; pass: nothing at or above warning",
    ]
    assert check_lines("--reply-timeout", "2", trace)[:2] == [
        f"{trace}:2: warning hvdm.log.unanswered: the guest never answered balloon #1 in the 3.0 s to the end of the log (the host waits for a reply)",
        f"{trace}:2: warning hvdm.health.unanswered: balloon #1: no reply within 2 s (the input goes on 3.0 s after the request)",
    ]


def test_the_logs_line_says_it_counts_frames_and_debugfs_lists_are_words(tmp_path):
    snapshot = tmp_path / "hv-balloon"
    snapshot.write_text(
        "host_version          : 2.0\n"
        "capabilities          : enabled hot_add\n"
        "state                 : 1 (Initialized)\n"
        "page_size             : 4096\n"
        "pages_added           : 0\n"
        "pages_onlined         : 0\n"
        "pages_ballooned       : 0\n"
        "total_pages_committed : 262144\n"
        "max_dynamic_page_count: 1048576\n"
    )
    out = CliRunner().invoke(main, ["timeline", str(snapshot)]).output.splitlines()
    assert out[3] == "Logs: debugfs 1 frame (1 event among them; other lines are not counted)"
    assert out[4] == (
        "Guest's own state (debugfs): host_version 2.0, capabilities enabled hot_add, state 1, "
        "state_name Initialized, page_size 4096, pages_added 0, pages_onlined 0, "
        "pages_ballooned 0, total_pages_committed 262144, max_dynamic_page_count 1048576"
    )


def test_a_reply_with_no_request_in_a_log_says_log(tmp_path):
    trace = tmp_path / "qemu.log"
    trace.write_text(
        "4242@1767225650.000000:hv_balloon_incoming_balloon incoming balloon response 3, ranges 1, more 0\n"
    )
    assert check_lines("--fail-on", "note", trace)[0] == (
        f"{trace}:1: note hvdm.sequence.request_not_captured: response with no request in the log (it may start after the request)"
    )


SHORT_HOT_ADD = (
    "4242@1767225600.000000:hv_balloon_state_change -> S_HOT_ADD_POSTING\n"
    "4242@1767225600.000000:hv_balloon_outgoing_hot_add posting hot add 7 for 32768 @ 0x140000\n"
    "4242@1767225600.000000:hv_balloon_state_change -> S_HOT_ADD_REPLY_WAIT\n"
    "4242@1767225600.100000:hv_balloon_incoming_hot_add incoming hot add response 9, result 1, count 16384\n"
    "4242@1767225600.100000:hv_balloon_state_change -> S_IDLE\n"
)


def test_the_end_of_hot_add_is_said_with_and_without_times(tmp_path):
    timed, untimed = tmp_path / "timed.log", tmp_path / "untimed.log"
    timed.write_text(SHORT_HOT_ADD)
    untimed.write_text("".join(line.split(":", 1)[1] + "\n" for line in SHORT_HOT_ADD.splitlines()))
    ended = (
        ":2: note hvdm.health.hot_add.ended: no hot-add after hot_add #1 (partial) to the end of "
        "the input; a QEMU host never hot-adds again after a failed or short hot-add until the "
        "guest is reset"
    )
    assert f"{timed}{ended}" in check_lines(timed)
    assert f"{untimed}{ended}" in check_lines(untimed)


# --- 7: sessions count from their own start; unknown counts left out of JSON ------------------


def test_a_dmesg_only_unballoon_leaves_its_unknown_parts_and_ids_out_of_json(tmp_path):
    dmesg = tmp_path / "dmesg.log"
    dmesg.write_text(
        "[   66.665596] hv_balloon: Freed 114944 ballooned pages.\n"
        "[   66.665978] hv_balloon: Freed 114944 ballooned pages.\n"
    )
    out = CliRunner().invoke(main, ["timeline", "-T", "json", str(dmesg)]).output
    row = json.loads(out)[0]
    assert row["not_in_log"] == ["host_trans_id", "guest_trans_id", "request", "parts"]
    assert "parts" not in row and "ranges" not in row
    assert row["trans_ids"] == {}
    assert row["pages"] == 2 * 114944


@pytest.mark.parametrize(
    "stamp",
    [
        '{"seconds": -5, "microseconds": 0}',
        '{"seconds": 1767225647, "microseconds": 99999999}',
        '{"seconds": "1767225647", "microseconds": 0}',
        '{"seconds": 99999999999999, "microseconds": 0}',
        '"yesterday"',
    ],
)
def test_a_qmp_timestamp_qemu_never_prints_is_said_and_gives_no_time(tmp_path, stamp):
    path = tmp_path / "qmp.log"
    path.write_text(
        f'{{"timestamp": {stamp}, "event": "HV_BALLOON_STATUS_REPORT", '
        '"data": {"available": 4096, "committed": 4096}}\n'
    )
    result = CliRunner().invoke(main, ["read", "-T", "jsonl", str(path)])
    (frame,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert "time" not in frame or frame["time"] is None
    shown = json.dumps(json.loads(stamp), separators=(",", ":"))
    assert [f["message"] for f in frame["expert"]][0] == (
        f"QMP timestamp {shown} is no time QEMU prints: the event has no time"
    )


@pytest.mark.parametrize(
    "line, finding",
    [
        # A lone number ending a line of words is no hex dump's row: the line is said.
        ("[   67.665978] hv_balloon: Something totally new 42", "hvdm.log.dmesg_unknown"),
        ("[   67.665978] hv_balloon: 12345", "hvdm.log.dmesg_unknown"),
        # A bracketed stamp with no number in it is no time either.
        ("[   abc] hv_balloon: Freed 47616 ballooned pages.", "hvdm.log.time_unreadable"),
    ],
)
def test_a_dmesg_line_is_never_dropped_unsaid(tmp_path, line, finding):
    path = tmp_path / "dmesg.log"
    path.write_text(
        "[    1.737705] hv_balloon: Using Dynamic Memory protocol version 2.0\n" + line + "\n"
    )
    result = CliRunner().invoke(main, ["check", "--fail-on", "note", str(path)])
    assert f"{path}:2: " in result.stdout
    assert [ln.split(": ")[1].split()[1] for ln in result.stdout.splitlines() if ":2: " in ln][
        0
    ] == finding
