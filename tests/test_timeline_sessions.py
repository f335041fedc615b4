"""timeline on several inputs: one session per capture file and pcapng interface, the logs one.

The messages are packed by hand from the C layout (``struct dm_header``:
type, size, trans_id; ``dm_balloon``: num_pages, reservedz; ``dm_balloon_response``:
reservedz, more_pages and done in bit 1, one ``union dm_mem_page_range`` of
start_page in the low 40 bits and page_cnt above); the expected tables are
worked out from them by hand.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from dmdissect.cli import main
from tests.pcapfile import write_pcap
from tests.pcapngfile import INBOUND, OUTBOUND, Packet, write_pcapng

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_764_205_200.0  # 2025-11-27 01:00:00 UTC


def hdr(msg_type: int, size: int, trans_id: int) -> bytes:
    return struct.pack("<HHI", msg_type, size, trans_id)


#: DM_BALLOON_REQUEST (6), host id 0, for 512 pages.
REQUEST = hdr(6, 16, 0) + struct.pack("<II", 512, 0)
#: DM_BALLOON_RESPONSE (7), guest id 9, done, one range of 512 pages at 0x10000.
PART = hdr(7, 24, 9) + struct.pack("<II", 0, 1 << 1) + struct.pack("<Q", 0x10000 | 512 << 40)

HEADER = "Protocol: no accepted version seen\nCapabilities: not seen (the capture may start after them)\n"
TITLES = (
    "session        start   duration kind             frames         trans_ids      parts"
    "         pages         MiB outcome findings"
)
ASKED = (
    "      1     0.000000   0.000000 balloon #1       1              h:0                1"
    "         0/512         0/2 unknown; incomplete: no response (capture ended)"
)
#: Session 2 starts half a second later; its start counts from its own first time.
ORPHAN = (
    "      2     0.000000   0.000000 balloon #1       2              g:9                1"
    "           512           2 unknown; incomplete: no request seen [note: response with no"
    " request in the capture (it may start after the request)]"
)


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def two_sessions_text(first: str, second: str) -> str:
    return (
        f"Session 1: {first}\n{HEADER}"
        "Time: 2025-11-27 01:00:00.000000 UTC to 2025-11-27 01:00:00.000000 UTC (0.000000 s), "
        "1 message\n\n"
        f"Session 2: {second}\n{HEADER}"
        "Time: 2025-11-27 01:00:00.500000 UTC to 2025-11-27 01:00:00.500000 UTC (0.000000 s), "
        "1 message\n\n"
        f"{TITLES}\n{ASKED}\n{ORPHAN}\n\n"
    )


def test_two_files_are_two_sessions_never_one_exchange(tmp_path):
    a = write_pcap(tmp_path / "a.pcap", [(T0, REQUEST)])
    b = write_pcap(tmp_path / "b.pcap", [(T0 + 0.5, PART)])
    out = run("timeline", str(a), str(b))
    table, health = out.split("Health of session 1:\n")
    assert table == two_sessions_text(str(a), str(b))
    # Each session judged on its own: session 2 has no request to leave unanswered.
    assert health.endswith("\nHealth of session 2:\n  no verdicts\n")
    assert "balloon #1: no reply before the input ended" in health.split("Health of")[0]


def test_one_file_holding_both_is_one_exchange(tmp_path):
    both = write_pcap(tmp_path / "ab.pcap", [(T0, REQUEST), (T0 + 0.5, PART)])
    out = run("timeline", "-T", "jsonl", str(both))
    balloon, session = [json.loads(line) for line in out.splitlines()]
    assert (balloon["complete"], balloon["frames"], balloon["pages"]) == (True, [1, 2], 512)
    assert "session" not in balloon and "name" not in session


def test_two_interfaces_of_one_pcapng_are_two_sessions(tmp_path):
    path = write_pcapng(
        tmp_path / "two-vms.pcapng",
        [
            Packet(T0, REQUEST, interface=0, flags=OUTBOUND),
            Packet(T0 + 0.5, PART, interface=1, flags=INBOUND),
        ],
        interfaces=2,
    )
    out = run("timeline", str(path))
    table = out.split("Health of session 1:\n")[0]
    assert table == two_sessions_text(f"{path} interface 0", f"{path} interface 1")


def test_json_names_the_session_of_every_row_but_the_first(tmp_path):
    a = write_pcap(tmp_path / "a.pcap", [(T0, REQUEST)])
    b = write_pcap(tmp_path / "b.pcap", [(T0 + 0.5, PART)])
    objects = [
        json.loads(line) for line in run("timeline", "-T", "jsonl", str(a), str(b)).splitlines()
    ]
    rows = [o for o in objects if o["kind"] == "balloon"]
    assert [(r["trans_ids"], r.get("session")) for r in rows] == [
        ({"host": [0], "guest": []}, None),
        ({"host": [], "guest": [9]}, 2),
    ]
    sessions = [o for o in objects if o["kind"] == "session"]
    assert [(s["session"], s["name"], s["first_frame"]) for s in sessions] == [
        (1, str(a), 1),
        (2, str(b), 2),
    ]
    verdicts = [o for o in objects if o["kind"] == "verdict"]
    assert [v["session"] for v in verdicts] == [1]
    # The verdicts come before the sessions, as with one session.
    assert objects.index(verdicts[0]) < objects.index(sessions[0])


def test_concat_keeps_file_order_and_the_sessions(tmp_path):
    # b.pcap's reply is earlier than a.pcap's request: --concat reads a first anyway.
    a = write_pcap(tmp_path / "a.pcap", [(T0 + 1, REQUEST)])
    b = write_pcap(tmp_path / "b.pcap", [(T0, PART)])
    objects = [
        json.loads(line)
        for line in run("timeline", "-T", "jsonl", "--concat", str(a), str(b)).splitlines()
    ]
    rows = [(o["frames"], o.get("session")) for o in objects if o["kind"] == "balloon"]
    assert rows == [([1], None), ([2], 2)]


QEMU = (
    "7@1764205200.000000:hv_balloon_state_change -> S_BALLOON_POSTING\n"
    "7@1764205200.000000:hv_balloon_outgoing_balloon posting balloon 0 for 512, remaining 512\n"
    "7@1764205200.400000:hv_balloon_incoming_balloon incoming balloon response 9, ranges 1, more 0\n"
    "7@1764205200.400000:hv_balloon_remove_response processing remove response range 512 @ "
    "0x10000, both 0\n"
    "7@1764205200.400000:hv_balloon_state_change -> S_IDLE\n"
)
QMP = (
    '{"timestamp": {"seconds": 1764205200, "microseconds": 200000}, "event": '
    '"HV_BALLOON_STATUS_REPORT", "data": {"available": 4096000, "committed": 8192000}}\r\n'
)


def test_the_logs_are_one_session_beside_a_capture(tmp_path):
    qemu = tmp_path / "qemu.log"
    qemu.write_text(QEMU)
    qmp = tmp_path / "qmp.log"
    qmp.write_text(QMP)
    capture = write_pcap(tmp_path / "c.pcap", [(T0 + 0.1, REQUEST)])
    objects = [
        json.loads(line)
        for line in run("timeline", "-T", "jsonl", str(qemu), str(capture), str(qmp)).splitlines()
    ]
    sessions = [o for o in objects if o["kind"] == "session"]
    # The logs' session is seen first (frame 1 is QEMU's), named by its files in that order.
    assert [(s["session"], s["name"]) for s in sessions] == [
        (1, f"{qemu} + {qmp}"),
        (2, str(capture)),
    ]
    rows = [
        (o["kind"], o.get("session")) for o in objects if o["kind"] not in ("verdict", "session")
    ]
    # QEMU's balloon (its request, the guest's part), QMP's status report between them in
    # the same session; the capture's request its own balloon #1.
    assert rows == [("balloon", None), ("balloon", 2), ("status", None)]
    balloon = next(o for o in objects if o["kind"] == "balloon" and "session" not in o)
    assert (balloon["complete"], balloon["pages"], balloon["trans_ids"]) == (
        True,
        512,
        {"host": [0], "guest": [9]},
    )
    status = next(o for o in objects if o["kind"] == "status")
    # QMP's bytes in pages of 4096: 4096000 / 4096 and 8192000 / 4096.
    assert (status["num_avail"], status["num_committed"]) == (1000, 2000)


def test_one_pass_names_the_session_in_the_kind_cell(tmp_path):
    path = write_pcapng(
        tmp_path / "two-vms.pcapng",
        [
            Packet(T0, REQUEST, interface=0, flags=OUTBOUND),
            Packet(T0 + 0.5, PART, interface=1, flags=INBOUND),
        ],
        interfaces=2,
    )
    result = subprocess.run(
        [sys.executable, "-m", "dmdissect", "timeline", "-"],
        input=path.read_bytes(),
        capture_output=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    # One pass: each row as it ends (the orphan at once, the open request at the end).
    assert lines[1] == (
        "    0.000000   0.000000 balloon #1 (session 2) 2              g:9                1"
        "           512           2 unknown; incomplete: no request seen [note: response with no"
        " request in the capture (it may start after the request)]"
    )
    assert lines[2] == (
        "    0.000000   0.000000 balloon #1       1              h:0                1"
        "         0/512         0/2 unknown; incomplete: no response (capture ended)"
    )
    assert lines[4] == "Session 1: <stdin> interface 0"


def test_guest_logs_are_never_aligned_to_a_capture(tmp_path):
    # A capture is a session of its own: the guest's boot-relative dmesg keeps its clock (it
    # sorts before the capture's epoch times) and no alignment is claimed.
    dmesg = tmp_path / "dmesg.log"
    dmesg.write_text(
        "[    1.737193] hv_vmbus: registering driver hv_balloon\n"
        "[    1.737705] hv_balloon: Using Dynamic Memory protocol version 2.0\n"
    )
    capture = write_pcap(tmp_path / "c.pcap", [(T0, REQUEST)])
    objects = [
        json.loads(line)
        for line in run("read", "-T", "jsonl", str(capture), str(dmesg)).splitlines()
    ]
    assert [(o["file"], o["time"]) for o in objects] == [
        (str(dmesg), 1.737193),
        (str(dmesg), 1.737705),
        (str(capture), T0),
    ]
    sessions = [
        json.loads(line)
        for line in run("timeline", "-T", "jsonl", str(capture), str(dmesg)).splitlines()
        if '"kind":"session"' in line
    ]
    assert [(s["name"], s.get("alignment")) for s in sessions] == [
        (str(dmesg), None),
        (str(capture), None),
    ]
