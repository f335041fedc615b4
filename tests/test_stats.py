"""``-z`` statistics, ``-q`` and the session footer, checked against figures computed here.

The session is built by hand (bytes from the C layouts, times chosen), and
every expected count, byte total, page total and latency below is computed
from that hand-written table, not read back from dmdissect.  ``io,stat`` is
also checked against the real tshark's ``-z io,stat`` on the same capture.
"""

from __future__ import annotations

import json
import math
import os
import pty
import re
import struct
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from dmdissect.cli import main
from tests.pcapfile import write_pcap

ROOT = Path(__file__).resolve().parent.parent
CAPTURE = ROOT / "captures" / "linux-qemu.pcapng"
FAULTY = ROOT / "captures" / "faulty.pcapng"
T0 = 1_764_205_200.0
G2H, H2G = "guest->host", "host->guest"


def hdr(msg_type: int, size: int, trans_id: int) -> bytes:
    return struct.pack("<HHI", msg_type, size, trans_id)


def ranges(*counts: int) -> bytes:
    return b"".join(struct.pack("<Q", (0x10000 + 4096 * i) | c << 40) for i, c in enumerate(counts))


def balloon_part(trans_id: int, more: bool, *counts: int) -> bytes:
    size = 16 + 8 * len(counts)
    return hdr(7, size, trans_id) + struct.pack("<II", 0, len(counts) << 1 | more) + ranges(*counts)


STATUS = struct.pack("<QQQQII", 262144, 131072, 0, 0, 0, 0)

#: (seconds after T0, bytes, type name, direction, pages moved) written by hand.
SESSION = [
    (0.0, hdr(1, 16, 1) + struct.pack("<HHI", 0, 2, 0), "DM_VERSION_REQUEST", G2H, 0),
    (0.001, hdr(2, 16, 1) + struct.pack("<Q", 1), "DM_VERSION_RESPONSE", H2G, 0),
    (1.0, hdr(5, 48, 2) + STATUS, "DM_STATUS_REPORT", G2H, 0),
    (2.0, hdr(5, 48, 3) + STATUS, "DM_STATUS_REPORT", G2H, 0),
    (3.0, hdr(5, 48, 4) + STATUS, "DM_STATUS_REPORT", G2H, 0),
    (10.0, hdr(6, 16, 0) + struct.pack("<II", 2048, 0), "DM_BALLOON_REQUEST", H2G, 0),
    (10.5, balloon_part(5, True, 512, 512, 512), "DM_BALLOON_RESPONSE", G2H, 1536),
    (10.7, balloon_part(6, False, 512), "DM_BALLOON_RESPONSE", G2H, 512),
    (20.0, hdr(6, 16, 1) + struct.pack("<II", 512, 0), "DM_BALLOON_REQUEST", H2G, 0),
    (20.25, balloon_part(7, False, 512), "DM_BALLOON_RESPONSE", G2H, 512),
    (21.0, hdr(5, 48, 8) + STATUS[:20], "DM_STATUS_REPORT", G2H, 0),
]


@pytest.fixture
def capture(tmp_path):
    return write_pcap(tmp_path / "s.pcap", [(T0 + t, data) for t, data, *_ in SESSION])


def run(*args):
    return CliRunner().invoke(main, list(args))


