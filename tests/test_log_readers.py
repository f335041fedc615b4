# ruff: noqa: E501  (log lines are quoted whole, as the programs print them)
"""The log readers against lines written by hand from the real format strings.

Every line below is typed from the format strings quoted in log-sources.md
(hw/hyperv/trace-events, hv-balloon.c, qapi/machine.json, drivers/hv/hv_balloon.c,
hv_trace_balloon.h), with the values it must yield written out.
"""

from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner

from dmdissect.cli import main
from dmdissect.findings import Severity
from dmdissect.sources import read_frames
from dmdissect.sources.detect import detect_format
from dmdissect.vocabulary import DirectionSource


def frames_of(text: str | bytes, fmt: str | None = None):
    data = text.encode() if isinstance(text, str) else text
    return list(read_frames(io.BytesIO(data), "log", fmt))


def witness(frame):
    w = frame.witness
    return (w.type, w.trans_id, w.fields, w.extra)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


# --- QEMU trace ------------------------------------------------------------------------

QEMU_LINES = """\
hv_balloon_state_change -> S_POST_RESET_CLOSED
719585@1700000000.000100:hv_balloon_state_change -> S_VERSION
719585@1700000000.000200:hv_balloon_incoming_version incoming proto version 2.0
2023-11-14T22:13:20.000300Z hv_balloon_state_change -> S_CAPS
2023-11-14T22:13:21Z hv_balloon_incoming_caps incoming caps 0x1f
4242@1700000050000000000 hv_balloon_outgoing_balloon posting balloon 0 for 585728, remaining 600000
hv_balloon_incoming_balloon incoming balloon response 12, ranges 3, more 0
hv_balloon_remove_response processing remove response range 1536 @ 0x2a000, both 0
hv_balloon_remove_response_remainder remove response remaining range 1536 @ 0x2a000, both 0
hv_balloon_remove_response_hole response range hole 16 @ 0x7fff0 from range 32 @ 0x7fff0, before our start 0x800000, both 1
hv_balloon_remove_response_common response common range 16 @ 0x800000 from range 32 @ 0x7fff0 with our 262144 @ 0x800000, removed 16, both 1
hv_balloon_outgoing_unballoon posting unballoon 1 for 512 @ 0x2a200, remaining 1024
hv_balloon_incoming_unballoon incoming unballoon response 20
hv_balloon_our_range_add adding our range 1048576 @ 0x800000
hv_balloon_map_slot mapping memslot 0 / 8 @ 0x0
hv_balloon_unmap_slot unmapping memslot 7 / 8 @ 0x38000000
hv_balloon_outgoing_hot_add posting hot add 2 for 32768 @ 0x800000
hv_balloon_incoming_hot_add incoming hot add response 21, result 1, count 32768
memory_device_plug id (null) addr 0x800000000
qemu-system-x86_64: warning: guest reported more pages removed than currently pending (2048 vs 1024)
qemu-system-x86_64: -device foo: some unrelated warning
"""


