"""Sessions told by logs: the tracker and timeline on hand-written logs, merging, findings.

The logs are typed from the real format strings; the expected rows are
worked out by hand from them.  The round trip compares a synthesized log
with the byte-level capture of the same session, read through the
independent byte path.
"""

from __future__ import annotations

import json
import tracemalloc

import pytest
from click.testing import CliRunner
from qemulines import HANDSHAKE

from dmdissect.cli import main
from dmdissect.pipeline import transactions_of
from dmdissect.sources import open_frames
from dmdissect.synth import generate
from dmdissect.synth.logs import log_text

T = 1700000000


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def rows(*paths, extra=()) -> list[dict]:
    """The timeline's rows and session, without the health verdicts (tested on their own)."""
    code, out = run("timeline", "-T", "jsonl", *extra, *map(str, paths))
    assert code == 0, out
    return [r for r in map(json.loads, out.splitlines()) if r["kind"] != "verdict"]


def trace(lines: list[tuple[float, str]]) -> str:
    """Lines in QEMU's ``TID@SEC.USEC:`` form, ``seconds`` after :data:`T`."""
    out = []
    for seconds, text in lines:
        micros = round(seconds * 1e6)
        out.append(f"99@{T + micros // 10**6}.{micros % 10**6:06d}:hv_balloon_{text}\n")
    return "".join(out)


SESSION = HANDSHAKE + [
    (60.0, "state_change -> S_BALLOON_RB_WAIT"),
    (60.0, "state_change -> S_BALLOON_POSTING"),
    (60.0, "outgoing_balloon posting balloon 0 for 2048, remaining 2048"),
    (60.0, "state_change -> S_BALLOON_REPLY_WAIT"),
    (60.5, "incoming_balloon incoming balloon response 30, ranges 2, more 1"),
    (60.5, "remove_response processing remove response range 1024 @ 0x10000, both 0"),
    (60.5, "remove_response_remainder remove response remaining range 1024 @ 0x10000, both 0"),
    (60.75, "incoming_balloon incoming balloon response 32, ranges 1, more 0"),
    (60.75, "remove_response processing remove response range 512 @ 0x20000, both 0"),
    (60.75, "state_change -> S_IDLE"),
    (70.0, "state_change -> S_UNBALLOON_RB_WAIT"),
    (70.0, "state_change -> S_UNBALLOON_POSTING"),
    (70.0, "outgoing_unballoon posting unballoon 1 for 512 @ 0x20000, remaining 1024"),
    (70.0001, "outgoing_unballoon posting unballoon 1 for 1024 @ 0x10000, remaining 0"),
    (70.0001, "state_change -> S_UNBALLOON_REPLY_WAIT"),
    (70.01, "incoming_unballoon incoming unballoon response 40"),
    (70.01, "state_change -> S_HOT_ADD_SETUP"),
    (70.01, "our_range_add adding our range 1048576 @ 0x800000"),
    (70.01, "map_slot mapping memslot 0 / 8 @ 0x0"),
    (70.01, "state_change -> S_HOT_ADD_RB_WAIT"),
    (70.01, "state_change -> S_HOT_ADD_POSTING"),
    (70.01, "outgoing_hot_add posting hot add 2 for 32768 @ 0x800000"),
    (70.01, "state_change -> S_HOT_ADD_REPLY_WAIT"),
    (70.5, "incoming_hot_add incoming hot add response 41, result 1, count 16384"),
    (70.5, "state_change -> S_IDLE"),
    (80.0, "state_change -> S_HOT_ADD_SETUP"),
    (80.0, "state_change -> S_IDLE"),
    (90.0, "state_change -> S_BALLOON_RB_WAIT"),
    (90.0, "state_change -> S_BALLOON_POSTING"),
    (90.0, "outgoing_balloon posting balloon 3 for 4096, remaining 4096"),
    (90.0, "state_change -> S_BALLOON_REPLY_WAIT"),
    (95.0, "state_change -> S_BALLOON_REPLY_WAIT"),
]