def statistics(*args):
    result = run("read", "-q", "-T", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["statistics"]


def test_dm_stat_counts_messages_and_bytes_per_direction_and_type(capture):
    got = statistics("-z", "dm,stat", str(capture))["dm_stat"]
    messages = Counter((d, name) for _, _, name, d, _ in SESSION)
    sizes = Counter()
    for _, data, name, d, _ in SESSION:
        sizes[(d, name)] += len(data)
    assert got["messages"] == len(SESSION)
    assert got["bytes"] == sum(len(data) for _, data, *_ in SESSION)
    assert {(r["direction"], r["type_name"]): (r["messages"], r["bytes"]) for r in got["rows"]} == {
        key: (messages[key], sizes[key]) for key in messages
    }


def test_dm_stat_text_table(capture):
    result = run("read", "-q", "-z", "dm,stat", str(capture))
    lines = result.output.splitlines()
    total = sum(len(data) for _, data, *_ in SESSION)
    g2h = [(len(data), name) for _, data, name, d, _ in SESSION if d == G2H]
    assert lines[1] == "Dynamic Memory messages by direction and type:"
    rows = [re.split(r"\s{2,}", line.strip()) for line in lines[4:-1]]
    assert rows[0] == ["All messages", str(len(SESSION)), str(total), "100.00%"]
    assert rows[1] == [
        "guest->host",
        str(len(g2h)),
        str(sum(n for n, _ in g2h)),
        f"{100 * len(g2h) / len(SESSION):.2f}%",
    ]
    statuses = [n for n, name in g2h if name == "DM_STATUS_REPORT"]
    assert rows[3] == [
        "DM_STATUS_REPORT",
        str(len(statuses)),
        str(sum(statuses)),
        f"{100 * len(statuses) / len(SESSION):.2f}%",
    ]
    assert lines[0] == "=" * len(lines[2]) and lines[3] == lines[-1] == "-" * len(lines[2])


def nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(share * len(ordered)) - 1]


def test_transactions_count_pages_and_latency(capture):
    got = {k["kind"]: k for k in statistics("-z", "transactions", str(capture))["transactions"]}
    # Two balloon exchanges: replies 0.5 s and 0.25 s after their requests.
    latencies = [10.5 - 10.0, 20.25 - 20.0]
    assert got["balloon"] == {
        "kind": "balloon",
        "count": 2,
        "complete": 2,
        "outcomes": {"accepted": 2},
        "pages": sum(p for _, _, name, _, p in SESSION if name == "DM_BALLOON_RESPONSE"),
        "latency": {
            "min": min(latencies),
            "median": sum(latencies) / 2,
            "p99": nearest_rank(latencies, 0.99),
            "max": max(latencies),
        },
    }
    assert got["version"]["latency"]["median"] == 0.001
    assert set(got) == {"version", "balloon"}


def test_transactions_text_row(capture):
    lines = run("read", "-q", "-z", "transactions", str(capture)).output.splitlines()
    balloon = [line for line in lines if line.startswith("balloon")]
    assert balloon == [
        f"{'balloon':<14}{2:>8}{2:>10}{2560:>14}{'0.250000':>14}{'0.375000':>12}"
        f"{'0.500000':>12}{'0.500000':>12}  accepted 2"
    ]


