"""``dmdissect check``: exit status, compiler-style lines, rules, and JUnit XML that CI reads.

The JUnit output is validated against tests/junit.xsd (the Ant/Jenkins
report format) with libxml2, and read back by junitparser, an independent
reader of the format.  On the shipped capture, the expected hot-add and
status verdicts are computed from the raw bytes that the real tshark
prints, decoded here from the C header's layout, not by dmdissect.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from qemulines import HANDSHAKE, balloon_posted
from sessions import (
    balloon_request,
    frames,
    handshake,
    hot_add_request,
    hot_add_response,
    status,
)

from dmdissect.cli import main
from dmdissect.sources.writer import write_frames

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = Path(__file__).with_name("junit.xsd")


def run(*args):
    result = CliRunner().invoke(main, ["check", *args])
    return result.exit_code, result.stdout, result.stderr


def capture(tmp_path, timed, name="session.pcapng") -> str:
    path = tmp_path / name
    with open(path, "wb") as handle:
        write_frames(frames(timed), handle)
    return str(path)


@pytest.fixture
def failing(tmp_path):
    """A balloon request the guest never answers, then a hot-add refused for good."""
    timed = (
        handshake()
        + [(10.0, balloon_request(0, 512))]
        + [(11.0 + i, status(10 + i, 9000, 1000)) for i in range(6)]
        + [(20.0, hot_add_request(1, 0x140000, 32768)), (20.1, hot_add_response(20, 0, 1))]
    )
    return capture(tmp_path, timed)


def test_exit_1_with_one_line_per_finding_at_its_frame(failing):
    code, out, err = run(failing)
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        f"{failing}:5: warning hvdm.health.unanswered: balloon #1: no reply within 5 s "
        "(the input goes on 10.1 s after the request)",
        f"{failing}:6: note hvdm.health.status.first: first status report 11.0 s after the "
        "version request in frame 1",
        f"{failing}:12: warning hvdm.health.hot_add.failed: hot_add #1: permanent failure, "
        "0 of 32768 pages added [frames 12, 13]",
        f"{failing}:12: note hvdm.health.hot_add.ended: no hot-add after hot_add #1 (permanent "
        "failure) to the end of the input; a QEMU host never hot-adds again after a failed or "
        "short hot-add until the guest is reset",
        f"{failing}:13: note hvdm.hot_add.permanent_failure: result 1 with page_count 0: permanent "
        "failure, the host stops hot-adding",
        "checked 1 input: 0 errors, 2 warnings, 3 notes; fail: 2 findings at or above warning",
    ]


def test_fail_on_and_rules_decide_the_exit_status(failing):
    assert run("--fail-on", "error", failing)[0] == 0
    assert run("--fail-on", "error", "--rule", "hvdm.health.unanswered=error", failing)[0] == 1
    code, out, _ = run("--rule", "hvdm.health.*=off", "-q", failing)
    assert (code, out) == (0, "")
    code, out, _ = run("--rule", "hvdm.health.unanswered=off", failing)
    assert code == 1
    assert "unanswered" not in out


def test_usage_errors_and_unreadable_inputs_exit_2(tmp_path, failing):
    code, out, err = run("--rule", "hvdm.health.unanswered", failing)
    assert (code, out) == (2, "")
    assert err.startswith("dmdissect: error: --rule 'hvdm.health.unanswered': expected ID=")
    code, _, err = run("--rule", "hvdm.health.unanswerd=off", failing)
    assert code == 2
    assert err == (
        "dmdissect: error: --rule 'hvdm.health.unanswerd=off': 'hvdm.health.unanswerd' matches "
        "no finding or verdict id (see 'dmdissect check --help')\n"
    )
    code, _, err = run("--max-latency", "balloon=soon", failing)
    assert code == 2 and "KIND=SECONDS" in err
    missing = tmp_path / "missing.pcapng"
    code, out, err = run(failing, str(missing))
    assert code == 2
    assert out.count("\n") == 6  # the readable input's five lines and the totals
    assert err.count("\n") == 1 and str(missing) in err


def test_a_capture_torn_midway_reports_what_was_read_and_exits_2(tmp_path, failing):
    torn = tmp_path / "torn.pcapng"
    data = Path(failing).read_bytes()
    torn.write_bytes(data[: len(data) - 10])
    code, out, err = run(str(torn))
    assert code == 2
    assert "hvdm.health.unanswered" in out
    assert err.count("\n") == 1 and err.startswith("dmdissect: error: ")


def test_junit_is_valid_and_read_back_by_an_independent_parser(tmp_path, failing):
    lxml = pytest.importorskip("lxml.etree")
    junitparser = pytest.importorskip("junitparser")
    report = tmp_path / "junit.xml"
    clean = capture(tmp_path, handshake(), "clean.pcapng")
    code, _, _ = run("--junit", str(report), "--rule", "hvdm.health.status.*=off", failing, clean)
    assert code == 1
    schema = lxml.XMLSchema(lxml.parse(str(SCHEMA)))
    schema.assertValid(lxml.parse(str(report)))
    xml = junitparser.JUnitXml.fromfile(str(report))
    suites = {suite.name: suite for suite in xml}
    assert set(suites) == {failing, clean}
    failed = {
        case.name: case.result[0].message
        for case in suites[failing]
        if case.result and isinstance(case.result[0], junitparser.Failure)
    }
    assert failed == {
        "hvdm.health.unanswered": "1 at or above warning, frames 5",
        "hvdm.health.hot_add.failed": "1 at or above warning, frames 12",
    }
    skipped = {
        case.name
        for case in suites[failing]
        if case.result and isinstance(case.result[0], junitparser.Skipped)
    }
    assert skipped == {
        "hvdm.health.status.first",
        "hvdm.health.status.gap",
        "hvdm.health.status.none",
        "hvdm.health.status.stopped",
    }
    assert suites[clean].failures == 0 and suites[clean].tests == suites[failing].tests


def test_hostile_text_is_escaped_in_lines_and_xml(tmp_path):
    lxml = pytest.importorskip("lxml.etree")
    timed = (
        handshake()
        + [(10.0, balloon_request(0, 512))]
        + [(11.0 + i, status(10 + i, 9000, 1000)) for i in range(6)]
    )
    hostile = capture(tmp_path, timed, "evil\x1b[2J\x07.pcapng")
    report = tmp_path / "j.xml"
    code, out, _ = run("--junit", str(report), hostile)
    assert "\x1b" not in out and "\\x1b[2J\\x07" in out
    lxml.parse(str(report))  # well-formed despite the control characters
    assert b"\x1b" not in report.read_bytes()


def _tshark_messages(path: Path) -> list[tuple[int, float, bytes]]:
    binary = shutil.which("tshark")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("tshark must be installed in CI (.ci/run installs it)")
        pytest.skip("tshark is not installed")
    out = subprocess.run(
        [
            binary,
            "-r",
            str(path),
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "frame.time_epoch",
            "-e",
            "data.data",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = []
    for line in out.splitlines():
        number, epoch, data = line.split("\t")
        rows.append((int(number), float(epoch), bytes.fromhex(data)))
    return rows


def test_shipped_capture_verdicts_match_a_reading_of_the_raw_bytes():
    """Hot-add results and the first status delay, decoded from tshark's bytes by hand."""
    path = ROOT / "captures" / "linux-qemu.pcapng"
    rows = _tshark_messages(path)
    header = struct.Struct("<HHI")  # struct dm_header: type, size, trans_id
    expected = set()
    asked = None
    version_time = next(t for _, t, d in rows if header.unpack_from(d)[0] == 1)
    first_status = next((n, t) for n, t, d in rows if header.unpack_from(d)[0] == 5)
    expected.add(("hvdm.health.status.first", first_status[0]))
    for number, _, data in rows:
        kind = header.unpack_from(data)[0]
        if kind == 10:  # dm_hot_add: header, then struct dm_range {u64 page_range}
            asked = (number, struct.unpack_from("<Q", data, 8)[0] >> 40)
        elif kind == 11:  # dm_hot_add_response: page_count, result
            count, result = struct.unpack_from("<II", data, 8)
            ok = result == 1 and count == asked[1]
            expected.add(
                ("hvdm.health.hot_add.ok" if ok else "hvdm.health.hot_add.failed", asked[0])
            )
    code, out, _ = run("--fail-on", "note", str(path))
    found = {
        (line.split(" ")[2].rstrip(":"), int(line.split(":")[1]))
        for line in out.splitlines()
        if " hvdm.health." in line
    }
    assert found == expected
    delay = f"{first_status[1] - version_time:.1f} s after"
    assert delay in out and code == 1


