"""``dmdissect read`` end to end through click's runner, on pcaps written by the tests."""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from dmdissect.cli import main
from tests.pcapfile import write_pcap
from tests.tshark import require_tshark

T0 = 1_764_205_200.0  # 2025-11-27 01:00:00 UTC


def hdr(msg_type: int, size: int, trans_id: int) -> bytes:
    return struct.pack("<HHI", msg_type, size, trans_id)


def rng(start: int, count: int) -> bytes:
    return struct.pack("<Q", start | count << 40)


VERSION_REQUEST = hdr(1, 16, 1) + struct.pack("<HHI", 0, 2, 0)
VERSION_RESPONSE = hdr(2, 16, 1) + struct.pack("<Q", 1)
CAPS = hdr(3, 32, 2) + struct.pack("<QQQ", 1 | 1 << 1 | 7 << 2, 0, 2**64 - 1)
STATUS = hdr(5, 48, 3) + struct.pack("<QQQQII", 262144, 131072, 0, 0, 0, 0)
BALLOON_REQUEST = hdr(6, 16, 0) + struct.pack("<II", 20480, 0)
BALLOON_PART = (
    hdr(7, 40, 4)
    + struct.pack("<II", 0, 3 << 1 | 1)
    + b"".join(rng(0x10000 + 512 * i, 512) for i in range(3))
)
TRUNCATED = STATUS[:20]

SESSION = [
    VERSION_REQUEST,
    VERSION_RESPONSE,
    CAPS,
    STATUS,
    BALLOON_REQUEST,
    BALLOON_PART,
    TRUNCATED,
]


@pytest.fixture
def capture(tmp_path):
    return write_pcap(
        tmp_path / "session.pcap", [(T0 + 0.25 * i, data) for i, data in enumerate(SESSION)]
    )


def run(*args, input=None, env=None):
    result = CliRunner().invoke(main, list(args), input=input, env=env)
    return result


def summary_lines(result) -> list[str]:
    return result.output.splitlines()


def test_summary_lines(capture):
    result = run("read", "-z", "session", str(capture))
    assert result.exit_code == 0, result.output
    lines = summary_lines(result)
    assert len(lines) == 11
    assert lines[7:] == [
        "",
        "Protocol: 2.0 (WIN10), negotiated in frame 1 (1 negotiation)",
        "Capabilities: guest balloon, hot-add (alignment 128 MiB)",
        "Time: 2025-11-27 01:00:00.000000 UTC to 2025-11-27 01:00:01.500000 UTC (1.500000 s), "
        "7 messages",
    ]
    expected = [
        ("1", "0.000000", "guest->host", "DM_VERSION_REQUEST", "id=1", "version 2.0 (WIN10)"),
        ("2", "0.250000", "host->guest", "DM_VERSION_RESPONSE", "id=1", "accepted"),
        (
            "3",
            "0.500000",
            "guest->host",
            "DM_CAPABILITIES_REPORT",
            "id=2",
            "balloon, hot-add (align 128 MiB), min 0 pages, max page 0xffffffffffffffff",
        ),
        (
            "4",
            "0.750000",
            "guest->host",
            "DM_STATUS_REPORT",
            "id=3",
            "avail 262144 pages (1024 MiB), committed 131072 pages (512 MiB)",
        ),
        ("5", "1.000000", "host->guest", "DM_BALLOON_REQUEST", "id=0", "20480 pages (80 MiB)"),
        (
            "6",
            "1.250000",
            "guest->host",
            "DM_BALLOON_RESPONSE",
            "id=4",
            "part: 3 ranges, 1536 pages, more follow",
        ),
    ]
    for line, fields in zip(lines, expected):
        head = line.split(None, 5)
        assert tuple(head[:5]) == fields[:5]
        assert head[5].startswith(fields[5]), line
    last = lines[6].split(None, 5)
    assert last[:5] == ["7", "1.500000", "guest->host", "DM_STATUS_REPORT", "id=3"]
    assert "[error: truncated: hdr.size 48 but only 20 bytes present]" in last[5]


def test_count_stops_early(capture):
    result = run("read", "-c", "2", "-z", "session", str(capture))
    assert result.exit_code == 0
    lines = summary_lines(result)
    assert [line.split()[3] for line in lines[:2]] == ["DM_VERSION_REQUEST", "DM_VERSION_RESPONSE"]
    assert lines[2] == ""
    assert lines[-1].endswith("(0.250000 s), 2 messages")


def test_read_file_option_and_stdin(capture):
    by_option = run("read", "-r", str(capture))
    by_stdin = run("read", "-", input=capture.read_bytes())
    assert by_option.exit_code == by_stdin.exit_code == 0
    assert by_option.output == run("read", str(capture)).output
    assert by_stdin.output == by_option.output


