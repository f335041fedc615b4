"""Torn captures, -c and option values as a user meets them: output, stderr, exit status.

Captures are written byte by byte from the pcap format (tests/pcapfile.py) and
the messages by hand, so the expected lines are independent of the reader.
"""

from __future__ import annotations

import json
import struct

import pytest
from click.testing import CliRunner

from dmdissect.cli import main
from tests.pcapfile import pcap_bytes

STATUS = struct.pack("<HHI", 5, 48, 3) + struct.pack("<QQQQII", 1000, 2000, 0, 0, 0, 0)
BALLOON = struct.pack("<HHI", 6, 16, 0) + struct.pack("<II", 512, 0)


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_a_pcap_cut_inside_a_record_shows_the_whole_ones_and_exits_2(tmp_path):
    path = tmp_path / "torn.pcap"
    data = pcap_bytes([(1.0, STATUS), (2.0, STATUS), (3.0, STATUS)])
    path.write_bytes(data[:-20])
    result = run("read", str(path))
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["1", "2", "3"]
    assert "record truncated: 28 of 48 bytes" in lines[2]
    offset = 24 + 2 * (16 + 48)
    assert result.stderr == (
        f"dmdissect: error: {path}: record 3 at offset {offset}: record truncated: "
        f"28 of 48 bytes; reading stopped\n"
    )


def test_a_record_of_which_no_message_byte_arrived_is_no_frame(tmp_path):
    """Cut right after a record header: no phantom 0-byte '?' message anywhere."""
    path = tmp_path / "torn.pcap"
    data = pcap_bytes([(1.0, STATUS), (2.0, STATUS)])
    path.write_bytes(data[: 24 + 64 + 16])
    result = run("read", "-T", "json", str(path))
    assert result.exit_code == 2
    objects = json.loads(result.stdout)
    assert [o["frame"] for o in objects] == [1]
    assert "?" not in [o["type_name"] for o in objects]
    assert "record truncated: 0 of 48 bytes" in result.stderr
    timeline = run("timeline", "-T", "json", str(path))
    assert timeline.exit_code == 2
    assert json.loads(timeline.stdout)[-1]["messages"] == 1
    out = tmp_path / "out.pcapng"
    converted = run("convert", str(path), str(out))
    assert converted.exit_code == 2
    assert [o["frame"] for o in json.loads(run("read", "-T", "json", str(out)).stdout)] == [1]


def test_a_record_claiming_4_gib_stops_with_its_offset(tmp_path):
    path = tmp_path / "huge.pcap"
    huge = struct.pack("<IIII", 2, 0, 0xFFFFFFFF, 0xFFFFFFFF) + b"\0" * 64
    path.write_bytes(pcap_bytes([(1.0, STATUS)]) + huge)
    result = run("read", str(path))
    assert result.exit_code == 2
    assert len(result.stdout.splitlines()[0].split()) > 3
    assert result.stderr == (
        f"dmdissect: error: {path}: record 2 at offset 88: record claims 4294967295 bytes, "
        f"more than the 262144-byte limit; reading stopped\n"
    )


def test_c_that_stops_inside_a_transaction_says_so(tmp_path):
    path = tmp_path / "c.pcap"
    path.write_bytes(pcap_bytes([(1.0, BALLOON), (2.0, STATUS)]))
    result = run("read", "-c", "1", str(path))
    assert result.exit_code == 0
    first = result.stdout.splitlines()[0]
    assert "incomplete: no response (reading stopped at -c 1)" in first
    assert "capture ended" not in first
    whole = run("read", str(path)).stdout.splitlines()[0]
    assert "(capture ended)" in whole


@pytest.mark.parametrize(
    "args",
    [
        ["read", "-c", str(2**63)],
        ["read", "-c", "99999999999999999999999999"],
        ["read", "-c", "0"],
        ["read", "-c", "-1"],
        ["read", "--linktype", "65536"],
        ["timeline", "--linktype", "-1"],
        ["convert", "--linktype", "70000", "in", "out"],
    ],
)
def test_out_of_range_option_values_are_usage_errors(tmp_path, args):
    path = tmp_path / "c.pcap"
    path.write_bytes(pcap_bytes([(1.0, STATUS)]))
    result = run(*args, str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith("dmdissect: error: ")
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.output


def test_the_text_timeline_of_a_torn_capture_shows_the_rows_read(tmp_path):
    path = tmp_path / "torn.pcap"
    data = pcap_bytes([(1.0, BALLOON), (2.0, STATUS), (3.0, STATUS)])
    path.write_bytes(data[:-1])
    result = run("timeline", str(path))
    assert result.exit_code == 2
    table = result.stdout.split("\n\n")[1].splitlines()[1:]  # the rows, before the health block
    assert [line.split()[2:4] for line in table] == [["balloon", "#1"], ["status", "#1"]]
    assert "reading stopped" in result.stderr
