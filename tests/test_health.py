"""Health verdicts on hand-built sessions whose answer is known, figure by figure.

Each session below is written as "what was sent when"; the expected verdicts,
their frames and the ledger's totals are worked out by hand from that list,
not taken from the code.
"""

from __future__ import annotations

import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sessions import (
    balloon_request,
    balloon_response,
    frames,
    handshake,
    hot_add_request,
    hot_add_response,
    status,
    unballoon_request,
    unballoon_response,
    version_request,
    version_response,
)

from dmdissect.analysis.gathered import health_of
from dmdissect.analysis.health import (
    HealthMonitor,
    Sample,
    Thresholds,
    apply_rules,
    parse_rule,
)
from dmdissect.findings import Severity


def verdicts(timed, **limits):
    (run,) = health_of(frames(timed), Thresholds(**limits))
    return [(v.id, v.severity.value, v.message, v.frames) for v in run.health.verdicts], run


def only(found, prefix):
    return [v for v in found if v[0].startswith(prefix)]


def reports(start: float, count: int, available: int, committed: int, first_id: int = 10):
    """``count`` status reports one second apart from ``start`` on."""
    return [(start + i, status(first_id + i, available, committed)) for i in range(count)]


# --- replies --------------------------------------------------------------------------


def test_a_request_never_answered_within_the_timeout_is_unanswered():
    session = handshake() + [(10.0, balloon_request(0, 512))] + reports(11.0, 6, 9000, 1000)
    found, _ = verdicts(session)
    assert only(found, "hvdm.health.unanswered") == [
        (
            "hvdm.health.unanswered",
            "warning",
            "balloon #1: no reply within 5 s (the input goes on 6.0 s after the request)",
            (5,),
        )
    ]


def test_an_unballoon_whose_last_part_never_came_is_the_host_s_not_the_guest_s():
    # Part 1 says more_pages=1 and nothing follows: the guest answers only after the last part.
    session = (
        handshake()
        + [(10.0, unballoon_request(0, [(0x1000, 512)], more=1))]
        + reports(11.0, 6, 9000, 1000)
    )
    found, _ = verdicts(session)
    assert only(found, "hvdm.health.unanswered") == []
    assert only(found, "hvdm.health.request_unfinished") == [
        (
            "hvdm.health.request_unfinished",
            "warning",
            "unballoon #1: the host never sent the last part of its request (the input goes on "
            "6.0 s after its first part); the guest answers only the last part",
            (5,),
        )
    ]


def test_a_reply_whose_time_is_unknown_is_a_reply_and_leaves_the_duration_unknown():
    # The balloon's one response part came, but its stamp could not be read (time None).
    session = handshake() + [(10.0, balloon_request(0, 512)), (10.1, balloon_response(7, []))]
    session += reports(11.0, 10, 9000, 1000)
    timed = frames(session)
    timed[5].time = None
    (run,) = health_of(timed)
    assert [v.id for v in run.health.verdicts if "unanswered" in v.id or "late" in v.id] == []
    (balloon,) = [r for r in run.health.rows if r.kind == "balloon"]
    assert balloon.duration is None


def test_a_request_the_input_ends_too_soon_after_is_not_called_unanswered():
    session = handshake() + [(10.0, balloon_request(0, 512))] + reports(11.0, 3, 9000, 1000)
    found, _ = verdicts(session)
    assert only(found, "hvdm.health.unanswered") == []
    assert only(found, "hvdm.health.answer_unknown") == [
        (
            "hvdm.health.answer_unknown",
            "note",
            "balloon #1: no reply before the input ended, less than 5 s after the request",
            (5,),
        )
    ]


def test_a_reply_later_than_the_timeout_is_late_and_the_timeout_is_an_option():
    session = handshake() + [
        (10.0, balloon_request(0, 512)),
        (17.5, balloon_response(3, [(0x1000, 512)])),
    ]
    found, _ = verdicts(session)
    assert only(found, "hvdm.health.late_reply") == [
        (
            "hvdm.health.late_reply",
            "warning",
            "balloon #1: first reply 7.500 s after the request (--reply-timeout 5 s)",
            (5,),
        )
    ]
    found, _ = verdicts(session, reply_timeout=8.0)
    assert only(found, "hvdm.health.late_reply") == []


