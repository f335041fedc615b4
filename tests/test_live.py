"""Live input never waits: a pipe that stays open is shown message by message.

A real dmdissect process reads a pipe this test writes slowly; a balloon
request that is never answered keeps a transaction open for ever, and every
later message and finished transaction must still come out before the input
ends.  Then Ctrl-C (SIGINT) or SIGTERM: what was read is shown, JSON is closed,
the status is 130 / 143.  Messages are hand-written bytes in a pcap stream.
"""

from __future__ import annotations

import json
import signal
import struct
import subprocess

from tests.livepipe import LiveProcess
from tests.tshark import require_tshark

PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 147)
BALLOON = struct.pack("<HHI", 6, 16, 0) + struct.pack("<II", 512, 0)
VERSION_REQUEST = struct.pack("<HHI", 1, 16, 1) + struct.pack("<HHI", 0, 2, 0)
VERSION_RESPONSE = struct.pack("<HHI", 2, 16, 1) + struct.pack("<Q", 1)  # is_accepted: bit 0
STATUS = struct.pack("<HHI", 5, 48, 3) + struct.pack("<QQQQII", 1000, 2000, 0, 0, 0, 0)


def record(second: int, data: bytes) -> bytes:
    return struct.pack("<IIII", second, 0, len(data), len(data)) + data


def frame_of(line: str) -> str:
    return line.split()[0]


def test_read_shows_each_message_while_a_transaction_stays_open():
    live = LiveProcess("read", "-z", "session", "-")
    live.send(PCAP_HEADER + record(1, BALLOON))
    first = live.next_line()
    assert first.split()[:4] == ["1", "0.000000", "host->guest", "DM_BALLOON_REQUEST"]
    assert first.rstrip().endswith("[request of balloon #1]")  # no forward link in one pass
    live.send(record(2, VERSION_REQUEST))
    assert frame_of(live.next_line()) == "2"
    live.send(record(3, VERSION_RESPONSE))
    third = live.next_line()
    assert "[response of version #1, request in frame 2, final: accepted: 2.0 (WIN10)" in third
    status, rest, stderr = live.close_input()
    assert (status, stderr) == (0, "")
    assert rest[1] == "Protocol: 2.0 (WIN10), negotiated in frame 2 (1 negotiation)\n"


def test_timeline_shows_each_finished_transaction_while_one_stays_open():
    live = LiveProcess("timeline", "-")
    live.send(PCAP_HEADER + record(1, BALLOON) + record(2, VERSION_REQUEST))
    assert live.next_line().split()[:3] == ["start", "duration", "kind"]
    live.send(record(3, VERSION_RESPONSE))
    row = live.next_line().split()
    assert row[2:5] == ["version", "#1", "2-3"]
    status, rest, _ = live.signal(signal.SIGTERM)
    assert status == 143
    # The balloon still open when the signal came is shown, then the session.
    balloon = next(line for line in rest if " balloon #1 " in line)
    assert balloon.split()[2:5] == ["balloon", "#1", "1"]  # kind, number, frames
    # Then the session, then the health verdicts of what was read.
    health = rest.index("Health:\n")
    assert rest[health - 2].endswith(", 3 messages\n") and rest[health - 1] == "\n"
    assert rest[health + 1 :] == [
        "  frame 1: note hvdm.health.answer_unknown: balloon #1: no reply before the input "
        "ended, less than 5 s after the request\n"
    ]


def test_sigint_shows_what_was_held_and_closes_the_json():
    """With -2 lines are held until their transaction ends: Ctrl-C must not lose them."""
    live = LiveProcess("read", "-2", "-T", "json", "-")
    live.send(PCAP_HEADER + record(1, BALLOON) + record(2, STATUS))
    live.send(record(3, VERSION_REQUEST) + record(4, VERSION_RESPONSE))
    live.wait_idle()
    status, rest, stderr = live.signal(signal.SIGINT)
    assert status == 130
    assert stderr == ""
    objects = json.loads("".join(rest))
    assert [o["frame"] for o in objects] == [1, 2, 3, 4]
    balloon = objects[0]["transaction"]
    assert balloon["complete"] is False
    assert balloon["reason"] == "no response (reading interrupted by SIGINT)"


def test_sigterm_on_read_text_prints_the_session():
    live = LiveProcess("read", "-z", "session", "-")
    live.send(PCAP_HEADER + record(1, STATUS))
    assert frame_of(live.next_line()) == "1"
    status, rest, _ = live.signal(signal.SIGTERM)
    assert status == 143
    assert rest[-1] == "Time: 1.000000 s to 1.000000 s (0.000000 s), 1 message\n"


def dmesg_line(stamp: float, data: bytes) -> bytes:
    """A line of print_hex_dump(KERN_INFO, "hv_balloon: ", DUMP_PREFIX_OFFSET, 16, 1)."""
    hexes = " ".join(f"{b:02x}" for b in data)
    text = "".join(chr(b) if 32 <= b < 127 else "." for b in data)
    return f"[{stamp:12.6f}] hv_balloon: 00000000: {hexes:<47}  {text}\n".encode()


def test_dmesg_w_piped_in_shows_each_message_before_the_next_line():
    live = LiveProcess("read", "-z", "session", "-")
    live.send(dmesg_line(100.5, BALLOON))
    assert live.next_line().split()[3] == "DM_BALLOON_REQUEST"
    live.send(dmesg_line(101.5, VERSION_REQUEST))
    assert live.next_line().split()[3] == "DM_VERSION_REQUEST"
    status, rest, _ = live.signal(signal.SIGINT)
    assert status == 130
    assert rest[-1] == "Time: 100.500000 s to 101.500000 s (1.000000 s), 2 messages\n"


def test_a_driver_line_piped_in_is_shown_before_the_next_line():
    """``dmesg -w | dmdissect read -``: the version line is shown while the pipe stays open,
    not when the kernel next prints something."""
    live = LiveProcess("read", "-")
    live.send(b"[    5.250000] hv_balloon: Using Dynamic Memory protocol version 2.0\n")
    line = live.next_line()
    assert "DM_VERSION_RESPONSE" in line or "version 2.0" in line, line
    live.send(b"[    6.000000] hv_balloon: Using Dynamic Memory protocol version 2.0\n")
    assert live.next_line().split()[0] == "2"
    status, _, _ = live.signal(signal.SIGINT)
    assert status == 130


def test_sigint_on_convert_keeps_a_whole_capture_of_what_was_read(tmp_path):
    """Ctrl-C while convert reads a pipe: OUTPUT holds every message read, as a capture the
    real tshark reads to its end without complaint, and the status is 130."""
    out = tmp_path / "out.pcapng"
    live = LiveProcess("convert", "-", str(out))
    sent = [BALLOON, VERSION_REQUEST, VERSION_RESPONSE]
    live.send(PCAP_HEADER + b"".join(record(n, data) for n, data in enumerate(sent, 1)))
    live.wait_idle()
    status, rest, stderr = live.signal(signal.SIGINT)
    assert (status, rest, stderr) == (130, [], "")
    tshark = require_tshark()
    shown = subprocess.run(
        [tshark, "-r", str(out), "-T", "fields", "-e", "frame.number", "-e", "data.data"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == [f"{n}\t{data.hex()}" for n, data in enumerate(sent, 1)]
    assert [p.name for p in tmp_path.iterdir()] == ["out.pcapng"]  # no temporary file left