def _cases(report: Path) -> dict[str, str]:
    """Each test case's outcome as the XML says it: failure, skipped, error or passed."""
    from xml.etree import ElementTree

    out = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "skipped", "error")]
        out[case.get("name")] = kinds[0] if kinds else "passed"
    return out


def test_a_later_rule_brings_back_a_check_the_junit_file_too(tmp_path, failing):
    report = tmp_path / "junit.xml"
    code, out, _ = run(
        "--junit",
        str(report),
        "--rule",
        "hvdm.health.*=off",
        "--rule",
        "hvdm.health.hot_add.failed=warning",
        failing,
    )
    assert code == 1 and "hvdm.health.hot_add.failed" in out
    cases = _cases(report)
    assert cases["hvdm.health.hot_add.failed"] == "failure"
    assert cases["hvdm.health.unanswered"] == "skipped"


def test_junit_on_stdout_is_xml_alone_and_the_lines_go_to_stderr(failing):
    from xml.etree import ElementTree

    code, out, err = run("--junit", "-", failing)
    assert code == 1
    root = ElementTree.fromstring(out.encode())
    assert root.tag == "testsuites" and root.get("failures") == "2"
    assert f"{failing}:5: warning hvdm.health.unanswered:" in err
    assert err.splitlines()[-1].startswith("checked 1 input: ")