def test_max_latency_flags_transactions_of_that_kind_only():
    session = handshake() + [
        (10.0, balloon_request(0, 1024)),
        (10.5, balloon_response(3, [(0x1000, 512)], more=1)),
        (12.25, balloon_response(4, [(0x2000, 512)])),
    ]
    found, _ = verdicts(session, max_latency={"balloon": 2.0, "hot_add": 0.1})
    assert only(found, "hvdm.health.latency") == [
        (
            "hvdm.health.latency",
            "warning",
            "balloon #1 took 2.250 s (--max-latency balloon=2)",
            (5, 7),
        )
    ]
    found, _ = verdicts(session, max_latency={"balloon": 2.5})
    assert only(found, "hvdm.health.latency") == []


# --- hot-add --------------------------------------------------------------------------


def test_every_hot_add_gets_a_verdict_and_a_failure_ends_hot_add():
    session = handshake() + [
        (20.0, hot_add_request(1, 0x140000, 32768)),
        (20.1, hot_add_response(7, 32768, 1)),
        (30.0, hot_add_request(2, 0x148000, 32768)),
        (30.2, hot_add_response(8, 16384, 1)),
    ]
    found, _ = verdicts(session)
    assert only(found, "hvdm.health.hot_add") == [
        ("hvdm.health.hot_add.ok", "note", "hot_add #1: 32768 of 32768 pages added", (5, 6)),
        (
            "hvdm.health.hot_add.short",
            "warning",
            "hot_add #2: only 16384 of 32768 pages added",
            (7, 8),
        ),
        (
            "hvdm.health.hot_add.ended",
            "note",
            "no hot-add after hot_add #2 (partial) to the end of the input; a QEMU host never "
            "hot-adds again after a failed or short hot-add until the guest is reset",
            (7,),
        ),
    ]


@pytest.mark.parametrize(
    "result,pages,word",
    [(0, 0, "transient failure"), (1, 0, "permanent failure")],
)
def test_failed_hot_adds(result, pages, word):
    session = handshake() + [
        (20.0, hot_add_request(1, 0x140000, 32768)),
        (20.1, hot_add_response(7, pages, result)),
    ]
    found, _ = verdicts(session)
    assert only(found, "hvdm.health.hot_add.failed") == [
        (
            "hvdm.health.hot_add.failed",
            "warning",
            f"hot_add #1: {word}, 0 of 32768 pages added",
            (5, 6),
        )
    ]
    assert [v[0] for v in only(found, "hvdm.health.hot_add.ended")] == ["hvdm.health.hot_add.ended"]


def test_hot_add_after_a_failure_or_a_reset_is_not_ended():
    failed = [
        (20.0, hot_add_request(1, 0x140000, 32768)),
        (20.1, hot_add_response(7, 0, 0)),
    ]
    retried = (
        handshake()
        + failed
        + [
            (40.0, hot_add_request(2, 0x140000, 32768)),
            (40.1, hot_add_response(8, 32768, 1)),
        ]
    )
    assert only(verdicts(retried)[0], "hvdm.health.hot_add.ended") == []
    reset = handshake() + failed + [(50.0, version_request(20)), (50.1, version_response(20))]
    assert only(verdicts(reset)[0], "hvdm.health.hot_add.ended") == []


def test_a_hot_add_claiming_more_pages_than_asked_is_not_ok():
    session = handshake() + [
        (20.0, hot_add_request(1, 0x140000, 32768)),
        (20.1, hot_add_response(7, 40000, 1)),
    ]
    assert only(verdicts(session)[0], "hvdm.health.hot_add") == [
        (
            "hvdm.health.hot_add.over",
            "warning",
            "hot_add #1: the guest says 40000 pages added, more than the 32768 asked",
            (5, 6),
        )
    ]


def test_a_hot_add_response_cut_before_its_result_has_an_unknown_result():
    # The header and page_count (8 + 4 bytes) of a 16-byte DM_MEM_HOT_ADD_RESPONSE; result lost.
    cut = bytes(hot_add_response(7, 32768, 1))[:12]
    session = handshake() + [(20.0, hot_add_request(1, 0x140000, 32768)), (20.1, cut)]
    assert [v[:2] + v[3:] for v in only(verdicts(session)[0], "hvdm.health.hot_add")] == [
        ("hvdm.health.hot_add.unknown", "note", (5, 6))
    ]


