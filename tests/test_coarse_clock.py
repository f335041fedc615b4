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
from qemulines import HANDSHAKE, balloon_posted

from dmdissect.cli import main
from dmdissect.sources.hex import timestamps

T0 = calendar.timegm((2026, 1, 1, 10, 0, 0, 0, 0, 0))
HOST = HANDSHAKE + balloon_posted(90.3, 2048) + [(120.0, "state_change -> S_BALLOON_REPLY_WAIT")]
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


# A QEMU trace of two boots (a reset at 10:05:00.1 between them) and the guest's dmesg of the
# second: its version line 3.2501 s after its boot, its ignore 59.0005 s after.
TWO_BOOTS = [
    "2026-01-01T10:00:05.400000Z hv_balloon_state_change -> S_POST_RESET_CLOSED",
    "2026-01-01T10:00:05.450000Z hv_balloon_state_change -> S_VERSION",
    "2026-01-01T10:00:05.500000Z hv_balloon_incoming_version incoming proto version 2.0",
    "2026-01-01T10:00:05.500100Z hv_balloon_state_change -> S_CAPS",
    "2026-01-01T10:00:05.600000Z hv_balloon_incoming_caps incoming caps 0x1f",
    "2026-01-01T10:00:05.600100Z hv_balloon_state_change -> S_POST_INIT_WAIT",
    "2026-01-01T10:05:00.100000Z hv_balloon_state_change -> S_POST_RESET_CLOSED",
    "2026-01-01T10:05:04.450000Z hv_balloon_state_change -> S_VERSION",
    "2026-01-01T10:05:04.500000Z hv_balloon_incoming_version incoming proto version 2.0",
    "2026-01-01T10:05:04.500100Z hv_balloon_state_change -> S_CAPS",
    "2026-01-01T10:05:04.600000Z hv_balloon_incoming_caps incoming caps 0x1f",
    "2026-01-01T10:05:04.600100Z hv_balloon_state_change -> S_POST_INIT_WAIT",
    "2026-01-01T10:06:00.000000Z hv_balloon_state_change -> S_IDLE",
    "2026-01-01T10:06:00.000000Z hv_balloon_state_change -> S_BALLOON_RB_WAIT",
    "2026-01-01T10:06:00.000000Z hv_balloon_state_change -> S_BALLOON_POSTING",
    "2026-01-01T10:06:00.000000Z hv_balloon_outgoing_balloon posting balloon 0 for 5000, "
    "remaining 5000",
    "2026-01-01T10:06:00.000000Z hv_balloon_state_change -> S_BALLOON_REPLY_WAIT",
    "2026-01-01T10:06:30.000000Z hv_balloon_state_change -> S_BALLOON_REPLY_WAIT",
]
SECOND_BOOT = (
    "[    3.000000] hv_vmbus: registering driver hv_balloon\n"
    "[    3.250100] hv_balloon: Using Dynamic Memory protocol version 2.0\n"
    "[   59.000500] hv_balloon: Ignore balloon-up request!\n"
)


def two_boots(tmp_path, guest: str):
    qemu = tmp_path / "qemu.log"
    qemu.write_text("\n".join(TWO_BOOTS) + "\n")
    dmesg = tmp_path / "dmesg.log"
    dmesg.write_text(guest)
    return str(qemu), str(dmesg)


def session_of(out: str) -> dict:
    return [row for row in json.loads(out) if row["kind"] == "session"][0]


def test_the_guest_log_goes_on_the_negotiation_its_reactions_fit(tmp_path):
    qemu, dmesg = two_boots(tmp_path, SECOND_BOOT)
    code, out = invoke("timeline", "-T", "json", qemu, dmesg)
    # The second negotiation's S_CAPS at 10:05:04.5001 less 3.2501 s: boot at 10:05:01.25;
    # then the ignore (59.0005 s) lands at 10:06:00.2505, just after the request of 10:06:00.
    # On the first (10:00:02.25) it would land at 10:01:01.25, where the host asked nothing.
    assert session_of(out)["alignment"] == (
        f"{dmesg} aligned to the host's clock by the version negotiation both sides log, the "
        "2nd of the 2 in the host's log: the one after which the guest's reactions follow the "
        "host's requests (1 of 1) (guest boot at 2026-01-01T10:05:01.250000+00:00)"
    )
    code, out = invoke("check", qemu, dmesg)
    assert EXPLAINED in out


def test_a_guest_log_that_cannot_tell_which_negotiation_says_so(tmp_path):
    qemu, dmesg = two_boots(tmp_path, "".join(SECOND_BOOT.splitlines(True)[:2]))
    code, out = invoke("timeline", "-T", "json", qemu, dmesg)
    assert session_of(out)["alignment"] == (
        f"{dmesg} aligned to the host's clock by the version negotiation both sides log, the "
        "first of the 2 in the host's log (no line of the guest's tells which: give "
        "--boot-time if it is another) (guest boot at 2026-01-01T10:00:02.250000+00:00)"
    )


def test_a_boot_time_an_hour_off_links_nothing_and_says_the_clocks_disagree(tmp_path):
    qemu, dmesg = two_boots(tmp_path, SECOND_BOOT)
    code, out = invoke("check", "--boot-time", "2026-01-01T11:05:01.25Z", qemu, dmesg)
    lines = out.splitlines()
    # Boot an hour late: the version line at 11:05:04.5001, 3600 s after the host's S_CAPS of
    # 10:05:04.5001; the ignore at 11:06:00.2505, 3600.2505 s after the request (10:06:00).
    apart = "warning hvdm.log.clocks_apart: the guest's line comes"
    assert [line.split(" [frame")[0] for line in lines if "clocks_apart" in line] == [
        f"{dmesg}:2: {apart} 3600.0 s after the host's acceptance of version #2, which it "
        "answers at once: the logs' clocks are not aligned (check --boot-time)",
        f"{dmesg}:3: {apart} 3600.3 s after balloon #1's request, which it answers at once: "
        "the logs' clocks are not aligned (check --boot-time)",
    ]
    assert EXPLAINED not in out


def test_the_session_ends_at_its_latest_time_not_its_last_line(tmp_path):
    # The trace ends with the request (90.3 s); the guest's ignore of second 10:01:30 is merged
    # after it but stamped earlier: the session still spans from 0 s to 90.3 s.
    qemu, journal = write(
        tmp_path,
        "Jan 01 10:00:01 guestvm kernel: hv_balloon: Using Dynamic Memory protocol version 2.0\n"
        "Jan 01 10:01:30 guestvm kernel: hv_balloon: Ignore balloon-up request!\n",
    )
    with open(qemu) as f:
        lines = f.readlines()[:11]
    with open(qemu, "w") as f:
        f.writelines(lines)
    code, out = invoke("timeline", "-T", "json", qemu, journal)
    session = [row for row in json.loads(out) if row["kind"] == "session"][0]
    assert (session["first"], session["last"]) == (T0, T0 + 90.3)