def test_a_qemu_trace_alone_tells_every_transaction(tmp_path):
    path = tmp_path / "qemu.log"
    path.write_text(trace(SESSION))
    got = rows(path)
    kinds = [(r["kind"], r.get("number")) for r in got]
    assert kinds == [
        ("version", 1),
        ("capabilities", 1),
        ("balloon", 1),
        ("unballoon", 1),
        ("hot_add", 1),
        ("balloon", 2),
        ("session", None),
    ]
    version, caps, balloon, unballoon, hot_add, unanswered, session = got
    assert (version["outcome"], version["trans_ids"], version["frames"]) == (
        "accepted",
        {"host": []},  # the guest's id is not in the log: left out, not []
        [3, 4],
    )
    assert version["not_in_log"] == ["guest_trans_id", "response"]
    assert version["duration"] == 0.0005
    assert caps["outcome"] == "accepted" and caps["frames"] == [5, 6]
    assert balloon["trans_ids"] == {"host": [0], "guest": [30, 32]}
    # parts: the messages, the request and the guest's two responses (not QEMU's range lines).
    assert (balloon["parts"], balloon["ranges"]) == (3, 3)
    assert (balloon["pages"], balloon["pages_requested"]) == (1536, 2048)
    assert (balloon["outcome"], balloon["duration"], balloon["latency"]) == ("partial", 0.75, 0.5)
    assert balloon["complete"] is True
    assert unballoon["trans_ids"] == {"host": [1], "guest": [40]}
    # Two request parts and the guest's reply.
    assert (unballoon["parts"], unballoon["pages"], unballoon["outcome"]) == (3, 1536, "accepted")
    assert unballoon["duration"] == 0.01
    assert hot_add["trans_ids"] == {"host": [2], "guest": [41]}
    assert (hot_add["pages"], hot_add["pages_requested"], hot_add["outcome"]) == (
        16384,
        32768,
        "partial",
    )
    assert any(
        "no more hot adds until the guest is reset" in f["message"] for f in hot_add["expert"]
    )
    assert unanswered["complete"] is False
    assert unanswered["reason"] == "no response (log ended)"
    # the log ends 5.0 s after the request, not past the 5 s reply timeout: too soon to say
    # it was never answered (check says answer_unknown)
    assert unanswered["expert"] == []
    assert session["version"] == 0x20000 and session["sources"] == {"qemu-trace": 39}
    assert session["guest_capabilities"]["min_page_cnt"] is None


def test_the_hot_add_that_never_comes_is_explained(tmp_path):
    path = tmp_path / "qemu.log"
    path.write_text(trace(SESSION))
    code, out = run("read", str(path))
    line = out.splitlines()[32]  # the second -> S_HOT_ADD_SETUP
    assert line.startswith("   33 ")
    assert (
        "[note: QEMU wants to hot-add but will not post: hot_add #1 failed or was short, which "
        "ends hot add until the guest is reset]" in line
    )


def test_text_timeline_shows_unknowns_as_question_marks(tmp_path):
    path = tmp_path / "qemu.log"
    path.write_text(trace(HANDSHAKE))
    code, out = run("timeline", str(path))
    assert code == 0
    version_row = next(x for x in out.splitlines() if "version #1" in x)
    assert " g:? " in version_row


def test_ranges_missing_from_the_trace_leave_pages_unknown(tmp_path):
    path = tmp_path / "qemu.log"
    path.write_text(
        trace(
            [
                (0.0, "outgoing_balloon posting balloon 7 for 2048, remaining 2048"),
                (0.5, "incoming_balloon incoming balloon response 9, ranges 4, more 0"),
                (0.5, "state_change -> S_IDLE"),
            ]
        )
    )
    (balloon, _) = rows(path)
    assert (balloon["pages"], balloon["outcome"], balloon["not_in_log"]) == (
        None,
        "unknown",
        ["pages"],
    )
    code, out = run("timeline", str(path))
    assert "?/2048" in out


def test_floor_shows_as_ever_smaller_requests(tmp_path):
    lines = []
    for n, (asked, given) in enumerate([(4096, 1024), (3072, 512), (2560, 256)]):
        t = n * 10.0
        lines += [
            (t, f"outgoing_balloon posting balloon {n} for {asked}, remaining {asked}"),
            (t + 1, f"incoming_balloon incoming balloon response {n + 50}, ranges 1, more 0"),
            (
                t + 1,
                f"remove_response processing remove response range {given} @ 0x{n}0000, both 0",
            ),
            (t + 1, "state_change -> S_BALLOON_RB_WAIT"),
        ]
    path = tmp_path / "qemu.log"
    path.write_text(trace(lines))
    balloons = [r for r in rows(path) if r["kind"] == "balloon"]
    assert [(r["pages"], r["pages_requested"], r["outcome"]) for r in balloons] == [
        (1024, 4096, "partial"),
        (512, 3072, "partial"),
        (256, 2560, "partial"),
    ]
    assert [f["message"] for f in balloons[2]["expert"]] == [
        "the guest is at its floor: 3 balloon requests in a row, each partly fulfilled and "
        "followed by a smaller one"
    ]
    assert balloons[1]["expert"] == []