def test_json_array_exact(capture):
    result = run("read", "-T", "json", "-c", "3", str(capture))
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert [m["frame"] for m in data] == [1, 2, 3]
    first = data[0]
    assert first["time"] == T0
    assert first["direction"] == "guest->host"
    assert first["direction_source"] == "inferred"
    assert first["type_name"] == "DM_VERSION_REQUEST"
    assert first["hdr"] == {"type": 1, "type_name": "DM_VERSION_REQUEST", "size": 16, "trans_id": 1}
    assert first["version"] == {
        "minor_version": 0,
        "major_version": 2,
        "version": 0x20000,
        "name": "WIN10",
    }
    assert first["is_last_attempt"] == 0
    assert first["reservedz"] == 0
    assert first["expert"] == []
    assert data[2]["caps"] == {
        "balloon": 1,
        "hot_add": 1,
        "hot_add_alignment": 7,
        "hot_remove": 0,
        "reservedz": 0,
    }
    assert data[2]["min_page_cnt"] == 0
    assert data[2]["max_page_number"] == 2**64 - 1


def test_jsonl_ranges_and_findings(capture):
    result = run("read", "-T", "jsonl", str(capture))
    assert result.exit_code == 0
    objects = [json.loads(line) for line in result.output.splitlines()]
    assert len(objects) == 7
    part = objects[5]
    assert part["range_count"] == 3
    assert part["more_pages"] == 1
    assert part["range_array"] == [
        {"start_page": 0x10000 + 512 * i, "page_cnt": 512} for i in range(3)
    ]
    truncated = objects[6]
    assert truncated["num_avail"] == 262144
    assert truncated["num_committed"] is None
    assert {
        "id": "hvdm.size.truncated",
        "group": "malformed",
        "severity": "error",
        "message": "truncated: hdr.size 48 but only 20 bytes present",
        "field": "size",
    } in truncated["expert"]


def test_verbose_tree_shows_every_field_with_bit_positions(capture):
    result = run("read", "-V", "-c", "6", str(capture))
    assert result.exit_code == 0
    text = result.output
    assert "├── is_last_attempt: 0  (offset 12, bit 0)" in text
    assert "reservedz: 0  (offset 12, bits 1-31)" in text
    assert "hot_add_alignment: 7 (2^7 MiB = 128 MiB)" in text
    assert "more_pages: 1  (offset 12, bit 0)" in text
    assert "range_count: 3  (offset 12, bits 1-31)" in text
    assert "start_page: 0x10400 (66560)  (offset 32)" in text
    assert "page_cnt: 512 pages (2 MiB)  (offset 29)" in text
    assert "\x1b[" not in text


def test_hex_view_matches_xxd_layout(capture):
    result = run("read", "-x", "-c", "1", str(capture))
    lines = result.output.splitlines()
    assert lines[1] == ("0000  01 00 10 00 01 00 00 00 00 00 02 00 00 00 00 00   ................")
    assert lines[2] == ""


def test_unreadable_input_is_one_line_and_exit_2(tmp_path):
    missing = run("read", str(tmp_path / "nope.pcap"))
    assert missing.exit_code == 2
    assert missing.output.count("\n") == 1
    assert missing.output.startswith("dmdissect: error: ")
    assert "Traceback" not in missing.output
    directory = run("read", str(tmp_path))
    assert directory.exit_code == 2
    assert directory.output.count("\n") == 1


def test_usage_error_is_one_line_and_exit_2(capture):
    result = run("read", "-c", "-1", str(capture))
    assert (result.exit_code, result.stdout, result.stderr) == (
        2,
        "",
        "dmdissect: error: Invalid value for '-c' / '--count': -1 is not in the range "
        "1<=x<=2147483647. (see 'dmdissect read --help')\n",
    )
    result = run("frobnicate")
    assert (result.exit_code, result.stderr) == (
        2,
        "dmdissect: error: No such command 'frobnicate'. (see 'dmdissect --help')\n",
    )


def test_no_wrapping_in_pipes(capture):
    result = run("read", "-V", str(capture), env={"COLUMNS": "40"})
    assert "max_page_number: 0xffffffffffffffff  (offset 24)" in result.output


def test_user_bytes_are_never_markup(tmp_path):
    # An unknown type whose body spells rich markup must come out verbatim.
    body = b"[bold red]x[/]"
    data = hdr(77, 8 + len(body), 5) + body
    path = write_pcap(tmp_path / "[bold]x.pcap", [(T0, data)])
    result = run("read", "-V", "-x", "--color", "always", str(path))
    assert result.exit_code == 0
    assert f"body (undecoded): 14 bytes: {body.hex()}" in result.output
    assert "[bold]x.pcap" in result.output
    assert "M.......[bold re" in result.output


def test_colour_only_when_asked_and_no_color_wins(capture):
    plain = run("read", str(capture))
    assert "\x1b[" not in plain.output
    forced = run("read", "--color", "always", str(capture))
    assert "\x1b[" in forced.output
    assert (
        "\x1b[" not in run("read", "--color", "always", str(capture), env={"NO_COLOR": "1"}).output
    )


# --- hostile and unusual inputs, output hygiene ------------------------------------------------


def _block(kind: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    return struct.pack("<II", kind, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))


