"""``dmdissect timeline`` and the transaction labels of ``read``, end to end through click.

Captures are written with the project's pcapng writer from sessions built in
``test_transactions``; every expected value here is written out by hand.
"""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from dmdissect.analysis.records import Session
from dmdissect.cli import main
from dmdissect.layers import (
    SENDER,
    DMBalloonRequest,
    DMCapabilitiesReport,
    DMCapabilitiesResponse,
    DMCaps,
    DMHeader,
    DMHotAddRequest,
    DMHotAddResponse,
    DMVersionRequest,
    DMVersionResponse,
)
from dmdissect.sources.frame import Frame
from dmdissect.sources.writer import write_frames
from dmdissect.views.records import frames_text, ids_text
from dmdissect.views.session import clock, session_lines
from tests.peers import (
    T0,
    WIN8,
    WIN10,
    balloon_part,
    linux_qemu_session,
    rng,
    status,
)


def write_capture(path, packets, step: float = 0.25):
    """A pcapng with direction flags, one packet a message, ``step`` seconds apart."""
    frames = [
        Frame(
            index, bytes(packet), T0 + step * (index - 1), direction=SENDER[packet.type].direction
        )
        for index, packet in enumerate(packets, 1)
    ]
    with open(path, "wb") as out:
        write_frames(frames, out)
    return str(path)


def run(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env)


@pytest.fixture
def linux_capture(tmp_path):
    return write_capture(tmp_path / "linux.pcapng", linux_qemu_session())


def short_session():
    """A refused offer, then WIN8; a guest at its floor; a transient hot-add failure;
    two balloon requests, the first superseded, the second cut by the end of the capture."""
    return [
        DMHeader(trans_id=1) / DMVersionRequest(version=WIN10),
        DMHeader(trans_id=1) / DMVersionResponse(is_accepted=0),
        DMHeader(trans_id=2) / DMVersionRequest(version=WIN8),
        DMHeader(trans_id=2) / DMVersionResponse(is_accepted=1),
        DMHeader(trans_id=3)
        / DMCapabilitiesReport(caps=DMCaps(balloon=1, hot_add=1, hot_add_alignment=7)),
        DMHeader(trans_id=3) / DMCapabilitiesResponse(is_accepted=1, suppress_pressure_reports=1),
        status(4, avail=1000, committed=2000),
        status(5, avail=900, committed=2000),
        DMHeader(trans_id=0) / DMBalloonRequest(num_pages=2048),
        balloon_part(6, 0, []),
        DMHeader(trans_id=1) / DMHotAddRequest(range=rng(0x100000, 32768)),
        DMHeader(trans_id=7) / DMHotAddResponse(page_count=0, result=0),
        DMHeader(trans_id=2) / DMBalloonRequest(num_pages=512),
        DMHeader(trans_id=3) / DMBalloonRequest(num_pages=512),
    ]


WIDTHS = [12, 10, -16, -14, -14, 5, 13, 11]


def cols(*cells: str) -> str:
    """A plain-text row as specified: fixed widths (negative: left), one space apart."""
    fixed = [c.rjust(w) if w > 0 else c.ljust(-w) for w, c in zip(WIDTHS, cells)]
    return " ".join(fixed + list(cells[len(WIDTHS) :])).rstrip()


HEADER = (
    "       start   duration kind             frames         trans_ids      parts"
    "         pages         MiB outcome findings"
)


# --- text -------------------------------------------------------------------------------