def test_every_qemu_event_gives_its_facts():
    frames = frames_of(QEMU_LINES)
    assert [f.origin for f in frames] == [f"log:{n}" for n in range(1, 19)] + ["log:20"]
    assert all(f.source == "qemu-trace" and f.data == b"" for f in frames)
    events = {f.origin: (f.event.side, f.event.name, f.event.facts) for f in frames if f.event}
    assert events["log:1"] == ("host", "state_change", {"state": "S_POST_RESET_CLOSED"})
    assert events["log:8"] == (
        "host",
        "remove_response",
        {"count": 1536, "start": 0x2A000, "both": 0},
    )
    assert events["log:10"][2] == {
        "counthole": 16,
        "starthole": 0x7FFF0,
        "countrange": 32,
        "startrange": 0x7FFF0,
        "starthpr": 0x800000,
        "both": 1,
    }
    assert events["log:11"][2]["removed"] == 16
    assert events["log:14"] == ("host", "our_range_add", {"count": 1048576, "start": 0x800000})
    assert events["log:16"] == (
        "host",
        "unmap_slot",
        {"idx": 7, "total_slots": 8, "offset": 0x38000000},
    )
    by_line = {f.origin: f for f in frames}
    assert witness(by_line["log:3"]) == (
        1,
        None,
        {"version": {"major_version": 2, "minor_version": 0}},
        {},
    )
    # 0x1f: balloon, hot_add, alignment 7 (bits 2-5), hot_remove 0; reservedz not all in 32 bits
    assert witness(by_line["log:5"]) == (
        3,
        None,
        {"caps": {"balloon": 1, "hot_add": 1, "hot_add_alignment": 7, "hot_remove": 0}},
        {},
    )
    assert witness(by_line["log:6"]) == (6, 0, {"num_pages": 585728}, {"remaining": 600000})
    assert witness(by_line["log:7"]) == (7, 12, {"range_count": 3, "more_pages": 0}, {})
    assert witness(by_line["log:12"]) == (
        8,
        1,
        {
            "more_pages": 1,
            "range_count": 1,
            "range_array": [{"start_page": 0x2A200, "page_cnt": 512}],
        },
        {"remaining": 1024},
    )
    assert witness(by_line["log:13"]) == (9, 20, {}, {})
    assert witness(by_line["log:17"]) == (
        10,
        2,
        {"range": {"start_page": 0x800000, "page_cnt": 32768}},
        {},
    )
    assert witness(by_line["log:18"]) == (11, 21, {"page_count": 32768, "result": 1}, {})
    directions = {f.origin: (f.direction, f.direction_source) for f in frames if f.witness}
    assert directions["log:6"] == ("host->guest", DirectionSource.LOG)
    assert directions["log:7"] == ("guest->host", DirectionSource.LOG)
    warning = by_line["log:20"]
    assert (warning.event.name, warning.findings[0].severity) == ("warning", Severity.WARNING)
    assert "more pages removed than currently pending (2048 vs 1024)" in warning.findings[0].message


def test_qemu_prefixes_give_host_times():
    frames = frames_of(QEMU_LINES)
    times = {f.origin: f.time for f in frames}
    assert times["log:1"] is None
    assert times["log:2"] == pytest.approx(1700000000.0001, abs=1e-7)
    assert times["log:4"] == pytest.approx(1700000000.0003, abs=1e-7)  # 2023-11-14T22:13:20Z
    assert times["log:5"] == 1700000001.0  # GLib drops .000000
    assert times["log:6"] == 1700000050.0  # qemu-trace-stap: nanoseconds


def test_bad_and_unknown_trace_lines_are_findings_not_a_stop():
    text = (
        "hv_balloon_incoming_balloon incoming balloon response 5, ranges many, more 0\n"
        "hv_balloon_haprot_range_add adding haprot range 4 @ 16\n"
        "hv_balloon_outgoing_balloon posting balloon 1 for 99999999999999999999999, remaining 1\n"
        "hv_balloon_incoming_unballoon incoming unballoon response 7\n"
    )
    frames = frames_of(text)
    assert [f.event.name if f.event else f.witness.type for f in frames] == [
        "unreadable",
        "unknown",
        "unreadable",
        9,
    ]
    assert frames[0].findings[0].message == (
        "hv_balloon_incoming_balloon line does not match its format "
        "'incoming balloon response %u, ranges %u, more %u'"
    )
    assert frames[1].findings[0].severity == Severity.NOTE


def test_overlong_trace_line_is_one_finding():
    text = "hv_balloon_state_change -> S_IDLE\n" + "x" * 200_000 + "\n"
    text += "hv_balloon_state_change -> S_VERSION\n"
    frames = frames_of(text)
    assert [f.event.name for f in frames] == ["state_change", "unreadable", "state_change"]
    assert frames[2].origin == "log:3"


# --- QMP ---------------------------------------------------------------------------------