DMESG = """\
[    0.500000] hv_vmbus: registering driver hv_balloon
[    2.000000] hv_balloon: Using Dynamic Memory protocol version 2.0
[   91.200000] hv_balloon: Ignore balloon-up request!
"""


def test_dmesg_merges_onto_the_host_clock_by_the_negotiation(tmp_path):
    qemu = tmp_path / "qemu.log"
    # the log goes on 10 s after balloon #2, past the 5 s a reply has
    qemu.write_text(trace([*SESSION, (100.0, "map_slot mapping memslot 1 / 8 @ 0x0")]))
    dmesg = tmp_path / "dmesg.log"
    dmesg.write_text(DMESG)
    got = rows(qemu, dmesg)
    session = got[-1]
    # QEMU accepted at T+1.0005; the guest logged it 2.0 s after boot: boot at T-0.9995.
    assert session["alignment"] == (
        f"{dmesg} aligned to the host's clock by the version negotiation both sides log "
        "(guest boot at 2023-11-14T22:13:19.000500+00:00)"
    )
    unanswered = [r for r in got if r["kind"] == "balloon"][-1]
    assert unanswered["expert"][0]["message"].startswith(
        "guest: the guest ignores balloon requests"
    )
    assert unanswered["expert"][-1]["message"] == (
        "the guest never answered balloon #2 in the 10.0 s to the end of the log; the guest "
        "said: Ignore balloon-up request! (the host waits for a reply)"
    )
    version = got[0]
    assert version["kind"] == "version" and version["outcome"] == "accepted"
    code, out = run("read", "-T", "jsonl", str(qemu), str(dmesg))
    objects = [json.loads(line) for line in out.splitlines()]
    ignore = next(o for o in objects if o.get("event") == "ignore_balloon")
    assert ignore["time"] == T - 0.9995 + 91.2
    assert ignore["transaction"]["kind"] == "balloon" and ignore["transaction"]["number"] == 2
    assert [o["frame"] for o in objects] == list(range(1, len(objects) + 1))


def test_guest_boot_time_given(tmp_path):
    qemu = tmp_path / "qemu.log"
    qemu.write_text(trace(SESSION))
    dmesg = tmp_path / "dmesg.log"
    dmesg.write_text(DMESG)
    code, out = run(
        "read", "-T", "jsonl", "--guest-boot-time", "2023-11-14T22:13:10Z", str(qemu), str(dmesg)
    )
    assert code == 0
    objects = [json.loads(line) for line in out.splitlines()]
    registered = next(o for o in objects if o.get("event") == "driver_registered")
    assert registered["time"] == T - 10 + 0.5
    assert registered["frame"] == 1


def test_guest_logs_without_a_negotiation_are_not_aligned(tmp_path):
    qemu = tmp_path / "qemu.log"
    qemu.write_text(trace(SESSION[6:]))
    dmesg = tmp_path / "dmesg.log"
    dmesg.write_text(DMESG)
    session = rows(qemu, dmesg)[-1]
    assert session["alignment"] == (
        f"{dmesg} not aligned to the host's clock: the host's log shows no version negotiation "
        "(give --boot-time); the guest's logs are a session of their own"
    )


def test_status_reports_that_stop_and_qmp_throttling(tmp_path):
    ftrace = tmp_path / "trace.txt"
    lines = [
        f"      hv_balloon-312     [002] .....    {45 + n}.000000: balloon_status: available "
        f"{1000 + n}, committed 2000; vm_memory_committed 2000; pages_ballooned 0, pages_added 0, "
        "pages_onlined 0\n"
        for n in range(5)
    ]
    lines.append(lines[-1].replace("49.000000", "60.000000").replace("1004", "999"))
    ftrace.write_text("".join(lines))
    series = rows(ftrace)
    assert series[0]["count"] == 6
    code, out = run("read", str(ftrace))
    # an 11 s pause the reports resume after: they did not stop (health's status.gap says it)
    assert "stopped" not in out
    qmp = tmp_path / "qmp.log"
    qmp.write_text(
        "".join(
            f'{{"timestamp": {{"seconds": {T + 2 * n}, "microseconds": 0}}, "event": '
            f'"HV_BALLOON_STATUS_REPORT", "data": {{"available": 4096, "committed": 8192}}}}\r\n'
            for n in range(4)
        )
    )
    code, out = run("read", str(qmp))
    assert "warning" not in out