def test_text_in_a_pipe_is_session_header_then_plain_rows(tmp_path):
    result = run("timeline", write_capture(tmp_path / "s.pcapng", short_session()))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Protocol: 1.0 (WIN8), negotiated in frame 3 (1 negotiation)",
        "Capabilities: guest balloon, hot-add (alignment 128 MiB); host accepted, "
        "pressure reports suppressed",
        "Time: 2025-11-27 01:00:00.000000 UTC to 2025-11-27 01:00:03.250000 UTC "
        "(3.250000 s), 14 messages",
        "",
        HEADER,
        cols(
            "0.000000",
            "0.250000",
            "version #1",
            "1-2",
            "h:1 g:1",
            "2",
            "-",
            "-",
            "refused: 2.0 (WIN10)",
        ),
        cols(
            "0.500000",
            "0.250000",
            "version #2",
            "3-4",
            "h:2 g:2",
            "2",
            "-",
            "-",
            "accepted: 1.0 (WIN8)",
        ),
        cols(
            "1.000000",
            "0.250000",
            "capabilities #1",
            "5-6",
            "h:3 g:3",
            "2",
            "-",
            "-",
            "accepted: balloon, hot-add (align 128 MiB)",
        ),
        cols(
            "1.500000",
            "0.250000",
            "status #1",
            "7-8",
            "-",
            "2",
            "-",
            "-",
            "2 status reports, latest avail 900 pages (3.52 MiB), committed 2000 pages (7.81 MiB)",
        ),
        cols(
            "2.000000",
            "0.250000",
            "balloon #1",
            "9-10",
            "h:0 g:6",
            "2",
            "0/2048",
            "0/8",
            "guest at floor",
        ),
        cols(
            "2.500000",
            "0.250000",
            "hot_add #1",
            "11-12",
            "h:1 g:7",
            "2",
            "0/32768",
            "0/128",
            "transient failure: at 0x100000",
            "[1 message finding, worst in frame 12: note: hot add failed (result 0: transient, "
            "the host may retry)]",
        ),
        cols(
            "3.000000",
            "0.000000",
            "balloon #2",
            "13",
            "h:2",
            "1",
            "0/512",
            "0/2",
            "unknown; incomplete: no response (superseded by frame 14)",
            "[warning: new request while balloon #2 (frame 13) is outstanding]",
        ),
        cols(
            "3.250000",
            "0.000000",
            "balloon #3",
            "14",
            "h:3",
            "1",
            "0/512",
            "0/2",
            "unknown; incomplete: no response (capture ended)",
            "[1 message finding, worst in frame 14: warning: new request while balloon #2 "
            "(frame 13) is outstanding]",
        ),
        "",
        # Worked out by hand: status at 1.5 s; balloon #1 at its floor (committed 2000 of
        # 2000 + 900 pages: 69.0%); the transient hot-add failure and no hot-add after it;
        # balloons #2 and #3 unanswered when the capture ends less than 5 s later.
        "Health:",
        "  frame 7: note hvdm.health.status.first: first status report 1.5 s after the version "
        "request in frame 1",
        "  frame 9: warning hvdm.health.balloon.floor: balloon #1: the guest is at its floor and "
        "gave 0 of 2048 pages; last status: committed 2000 pages, pressure 69.0% (frame 8)",
        "  frame 11: warning hvdm.health.hot_add.failed: hot_add #1: transient failure, 0 of "
        "32768 pages added",
        "  frame 11: note hvdm.health.hot_add.ended: no hot-add after hot_add #1 (transient "
        "failure) to the end of the input; a QEMU host never hot-adds again after a failed or "
        "short hot-add until the guest is reset",
        "  frame 13: note hvdm.health.answer_unknown: balloon #2: no reply before the input "
        "ended, less than 5 s after the request",
        "  frame 14: note hvdm.health.answer_unknown: balloon #3: no reply before the input "
        "ended, less than 5 s after the request",
    ]


def test_plain_rows_grow_instead_of_wrapping_or_cropping(linux_capture):
    result = run("timeline", linux_capture)
    lines = result.output.splitlines()
    balloon = next(line for line in lines if "balloon #1" in line)
    assert balloon == (
        "    1.250000   1.750000 balloon #1       6-7,9,12-13    "
        "h:0 g:4,6,10,11     5   20480/20480       80/80 accepted"
    )
    status_row = next(line for line in lines if "status #2" in line)
    assert len(status_row) > 120
    assert status_row.endswith(
        "4 status reports, latest avail 241664 pages (944 MiB), committed 131072 pages (512 MiB)"
    )
    assert "…" not in result.output


def test_color_always_styles_the_pipe_columns_without_cropping(linux_capture):
    """Colour changes styles only: without its escapes, the text is the pipe's, line for line."""
    result = run("timeline", linux_capture, "--color", "always")
    assert result.exit_code == 0
    assert "\x1b[32m" in result.output  # an accepted outcome in green
    assert "…" not in result.output
    plain = re.sub(r"\x1b\[[0-9;]*m", "", result.output)
    assert plain == run("timeline", linux_capture).output


def test_no_color_env_wins_over_color_always(linux_capture):
    result = run("timeline", linux_capture, "--color", "always", env={"NO_COLOR": "1"})
    assert "\x1b[" not in result.output


# --- JSON ---------------------------------------------------------------------------------

HANDSHAKE_ROWS = [
    {
        "kind": "version",
        "number": 1,
        "frames": [1, 2],
        "start": T0,
        "end": T0 + 0.25,
        "duration": 0.25,
        "latency": 0.25,
        "trans_ids": {"host": [1], "guest": [1]},
        "parts": 2,
        "ranges": 0,
        "pages": None,
        "pages_lower_bound": False,
        "pages_requested": None,
        "outcome": "accepted",
        "detail": "2.0 (WIN10)",
        "complete": True,
        "reason": None,
        "links": [{"frame": 1, "rule": "request"}, {"frame": 2, "rule": "state+trans_id"}],
        "truncated": False,
        "expert": [],
        "message_expert": [],
        "message_expert_count": 0,
    },
    {
        "kind": "capabilities",
        "number": 1,
        "frames": [3, 4],
        "start": T0 + 0.5,
        "end": T0 + 0.75,
        "duration": 0.25,
        "latency": 0.25,
        "trans_ids": {"host": [2], "guest": [2]},
        "parts": 2,
        "ranges": 0,
        "pages": None,
        "pages_lower_bound": False,
        "pages_requested": None,
        "outcome": "accepted",
        "detail": "balloon, hot-add (align 128 MiB)",
        "complete": True,
        "reason": None,
        "links": [{"frame": 3, "rule": "request"}, {"frame": 4, "rule": "state+trans_id"}],
        "truncated": False,
        "expert": [],
        "message_expert": [],
        "message_expert_count": 0,
    },
]