QMP_LINES = (
    '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 8}, "package": ""}, '
    '"capabilities": ["oob"]}}\r\n'
    '{"return": {}}\r\n'
    '{"timestamp": {"seconds": 1700000060, "microseconds": 250000}, "event": '
    '"HV_BALLOON_STATUS_REPORT", "data": {"available": 3154116608, "committed": 1962934272}}\r\n'
    '{"timestamp": {"seconds": 1700000061, "microseconds": 5}, "event": "RTC_CHANGE", '
    '"data": {"offset": 0, "qom-path": "/machine/unattached/device[8]"}}\n'
    '{"return": {"available": 4096, "committed": 8192}}\n'
    '{"error": {"class": "GenericError", "desc": "no guest memory status report received yet"}}\n'
    '{"timestamp": {"seconds": 1700000062, "microseconds": 0}, "event": '
    '"HV_BALLOON_STATUS_REPORT", "data": {"available": 1000, "committed": 8192}}\n'
    "not json at all\n"
)


def test_an_error_answering_the_query_is_shown_whatever_its_words():
    """With the commands in the log, an error is the query's when it answers the query's
    ``execute`` (in order, or by ``id``); other commands' errors stay skipped, even worded
    as the query's own (what the reply answers wins over its words)."""
    lines = (
        '{"execute": "qmp_capabilities"}\n'
        '{"return": {}}\n'
        '{"execute": "query-hv-balloon-status-report", "id": 7}\n'
        '{"execute": "query-status"}\n'
        '{"return": {"status": "running", "running": true}}\n'
        '{"error": {"class": "CommandNotFound", "desc": "The command '
        'query-hv-balloon-status-report has not been found"}, "id": 7}\n'
        '{"execute": "query-hv-balloon-status-report"}\n'
        '{"error": {"class": "GenericError"}}\n'
        '{"execute": "device_add", "arguments": {"driver": "x"}}\n'
        '{"error": {"class": "GenericError", "desc": "Bus not found"}}\n'
        '{"error": {"class": "GenericError", "desc": "stray, answering nothing shown"}}\n'
        '{"execute": "query-status", "id": "s1"}\n'
        '{"error": {"class": "GenericError", "desc": "no guest memory status report received '
        'yet"}, "id": "s1"}\n'
        '{"execute": "query-status"}\n'
        '{"error": {"class": "GenericError", "desc": "hv-balloon device present?"}}\n'
    )
    frames = frames_of(lines, "qmp")
    assert [(f.origin, f.event.name, f.event.facts["desc"]) for f in frames] == [
        (
            "log:6",
            "query_error",
            "The command query-hv-balloon-status-report has not been found",
        ),
        ("log:8", "query_error", "an error of class 'GenericError' without its words"),
    ]
    assert [f.id for frame in frames for f in frame.findings] == ["hvdm.log.qmp_query_error"] * 2


def test_qmp_status_reports_in_pages():
    frames = frames_of(QMP_LINES)
    assert detect_format(QMP_LINES.encode()) == "qmp"
    kinds = [(f.origin, f.witness.type if f.witness else f.event.name) for f in frames]
    assert kinds == [
        ("log:3", 5),
        ("log:5", "status_query"),
        ("log:6", "query_error"),
        ("log:7", 5),
        ("log:8", "unreadable"),
    ]
    first = frames[0]
    assert first.time == 1700000060.25
    assert first.witness.fields == {"num_avail": 770048, "num_committed": 479232}
    assert first.witness.trans_id is None
    query = frames[1]  # the host's state: the last report it holds, not one the guest sends
    assert (query.time, query.witness, query.event.side) == (None, None, "host")
    assert query.event.facts == {
        "available": 4096,
        "committed": 8192,
        "available_pages": 1,
        "committed_pages": 2,
    }
    odd = frames[3]
    assert odd.witness.fields == {"num_committed": 2}
    assert odd.findings[0].message == (
        "HV_BALLOON_STATUS_REPORT: 'available' 1000 is not a whole number of pages"
    )