def test_a_hot_add_after_a_permanent_failure_without_a_reset_is_flagged():
    refused = handshake() + [
        (20.0, hot_add_request(1, 0x140000, 32768)),
        (20.1, hot_add_response(7, 0, 1)),
        (40.0, hot_add_request(2, 0x140000, 32768)),
        (40.1, hot_add_response(8, 32768, 1)),
    ]
    assert only(verdicts(refused)[0], "hvdm.health.hot_add.after") == [
        (
            "hvdm.health.hot_add.after_permanent",
            "warning",
            "hot_add #2 comes after hot_add #1's permanent failure (frame 6) with no reset "
            "between: a permanent failure tells the host to try no more",
            (7, 8),
        )
    ]
    # A transient failure may be retried; after a reset (a new negotiation) anything may come.
    transient = list(refused)
    transient[5] = (20.1, hot_add_response(7, 0, 0))
    assert only(verdicts(transient)[0], "hvdm.health.hot_add.after") == []
    reset = refused[:6] + [(30.0, version_request(20)), (30.1, version_response(20))] + refused[6:]
    assert only(verdicts(reset)[0], "hvdm.health.hot_add.after") == []


# --- balloon --------------------------------------------------------------------------


def test_a_balloon_request_of_no_pages_answered_with_none_is_no_floor():
    session = handshake() + [(10.0, balloon_request(0, 0)), (10.1, balloon_response(7, []))]
    found, run = verdicts(session)
    assert only(found, "hvdm.health.balloon") == []
    assert [r.outcome for r in run.health.rows if r.kind == "balloon"] == ["accepted"]


def test_a_guest_at_its_floor_and_a_partial_balloon():
    session = (
        handshake()
        + reports(45.0, 2, 3000, 7000)
        + [
            (50.0, balloon_request(0, 2048)),
            (50.5, balloon_response(12, [(0x1000, 512), (0x1200, 512)])),
            (60.0, balloon_request(1, 1024)),
            (60.2, balloon_response(13, [])),
        ]
    )
    found, _ = verdicts(session)
    assert only(found, "hvdm.health.balloon") == [
        (
            "hvdm.health.balloon.partial",
            "note",
            "balloon #1: the guest gave 1024 of 2048 pages; last status: committed 7000 pages, "
            "pressure 70.0% (frame 6)",
            (7, 8),
        ),
        (
            "hvdm.health.balloon.floor",
            "warning",
            "balloon #2: the guest is at its floor and gave 0 of 1024 pages; last status: "
            "committed 7000 pages, pressure 70.0% (frame 6)",
            (9, 10),
        ),
    ]


# --- pressure -------------------------------------------------------------------------


def test_pressure_above_the_threshold_for_the_duration_raises_one_alarm():
    # 90% from 45 s on, 70 reports: the alarm fires once, when 60 s have passed (frame 65).
    session = handshake() + reports(45.0, 70, 1000, 9000)
    found, _ = verdicts(session)
    assert only(found, "hvdm.health.pressure") == [
        (
            "hvdm.health.pressure.high",
            "warning",
            "pressure above 85% for 60.0 s with no unballoon or hot-add request (90.0% at "
            "frame 5, 90.0% at frame 65)",
            (5, 65),
        )
    ]


def test_no_alarm_when_the_host_acts_or_pressure_is_at_the_threshold():
    relieved = (
        handshake()
        + reports(45.0, 30, 1000, 9000)
        + [(75.5, unballoon_request(1, [(0x1000, 512)])), (75.6, unballoon_response(40))]
        + reports(76.0, 40, 1000, 9000, first_id=41)
    )
    assert only(verdicts(relieved)[0], "hvdm.health.pressure") == []
    at_threshold = handshake() + reports(45.0, 70, 1500, 8500)  # exactly 85%
    assert only(verdicts(at_threshold)[0], "hvdm.health.pressure") == []
    shorter = handshake() + reports(45.0, 70, 1000, 9000)
    assert only(verdicts(shorter, pressure_seconds=100.0)[0], "hvdm.health.pressure") == []
    assert len(only(verdicts(shorter, pressure_percent=95.0)[0], "hvdm.health.pressure")) == 0