def test_io_stat_messages_bytes_and_pages_per_interval(capture):
    got = statistics("-z", "io,stat,5", str(capture))["io_stat"][0]
    buckets: dict[int, list[int]] = {}
    for t, data, _, _, pages in SESSION:
        cell = buckets.setdefault(int(t // 5), [0, 0, 0])
        cell[0] += 1
        cell[1] += len(data)
        cell[2] += pages
    last = int(SESSION[-1][0] // 5)
    assert got["duration"] == 21.0
    cells = [r["columns"][0] for r in got["rows"]]
    assert [
        (r["start"], r["end"], [c["messages"], c["bytes"], c["pages"]])
        for r, c in zip(got["rows"], cells)
    ] == [
        (5.0 * i, None if i == last else 5.0 * (i + 1), buckets.get(i, [0, 0, 0]))
        for i in range(last + 1)
    ]


def test_io_stat_whole_input_in_one_interval(capture):
    got = statistics("-z", "io,stat,0", str(capture))["io_stat"][0]
    assert [r["columns"][0]["messages"] for r in got["rows"]] == [len(SESSION)]


@pytest.mark.parametrize("interval", ["10", "0.5", "30"])
def test_io_stat_agrees_with_tshark(interval):
    tshark = subprocess.run(
        ["tshark", "-r", str(CAPTURE), "-q", "-z", f"io,stat,{interval}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    row = re.compile(r"^\|\s*([\d.]+) <>\s*([\d.]+|Dur) \|\s*(\d+) \|\s*(\d+) \|$")
    theirs = [m.groups() for m in map(row.match, tshark.splitlines()) if m]
    ours_text = run("read", "-q", "-z", f"io,stat,{interval}", str(CAPTURE)).output
    ours_row = re.compile(r"^\|\s*([\d.]+) <>\s*([\d.]+|Dur) \|\s*(\d+) \|\s*(\d+) \|\s*\d+ \|$")
    ours = [m.groups() for m in map(ours_row.match, ours_text.splitlines()) if m]
    assert len(theirs) > 3
    assert ours == theirs
    duration = re.search(r"Duration: ([\d.]+) secs", tshark).group(1)
    assert f"| Duration: {duration} secs" in ours_text


def test_bad_stat_is_a_usage_error(capture):
    result = run("read", "-z", "nonsense", str(capture))
    assert result.exit_code == 2
    assert "invalid -z argument 'nonsense'" in result.output
    result = run("read", "-z", "io,stat,-1", str(capture))
    assert result.exit_code == 2
    assert "the interval must be a number of seconds, 0 or more" in result.output


# --- -q, the footer, several statistics ------------------------------------------------------


def test_quiet_prints_only_the_statistics(capture):
    result = run("read", "-q", "-z", "dm,stat", str(capture))
    assert not any(line.startswith("    1 ") for line in result.output.splitlines())
    assert result.output.startswith("=" * 10)


def test_pipe_gets_only_message_lines_without_z_session(capture):
    lines = run("read", str(capture)).output.splitlines()
    assert len(lines) == len(SESSION)
    assert [int(line.split()[0]) for line in lines] == list(range(1, len(SESSION) + 1))


def test_z_session_adds_the_footer_in_a_pipe(capture):
    lines = run("read", "-z", "session", str(capture)).output.splitlines()
    assert lines[len(SESSION)] == ""
    assert lines[len(SESSION) + 1 :] == [
        "Protocol: 2.0 (WIN10), negotiated in frame 1 (1 negotiation)",
        "Capabilities: not seen (the capture may start after them)",
        "Time: 2025-11-27 01:00:00.000000 UTC to 2025-11-27 01:00:21.000000 UTC "
        f"(21.000000 s), {len(SESSION)} messages",
    ]


def test_statistics_come_in_the_order_asked(capture):
    output = run("read", "-q", "-z", "transactions", "-z", "dm,stat", str(capture)).output
    assert output.index("Dynamic Memory transactions:") < output.index(
        "Dynamic Memory messages by direction and type:"
    )


def test_json_messages_then_statistics(capture):
    result = run("read", "-T", "jsonl", "-z", "dm,stat", str(capture))
    lines = result.output.splitlines()
    assert len(lines) == len(SESSION) + 1
    assert [json.loads(line)["frame"] for line in lines[:-1]] == list(range(1, len(SESSION) + 1))
    assert json.loads(lines[-1])["statistics"]["dm_stat"]["messages"] == len(SESSION)


def on_a_terminal(*args: str) -> str:
    """Run dmdissect with its stdout on a pseudo-terminal; what it wrote there."""
    leader, follower = pty.openpty()
    env = dict(os.environ, NO_COLOR="1", COLUMNS="300")
    process = subprocess.Popen(
        [sys.executable, "-m", "dmdissect", *args], stdout=follower, stderr=subprocess.PIPE, env=env
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait()
    os.close(leader)
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_terminal_gets_the_footer_unless_quiet(capture):
    shown = on_a_terminal("read", str(capture)).splitlines()
    assert shown[-1].startswith("Time: 2025-11-27 01:00:00.000000 UTC")
    assert len(shown) == len(SESSION) + 4
    quiet = on_a_terminal("read", "-q", str(capture))
    assert quiet == ""


def test_line_buffered_flushes_once_per_message(capture, monkeypatch):
    from dmdissect.views.output import Output

    flushes = []
    monkeypatch.setattr(Output, "flush", lambda self: flushes.append(1))
    assert run("read", "-l", str(capture)).exit_code == 0
    assert len(flushes) == len(SESSION)
    flushes.clear()
    run("read", str(capture))
    assert flushes == []


def test_no_command_means_read(capture):
    assert (
        run("-r", str(capture), "-c", "2").output
        == run("read", "-r", str(capture), "-c", "2").output
    )
    assert len(run("-r", str(capture), "-c", "2").output.splitlines()) == 2


def test_expert_counts_findings_by_severity_with_first_frame(tmp_path):
    trailing = hdr(5, 48, 1) + STATUS + bytes(8)  # 8 bytes past hdr.size: one warning each
    clean = hdr(5, 48, 2) + STATUS
    capture = write_pcap(
        tmp_path / "e.pcap", [(T0, clean), (T0 + 1, trailing), (T0 + 2, clean), (T0 + 3, trailing)]
    )
    got = statistics("-z", "expert", str(capture))["expert"]
    assert [(e["severity"], e["count"], e["first_frame"]) for e in got] == [("warning", 2, 2)]
    lines = run("read", "-q", "-z", "expert", str(capture)).output.splitlines()
    assert lines[:3] == ["", "Warns (2)", "============="]
    assert lines[4].split()[:1] == ["2"] and " 2  " in lines[4]


def test_expert_agrees_with_the_findings_of_each_message():
    messages = [
        json.loads(line) for line in run("read", "-T", "jsonl", str(FAULTY)).output.splitlines()
    ]
    by_severity = Counter(f["severity"] for m in messages for f in m["expert"])
    first = {}
    for m in messages:
        for f in m["expert"]:
            first.setdefault(f["severity"], m["frame"])
    got = statistics("-z", "expert", str(FAULTY))["expert"]
    totals = Counter()
    for entry in got:
        totals[entry["severity"]] += entry["count"]
    assert totals == by_severity
    assert {s: min(e["first_frame"] for e in got if e["severity"] == s) for s in totals} == first


def test_no_findings_says_so():
    lines = run("read", "-q", "-z", "expert", str(CAPTURE)).output.splitlines()
    assert lines == ["", "No expert findings"]


def test_io_stat_filter_columns_agree_with_tshark():
    filters = ["frame.len > 100", "frame.len <= 48"]
    tshark = subprocess.run(
        ["tshark", "-r", str(CAPTURE), "-q", "-z", "io,stat,30," + ",".join(filters)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    row = re.compile(r"^\|[^|]*\|\s*(\d+) \|\s*(\d+) \|\s*(\d+) \|\s*(\d+) \|$")
    theirs = [m.groups() for m in map(row.match, tshark.splitlines()) if m]
    got = statistics("-z", "io,stat,30," + ",".join(filters), str(CAPTURE))["io_stat"][0]
    assert got["columns"] == filters
    ours = [
        tuple(str(v) for c in r["columns"] for v in (c["messages"], c["bytes"]))
        for r in got["rows"]
    ]
    assert len(theirs) == 4
    assert ours == theirs


def test_io_stat_with_a_protocol_filter_counts_pages_of_matching_messages():
    got = statistics("-z", "io,stat,0,transaction.kind == balloon,", str(CAPTURE))["io_stat"][0]
    balloon, everything = got["rows"][0]["columns"]
    transactions = statistics("-z", "transactions", str(CAPTURE))["transactions"]
    pages = {k["kind"]: k["pages"] for k in transactions}
    assert balloon["pages"] == pages["balloon"]
    assert everything["pages"] == sum(pages.values())


def test_bad_io_stat_filter_is_a_usage_error():
    result = run("read", "-z", "io,stat,1,nonsense ==", str(CAPTURE))
    assert result.exit_code == 2
    assert "-z io,stat filter 'nonsense =='" in result.output
