"""A guest's log whose clock counts coarsely (a journal's whole seconds) merged with QEMU's trace.

Everything the guest's driver logs reacts to what the host sent, so a line
stamped ``10:01:30`` (somewhere in [10:01:30, 10:01:31)) belongs after the
host's request stamped 10:01:30.3.  The expectations are worked out by hand
from the lines below; the frame numbers in comments follow the merge rule.
"""

from __future__ import annotations

import calendar
import json
import time

import pytest
from click.testing import CliRunner

from dmdissect.cli import main
from dmdissect.sources.hex import timestamps

T0 = calendar.timegm((2026, 1, 1, 10, 0, 0, 0, 0, 0))
HOST = [
    (0.0, "state_change -> S_POST_RESET_CLOSED"),
    (1.0, "state_change -> S_VERSION"),
    (1.0, "incoming_version incoming proto version 2.0"),
    (1.0005, "state_change -> S_CAPS"),
    (1.001, "incoming_caps incoming caps 0x1f"),
    (1.0015, "state_change -> S_POST_INIT_WAIT"),
    (51.0015, "state_change -> S_IDLE"),
    (90.3, "state_change -> S_BALLOON_RB_WAIT"),
    (90.3, "state_change -> S_BALLOON_POSTING"),
    (90.3, "outgoing_balloon posting balloon 0 for 2048, remaining 2048"),
    (90.3, "state_change -> S_BALLOON_REPLY_WAIT"),
    (120.0, "state_change -> S_BALLOON_REPLY_WAIT"),
]
UNANSWERED = (
    "warning hvdm.health.unanswered: balloon #1: no reply within 5 s (the input goes on 29.7 s "
    "after the request)"
)
EXPLAINED = (
    "; the guest's log explains it: the guest ignores balloon requests (hibernation is "
    "allowed) and sends no reply: the host waits for one forever"
)


@pytest.fixture(autouse=True)
def year_2026(monkeypatch):
    """Journal stamps carry no year: read them in 2026, the trace's year."""
    monkeypatch.setattr(timestamps, "_now", lambda: T0 + 86400 * 100)


def iso(seconds: float) -> str:
    whole = int(seconds)
    date = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    return f"{date}.{round((seconds - whole) * 1e6):06d}Z"


def write(tmp_path, guest: str):
    qemu = tmp_path / "qemu.log"
    qemu.write_text("".join(f"{iso(T0 + t)} hv_balloon_{text}\n" for t, text in HOST))
    journal = tmp_path / "guest.log"
    journal.write_text(guest)
    return str(qemu), str(journal)


def invoke(*args):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout


@pytest.mark.parametrize(
    "stamp, step",
    [
        ("[  100.500000] ", 1e-6),
        ("[  100.5] ", 0.1),
        ("Jan 01 10:01:30 guestvm kernel: ", 1.0),
        ("Jan 01 10:01:30.250 guestvm kernel: ", 0.001),
        ("[Thu Jan  1 10:01:30 2026] ", 1.0),
        ("2026-01-01T10:01:30.123Z guestvm kernel: ", 0.001),
    ],
)
def test_a_stamp_says_how_finely_it_counts(stamp, step):
    found = timestamps.prefix_stamp(stamp)
    assert found is not None and found[1] == pytest.approx(step)
    assert found[0] == timestamps.prefix_time(stamp)


def test_a_journal_line_in_the_second_of_the_request_explains_it(tmp_path):
    qemu, journal = write(
        tmp_path,
        "Jan 01 10:00:01 guestvm kernel: hv_balloon: Using Dynamic Memory protocol version 2.0\n"
        "Jan 01 10:01:30 guestvm kernel: hv_balloon: Ignore balloon-up request!\n",
    )
    code, out = invoke("check", qemu, journal)
    assert code == 1
    # Merged: trace lines 1-6 (frames 1-6); the guest's version line of second 10:00:01
    # after them (frame 7); trace lines 7-11 (frames 8-12, the request is line 10, frame 11);
    # the ignore of second 10:01:30 after the request (frame 13); trace line 12 (frame 14).
    assert f"{qemu}:10: {UNANSWERED}{EXPLAINED} [frame 11]" in (out.splitlines())
    assert f"{journal}:2: warning hvdm.log.guest_ignores: " in out
    assert "[frame 13]" in out
    # One negotiation: the guest's version line no longer sorts before the host's request.
    assert "renegotiated" not in out
    code, out = invoke("timeline", "-T", "json", qemu, journal)
    rows = json.loads(out)
    assert [r["kind"] for r in rows] == ["version", "capabilities", "balloon", "verdict", "session"]
    balloon = rows[2]
    assert balloon["frames"] == [11, 13]
    # The ignore's stamp (90 s) is earlier than the request's (90.3 s): no negative duration.
    assert balloon["duration"] == 0.0


def test_a_journal_line_a_second_before_the_request_is_not_its_answer(tmp_path):
    qemu, journal = write(
        tmp_path,
        "Jan 01 10:00:01 guestvm kernel: hv_balloon: Using Dynamic Memory protocol version 2.0\n"
        "Jan 01 10:01:29 guestvm kernel: hv_balloon: Ignore balloon-up request!\n",
    )
    code, out = invoke("check", qemu, journal)
    lines = out.splitlines()
    assert f"{qemu}:10: {UNANSWERED} [frame 12]" in (lines)
    assert not any(EXPLAINED in line for line in lines)


def test_a_microsecond_line_at_the_very_time_of_the_request_explains_it(tmp_path):
    # dmesg counts from the guest's boot; its version line (2.0 s) goes on QEMU's S_CAPS
    # (1.0005 s), so the ignore at 91.2995 s lands at 90.3 s, the request's very time.
    qemu, dmesg = write(
        tmp_path,
        "[    2.000000] hv_balloon: Using Dynamic Memory protocol version 2.0\n"
        "[   91.299500] hv_balloon: Ignore balloon-up request!\n",
    )
    code, out = invoke("check", qemu, dmesg)
    # Frames: trace lines 1-3, the guest's version (at S_CAPS's time, after it: frame 5),
    # trace lines 4-10 (the request is frame 11), then the ignore (frame 12).
    assert f"{qemu}:10: {UNANSWERED}{EXPLAINED} [frame 11]" in (out.splitlines())