def test_a_relief_restarts_the_clock_and_pressure_still_high_after_it_is_alarmed():
    # 90% from 45 s (frames 5..34), unballoon asked at 75.5 s (frame 35, reply 36), still 90%
    # from 76 s on (frame 37 + i at 76 + i s).  60 s after the request is 135.5 s: the first
    # report past it is at 136 s, frame 37 + 60 = 97.
    session = (
        handshake()
        + reports(45.0, 30, 1000, 9000)
        + [(75.5, unballoon_request(1, [(0x1000, 1)])), (75.6, unballoon_response(40))]
        + reports(76.0, 70, 1000, 9000, first_id=41)
    )
    assert only(verdicts(session)[0], "hvdm.health.pressure") == [
        (
            "hvdm.health.pressure.high",
            "warning",
            "pressure above 85% for 60.5 s since the last unballoon or hot-add request "
            "(frame 35) (90.0% at frame 5, 90.0% at frame 97)",
            (5, 35, 97),
        )
    ]


def test_an_alarm_before_a_relief_is_followed_by_another_when_pressure_stays():
    # 90% from 45 s: alarm at 105 s (frame 65).  A hot-add asked at 110.5 s (frame 71) restarts
    # the clock; the reports from 111 s are frames 73 + i, and 170.5 s is passed at 171 s: frame
    # 73 + 60 = 133.
    session = (
        handshake()
        + reports(45.0, 66, 1000, 9000)
        + [(110.5, hot_add_request(2, 0x100000, 32768)), (110.6, hot_add_response(2, 32768, 1))]
        + reports(111.0, 70, 1000, 9000, first_id=80)
    )
    found = only(verdicts(session)[0], "hvdm.health.pressure")
    assert [v[3] for v in found] == [(5, 65), (5, 71, 133)]


def test_a_zero_duration_alarms_on_the_first_high_sample():
    session = handshake() + reports(45.0, 1, 1000, 9000)
    found = only(verdicts(session, pressure_seconds=0.0)[0], "hvdm.health.pressure")
    assert [(v[2], v[3]) for v in found] == [
        (
            "pressure above 85% for 0.0 s with no unballoon or hot-add request (90.0% at frame 5, "
            "90.0% at frame 5)",
            (5, 5),
        )
    ]


def test_pressure_is_hyper_v_s_definition():
    assert Sample(0.0, 1, available=250, committed=750).pressure == 75.0
    assert Sample(0.0, 1, available=0, committed=0).pressure == 0.0


# --- status cadence -------------------------------------------------------------------


def test_status_gaps_the_first_report_and_reports_that_stop():
    session = (
        handshake()
        + reports(45.0, 3, 9000, 1000)
        + reports(54.0, 2, 9000, 1000, first_id=20)
        + [(70.0, balloon_request(0, 512)), (70.1, balloon_response(30, [(0x1000, 512)]))]
    )
    found, _ = verdicts(session)
    assert only(found, "hvdm.health.status") == [
        (
            "hvdm.health.status.first",
            "note",
            "first status report 45.0 s after the version request in frame 1",
            (5,),
        ),
        (
            "hvdm.health.status.gap",
            "warning",
            "no status report for 7.0 s (frames 7 to 8; --status-gap 5 s)",
            (7, 8),
        ),
        (
            "hvdm.health.status.stopped",
            "warning",
            "last status report at frame 9, 15.1 s before the input ended (frame 11)",
            (9,),
        ),
    ]
    found, _ = verdicts(session, status_gap=20.0)
    assert only(found, "hvdm.health.status.gap") == []


