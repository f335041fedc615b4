"""``-Y``, ``-T fields -e -E`` and ``dmdissect fields`` end to end.

The real tshark is the oracle where it can be: it evaluates the same
filters over the frame fields and raw bytes of the shipped captures, and
prints ``-T fields -E ...`` for the fields both tools know, so the frame
sets and the layout of the lines must be the same.  Everything else is
checked against hand-written expectations.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from dmdissect.cli import main
from tests.pcapfile import write_pcap

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = sorted((ROOT / "captures").glob("*.pcapng"))
TSHARK = shutil.which("tshark")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark is installed by .ci/run")


def run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def tshark(*args) -> str:
    env = dict(os.environ, TZ="UTC", LC_ALL="C")
    done = subprocess.run(
        [TSHARK, *map(str, args)], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout


def frames_of(jsonl: str) -> list[int]:
    return [json.loads(line)["frame"] for line in jsonl.splitlines()]


# --- -Y selects what tshark selects -----------------------------------------------------

FRAME_FILTERS = [
    "frame[0:2] == 07:00",
    "frame[0] == 0x05 && frame.len == 48",
    "frame.len > 100 or frame.number in {1, 3..5}",
    'frame.comment contains "fault"',
    'frame.comment matches "^BALLOON"',
    "not frame.comment",
    "frame[-4:] == 00:00:00:00",
    "frame[4:4] == 0a:00:00:00",
    "frame.time_relative > 50 and frame.time_relative <= 60",
    "len(frame) == 16",
    "frame.number == 010",
    'frame.comment not in {"x", "y"}',
    'frame.comment != "x"',
    'all frame.comment != "x"',
    "frame.len in {16, 20..40}",
    "frame.len + 8 > 40",
    "!(frame.len == 16) && frame.number <= 0x20",
    "frame.len#1 == 16",
    "frame.len#2 == 16",
    "frame.len#[1-2] > 40",
    "frame.len#[-1] == 16 or frame.len#[2:] == 24",
    "frame#1[0:2] == 07:00",
    "frame.len == ${frame.len}",
    "!(frame.len == ${frame.len})",
    "frame.len != ${frame.number} or frame.number == 2",
    "frame.len in {${frame.len}, 16}",
    "frame.len in {frame.number, 24}",
    "{frame.len + 8} * 2 > 80",
    "frame.len == {1 + 15}",
    "frame.len == {40 / 2} - 4 || frame.len == 33 % 9 + 21",
    "-frame.len < -40",
    "frame[0] == '\\a'",
    "frame[0] == '\\005' && frame.len > 40",
    'frame contains "\\x07\\x00\\x10"',
    'frame.comment contains "\\x61l"',
    'frame.comment matches "(?-i)BALLOON"',
    'frame.comment matches "(?s-i)balloon"',
    "frame[0:2] >= 06:00 && frame[0:2] < 0a:00",
    "frame[1-2] == 00:10",
    "count(frame.comment#2) == 0",
    "max(frame.len, frame.number) == 16",
    'upper(frame.comment) contains "BALLOON"',
    'string(frame.number) == "3"',
    # PCRE2's own syntax, which Python's re lacks: POSIX classes, properties, \K, \h, \x{}, \Q.
    'frame.comment matches "[[:alpha:]]"',
    'frame.comment matches "^[[:upper:]][[:digit:][:space:]]*"',
    'frame.comment matches "\\\\p{L}\\\\p{N}"',
    'frame.comment matches "e\\\\K"',
    'frame.comment matches "\\\\h"',
    'frame.comment matches "\\\\x{51}EMU"',
    'frame.comment matches "\\\\Q(x)\\\\E|ball"',
]


@needs_tshark
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
@pytest.mark.parametrize("text", FRAME_FILTERS)
def test_same_frames_as_tshark(capture, text):
    want = [
        int(n)
        for n in tshark("-r", capture, "-Y", text, "-T", "fields", "-e", "frame.number").split()
    ]
    result = run("read", "-T", "jsonl", "-Y", text, capture)
    assert result.exit_code == 0, result.output
    assert frames_of(result.output) == want


def test_filtered_lines_are_the_unfiltered_lines_of_those_frames():
    """Frame numbers, relative times and transaction links are those of the whole input."""
    capture = ROOT / "captures" / "linux-qemu.pcapng"
    whole = run("read", capture).output.splitlines()
    by_frame = {int(line.split()[0]): line for line in whole if line[:5].strip().isdigit()}
    shown = run("read", "-Y", "hdr.type == DM_BALLOON_RESPONSE", capture).output.splitlines()
    lines = [line for line in shown if line[:5].strip().isdigit()]
    assert [int(line.split()[0]) for line in lines] == [13, 15, 58, 60, 97, 99, 101]
    assert lines == [by_frame[int(line.split()[0])] for line in lines]


def test_timeline_shows_the_rows_of_matching_messages():
    capture = ROOT / "captures" / "linux-qemu.pcapng"
    text = "range_array.page_cnt < 512 or num_avail < 300000"
    matched = [
        json.loads(line)
        for line in run("read", "-T", "jsonl", "-Y", text, capture).output.splitlines()
    ]
    keys = {(m["transaction"]["kind"], m["transaction"]["number"]) for m in matched}
    assert keys  # the filter must pick something for the test to mean anything
    whole = json.loads(run("timeline", "-T", "json", capture).output)
    rows = [row for row in whole if row["kind"] not in ("verdict", "session")]
    verdicts = [row for row in whole if row["kind"] == "verdict"]  # of the whole session
    want = [row for row in rows if (row["kind"], row["number"]) in keys] + verdicts + [whole[-1]]
    got = json.loads(run("timeline", "-T", "json", "-Y", text, capture).output)
    assert got == want


@needs_tshark
def test_convert_writes_the_matching_frames(tmp_path):
    capture = ROOT / "captures" / "linux-qemu.pcapng"
    out = tmp_path / "balloon.pcapng"
    result = run("convert", "-Y", "hdr.type in {6..9}", capture, out)
    assert result.exit_code == 0, result.output
    want = tshark(
        "-r",
        capture,
        "-Y",
        " or ".join(f"frame[0:2] == 0{t}:00" for t in range(6, 10)),
        "-T",
        "fields",
        "-e",
        "data.data",
    )
    assert want and tshark("-r", out, "-T", "fields", "-e", "data.data") == want


@pytest.mark.parametrize("command", [["read"], ["timeline"], ["convert"]])
def test_invalid_filter_is_one_line_and_status_2(command, tmp_path):
    capture = ROOT / "captures" / "linux-qemu.pcapng"
    extra = [tmp_path / "out.pcapng"] if command == ["convert"] else []
    result = run(*command, "-Y", "hdr.type == DM_BALOON_RESPONSE", capture, *extra)
    assert result.exit_code == 2
    assert result.output == (
        'dmdissect: error: -Y: "DM_BALOON_RESPONSE" is not a valid number (column 13)\n'
    )
    assert not extra or not extra[0].exists()


@needs_tshark
def test_a_set_without_commas_works_with_one_warning_as_in_wireshark_3_6(tmp_path):
    """``{6 7 8}`` (the issue's and Wireshark 3.6's form) means ``{6, 7, 8}``, with a warning
    on stderr, because tshark 4.0 refuses it: the real tshark shows that it does."""
    capture = ROOT / "captures" / "linux-qemu.pcapng"
    spaced = run("read", "-Y", "hdr.type in {6 7 8}", capture)
    commas = run("read", "-Y", "hdr.type in {6, 7, 8}", capture)
    assert spaced.exit_code == commas.exit_code == 0
    assert spaced.stdout == commas.stdout and spaced.stdout.count("\n") == 24
    assert commas.stderr == ""
    assert spaced.stderr == (
        "dmdissect: warning: -Y: set elements separated by whitespace alone are deprecated "
        "since Wireshark 3.6 and refused by 4.0: separate them with commas, as in {6, 7, 8} "
        "(column 16)\n"
    )
    refused = subprocess.run(
        [TSHARK, "-r", capture, "-Y", "frame.number in {6 7 8}"], capture_output=True, text=True
    )
    assert refused.returncode != 0 and '"7" was unexpected in this context.' in refused.stderr


# --- -T fields as tshark -T fields ------------------------------------------------------

E_OPTIONS = [
    [],
    ["-E", "header=y"],
    ["-E", "header=y", "-E", "separator=,", "-E", "quote=d"],
    ["-E", "separator=/s", "-E", "quote=s"],
    ["-E", "separator=;;", "-E", "header=y"],
    ["-E", "separator=/t", "-E", "aggregator=/s", "-E", "occurrence=f"],
    ["-E", "bom=y", "-E", "header=y", "-E", "quote=d"],
    ["-E", "quote=n", "-E", "occurrence=l"],
]


@needs_tshark
@pytest.mark.parametrize("options", E_OPTIONS, ids=" ".join)
def test_fields_lines_as_tshark(options):
    capture = ROOT / "captures" / "faulty.pcapng"  # comments with commas, none with quotes
    fields = ["-e", "frame.number", "-e", "frame.comment", "-e", "frame.len"]
    want = tshark("-r", capture, "-T", "fields", *fields, *options)
    result = run("read", "-T", "fields", *fields, *options, capture)
    assert result.exit_code == 0, result.output
    assert result.output == want


def hdr(msg_type: int, size: int, trans_id: int) -> bytes:
    return struct.pack("<HHI", msg_type, size, trans_id)


def page_range(start: int, count: int) -> bytes:
    return struct.pack("<Q", start | count << 40)


BALLOON_PART = (
    hdr(7, 32, 4)
    + struct.pack("<II", 0, 2 << 1 | 1)
    + page_range(0x10000, 512)
    + page_range(0x20000, 7)
)
CAPS = hdr(3, 32, 2) + struct.pack("<QQQ", 1 | 1 << 1 | 7 << 2, 0, 2**64 - 1)


@pytest.fixture
def small(tmp_path):
    return write_pcap(
        tmp_path / "small.pcap", [(1_767_225_600.5, CAPS), (1_767_225_601.25, BALLOON_PART)]
    )


@pytest.mark.parametrize(
    "options, lines",
    [
        ([], ["1\t\t", "2\t65536,131072\t512,7"]),
        (["-E", "occurrence=f"], ["1\t\t", "2\t65536\t512"]),
        (["-E", "occurrence=l", "-E", "separator=,"], ["1,,", "2,131072,7"]),
        (["-E", "aggregator=/s", "-E", "quote=d"], ['"1"\t\t', '"2"\t"65536 131072"\t"512 7"']),
        (
            ["-E", "aggregator=;;", "-E", "header=y"],
            [
                "frame.number\trange_array.start_page\thvdm.range_array.page_cnt",
                "1\t\t",
                "2\t65536;131072\t512;7",
            ],
        ),
    ],
)
def test_repeated_fields_and_occurrences(small, options, lines):
    """Decimal here: -e on a hex field is tested below."""
    result = run(
        "read", "-T", "fields", "-e", "frame.number", "-e", "range_array.start_page", "-e",
        "hvdm.range_array.page_cnt", *options, small,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    got = result.output.splitlines()
    # start_page is a hex field: tshark writes 0x and the 10 digits of 40 bits
    expected = [
        line.replace("65536", "0x0000010000").replace("131072", "0x0000020000") for line in lines
    ]
    assert got == expected


def test_field_values_as_tshark_writes_them(small):
    result = run(
        "read", "-T", "fields", "-e", "frame.time", "-e", "frame.time_relative", "-e",
        "frame.time_epoch", "-e", "hdr.type", "-e", "caps.hot_add", "-e",
        "caps.hot_add_alignment", "-e", "max_page_number", "-e", "hdr", "-e", "transaction.kind",
        "-e", "transaction.complete",
        small,
    )  # fmt: skip
    assert result.output.splitlines() == [
        "Jan  1, 2026 00:00:00.500000 UTC\t0.000000\t1767225600.500000\t3\t1\t7\t"
        "0xffffffffffffffff\t0300200002000000\tcapabilities\t0",
        "Jan  1, 2026 00:00:01.250000 UTC\t0.750000\t1767225601.250000\t7\t\t\t\t"
        "0700200004000000\tballoon\t0",
    ]


@needs_tshark
def test_quotes_inside_values_are_doubled(tmp_path):
    """tshark 4.0 leaves them as they are (a broken CSV); the csv module doubles them."""
    capture = tmp_path / "quoted.pcapng"
    subprocess.run(
        ["editcap", "-a", '1:say "hi", ok', ROOT / "captures" / "linux-qemu.pcapng", capture],
        check=True,
        capture_output=True,
    )
    result = run(
        "read", "-c", "1", "-T", "fields", "-E", "quote=d", "-E", "separator=,", "-e",
        "frame.number", "-e", "frame.comment", "-e", "frame.interface", capture,
    )  # fmt: skip
    # frame.interface is the pcapng interface, 0 here (tshark's frame.interface_id).
    assert result.output == '"1","say ""hi"", ok","0"\n'


E_HELP = (
    "(bom=y|n  header=y|n  separator=/t|/s|<character>  occurrence=f|l|a  "
    "aggregator=,|/s|<character>  quote=d|s|n)"
)


@pytest.mark.parametrize(
    "args, message",
    [
        (["-T", "fields"], "-T fields was given, but no fields were given with -e"),
        (
            ["-T", "fields", "-e", "nope", "-e", "frame.len", "-e", "hvdm.nada"],
            "some fields aren't valid: nope, hvdm.nada",
        ),
        (
            ["-T", "fields", "-e", "frame.len", "-E", "quote=x"],
            '-E "quote=x" is not a valid field output option=value pair ' + E_HELP,
        ),
        (
            ["-T", "fields", "-e", "frame.len", "-E", "header"],
            '-E "header" is not a valid field output option=value pair ' + E_HELP,
        ),
        (["-e", "frame.len"], "-e and -E need -T fields"),
    ],
)
def test_bad_fields_options(small, args, message):
    result = run("read", *args, small)
    assert (result.exit_code, result.output) == (2, f"dmdissect: error: {message}\n")


# --- dmdissect fields -------------------------------------------------------------------


def test_fields_table():
    result = run("fields", "hvdm.range_array", "num_avail")
    assert result.output.splitlines() == [
        "field                   type    bits  position                     messages  description",
        "num_avail               uint    64    @8                           5         "
        "Available memory in pages",
        "range_array             list    -     differs                      7,8,14    "
        "Page ranges (union dm_mem_page_range) "
        "(position by message type: 7,8: @16; 14: @24; a filter matches any)",
        "range_array.start_page  uint[]  40    item@0 & 0xffffffffff        7,8,14    "
        "First page of the range",
        "range_array.page_cnt    uint[]  24    item@0 & 0xffffff0000000000  7,8,14    "
        "Pages in the range",
    ]


def test_fields_json_names_work_in_filters_and_fields(small):
    entries = json.loads(run("fields", "-T", "json").output)
    by_name = {entry["name"]: entry for entry in entries}
    assert by_name["caps.hot_add"]["occurrences"] == [
        {"message": 3, "offset": 8, "size": 8, "bits": 1, "mask": 2, "shift": 1}
    ]
    assert by_name["hdr.type"]["values"]["7"] == "DM_BALLOON_RESPONSE"
    for name in by_name:
        assert run("read", "-T", "jsonl", "-Y", f"hvdm.{name}", small).exit_code == 0, name
    names = [arg for name in by_name for arg in ("-e", name)]
    result = run("read", "-T", "fields", *names, small)
    assert result.exit_code == 0
    assert [len(line.split("\t")) for line in result.output.splitlines()] == [len(by_name)] * 2