def test_qmp_and_ftrace_of_one_report_count_once(tmp_path):
    qmp = tmp_path / "qmp.log"
    qmp.write_text(
        f'{{"timestamp": {{"seconds": {T + 50}, "microseconds": 0}}, "event": '
        '"HV_BALLOON_STATUS_REPORT", "data": {"available": 40960, "committed": 81920}}\n'
    )
    ftrace = tmp_path / "trace.txt"
    ftrace.write_text(
        "      hv_balloon-312     [002] .....    50.000000: balloon_status: available 10, "
        "committed 20; vm_memory_committed 20; pages_ballooned 0, pages_added 0, "
        "pages_onlined 0\n"
    )
    got = rows(qmp, ftrace, extra=("--guest-boot-time", str(T)))
    assert got[0]["count"] == 1
    assert got[0]["sources"] == {"qmp": 1, "ftrace": 1}
    assert (got[0]["num_avail"], got[0]["num_committed"]) == (10, 20)


def _summary(rows_):
    return [
        (r["kind"], r["trans_ids"]["host"], r["trans_ids"]["guest"], r["parts"], r["pages"])
        for r in rows_
        if r["kind"] in ("balloon", "unballoon", "hot_add")
    ] + [
        (r["kind"], r["outcome"], r["pages_requested"], r["duration"])
        for r in rows_
        if r["kind"] in ("balloon", "unballoon", "hot_add")
    ]


def test_synthesized_qemu_trace_tells_what_the_capture_shows(tmp_path):
    session = generate("linux-qemu", seed=5, duration=150)
    log = tmp_path / "qemu.log"
    log.write_text(log_text(session, "qemu-trace"))
    capture = tmp_path / "session.pcapng"
    code, _ = run("synth", "--seed", "5", "--duration", "150", "-o", str(capture))
    assert code == 0
    from_log, from_bytes = rows(log), rows(capture)
    assert _summary(from_log) == _summary(from_bytes)
    assert len(_summary(from_log)) > 6


def test_synthesized_guest_logs_align_and_merge(tmp_path):
    session = generate("linux-qemu", seed=5, duration=150)
    paths = []
    for fmt in ("qemu-trace", "qmp", "dmesg", "ftrace"):
        path = tmp_path / f"{fmt}.log"
        path.write_text(log_text(session, fmt))
        paths.append(path)
    merged = rows(*paths)
    assert merged[-1]["alignment"].endswith("(guest boot at 2026-01-01T00:00:00+00:00)")
    status = sum(r["count"] for r in merged if r["kind"] == "status")
    reports = sum(1 for f in session.frames if f.data[:1] == b"\x05")
    assert status == reports


def test_memory_stays_flat_on_a_long_trace(tmp_path):
    block = trace(SESSION[7:17])

    def peak(repeats: int) -> int:
        path = tmp_path / f"long{repeats}.log"
        path.write_text(block * repeats)
        tracemalloc.start()
        for _ in transactions_of(open_frames(str(path))):
            pass
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(200), peak(2000)
    assert large < small * 1.5


def test_convert_writes_only_frames_with_bytes(tmp_path):
    qemu = tmp_path / "qemu.log"
    qemu.write_text(trace(HANDSHAKE))
    result = CliRunner().invoke(main, ["convert", str(qemu), str(tmp_path / "out.pcapng")])
    assert result.exit_code == 2
    assert result.output == (
        f"dmdissect: error: {qemu} is a log: its lines carry facts, not message bytes; "
        "nothing to write\n"
    )
    code, out = run("read", "-x", str(qemu))
    assert out.splitlines()[1] == "(no bytes: read from the qemu-trace log)"


def test_pages_ballooned_again_after_an_unballoon_are_not_returned_twice(tmp_path):
    # Balloon 512 pages at 0x1000, give them back, balloon the same pfns again, give them back:
    # every unballoon returns pages ballooned just before it, so nothing is "again" or "never".
    cycle = []
    for n in range(2):
        t = 60.0 + n
        cycle += [
            (t, f"outgoing_balloon posting balloon {2 * n} for 512, remaining 512"),
            (t + 0.01, f"incoming_balloon incoming balloon response {5 + 2 * n}, ranges 1, more 0"),
            (t + 0.01, "remove_response processing remove response range 512 @ 0x1000, both 0"),
            (
                t + 0.5,
                f"outgoing_unballoon posting unballoon {2 * n + 1} for 512 @ 0x1000, remaining 0",
            ),
            (t + 0.51, f"incoming_unballoon incoming unballoon response {6 + 2 * n}"),
        ]
    path = tmp_path / "qemu.log"
    path.write_text(trace(HANDSHAKE + cycle))
    code, out = run("check", str(path))
    assert (code, out) == (
        0,
        "checked 1 input: 0 errors, 0 warnings, 0 notes; pass: nothing at or above warning\n",
    )
    unballoons = [r for r in rows(path) if r["kind"] == "unballoon"]
    assert [(r["pages"], r["expert"]) for r in unballoons] == [(512, []), (512, [])]