def test_a_capture_with_no_status_report_at_all_says_so():
    # Version request at 0.0 s (frame 1); the input goes on to 120 s with no report.
    silent = handshake() + [(120.0, balloon_request(0, 512)), (120.1, balloon_response(7, []))]
    found, _ = verdicts(silent)
    assert only(found, "hvdm.health.status") == [
        (
            "hvdm.health.status.none",
            "warning",
            "no status report in the 120.1 s after the version request in frame 1 (a Linux "
            "guest sends its first about 45 s after it, then one a second)",
            (1,),
        )
    ]
    # 45 s + --status-gap (5 s by default) is not yet long enough to say so.
    early = handshake() + [(50.0, balloon_request(0, 512))]
    assert only(verdicts(early)[0], "hvdm.health.status.none") == []


def test_a_log_that_never_records_status_reports_is_not_called_silent(tmp_path):
    """QEMU's trace has no event for a status report: its silence says nothing."""
    (run,) = _log_health(
        tmp_path,
        {
            "qemu.log": "".join(
                f"9@{1700000000 + t:.6f}:hv_balloon_{line}\n"
                for t, line in [
                    (0.0, "state_change -> S_VERSION"),
                    (0.0, "incoming_version incoming proto version 2.0"),
                    (0.001, "state_change -> S_CAPS"),
                    (300.0, "state_change -> S_IDLE"),
                ]
            )
        },
    )
    assert [v.id for v in run.health.verdicts if v.id.startswith("hvdm.health.status")] == []


def test_thinned_series_keeps_a_regular_subset_in_bounded_memory():
    cap = 100
    monitor = HealthMonitor(max_samples=cap)
    count = 3 * cap + 23
    tracemalloc.start()
    for i in range(1, count + 1):
        monitor.observe(_status_message(i))
        if i == cap:
            _, at_cap = tracemalloc.get_traced_memory()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    health = monitor.finish()
    assert health.sample_count == count
    kept = [s.frame for s in health.samples]
    # 323 reports through a cap of 100: thinned twice, every 4th report kept, from the first.
    assert kept == list(range(1, count + 1, 4))
    assert peak < 2 * at_cap


def _status_message(index: int):
    """A status report as the monitor reads it (frame, type, body), without the dissector."""
    from types import SimpleNamespace

    body = SimpleNamespace(num_avail=9000, num_committed=1000, missing=())
    frame = SimpleNamespace(index=index, time=float(index), source=None)
    return SimpleNamespace(frame=frame, type=5, body=body)  # DM_STATUS_REPORT in the C header


# --- the ledger -----------------------------------------------------------------------


def test_the_ledger_counts_pages_per_kind_and_minute():
    session = handshake() + [
        (10.0, balloon_request(0, 1536)),
        (10.5, balloon_response(5, [(0x1000, 1024), (0x3000, 512)])),
        (70.0, unballoon_request(1, [(0x3000, 512)])),
        (70.1, unballoon_response(6)),
        (130.0, hot_add_request(2, 0x140000, 32768)),
        (130.1, hot_add_response(7, 32768, 1)),
        (140.0, hot_add_request(3, 0x148000, 32768)),
        (140.1, hot_add_response(8, 0, 0)),
    ]
    _, run = verdicts(session)
    ledger = run.health.ledger.to_json()
    assert ledger["totals"] == {
        "balloon": 1536,
        "unballoon": 512,
        "hot_add": 32768,
        "hot_remove": 0,
        "net": 512 + 32768 - 1536,
    }
    assert ledger["per_minute"] == [
        {"minute": 0, "balloon": 1536, "unballoon": 0, "hot_add": 0, "hot_remove": 0, "net": -1536},
        {"minute": 1, "balloon": 0, "unballoon": 512, "hot_add": 0, "hot_remove": 0, "net": 512},
        {
            "minute": 2,
            "balloon": 0,
            "unballoon": 0,
            "hot_add": 32768,
            "hot_remove": 0,
            "net": 32768,
        },
    ]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["balloon", "unballoon"]), st.integers(1, 8)),
        min_size=1,
        max_size=12,
    )
)
def test_ledger_totals_match_a_direct_sum(steps):
    """Random balloon/unballoon sequences: totals equal the sum of the pages each one moved."""
    timed = list(handshake())
    expected = {"balloon": 0, "unballoon": 0}
    t, host_id, guest_id = 10.0, 0, 10
    for kind, chunks in steps:
        ranges = [(0x10000 + 512 * i, 512) for i in range(chunks)]
        if kind == "balloon":
            timed += [
                (t, balloon_request(host_id, 512 * chunks)),
                (t + 0.1, balloon_response(guest_id, ranges)),
            ]
        else:
            timed += [
                (t, unballoon_request(host_id, ranges)),
                (t + 0.1, unballoon_response(guest_id)),
            ]
        expected[kind] += 512 * chunks
        t, host_id, guest_id = t + 1.0, host_id + 1, guest_id + 1
    _, run = verdicts(timed)
    totals = run.health.ledger.totals
    assert (totals["balloon"], totals["unballoon"]) == (expected["balloon"], expected["unballoon"])