def test_an_unread_input_never_passes(tmp_path, failing):
    lxml = pytest.importorskip("lxml.etree")
    missing = tmp_path / "gone\x01.pcapng"
    report = tmp_path / "junit.xml"
    code, out, err = run("--junit", str(report), str(missing))
    assert code == 2
    assert out.splitlines() == [
        "checked 1 input: 0 errors, 0 warnings, 0 notes; incomplete: nothing at or above "
        "warning in what was read; 1 input not read to its end"
    ]
    assert err.count("\n") == 1
    lxml.XMLSchema(lxml.parse(str(SCHEMA))).assertValid(lxml.parse(str(report)))
    cases = _cases(report)
    assert cases.pop("input") == "error"
    assert set(cases.values()) == {"skipped"}  # nothing known, so nothing passed
    code, _, err = run(failing, str(missing), str(tmp_path / "also-gone"))
    assert code == 2 and err.count("dmdissect: error: ") == 2


@pytest.mark.parametrize(
    "option", ["--reply-timeout", "--pressure-threshold", "--pressure-duration", "--status-gap"]
)
def test_nan_is_no_threshold(failing, option):
    code, out, err = run(option, "nan", failing)
    assert (code, out) == (2, "")
    assert err.startswith(f"dmdissect: error: Invalid value for '{option}': 'nan' is not a number")


# --- sessions: logs of one run together, each capture on its own ------------------------

CAPTURES = ROOT / "captures"


def _numbered(path: Path, text: str) -> list[tuple[int, str]]:
    return [(n, line) for n, line in enumerate(path.read_text().splitlines(), 1) if text in line]


def _stamp(line: str) -> float:
    """The time of a QEMU trace line (``PID@SEC.USEC:``) or of a QMP event, read by hand."""
    if line.startswith("{"):
        import json

        stamp = json.loads(line)["timestamp"]
        return stamp["seconds"] + stamp["microseconds"] / 1e6
    return float(line.split("@", 1)[1].split(":", 1)[0])