LINUX_ROWS = HANDSHAKE_ROWS + [
    {
        "kind": "status",
        "number": 1,
        "first_frame": 5,
        "last_frame": 5,
        "start": T0 + 1.0,
        "end": T0 + 1.0,
        "duration": 0.0,
        "count": 1,
        "num_avail": 262144,
        "num_committed": 131072,
    },
    {
        "kind": "balloon",
        "number": 1,
        "frames": [6, 7, 9, 12, 13],
        "start": T0 + 1.25,
        "end": T0 + 3.0,
        "duration": 1.75,
        "latency": 0.25,
        "trans_ids": {"host": [0], "guest": [4, 6, 10, 11]},
        "parts": 5,
        "ranges": 40,
        "pages": 20480,
        "pages_lower_bound": False,
        "pages_requested": 20480,
        "outcome": "accepted",
        "detail": "",
        "complete": True,
        "reason": None,
        "links": [
            {"frame": 6, "rule": "request"},
            {"frame": 7, "rule": "state"},
            {"frame": 9, "rule": "state"},
            {"frame": 12, "rule": "state"},
            {"frame": 13, "rule": "state"},
        ],
        "truncated": False,
        "expert": [],
        "message_expert": [],
        "message_expert_count": 0,
    },
    {
        "kind": "status",
        "number": 2,
        "first_frame": 8,
        "last_frame": 14,
        "start": T0 + 1.75,
        "end": T0 + 3.25,
        "duration": 1.5,
        "count": 4,
        "num_avail": 241664,
        "num_committed": 131072,
    },
    {
        "kind": "unballoon",
        "number": 1,
        "frames": [15, 16, 17],
        "start": T0 + 3.5,
        "end": T0 + 4.0,
        "duration": 0.5,
        "latency": 0.5,
        "trans_ids": {"host": [1], "guest": [13]},
        "parts": 3,
        "ranges": 2,
        "pages": 5120,
        "pages_lower_bound": False,
        "pages_requested": 5120,
        "outcome": "accepted",
        "detail": "",
        "complete": True,
        "reason": None,
        "links": [
            {"frame": 15, "rule": "request"},
            {"frame": 16, "rule": "state+trans_id"},
            {"frame": 17, "rule": "state"},
        ],
        "truncated": False,
        "expert": [],
        "message_expert": [],
        "message_expert_count": 0,
    },
    {
        "kind": "status",
        "number": 3,
        "first_frame": 18,
        "last_frame": 18,
        "start": T0 + 4.25,
        "end": T0 + 4.25,
        "duration": 0.0,
        "count": 1,
        "num_avail": 246784,
        "num_committed": 131072,
    },
    {
        "kind": "session",
        "version": 0x20000,
        "version_frame": 1,
        "negotiations": 1,
        "guest_capabilities": {
            "balloon": 1,
            "hot_add": 1,
            "hot_add_alignment": 7,
            "hot_remove": 0,
            "min_page_cnt": 0,
            "max_page_number": 0xFFFFFFFFFFFFFFFF,
        },
        "host_capabilities": {"is_accepted": 1, "hot_remove": 1, "suppress_pressure_reports": 0},
        "first_frame": 1,
        "last_frame": 18,
        "first": T0,
        "last": T0 + 4.25,
        "messages": 18,
        "transactions": {"version": 1, "capabilities": 1, "balloon": 1, "unballoon": 1},
    },
]


#: The one verdict of the Linux session: its first status report, frame 5, 1.0 s in.
LINUX_VERDICT = {
    "kind": "verdict",
    "id": "hvdm.health.status.first",
    "severity": "note",
    "message": "first status report 1.0 s after the version request in frame 1",
    "frames": [5],
    "time": T0 + 1.0,
}
LINUX_OBJECTS = LINUX_ROWS[:-1] + [LINUX_VERDICT] + LINUX_ROWS[-1:]