# --- rules ----------------------------------------------------------------------------


def test_rules_set_or_drop_severities_the_last_match_winning():
    session = handshake() + [(10.0, balloon_request(0, 512))] + reports(11.0, 6, 9000, 1000)
    _, run = verdicts(session)
    items = run.items()
    rules = [parse_rule("hvdm.health.*=error"), parse_rule("hvdm.health.status.first=off")]
    tuned = {(v.id, v.severity) for v in apply_rules(items, rules)}
    assert tuned == {("hvdm.health.unanswered", Severity.ERROR)}
    with pytest.raises(ValueError, match="expected ID=off"):
        parse_rule("hvdm.health.unanswered=fatal")


def test_the_readme_lists_every_verdict_as_registered():
    import re
    from pathlib import Path

    from dmdissect.analysis.health import VERDICT_KINDS

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    rows = re.findall(r"^\| `(hvdm\.health\.[a-z_.]+)` \| (\w+) \| (.+) \|$", readme, flags=re.M)
    assert rows == [(k.id, k.severity.value, k.meaning) for k in VERDICT_KINDS.values()]


def test_an_input_ending_exactly_at_the_timeout_leaves_the_answer_unknown():
    """A reply at exactly --reply-timeout is in time, so an input ending then proves nothing."""
    on_time = handshake() + [(10.0, balloon_request(0, 512)), (15.0, status(10, 9000, 1000))]
    (run,) = health_of(frames(on_time), Thresholds())
    ids = [v.id for v in run.health.verdicts]
    assert "hvdm.health.answer_unknown" in ids and "hvdm.health.unanswered" not in ids
    later = handshake() + [(10.0, balloon_request(0, 512)), (15.001, status(10, 9000, 1000))]
    assert "hvdm.health.unanswered" in [v.id for v in health_of(frames(later))[0].health.verdicts]