def test_a_qemu_trace_and_its_qmp_are_one_session_pointing_at_their_lines():
    trace, qmp = CAPTURES / "linux-qemu-trace.log", CAPTURES / "linux-qemu-qmp.log"
    code, out, _ = run(str(trace), str(qmp))
    assert code == 0
    lines = out.splitlines()
    assert lines[-1] == (
        "checked 2 inputs (1 session): 0 errors, 0 warnings, 3 notes; "
        "pass: nothing at or above warning"
    )
    # Every hot add QEMU posted, at its trace line, with the pages it posted.
    posted = [
        (f"{trace}:{n}", int(line.split(" for ")[1].split(" @ ")[0]))
        for n, line in _numbered(trace, "hv_balloon_outgoing_hot_add")
    ]
    said = [
        (line.split(": note ")[0], int(line.split(": ")[3].split(" of ")[0]))
        for line in lines
        if "hvdm.health.hot_add.ok" in line
    ]
    assert said == posted
    # The first status report is QMP's first event, timed from the version line of the trace.
    first_event = _numbered(qmp, "HV_BALLOON_STATUS_REPORT")[0]
    version = _numbered(trace, "hv_balloon_incoming_version")[0]
    delay = _stamp(first_event[1]) - _stamp(version[1])
    assert lines[0].startswith(
        f"{qmp}:{first_event[0]}: note hvdm.health.status.first: first status report "
        f"{delay:.1f} s after the version request in frame "
    )


def test_a_guest_that_ignores_a_balloon_request_explains_the_unanswered_verdict(tmp_path):
    host = HANDSHAKE + balloon_posted(90.0, 2048)
    host += [(120.0, "state_change -> S_BALLOON_REPLY_WAIT")]
    qemu = tmp_path / "qemu.log"
    qemu.write_text("".join(f"99@{1700000000 + t:.6f}:hv_balloon_{text}\n" for t, text in host))
    dmesg = tmp_path / "dmesg.log"
    dmesg.write_text(
        "[    2.000000] hv_balloon: Using Dynamic Memory protocol version 2.0\n"
        "[   91.500000] hv_balloon: Ignore balloon-up request!\n"
    )
    code, out, _ = run("--rule", "hvdm.log.*=off", str(qemu), str(dmesg))
    assert code == 1
    # The guest's log goes on the host's clock by the version both sides log (QEMU's S_CAPS at
    # 1.0005 s, the guest's 2.0 s after its boot), so its ignore comes 90.5005 s in.  Merged by
    # time (equal times: the input named last first), the balloon request on line 10 is frame
    # 11: lines 1-3 of the trace, the guest's version, then lines 4-10.
    assert [line for line in out.splitlines() if "unanswered" in line] == [
        f"{qemu}:10: warning hvdm.health.unanswered: balloon #1: no reply within 5 s (the input "
        "goes on 30.0 s after the request); the guest's log explains it: the guest ignores "
        "balloon requests (hibernation is allowed) and sends no reply: the host waits for one "
        "forever [frame 11]"
    ]
    code, out, _ = run("--rule", "hvdm.log.*=off", str(qemu))
    assert [line for line in out.splitlines() if "unanswered" in line] == [
        f"{qemu}:10: warning hvdm.health.unanswered: balloon #1: no reply within 5 s (the input "
        "goes on 30.0 s after the request)"
    ]


def test_each_capture_is_judged_on_its_own_frames(tmp_path, failing):
    """Two captures whose times interleave: each line is the one checking that file alone gives."""
    later = capture(
        tmp_path,
        [(t + 3.0, packet) for t, packet in handshake()]
        + [(13.5, hot_add_request(3, 0x100000, 32768)), (13.6, hot_add_response(3, 0, 0))],
        "later.pcapng",
    )
    alone = [run(path)[1].splitlines()[:-1] for path in (failing, later)]
    code, out, _ = run(failing, later)
    assert code == 1
    assert out.splitlines()[:-1] == alone[0] + alone[1]
    assert out.splitlines()[-1].startswith("checked 2 inputs: ")


def test_two_interfaces_of_one_pcapng_are_two_sessions(tmp_path):
    from pcapngfile import Packet, write_pcapng

    request = (handshake()[0][1], balloon_request(0, 512))
    path = write_pcapng(
        tmp_path / "two-vms.pcapng",
        [
            Packet(1.0, bytes(request[1]), interface=0),
            Packet(20.0, bytes(request[1]), interface=1),
            Packet(30.0, bytes(status(1, 9000, 1000)), interface=1),
        ],
        interfaces=2,
    )
    code, out, _ = run(str(path))
    lines = out.splitlines()
    # Interface 0 ends at its request, so its answer is unknown; interface 1 goes on 10 s.
    assert [line.split(": ", 2)[1] for line in lines[:-1]] == [
        "note hvdm.health.answer_unknown",
        "warning hvdm.health.unanswered",
    ]
    assert lines[-1].startswith("checked 1 input (2 sessions): ")