def _pcapng(interfaces: list[int], packets: list[tuple[int, bytes]]) -> bytes:
    """pcapng from the format: SHB, one IDB per link type, EPBs on the given interfaces."""
    out = _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    out += b"".join(_block(1, struct.pack("<HHI", linktype, 0, 0)) for linktype in interfaces)
    for number, (ifid, data) in enumerate(packets):
        out += _block(6, struct.pack("<IIIII", ifid, 0, number, len(data), len(data)) + data)
    return out


def test_json_stays_valid_when_reading_fails_part_way(tmp_path):
    path = tmp_path / "mixed.pcapng"
    path.write_bytes(
        _pcapng([147, 1], [(0, VERSION_REQUEST), (1, b"\xff" * 14), (0, VERSION_RESPONSE)])
    )
    result = run("read", "-T", "json", str(path))
    assert result.exit_code == 2
    objects = json.loads(result.stdout)
    assert [m["type_name"] for m in objects] == ["DM_VERSION_REQUEST"]
    assert objects[0]["transaction"]["reason"] == "no response (reading stopped by an input error)"
    assert result.stderr == (
        f"dmdissect: error: {path}: link type 1 (ETHERNET) is not a "
        "Dynamic Memory link type; use --linktype 1 to force\n"
    )


def test_text_without_a_dump_and_binary_noise_are_unreadable(tmp_path):
    noise = tmp_path / "dmesg.txt"
    noise.write_text(
        "[    1.0] hv_vmbus: registering driver hv_utils\n"
        "[   45.0] hv_balloon: a line the driver never prints\n"
    )
    result = run("read", str(noise))
    assert (result.exit_code, result.output) == (
        2,
        f"dmdissect: error: {noise} holds no hex dump of a Dynamic Memory message "
        "(and is not a capture nor a log of QEMU's hv-balloon, QMP or the guest's "
        "hv_balloon driver)\n",
    )
    binary = tmp_path / "noise.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    result = run("read", str(binary))
    assert result.exit_code == 2
    assert result.output.startswith(f"dmdissect: error: {binary} is not a pcap, pcapng or hex dump")
    assert run("read", "--format", "raw", str(binary)).exit_code == 0


def test_forcing_hex_on_a_capture_is_an_error(capture):
    result = run("read", "--format", "hex", str(capture))
    assert (result.exit_code, result.output) == (
        2,
        f"dmdissect: error: {capture} is binary data, not a hex dump\n",
    )


def test_control_characters_in_comments_are_shown_escaped(tmp_path):
    from dmdissect.sources.frame import Frame
    from dmdissect.sources.writer import write_frames

    path = tmp_path / "comment.pcapng"
    with path.open("wb") as out:
        write_frames([Frame(1, STATUS, time=T0, comment="a\nb \x1b]0;pwned\x07 \x1b[2J café")], out)
    result = run("read", "-V", str(path))
    assert result.exit_code == 0
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "comment: a\\nb \\x1b]0;pwned\\x07 \\x1b[2J café" in result.output


def test_an_output_encoding_without_the_characters_gets_escapes(tmp_path):
    import subprocess
    import sys

    from dmdissect.sources.frame import Frame
    from dmdissect.sources.writer import write_frames

    path = tmp_path / "utf.pcapng"
    with path.open("wb") as out:
        write_frames([Frame(1, STATUS, time=T0, comment="café →")], out)
    result = subprocess.run(
        [sys.executable, "-m", "dmdissect", "read", "-V", str(path)],
        capture_output=True,
        env={"PYTHONIOENCODING": "ascii", "PATH": ""},
    )
    assert result.returncode == 0, result.stderr
    assert b"comment: caf\\xe9 \\u2192" in result.stdout


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path):
    import subprocess
    import sys

    for args in (["read", "-V"], ["timeline", "--color", "always"], ["read"]):
        command = [sys.executable, "-m", "dmdissect", *args, "captures/linux-qemu.pcapng"]
        producer = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=Path(__file__).resolve().parent.parent,
        )
        producer.stdout.readline()
        producer.stdout.close()
        assert producer.wait(timeout=30) == 0, args
        assert producer.stderr.read() == b""


def test_verbose_hex_puts_a_blank_line_between_tree_and_bytes_as_tshark(tmp_path):
    """``-V -x``: tree, a blank line, the hex rows, a blank line: the layout of the real
    ``tshark -V -x``, whose rows are the same."""
    capture = Path(__file__).resolve().parent.parent / "captures" / "linux-qemu.pcapng"
    ours = run("read", "-V", "-x", "-c", "3", str(capture)).output.splitlines()
    theirs = subprocess.run(
        [require_tshark(), "-r", str(capture), "-V", "-x", "-c", "3"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for lines in (ours, theirs):
        starts = [i for i, line in enumerate(lines) if line.startswith("0000  ")]
        assert len(starts) == 3
        assert all(lines[i - 1] == "" and lines[i - 2] != "" for i in starts)
    assert [line for line in ours if line[:4].isdigit() and line[4:6] == "  "] == [
        line for line in theirs if line[:4].isdigit() and line[4:6] == "  "
    ]