# --- dmesg ---------------------------------------------------------------------------------

DMESG_LINES = """\
[    0.912345] hv_vmbus: registering driver hv_balloon
[    1.737193] hv_balloon: Using Dynamic Memory protocol version 2.0
[   60.500000] hv_balloon: Balloon request will be partially fulfilled. Balloon floor reached.
[   60.600000] hv_balloon: Ballooned 512 out of 585728 requested pages.
[Thu Nov 14 22:14:40 2023] hv_balloon: Freed 1536 ballooned pages.
Nov 14 22:14:41 guest kernel: hv_balloon: Ignore balloon-up request!
2023-11-14T22:14:42+0000 guest kernel: hv_balloon: hot_add memory failed error is -12
[   70.000000] hv_balloon: Hot adding 32768 pages starting at pfn 0x800000.
[   71.000000] hv_balloon: Capabilities not accepted by host
[   72.000000] hv_balloon: host->guest
[   72.000000] hv_balloon: 00000000: 06 00 10 00 05 00 00 00 00 02 00 00 00 00 00 00  ................
[   73.000000] hv_balloon: Max. dynamic memory size: 4096 MB
"""


def test_dmesg_lines_and_a_hex_dump_among_them():
    frames = frames_of(DMESG_LINES)
    assert detect_format(DMESG_LINES.encode()) == "dmesg"
    got = [
        (f.origin, f.event.name if f.event else f.witness.type if f.witness else f.data.hex())
        for f in frames
    ]
    assert got == [
        ("log:1", "driver_registered"),
        ("log:2", 2),
        ("log:3", "floor"),
        ("log:4", "ballooned"),
        ("log:5", "freed"),
        ("log:6", "ignore_balloon"),
        ("log:7", "hot_add_error"),
        ("log:8", "hot_adding"),
        ("log:9", 4),
        ("log:11", "06001000050000000002000000000000"),
        ("log:12", 12),
    ]
    assert frames[1].witness.fields == {"is_accepted": 1}
    assert frames[1].witness.extra == {"version": {"major_version": 2, "minor_version": 0}}
    assert frames[1].time == 1.737193
    assert frames[3].event.facts == {"last_chunk": 512, "requested": 585728}
    assert frames[4].time == 1700000080.0  # dmesg -T date, UTC
    assert frames[6].event.facts == {"errno": -12}
    assert frames[6].time == 1700000082.0
    assert frames[7].event.facts == {"pages": 32768, "pfn": 0x800000}
    assert frames[8].witness.fields == {"is_accepted": 0}
    assert frames[9].direction == "host->guest" and frames[9].source is None
    assert frames[10].witness.extra == {"mb": 4096}


def test_a_dmesg_of_dumps_only_stays_a_hex_dump():
    text = "[    1.0] hv_balloon: 00000000: 09 00 08 00 05 00 00 00\n"
    assert detect_format(text.encode()) == "hex"


# --- ftrace ---------------------------------------------------------------------------------

FTRACE_LINES = """\
# tracer: nop
#
#                                _-----=> irqs-off/BH-disabled
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
      hv_balloon-312     [002] .....    48.123456: balloon_status: available 779035, committed 475331; vm_memory_committed 475331; pages_ballooned 0, pages_added 0, pages_onlined 0
      hv_balloon-312     [000] ....    49.123999: balloon_status: available 1, committed 2; vm_memory_committed 3; pages_ballooned 4, pages_added 5, pages_onlined 6
     kworker/0:1-45      [001] d..1.    50.000001: balloon_status: available -5, committed 7; vm_memory_committed 3; pages_ballooned 0, pages_added 0, pages_onlined 0
          <idle>-0       [001] d..2.    50.100000: sched_switch: prev_comm=swapper/1
      hv_balloon-312     [002] .....    51.000000: balloon_status: available 1, committed
"""