def test_junit_points_where_the_lines_do():
    from xml.etree import ElementTree

    lxml = pytest.importorskip("lxml.etree")

    trace, qmp = CAPTURES / "linux-qemu-trace.log", CAPTURES / "linux-qemu-qmp.log"
    code, out, err = run("--junit", "-", "--fail-on", "note", str(trace), str(qmp))
    assert code == 1
    lxml.XMLSchema(lxml.parse(str(SCHEMA))).assertValid(lxml.fromstring(out.encode()))
    root = ElementTree.fromstring(out.encode())
    texts = [
        line
        for element in root.iter()
        if element.tag in ("failure", "system-out")
        for line in (element.text or "").splitlines()
    ]
    assert sorted(texts) == sorted(err.splitlines()[:-1])
    assert [suite.get("name") for suite in root.iter("testsuite")] == [f"{trace} + {qmp}"]
    # Each case's file is a real path: the file its worst failure's line names, else the first.
    for case in root.iter("testcase"):
        failure = case.find("failure")
        lines = (failure.text if failure is not None else "") or ""
        pointed = [line.split(":", 1)[0] for line in lines.splitlines() if ":0: " not in line]
        assert case.get("file") in (str(trace), str(qmp))
        if pointed and len(set(pointed)) == 1:
            assert case.get("file") == pointed[0], case.get("name")
    assert {case.get("file") for case in root.iter("testcase")} == {str(trace), str(qmp)}
    files = [p.get("value") for p in root.iter("property") if p.get("name") == "file"]
    assert files == [str(trace), str(qmp)]


def test_every_line_points_at_its_file_even_past_the_frames_the_report_keeps(monkeypatch, failing):
    """The report keeps the facts of 50,000 frames; check's file:N must not stop there.

    With the cap at 2 frames, every line must still say what it says uncapped.
    """
    import dmdissect.analysis.gathered

    code, whole, _ = run(failing)
    monkeypatch.setattr(dmdissect.analysis.gathered, "MAX_FRAME_FACTS", 2)
    assert run(failing) == (code, whole, "")
    assert f"{failing}:0:" not in whole


def test_reports_that_stop_are_one_finding_not_two(tmp_path):
    """QMP's reports stop at 10 s while QEMU's trace goes on to 60 s: one fact, one line."""
    trace = tmp_path / "qemu.log"
    trace.write_text(
        "".join(
            f"9@{1767225600 + t:.6f}:hv_balloon_{line}\n"
            for t, line in [
                (0.0, "state_change -> S_VERSION"),
                (0.0, "incoming_version incoming proto version 2.0"),
                (0.001, "state_change -> S_CAPS"),
                (60.0, "state_change -> S_IDLE"),
            ]
        )
    )
    qmp = tmp_path / "qmp.log"
    qmp.write_text(
        "".join(
            f'{{"timestamp": {{"seconds": {1767225601 + n}, "microseconds": 0}}, "event": '
            '"HV_BALLOON_STATUS_REPORT", "data": {"available": 4096, "committed": 4096}}\n'
            for n in range(10)
        )
    )
    code, out, _ = run(str(trace), str(qmp))
    stopped = [line for line in out.splitlines() if "stopped" in line]
    # The last report is at 10 s (qmp.log:10), 50 s before the trace's last line.
    assert len(stopped) == 1
    assert (
        f"{qmp}:10: warning hvdm.health.status.stopped: last status report at frame "
        in (stopped[0])
    )
    assert "50.0 s before the input ended" in stopped[0]
    # With that verdict off, the log's own finding of the same fact shows instead.
    code, out, _ = run("--rule", "hvdm.health.status.stopped=off", str(trace), str(qmp))
    stopped = [line for line in out.splitlines() if "stopped" in line]
    assert [line.split(": ")[1] for line in stopped] == ["warning hvdm.log.status_stopped"]
