"""Several inputs: merged by time like mergecap, --concat, one session per file and interface."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

from tests.pcapfile import write_pcap
from tests.pcapngfile import INBOUND, OUTBOUND, Packet, write_pcapng

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_764_205_200.0


def hdr(msg_type: int, size: int, trans_id: int) -> bytes:
    return struct.pack("<HHI", msg_type, size, trans_id)


def status(trans_id: int, avail: int) -> bytes:
    return hdr(5, 48, trans_id) + struct.pack("<QQQQII", avail, 1000, 0, 0, 0, 0)


BALLOON_REQUEST = hdr(6, 16, 0) + struct.pack("<II", 512, 0)
BALLOON_PART = (
    hdr(7, 24, 9) + struct.pack("<II", 0, 1 << 1) + struct.pack("<Q", 0x10000 | 512 << 40)
)


def dmdissect(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dmdissect", *args], capture_output=True, text=True, cwd=ROOT
    )


def jsonl(*args: str) -> list[dict]:
    result = dmdissect("read", "-T", "jsonl", *args)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def two_files(tmp_path):
    # Status reports whose num_avail says which file and place each came from.
    a = [(T0 + t, status(i, 1000 + i)) for i, t in enumerate([0.0, 2.0, 4.0, 6.0])]
    b = [(T0 + t, status(i, 2000 + i)) for i, t in enumerate([1.0, 2.0, 3.0, 9.0])]
    return write_pcap(tmp_path / "a.pcap", a), write_pcap(tmp_path / "b.pcap", b), a, b


def test_merge_by_time_like_mergecap(tmp_path):
    a, b, records_a, records_b = two_files(tmp_path)
    merged = tmp_path / "merged.pcap"
    subprocess.run(["mergecap", "-F", "pcap", "-w", str(merged), str(a), str(b)], check=True)
    expected = [(m["time"], m["num_avail"]) for m in jsonl(str(merged))]
    got = jsonl(str(a), str(b))
    assert [(m["time"], m["num_avail"]) for m in got] == expected
    # And by hand: sorted by time, the file named last first on a tie (2.0 s), as mergecap.
    by_hand = sorted(
        [(t, 1, 1000 + i) for i, (t, _) in enumerate(records_a)]
        + [(t, 0, 2000 + i) for i, (t, _) in enumerate(records_b)]
    )
    assert [m["num_avail"] for m in got] == [avail for _, _, avail in by_hand]
    assert [m["frame"] for m in got] == list(range(1, 9))
    assert [m["file"] for m in got] == [str(a) if v < 2000 else str(b) for _, _, v in by_hand]


def test_concat_keeps_file_order(tmp_path):
    a, b, *_ = two_files(tmp_path)
    got = jsonl("--concat", str(a), str(b))
    assert [m["num_avail"] for m in got] == [1000, 1001, 1002, 1003, 2000, 2001, 2002, 2003]
    assert [m["frame"] for m in got] == list(range(1, 9))


def test_a_capture_and_a_log_merge(tmp_path):
    capture = write_pcap(tmp_path / "c.pcap", [(T0 + 0.5, status(1, 7))])
    log = tmp_path / "d.log"
    log.write_text(
        "2025-11-27T01:00:00.250000Z hv_balloon: 05 00 30 00 02 00 00 00 "
        + " ".join(["09"] + ["00"] * 39)
        + "\n"
    )
    got = jsonl(str(capture), str(log))
    assert [(m["file"], m["hdr"]["trans_id"]) for m in got] == [(str(log), 2), (str(capture), 1)]


def test_files_are_separate_sessions(tmp_path):
    # A balloon request in one file and a reply in the other are two VMs, not one exchange.
    a = write_pcap(tmp_path / "a.pcap", [(T0, BALLOON_REQUEST)])
    b = write_pcap(tmp_path / "b.pcap", [(T0 + 0.5, BALLOON_PART)])
    apart = jsonl(str(a), str(b))
    assert [m["transaction"]["complete"] for m in apart] == [False, False]
    assert apart[1]["transaction"]["request_frame"] is None
    together = write_pcap(tmp_path / "ab.pcap", [(T0, BALLOON_REQUEST), (T0 + 0.5, BALLOON_PART)])
    one = jsonl(str(together))
    assert [m["transaction"]["complete"] for m in one] == [True, True]


def test_interfaces_of_one_pcapng_are_separate_sessions(tmp_path):
    path = write_pcapng(
        tmp_path / "two-vms.pcapng",
        [
            Packet(T0, BALLOON_REQUEST, interface=0, flags=OUTBOUND),
            Packet(T0 + 0.5, BALLOON_PART, interface=1, flags=INBOUND),
        ],
        interfaces=2,
    )
    got = jsonl(str(path))
    assert [m["interface"] for m in got] == [0, 1]
    assert [m["transaction"]["complete"] for m in got] == [False, False]
    same = write_pcapng(
        tmp_path / "one-vm.pcapng",
        [
            Packet(T0, BALLOON_REQUEST, interface=1, flags=OUTBOUND),
            Packet(T0 + 0.5, BALLOON_PART, interface=1, flags=INBOUND),
        ],
        interfaces=2,
    )
    assert [m["transaction"]["complete"] for m in jsonl(str(same))] == [True, True]


def test_session_footer_names_each_session(tmp_path):
    a, b, *_ = two_files(tmp_path)
    lines = dmdissect("read", "-q", "-z", "session", str(a), str(b)).stdout.splitlines()
    assert lines[0] == f"Session: {a}"
    assert lines[3].startswith("Time: 2025-11-27 01:00:00.000000 UTC to 2025-11-27 01:00:06")
    assert lines[3].endswith(", 4 messages")
    assert lines[5] == f"Session: {b}"
    assert lines[8].endswith(", 4 messages")


def test_stdin_twice_is_a_usage_error(tmp_path):
    result = dmdissect("read", "-", "-")
    assert result.returncode == 2
    assert "standard input can be read only once" in result.stderr


def test_missing_second_file_fails_before_any_output(tmp_path):
    a, *_ = two_files(tmp_path)
    result = dmdissect("read", str(a), str(tmp_path / "nope.pcap"))
    assert result.returncode == 2
    assert result.stdout == ""
    assert (
        result.stderr == f"dmdissect: error: cannot read {tmp_path / 'nope.pcap'}: no such file\n"
    )


def test_merge_streams_holding_one_frame_per_input():
    """Endless inputs: the merge pulls from each only as far as the frames it hands out."""
    from itertools import count, islice

    from dmdissect.sources.frame import Frame
    from dmdissect.sources.merge import merged

    pulled = [0, 0]

    def endless(which: int, start: float):
        for n in count():
            pulled[which] += 1
            yield Frame(0, b"", time=start + n, file=f"f{which}")

    frames = list(islice(merged([endless(0, 0.0), endless(1, 0.5)]), 1000))
    assert [f.time for f in frames[:4]] == [0.0, 0.5, 1.0, 1.5]
    assert [f.index for f in frames] == list(range(1, 1001))
    # 500 handed out from each; the first input's next frame waits in the heap.
    assert pulled == [501, 500]