def test_ftrace_status_lines_with_four_and_five_flags():
    frames = frames_of(FTRACE_LINES)
    assert detect_format(FTRACE_LINES.encode()) == "ftrace"
    assert [f.origin for f in frames] == ["log:6", "log:7", "log:8", "log:10"]
    first, second, negative, cut = frames
    assert first.time == 48.123456
    assert first.witness.fields == {"num_avail": 779035, "num_committed": 475331}
    assert first.witness.extra == {
        "vm_memory_committed": 475331,
        "pages_ballooned": 0,
        "pages_added": 0,
        "pages_onlined": 0,
        "task": "hv_balloon",
        "pid": 312,
        "cpu": 2,
    }
    assert second.witness.extra["pages_onlined"] == 6 and second.witness.extra["cpu"] == 0
    assert negative.witness.fields == {"num_committed": 7}
    assert negative.witness.extra["task"] == "kworker/0:1"
    assert cut.event.name == "unreadable" and cut.time == 51.0


# --- debugfs ----------------------------------------------------------------------------------

DEBUGFS = """\
host_version          : 2.0
capabilities          : enabled hot_add
state                 : 1 (Initialized)
page_size             : 4096
pages_added           : 32768
pages_onlined         : 32768
pages_ballooned       : 1536
total_pages_committed : 479232
max_dynamic_page_count: 0
"""


def test_debugfs_snapshot_is_the_guests_state():
    assert detect_format(DEBUGFS.encode()) == "debugfs"
    (frame,) = frames_of(DEBUGFS)
    assert (frame.event.side, frame.event.name, frame.time) == ("guest", "guest_state", None)
    assert frame.event.facts == {
        "host_version": "2.0",
        "capabilities": ["enabled", "hot_add"],
        "state": 1,
        "state_name": "Initialized",
        "page_size": 4096,
        "pages_added": 32768,
        "pages_onlined": 32768,
        "pages_ballooned": 1536,
        "total_pages_committed": 479232,
        "max_dynamic_page_count": 0,
    }


def test_detection_of_each_log():
    assert detect_format(QEMU_LINES.encode()) == "qemu-trace"
    assert detect_format(b"just words\n") == "hex"


# --- the views: unknown is never zero ---------------------------------------------------------


def test_json_leaves_unknown_fields_out_and_names_the_source(tmp_path):
    path = tmp_path / "qemu.log"
    path.write_text(QEMU_LINES)
    code, out = run("read", "-T", "jsonl", str(path))
    assert code == 0
    objects = [json.loads(line) for line in out.splitlines()]
    balloon = next(o for o in objects if o.get("type_name") == "DM_BALLOON_REQUEST")
    assert balloon["source"] == "qemu-trace" and balloon["origin"] == f"{path}:6"
    assert balloon["hdr"] == {"type": 6, "type_name": "DM_BALLOON_REQUEST", "trans_id": 0}
    assert balloon["num_pages"] == 585728 and "reservedz" not in balloon
    assert balloon["log"] == {"remaining": 600000}
    assert balloon["not_in_log"] == ["size", "reservedz"]
    version = next(o for o in objects if o.get("type_name") == "DM_VERSION_REQUEST")
    assert "trans_id" not in version["hdr"] and "is_last_attempt" not in version
    event = next(o for o in objects if o.get("event") == "remove_response")
    assert event["facts"] == {"count": 1536, "start": 0x2A000, "both": 0}
    assert "type_name" not in event


def test_summary_and_tree_say_not_in_this_log(tmp_path):
    path = tmp_path / "qemu.log"
    path.write_text(QEMU_LINES)
    code, out = run("read", str(path))
    line = next(x for x in out.splitlines() if "DM_VERSION_REQUEST" in x)
    assert "id=?" in line
    assert (
        "version 2.0 (WIN10) (trans_id, size, reservedz, is_last_attempt: not in this log)" in line
    )
    code, out = run("read", "-V", str(path))
    assert "│   └── trans_id: (not in this log)" in out
    assert "    ├── is_last_attempt: (not in this log)" in out