def test_timeline_ends_with_the_verdicts_of_the_whole_session_even_filtered(tmp_path):
    """``-Y`` keeps only hot-add rows; the floor verdict of the balloon still shows."""
    import json

    from click.testing import CliRunner

    from dmdissect.cli import main
    from dmdissect.sources.writer import write_frames

    timed = handshake() + [
        (10.0, balloon_request(0, 1024)),
        (10.2, balloon_response(5, [])),
        (20.0, hot_add_request(1, 0x140000, 32768)),
        (20.1, hot_add_response(6, 32768, 1)),
    ]
    path = tmp_path / "s.pcapng"
    with open(path, "wb") as handle:
        write_frames(frames(timed), handle)
    runner = CliRunner()
    result = runner.invoke(main, ["timeline", "-Y", "hdr.type == 10", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[lines.index("Health:") :] == [
        "Health:",
        "  frame 5: warning hvdm.health.balloon.floor: balloon #1: the guest is at its floor "
        "and gave 0 of 1024 pages",
        "  frame 7: note hvdm.health.hot_add.ok: hot_add #1: 32768 of 32768 pages added",
    ]
    result = runner.invoke(main, ["timeline", "-T", "json", "-Y", "hdr.type == 10", str(path)])
    objects = json.loads(result.output)
    assert [o["kind"] for o in objects] == ["hot_add", "verdict", "verdict", "session"]
    assert objects[1]["frames"] == [5, 6] and objects[2]["id"] == "hvdm.health.hot_add.ok"


# --- what logs do not say ---------------------------------------------------------------


def _log_health(tmp_path, files: dict[str, str], **options):
    """The health runs of hand-written logs, read as ``check`` reads them."""
    from dmdissect.cli.health import read_health

    paths = []
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        paths.append(str(tmp_path / name))
    defaults = {
        "fmt": "auto",
        "linktype": None,
        "hex_order": "auto",
        "concat": False,
        "boot_time": None,
        "reply_timeout": 5.0,
        "pressure_threshold": 85.0,
        "pressure_duration": 60.0,
        "status_gap": 5.0,
        "max_latency": {},
    }
    return read_health(paths, {**defaults, **options})


def test_pages_a_log_does_not_give_are_unknown_in_the_verdict_and_the_ledger(tmp_path):
    dmesg = (
        "[    1.737705] hv_balloon: Using Dynamic Memory protocol version 2.0\n"
        "[   55.047206] hv_balloon: Balloon request will be partially fulfilled. Not enough "
        "memory.\n"
        "[   55.047210] hv_balloon: Ballooned 1000 out of 363008 requested pages.\n"
    )
    (run,) = _log_health(tmp_path, {"dmesg.log": dmesg})
    partial = [v.message for v in run.health.verdicts if v.id == "hvdm.health.balloon.partial"]
    # "Ballooned %u out of %u": the first %u is the last chunk, not the total (log-sources.md).
    assert partial == [
        "balloon #1: the guest gave part of the 363008 pages asked (how many, the input does "
        "not say)"
    ]
    totals = run.health.ledger.to_json()["totals"]
    assert (totals["balloon"], totals["unknown"], totals["net"]) == (0, {"balloon": 1}, None)


def _qmp(seconds: float, available: int, committed: int) -> str:
    whole, micros = int(seconds), round((seconds % 1) * 1e6)
    return (
        f'{{"timestamp": {{"seconds": {whole}, "microseconds": {micros}}}, "event": '
        f'"HV_BALLOON_STATUS_REPORT", "data": {{"available": {available * 4096}, '
        f'"committed": {committed * 4096}}}}}\r\n'
    )


def _ftrace(since_boot: float, available: int, committed: int) -> str:
    return (
        f"      hv_balloon-312     [001] .....    {since_boot:.6f}: balloon_status: available "
        f"{available}, committed {committed}; vm_memory_committed {committed}; pages_ballooned "
        "0, pages_added 0, pages_onlined 0\n"
    )


def test_a_report_both_qmp_and_ftrace_record_is_one_report(tmp_path):
    boot = 1_767_225_600
    values = [(47.5, 9000, 1000), (48.5, 8990, 1010), (49.5, 8980, 1020)]
    runs = _log_health(
        tmp_path,
        {
            "qmp.log": "".join(_qmp(boot + t + 0.0002, a, c) for t, a, c in values),
            "ftrace.txt": "".join(_ftrace(t, a, c) for t, a, c in values),
        },
        boot_time=float(boot),
    )
    (run,) = runs
    assert run.health.sample_count == 3
    assert [(s.available, s.committed) for s in run.health.samples] == [
        (a, c) for _, a, c in values
    ]


def test_a_report_with_unreadable_values_still_counts_for_the_cadence(tmp_path):
    # Reports at 1, 2, 5 (its values unreadable) and 8 s: no pause longer than 5 s.
    t0 = 1_767_225_600
    qmp = (
        _qmp(t0 + 1, 9000, 1000)
        + _qmp(t0 + 2, 9000, 1000)
        + f'{{"timestamp": {{"seconds": {t0 + 5}, "microseconds": 0}}, "event": '
        '"HV_BALLOON_STATUS_REPORT", "data": {"available": -4096, "committed": 4096}}\n'
        + _qmp(t0 + 8, 9000, 1000)
    )
    (run,) = _log_health(tmp_path, {"qmp.log": qmp})
    assert [v.id for v in run.health.verdicts if v.id.startswith("hvdm.health.status")] == []
    assert run.health.sample_count == 3
    (run,) = _log_health(tmp_path, {"qmp.log": qmp}, status_gap=2.5)
    assert [v.message for v in run.health.verdicts if v.id == "hvdm.health.status.gap"] == [
        "no status report for 3.0 s (frames 2 to 3; --status-gap 2.5 s)",
        "no status report for 3.0 s (frames 3 to 4; --status-gap 2.5 s)",
    ]