ADDING = "Hot adding 32768 pages starting at pfn 0x140000."


@pytest.mark.parametrize(
    "lines, outcomes",
    [
        # add_memory() failed with -ENOMEM: Linux answers result 0, transient.
        ([ADDING, "hot_add memory failed error is -12", "Memory hot add failed"],
         ["transient_failure"]),
        # -EEXIST turns the guest's hot add off: result 1, permanent, and so for the next one.
        ([ADDING, "hot_add memory failed error is -17", "Memory hot add failed", ADDING,
          "Memory hot add failed"],
         ["permanent_failure", "permanent_failure"]),
        # No errno line: hot add off from the start (result 1) or nothing fitted (result 0).
        ([ADDING, "Memory hot add failed"], ["failed"]),
        # A hibernation-capable guest has hot add off (no "Hot adding" then): result 1.
        (["Ignore hot-add request!"], ["permanent_failure"]),
    ],
)  # fmt: skip
def test_the_guest_s_hot_add_failure_is_what_its_lines_say(tmp_path, lines, outcomes):
    text = "[    2.000000] hv_balloon: Using Dynamic Memory protocol version 2.0\n"
    text += "".join(f"[   {78 + n}.000000] hv_balloon: {line}\n" for n, line in enumerate(lines))
    path = tmp_path / "dmesg.log"
    path.write_text(text)
    hot_adds = [r for r in rows(path) if r["kind"] == "hot_add"]
    assert [r["outcome"] for r in hot_adds] == outcomes
    assert all(r["pages"] == 0 for r in hot_adds)


@pytest.mark.parametrize(
    "line, arg, shown, bits, fmt",
    [
        ("incoming_hot_add incoming hot add response 7, result 1, count 4294967296", "count",
         "4294967296", 32, "incoming hot add response %u, result %u, count %u"),
        ("incoming_balloon incoming balloon response 4294967296, ranges 1, more 0", "trans_id",
         "4294967296", 32, "incoming balloon response %u, ranges %u, more %u"),
        ("outgoing_balloon posting balloon 0 for 18446744073709551616, remaining 1", "count",
         "18446744073709551616", 64, "posting balloon %u for %u, remaining %u"),
    ],
)  # fmt: skip
def test_a_trace_number_beyond_its_format_s_width_is_no_value(
    tmp_path, line, arg, shown, bits, fmt
):
    # PRIu32 prints at most 2^32 - 1 and PRIu64 2^64 - 1: one more is no number QEMU printed.
    path = tmp_path / "qemu.log"
    path.write_text(trace(HANDSHAKE + [(60.0, line)]))
    code, out = run("check", str(path))
    assert (
        f"{path}:8: warning hvdm.log.qemu_format: hv_balloon_{line.split()[0]} line prints "
        f"{arg} {shown}, beyond the {bits} bits of its format '{fmt}'"
    ) in out.splitlines()
    assert "hot_add.over" not in out and "hot_add.ok" not in out
    # One less is within the format (a 64-bit count may still not fit its message's field).
    path.write_text(trace(HANDSHAKE + [(60.0, line.replace(shown, str(2**bits - 1)))]))
    assert "beyond the" not in run("check", str(path))[1]


def test_a_trace_value_its_layer_field_cannot_hold_is_no_value(tmp_path):
    # more_pages is 1 bit in the header (dynmem-proto.h): QEMU can print 0 or 1, never 7.
    path = tmp_path / "qemu.log"
    path.write_text(
        trace(
            HANDSHAKE
            + [
                (60.0, "outgoing_balloon posting balloon 0 for 512, remaining 512"),
                (60.5, "incoming_balloon incoming balloon response 30, ranges 1, more 7"),
            ]
        )
    )
    code, out = run("read", "-T", "jsonl", str(path))
    response = [json.loads(line) for line in out.splitlines()][-1]
    assert "more_pages" not in response["not_in_log"]
    assert response["unreadable_in_log"] == ["more_pages"]
    assert [f["message"] for f in response["expert"]] == [
        "hv_balloon_incoming_balloon prints more_pages 7, which its 1-bit field cannot hold: "
        "not taken as a value"
    ]