def test_json_array_one_object_per_row_and_the_session_last(linux_capture):
    result = run("timeline", linux_capture, "-T", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == LINUX_OBJECTS
    assert result.output.startswith("[\n  {")
    assert result.output.endswith("}\n]\n")


def test_jsonl_one_object_a_line(linux_capture):
    result = run("timeline", linux_capture, "-T", "jsonl")
    lines = result.output.splitlines()
    assert [json.loads(line) for line in lines] == LINUX_OBJECTS


def test_json_of_a_capture_without_messages(tmp_path):
    result = run("timeline", write_capture(tmp_path / "empty.pcapng", []), "-T", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [
        {
            "kind": "session",
            "version": None,
            "version_frame": None,
            "negotiations": 0,
            "guest_capabilities": None,
            "host_capabilities": None,
            "first_frame": None,
            "last_frame": None,
            "first": None,
            "last": None,
            "messages": 0,
            "transactions": {},
        }
    ]


def test_unreadable_input_is_one_line_and_exit_2(tmp_path):
    result = run("timeline", str(tmp_path / "missing.pcapng"))
    assert result.exit_code == 2
    assert result.output.startswith("dmdissect: error: ")
    assert len(result.output.splitlines()) == 1


# --- read shows the transactions -------------------------------------------------------------


def test_read_lines_name_their_transaction(linux_capture):
    result = run("read", "-z", "session", linux_capture)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 22
    assert lines[18] == ""
    assert lines[19] == "Protocol: 2.0 (WIN10), negotiated in frame 1 (1 negotiation)"
    assert lines[6].endswith("[part 1 of balloon #1, reassembled in frame 13]")
    assert lines[12].endswith(
        "[part 4 of balloon #1, final: 4 parts, 20480 of 20480 pages "
        "(80 MiB), accepted, 1.750000 s]"
    )
    assert lines[7].endswith("committed 131072 pages (512 MiB)")
    assert lines[16].endswith(
        "[response of unballoon #1, final: 2 parts, 5120 pages (20 MiB), accepted, 0.500000 s]"
    )


def test_read_verbose_shows_the_reassembly_under_the_final_part_only(linux_capture):
    result = run("read", "-V", linux_capture)
    out = result.output
    assert out.count("Reassembled balloon #1") == 1
    final = out.index("Frame 13:")
    assert (
        final
        < out.index(
            "Reassembled balloon #1: 4 parts, 20480 of 20480 pages (80 MiB), accepted, 1.750000 s"
        )
        < out.index("Frame 14:")
    )
    assert "part 4: frame 13, trans_id 11, 10 ranges, 5120 pages (20 MiB), last part" in out
    assert "range 9: start_page 0x104e00, page_cnt 512 (2 MiB)" in out
    assert (
        "totals: 4 parts, 40 ranges, 20480 pages (80 MiB) moved, 20480 pages (80 MiB) "
        "asked; outcome accepted; duration 1.750000 s, latency 0.250000 s"
    ) in out


def test_read_json_carries_the_transaction_reference(linux_capture):
    result = run("read", "-T", "json", linux_capture)
    objects = json.loads(result.output)
    assert [o["transaction"]["kind"] for o in objects] == [
        "version",
        "version",
        "capabilities",
        "capabilities",
        "status",
        "balloon",
        "balloon",
        "status",
        "balloon",
        "status",
        "status",
        "balloon",
        "balloon",
        "status",
        "unballoon",
        "unballoon",
        "unballoon",
        "status",
    ]
    assert objects[11]["transaction"] == {
        "kind": "balloon",
        "number": 1,
        "role": "part",
        "part": 3,
        "rule": "state",
        "request_frame": 6,
        "final_frame": 13,
        "complete": True,
    }


def test_read_count_reads_only_n_messages_and_says_what_is_left_open(linux_capture):
    result = run("read", "-c", "7", "-z", "session", linux_capture)
    lines = result.output.splitlines()
    assert len(lines) == 11
    assert lines[6].endswith(
        "[part 1 of balloon #1; incomplete: final part missing (reading stopped at -c 7)]"
    )
    assert lines[10].endswith(", 7 messages")


# --- pieces -------------------------------------------------------------------------------------


def test_session_lines_when_nothing_was_negotiated_and_no_times():
    session = Session()
    session.see(1, None)
    assert session_lines(session) == [
        "Protocol: no accepted version seen",
        "Capabilities: not seen (the capture may start after them)",
        "Time: none in the input; 1 message",
    ]


def test_cells():
    assert frames_text([1, 2, 3, 7, 9, 10], 6) == "1-3,7,9-10"
    assert frames_text([4, 5], 12) == "4-5 (+10 more)"
    assert ids_text({"host": [], "guest": [3, 5]}) == "g:3,5"
    assert ids_text({"host": [], "guest": []}) == "-"
    assert clock(100.5) == "100.500000 s"
    assert clock(T0 + 3.5) == "2025-11-27 01:00:03.500000 UTC"
