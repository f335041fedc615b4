"""Hex dump input: every pasted format back to the exact message bytes.

The messages are built here with struct.pack from the header layout, never
with the code under test.  Dumps come from three places: fixtures made by the
real tools (tests/fixtures/hex/MAKE.sh, committed with their outputs), the
real tools run live when installed, and re-implementations of what has no
tool here (the kernel's print_hex_dump, tshark/tcpdump layouts), which are
themselves checked against the real tools where those exist.
"""

from __future__ import annotations

import io
import os
import random
import shutil
import struct
import subprocess
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dmdissect.findings import Severity
from dmdissect.sources.detect import detect_format
from dmdissect.sources.errors import InputError
from dmdissect.sources.hex import MAX_FOREIGN_LINES, MAX_MESSAGE, iter_hex_frames, timestamps
from tests.hexbuild import (
    BALLOON_REQUEST,
    BALLOON_RESPONSE,
    DUMP_PREFIX_ADDRESS,
    DUMP_PREFIX_NONE,
    DUMP_PREFIX_OFFSET,
    HOT_ADD_REQUEST,
    MESSAGES,
    STAMP_TIME,
    STAMPS,
    STATUS_REPORT,
    UNBALLOON_RESPONSE,
    hdr,
    hex_dump_to_buffer,
    kernel_dump,
    page_range,
    print_hex_dump,
    utc,
)

FIXTURES = Path(__file__).parent / "fixtures" / "hex"


def frames_of(text: str | bytes, hex_order: str | None = None, name: str = "t"):
    raw = text.encode() if isinstance(text, str) else text
    return list(iter_hex_frames(io.BytesIO(raw), name, hex_order))


def datas(text: str | bytes, hex_order: str | None = None) -> list[bytes]:
    return [f.data for f in frames_of(text, hex_order)]


# --- layouts of tools that are not run here, checked against the real ones below ------


def render(data: bytes) -> str:
    return "".join(chr(c) if 0x20 <= c < 0x7F else "." for c in data)


def tshark_x(messages) -> str:
    blocks = []
    for message in messages:
        lines = []
        for off in range(0, len(message), 16):
            row = message[off : off + 16]
            hexpart = " ".join(f"{b:02x}" for b in row)
            lines.append(f"{off:04x}  {hexpart:<47}   {render(row)}")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks) + "\n"


def wireshark_copy(messages) -> str:
    """Wireshark's "Copy as Hex Dump": three spaces after the offset."""
    return "".join(
        "".join(
            f"{off:04x}   {' '.join(f'{b:02x}' for b in m[off : off + 16]):<47}   "
            f"{render(m[off : off + 16])}\n"
            for off in range(0, len(m), 16)
        )
        + "\n"
        for m in messages
    )


def render_tcpdump(data: bytes) -> str:
    """tcpdump's ASCII column: graphic characters only (ND_ASCII_ISGRAPH), so a
    space shows as '.' too."""
    return "".join(chr(c) if 0x20 < c < 0x7F else "." for c in data)


def tcpdump_block(message: bytes, ascii: bool) -> list[str]:
    lines = []
    for off in range(0, len(message), 16):
        row = message[off : off + 16]
        words = " ".join(row[i : i + 2].hex() for i in range(0, len(row), 2))
        line = f"\t0x{off:04x}:  {words}"
        lines.append(f"{line}{' ' * (39 - len(words))}  {render_tcpdump(row)}" if ascii else line)
    return lines


def tcpdump(messages, ascii=True, stamps=None) -> str:
    """tcpdump -X / -xx on a file of an unsupported link type: each packet twice."""
    out = []
    for n, message in enumerate(messages):
        stamp = stamps[n] if stamps else f"12:00:0{n % 10}.{n:06d}"
        out.append(f"{stamp} UNSUPPORTED")
        out += tcpdump_block(message, True)
        out += tcpdump_block(message, ascii)
    return "\n".join(out) + "\n"


def run_tool(args: list[str], data: bytes) -> str:
    return subprocess.run(args, input=data, capture_output=True, check=True).stdout.decode()


# --- fixtures made by the real tools ------------------------------------------------------


def fixture(name: str) -> str:
    path = FIXTURES / name
    if not path.exists():
        pytest.skip(f"{name} is missing: its tool was not installed when MAKE.sh ran")
    return path.read_text()


def test_fixture_messages_are_the_struct_built_ones():
    for n, message in enumerate(MESSAGES, 1):
        assert (FIXTURES / f"msg{n}.bin").read_bytes() == message


@pytest.mark.parametrize(
    "name",
    [
        "xxd.txt",
        "xxd_g1.txt",
        "xxd_e.txt",
        "xxd_p.txt",
        "xxd_i.txt",
        "hexdump_C.txt",
        "hexdump.txt",
        "od_x1z_v.txt",
        "od_x1z.txt",
        "od_octal.txt",
        "od_decimal_x2.txt",
        "tshark_x.txt",
        "tcpdump_X.txt",
        "tcpdump_xx.txt",
        "text2pcap_io.txt",
        "xxd_g1_nocolon.txt",
        "xxd_nocolon.txt",
        "text2pcap_doc.txt",
        "text2pcap_offset4.txt",
    ],
)
def test_tool_fixture_decodes_to_the_messages(name):
    frames = frames_of(fixture(name), name=name)
    assert [f.data for f in frames] == MESSAGES
    assert [f.index for f in frames] == [1, 2, 3, 4, 5]
    assert all(not f.findings for f in frames), [f.findings for f in frames]
    assert all(f.origin.startswith(f"{name}:") for f in frames)


def test_fixture_origins_point_at_each_dump_first_line():
    text = fixture("hexdump_C.txt")
    frames = frames_of(text, name="hexdump_C.txt")
    lines = text.splitlines()
    for frame, message in zip(frames, MESSAGES):
        number = int(frame.origin.rsplit(":", 1)[1])
        assert lines[number - 1].startswith("00000000  " + f"{message[0]:02x}")


def test_od_without_v_repeats_the_star_line():
    text = fixture("od_x1z.txt")
    assert "*" in text.splitlines()
    assert datas(text)[1] == STATUS_REPORT


def _tshark_fields() -> list[tuple[float, str]]:
    rows = []
    for line in fixture("text2pcap_io.tshark-fields.txt").splitlines():
        epoch, flags = line.split("\t")
        rows.append((float(epoch), {1: "guest->host", 2: "host->guest"}[int(flags, 16) & 3]))
    return rows


def test_text2pcap_preamble_times_and_directions_agree_with_text2pcap():
    """text2pcap itself read text2pcap_io.txt into dm.pcapng; tshark printed what it
    understood.  The I/O lines must mean the same to us."""
    frames = frames_of(fixture("text2pcap_io.txt"))
    expected = _tshark_fields()
    assert [f.time for f in frames] == pytest.approx([t for t, _ in expected], abs=1e-6)
    assert [f.direction for f in frames] == [d for _, d in expected]
    assert all(f.direction_source == "text" for f in frames)


def test_tcpdump_summary_line_times_agree_with_text2pcap():
    frames = frames_of(fixture("tcpdump_X.txt"))
    assert [f.time for f in frames] == pytest.approx([t for t, _ in _tshark_fields()], abs=1e-6)
    assert all(f.direction is None and f.direction_source == "unknown" for f in frames)


def test_tshark_layout_generator_matches_tshark():
    assert tshark_x(MESSAGES) == fixture("tshark_x.txt")


def test_tcpdump_layout_generator_matches_tcpdump():
    stamps = [
        line.split(" UNSUPPORTED")[0]
        for line in fixture("tcpdump_X.txt").splitlines()
        if "UNSUPPORTED" in line
    ]
    assert tcpdump(MESSAGES, stamps=stamps) == fixture("tcpdump_X.txt")
    assert tcpdump(MESSAGES, ascii=False, stamps=stamps) == fixture("tcpdump_xx.txt")


# --- the kernel's print_hex_dump in dmesg, journalctl and syslog lines ---------------------


def test_kernel_reimplementation_matches_the_documented_examples():
    """The two examples in lib/hexdump.c's own comment for print_hex_dump()."""
    data = bytes(range(0x40, 0x50))
    assert hex_dump_to_buffer(data, 16, 1, True) == (
        "40 41 42 43 44 45 46 47 48 49 4a 4b 4c 4d 4e 4f  @ABCDEFGHIJKLMNO"
    )
    assert hex_dump_to_buffer(bytes(range(0x70, 0x80)), 16, 4, True) == (
        "73727170 77767574 7b7a7978 7f7e7d7c  pqrstuvwxyz{|}~."
    )


def test_kernel_short_line_falls_back_to_single_bytes():
    line = hex_dump_to_buffer(b"\x07\x00\x38", 16, 4, True)
    assert line.startswith("07 00 38 ") and line.endswith("..8")


@pytest.mark.parametrize("stamp", sorted(STAMPS))
@pytest.mark.parametrize("prefix_type", [DUMP_PREFIX_OFFSET, DUMP_PREFIX_ADDRESS, DUMP_PREFIX_NONE])
@pytest.mark.parametrize("groupsize", [1, 2, 4, 8])
@pytest.mark.parametrize("rowsize", [16, 32])
@pytest.mark.parametrize("ascii", [True, False])
def test_kernel_dump_every_variant(stamp, prefix_type, groupsize, rowsize, ascii):
    times = [100.5, 101.25, 102.000001, 103.75, 1234.5]
    text = kernel_dump(MESSAGES, prefix_type, rowsize, groupsize, ascii, stamp, times=times)
    frames = frames_of(text)
    assert [f.data for f in frames] == MESSAGES
    expected = [STAMP_TIME[stamp](t) for t in times]
    assert [f.time for f in frames] == pytest.approx(expected, abs=1e-6)
    assert all(not f.findings for f in frames), [f.findings for f in frames]


@pytest.mark.parametrize("groupsize", [2, 4, 8])
def test_kernel_lines_without_any_prefix_use_ascii_column(groupsize):
    """``dmesg -t`` with an empty prefix_str: the line is shaped exactly like xxd's,
    and only the ASCII column tells the kernel's reversed words apart."""
    text = kernel_dump(MESSAGES, groupsize=groupsize, stamp="none", prefix_str="")
    assert datas(text) == MESSAGES


def test_kernel_real_addresses_follow_each_other():
    text = kernel_dump(
        MESSAGES, DUMP_PREFIX_ADDRESS, groupsize=4, ascii=False, address=0xFFFF888100A3C000
    )
    assert datas(text) == MESSAGES


def test_kernel_ptrval_before_hashing_is_ready():
    text = kernel_dump([BALLOON_RESPONSE], DUMP_PREFIX_ADDRESS, groupsize=1)
    lines = [
        line[:15] + "hv_balloon: (____ptrval____): " + line.split(": ", 2)[2]
        for line in text.splitlines()
    ]
    assert datas("\n".join(lines)) == [BALLOON_RESPONSE]


def legacy_hex_dump_to_buffer(buf: bytes, rowsize: int, groupsize: int) -> str:
    """Kernels before v4.0: two spaces after the last group whatever the row length."""
    length = min(len(buf), rowsize)
    if length % groupsize:
        groupsize = 1
    if groupsize > 1:
        line = " ".join(
            f"{int.from_bytes(buf[j : j + groupsize], 'little'):0{2 * groupsize}x}"
            for j in range(0, length, groupsize)
        )
        return line + "  " + render(buf[:length])
    return " ".join(f"{b:02x}" for b in buf[:length]).ljust(3 * rowsize + 1) + render(buf[:length])


@pytest.mark.parametrize("groupsize", [1, 2, 4, 8])
def test_legacy_kernel_ascii_column_right_after_short_line(groupsize):
    """``00000010: 34333231 64636261  1234abcd``: a hex-looking ASCII column two
    spaces after a short line is still the ASCII column."""
    lines = []
    for message in MESSAGES:
        for off in range(0, len(message), 16):
            row = legacy_hex_dump_to_buffer(message[off : off + 16], 16, groupsize)
            lines.append(f"[  100.500000] hv_balloon: {off:08x}: {row}")
    text = "\n".join(lines)
    if groupsize == 4:
        assert "00000010: 34333231 64636261  1234abcd" in text
    assert datas(text) == MESSAGES


# --- the ASCII column is never read as bytes -----------------------------------------------


def test_hex_looking_ascii_column_in_every_tool_fixture():
    for name in (
        "xxd.txt",
        "xxd_g1.txt",
        "xxd_e.txt",
        "hexdump_C.txt",
        "od_x1z_v.txt",
        "tshark_x.txt",
        "tcpdump_X.txt",
    ):
        text = fixture(name)
        assert "1234abcd" in text and "cafe" in text
        assert datas(text)[3:] == [BALLOON_REQUEST, HOT_ADD_REQUEST], name


def test_ascii_column_after_collapsed_spaces():
    """Chat tools squeeze runs of spaces: the ASCII column then follows one space."""
    collapsed = "\n".join(" ".join(line.split()) for line in fixture("xxd.txt").splitlines())
    assert "00000010: 3132 3334 6162 6364 1234abcd" in collapsed
    assert datas(collapsed) == MESSAGES


def test_plain_line_with_hex_looking_ascii_column():
    text = "31 32 33 34 61 62 63 64 08 00 00 00 00 00 00 00  1234abcd........\n"
    assert datas(text) == [bytes.fromhex("3132333461626364080000000000" + "0000")]


# --- broken lines give findings and keep what can be read ----------------------------------


def severities(frame) -> list[Severity]:
    return [f.severity for f in frame.findings]


def only(text: str):
    frames = frames_of(text)
    assert len(frames) == 1, frames
    return frames[0]


XXD_BALLOON = (FIXTURES / "xxd.txt").read_text().splitlines()[:4]


def test_odd_number_of_digits_in_a_group():
    lines = list(XXD_BALLOON)
    lines[3] = lines[3].replace("0200 ", "020 ", 1)
    frame = only("\n".join(lines))
    assert severities(frame) == [Severity.WARNING]
    assert "odd number of hex digits" in frame.findings[0].message
    assert frame.findings[0].message.startswith("line 4:")
    assert frame.data == BALLOON_RESPONSE[:55]


def test_plain_string_with_odd_digits():
    frame = only(BALLOON_RESPONSE.hex()[:-1])
    assert severities(frame) == [Severity.WARNING]
    assert frame.data == BALLOON_RESPONSE[:-1]


def test_offset_skips_ahead():
    frame = only("\n".join(XXD_BALLOON[:2] + XXD_BALLOON[3:]))
    assert severities(frame) == [Severity.ERROR]
    assert "16 bytes are missing" in frame.findings[0].message
    assert frame.data == BALLOON_RESPONSE[:32] + BALLOON_RESPONSE[48:]


def test_offset_goes_back():
    frame = only("\n".join(XXD_BALLOON + XXD_BALLOON[1:2]))
    assert severities(frame) == [Severity.WARNING]
    assert "goes back" in frame.findings[0].message
    assert frame.data == BALLOON_RESPONSE + BALLOON_RESPONSE[16:32]


def test_dump_that_starts_mid_message():
    frame = only("\n".join(XXD_BALLOON[1:]))
    assert severities(frame)[0] == Severity.ERROR
    assert "first 16 bytes" in frame.findings[0].message
    assert frame.data == BALLOON_RESPONSE[16:]


def test_star_with_no_offset_after_it():
    text = "\n".join(fixture("hexdump_C.txt").splitlines()[5:8])
    assert text.splitlines()[-1] == "*"
    frame = only(text)
    assert severities(frame) == [Severity.WARNING]
    assert frame.data == STATUS_REPORT[:32]


def test_final_offset_short_of_the_printed_bytes():
    lines = fixture("hexdump_C.txt").splitlines()[:5]
    lines[4] = "00000030"
    frame = only("\n".join(lines))
    assert severities(frame) == [Severity.WARNING]
    assert frame.data == BALLOON_RESPONSE[:48]


def test_final_offset_beyond_the_printed_bytes():
    lines = fixture("hexdump_C.txt").splitlines()[:5]
    lines[4] = "00000040"
    frame = only("\n".join(lines))
    assert severities(frame) == [Severity.ERROR]
    assert frame.data == BALLOON_RESPONSE


def test_ascii_column_that_disagrees_with_the_hex():
    lines = list(XXD_BALLOON)
    lines[0] = lines[0].replace("12I~", "12X~")
    frame = only("\n".join(lines))
    assert severities(frame) == [Severity.NOTE]
    assert frame.data == BALLOON_RESPONSE
    assert "disagrees with the hex on 1 line;" in frame.findings[0].message


def test_ascii_column_that_disagrees_on_two_lines_counts_them_in_english():
    lines = list(XXD_BALLOON)
    lines[0] = lines[0].replace("12I~", "12X~")
    lines[1] = lines[1][:-1] + ("X" if lines[1][-1] != "X" else "Y")
    frame = only("\n".join(lines))
    assert [f.message for f in frame.findings] == [
        "the ASCII column disagrees with the hex on 2 lines; the hex is what counts"
    ]


def test_broken_escape_in_a_bytes_repr():
    frame = only(repr(BALLOON_RESPONSE).replace("\\xe3", "\\xe"))
    assert severities(frame) == [Severity.WARNING]
    assert frame.data == BALLOON_RESPONSE.replace(b"\xe3", b"e")


def test_group_order_guessed_without_evidence_says_so():
    """A truncated dump with no ASCII column: neither order makes the header fit."""
    text = kernel_dump([BALLOON_RESPONSE], groupsize=4, ascii=False)
    frame = only("\n".join(text.splitlines()[:2]))
    assert frame.data == BALLOON_RESPONSE[:32]
    assert severities(frame) == [Severity.NOTE]
    assert "le-words" in frame.findings[0].message


# --- noise is skipped silently ----------------------------------------------------------

DMESG_NOISE = """\
[    0.000000] Linux version 6.1.0-13-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 (2023-09-29)
[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009ffff] usable
[    0.000000] Hyper-V: privilege flags low 0x2e7f, high 0x3b8030, hints 0x64e24, misc 0xbed7b2
[    1.234567] hv_vmbus: Vmbus version:5.2
[    1.500000] EXT4-fs (sda1): mounted filesystem 3b5e1e8a-c1d2-4e3f-9a0b-123456789abc r/w with ordered data mode.
[    2.000000] hv_netvsc 000d3a12-3456-000d-3a12-3456000d3a12 eth0: VF slot 1 added
[    2.100000] hv_netvsc eth0: 00:15:5d:01:02:03 registered
[   45.100000] hv_balloon: Using Dynamic Memory protocol version 2.0
[   46.000000] hv_balloon: Max. dynamic memory size: 4096 MB
the guest added deadbeef cafe face to the list
hv_balloon_outgoing_balloon posting balloon 1 for 262144, remaining 0
x = {1, 2, 3};
it's b'cause of the ring buffer
           00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F
[ 1234.000000] Build ID: 3f2a9c1e8d7b6a5f4e3d2c1b0a9f8e7d6c5b4a39
"""


def test_log_noise_around_dumps_is_skipped():
    dump = kernel_dump(MESSAGES[:2], groupsize=4)
    text = DMESG_NOISE + dump + DMESG_NOISE + kernel_dump(MESSAGES[2:], DUMP_PREFIX_NONE)
    frames = frames_of(text)
    assert [f.data for f in frames] == MESSAGES
    assert all(not f.findings for f in frames)


def test_noise_alone_is_no_message():
    assert frames_of(DMESG_NOISE) == []


def test_noise_between_lines_of_an_offset_dump():
    lines = fixture("xxd.txt").splitlines()
    lines.insert(2, "[  100.600000] some other driver: something happened")
    assert datas("\n".join(lines)) == MESSAGES


# --- time and direction ---------------------------------------------------------------


@pytest.mark.parametrize(
    "before, direction",
    [
        ("host->guest", "host->guest"),
        ("guest->host:", "guest->host"),
        ("sending host -> guest", "host->guest"),
        ("Guest to host message", "guest->host"),
        ("host → guest", "host->guest"),
        ("O", "host->guest"),
        ("I", "guest->host"),
        ("I think this is the reply", None),
        ("hosting guests", None),
    ],
)
def test_direction_from_the_line_before(before, direction):
    frame = only(before + "\n" + fixture("xxd.txt").split("00000000: 0500")[0])
    assert frame.direction == direction
    assert frame.direction_source == ("text" if direction else "unknown")


def test_direction_in_the_first_line_prefix():
    text = kernel_dump([BALLOON_RESPONSE], prefix_str="hv_balloon: guest->host: ")
    text += kernel_dump([UNBALLOON_RESPONSE], prefix_str="hv_balloon: host to guest: ")
    assert [f.direction for f in frames_of(text)] == ["guest->host", "host->guest"]


@pytest.mark.parametrize(
    "preamble, seconds",
    [
        ("I 12:00:03.123456", 12 * 3600 + 3.123456),
        ("O 2026-11-27 12:00:03.123456", utc(2026, 11, 27, 12, 0, 3, 0.123456)),
        ("2026-11-27 12:00:03,5 DEBUG dm: sending", utc(2026, 11, 27, 12, 0, 3, 0.5)),
        ("2026-11-27T12:00:03+02:00 sent", utc(2026, 11, 27, 10, 0, 3)),
        ("1795780803.5 IP something", 1795780803.5),
        ("[  100.500000] hv_balloon: sending", 100.5),
    ],
)
def test_time_from_the_line_before(preamble, seconds):
    text = preamble + "\n\n" + "".join(run_lines(fixture("hexdump_C.txt"), 5))
    assert only(text).time == pytest.approx(seconds, abs=1e-6)


def run_lines(text: str, count: int) -> list[str]:
    return [line + "\n" for line in text.splitlines()[:count]]


def test_time_and_direction_are_not_carried_to_the_next_dump():
    text = "O 12:00:00\n" + fixture("xxd.txt")
    frames = frames_of(text)
    assert frames[0].direction == "host->guest" and frames[0].time == 43200
    assert all(f.direction is None and f.time is None for f in frames[1:])


def test_dmesg_stamp_on_the_line_wins_over_the_line_before():
    text = "[   99.000000] hv_balloon: sending\n" + kernel_dump([BALLOON_RESPONSE])
    assert only(text).time == 100.5


# --- group order override --------------------------------------------------------------


def test_hex_order_override():
    words = kernel_dump([BALLOON_RESPONSE], groupsize=4)
    assert datas(words, "bytes") != [BALLOON_RESPONSE]
    assert datas(words, "le-words") == [BALLOON_RESPONSE]
    assert datas(fixture("xxd.txt"), "bytes") == MESSAGES
    assert datas(fixture("xxd.txt"), "le-words")[0][:4] == bytes.fromhex("00070038")
    assert datas(fixture("xxd.txt"), "auto") == MESSAGES


def test_hex_order_rejects_unknown_values():
    with pytest.raises(ValueError, match="le-words"):
        iter_hex_frames(io.BytesIO(b""), "t", "little")


# --- format detection -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "xxd.txt",
        "xxd_p.txt",
        "xxd_i.txt",
        "xxd_e.txt",
        "hexdump_C.txt",
        "hexdump.txt",
        "od_x1z.txt",
        "od_octal.txt",
        "tshark_x.txt",
        "tcpdump_X.txt",
        "text2pcap_io.txt",
    ],
)
def test_every_fixture_is_detected_as_hex_and_read(name):
    assert detect_format(fixture(name).encode()) == "hex"
    assert frames_of(fixture(name))


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"\n\n",
        b"hv_balloon_incoming_balloon incoming balloon response 1, ranges 5, more 0\n" * 20,
        DMESG_NOISE.encode(),
    ],
)
def test_plain_logs_give_no_message(head):
    assert frames_of(head) == []


def test_a_head_cut_mid_line_still_gives_its_first_message():
    text = kernel_dump(MESSAGES, groupsize=2).encode()
    assert datas(BALLOON_RESPONSE.hex().encode()[:40]) == [BALLOON_RESPONSE[:20]]
    assert datas(text[: text.index(b"\n", 300) + 1])[0] == BALLOON_RESPONSE


# --- formats without offsets --------------------------------------------------------------

PLAIN_FORMATS = {
    "hex string": lambda m: m.hex(),
    "colons": lambda m: m.hex(":"),
    "dashes": lambda m: m.hex("-").upper(),
    "spaces": lambda m: m.hex(" "),
    "commas": lambda m: ", ".join(f"{b:02x}" for b in m),
    "C bytes": lambda m: ", ".join(f"0x{b:02x}" for b in m),
    "C braces": lambda m: "{" + ",".join(f"0x{b:02X}" for b in m) + "};",
    "C statement": lambda m: (
        "static const uint8_t msg[] = { " + ", ".join(f"0x{b:02x}" for b in m) + " };"
    ),
    "python list": lambda m: "data = bytes([" + ", ".join(f"0x{b:02x}" for b in m) + "])",
    "bytes repr": repr,
    "bytes repr in a log": lambda m: f"DEBUG:dm:sent {m!r} to the host",
    "labelled": lambda m: f"guest->host: {m.hex()}",
}


@pytest.mark.parametrize("fmt", sorted(PLAIN_FORMATS))
def test_plain_formats_one_message_per_line(fmt):
    text = "\n".join(PLAIN_FORMATS[fmt](m) for m in MESSAGES) + "\n"
    assert datas(text) == MESSAGES


def test_c_array_spread_over_lines_with_braces():
    """``xxd -i``'s layout: a declaration opening a brace, rows, ``};``."""
    body = ",\n".join(
        "  " + ", ".join(f"0x{b:02x}" for b in BALLOON_RESPONSE[i : i + 12])
        for i in range(0, 56, 12)
    )
    text = f"/* balloon */\nunsigned char msg[] = {{\n{body}\n}};\nunsigned int msg_len = 56;\n"
    assert datas(text) == [BALLOON_RESPONSE]


def test_c_array_block_keeps_a_lying_header_together():
    """A guest bug sends hdr.size=16 on responses with ranges: braces still hold it whole."""
    lying = BALLOON_RESPONSE[:2] + b"\x10\x00" + BALLOON_RESPONSE[4:]
    body = "\n".join(
        ", ".join(f"0x{b:02x}" for b in lying[i : i + 8]) + "," for i in range(0, 56, 8)
    )
    assert datas("{\n" + body + "\n}\n") == [lying]


def test_blocks_separated_by_blank_lines():
    text = "\n\n".join(
        "\n".join(m[i : i + 8].hex(" ") for i in range(0, len(m), 8)) for m in MESSAGES
    )
    assert datas(text) == MESSAGES


def test_xxd_p_wraps_join_while_the_header_asks_for_more():
    text = fixture("xxd_p.txt")
    assert max(len(line) for line in text.splitlines()) == 60
    assert datas(text) == MESSAGES


def test_xxd_p_wrap_keeps_a_lying_header_together():
    lying = BALLOON_RESPONSE[:2] + b"\x10\x00" + BALLOON_RESPONSE[4:]
    text = lying[:30].hex() + "\n" + lying[30:].hex() + "\n" + UNBALLOON_RESPONSE.hex()
    assert datas(text) == [lying, UNBALLOON_RESPONSE]


def test_wireshark_copy_as_hex_dump():
    assert datas(wireshark_copy(MESSAGES)) == MESSAGES


def test_powershell_format_hex_ruler_is_not_a_message():
    text = "           00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F\n" + fixture("xxd.txt")
    assert datas(text) == MESSAGES


# --- input encodings and line endings -----------------------------------------------------


def test_crlf_line_endings():
    assert datas(fixture("hexdump_C.txt").replace("\n", "\r\n")) == MESSAGES


def test_utf16_with_bom_as_powershell_writes_it():
    raw = fixture("xxd.txt").encode("utf-16")
    assert raw[:2] == b"\xff\xfe"
    assert datas(raw) == MESSAGES
    assert detect_format(raw[:4096]) == "hex"


def test_utf8_bom_and_colour_escapes():
    coloured = (
        kernel_dump(MESSAGES, groupsize=2)
        .replace("[", "\x1b[32m[")
        .replace("] ", "]\x1b[0m ")
        .replace("hv_balloon:", "\x1b[33mhv_balloon:\x1b[0m")
    )
    assert datas(b"\xef\xbb\xbf" + coloured.encode()) == MESSAGES


def test_stream_returning_text_and_short_reads():
    class Trickle(io.RawIOBase):
        def __init__(self, text):
            self.text, self.pos = text, 0

        def readable(self):
            return True

        def read(self, n=-1):
            chunk = self.text[self.pos : self.pos + 7]
            self.pos += 7
            return chunk

    assert [f.data for f in iter_hex_frames(Trickle(fixture("xxd.txt")), "t")] == MESSAGES


# --- limits and errors ----------------------------------------------------------------------


class Generated(io.RawIOBase):
    """A stream that makes its content chunk by chunk, so the test holds none of it."""

    def __init__(self, parts):
        self.parts = iter(parts)
        self.pending = b""

    def readable(self):
        return True

    def read(self, n=-1):
        while len(self.pending) < n:
            part = next(self.parts, None)
            if part is None:
                break
            self.pending += part
        chunk, self.pending = self.pending[:n], self.pending[n:]
        return chunk


def test_endless_line_is_skipped_with_flat_memory():
    block = b"0123456789abcdef" * 4096
    parts = [b"x" * 10 + b"\n"] + [block] * 512 + [b"\n", fixture("xxd.txt").encode()]
    tracemalloc.start()
    try:
        frames = list(iter_hex_frames(Generated(parts), "t"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [f.data for f in frames] == MESSAGES
    assert frames[0].origin == "t:3"
    assert peak < 6 * (1 << 20), peak


def test_endless_line_without_newline_at_all():
    parts = [b"0700380028e301d2" * 4096] * 300
    tracemalloc.start()
    try:
        frames = list(iter_hex_frames(Generated(parts), "t"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert frames == []
    assert peak < 6 * (1 << 20), peak


def test_message_longer_than_any_size_field_is_cut_with_an_error():
    rows = 6000

    def lines():
        yield b"00000000: 0700 3800 28e3 01d2 3132 497e 0a00 0000  ..8.(...12I~....\n"
        for i in range(1, rows):
            yield f"{16 * i:08x}: 0000 0000 0000 0000 0000 0000 0000 0000  ................\n".encode()
        yield fixture("xxd.txt").encode()

    frames = list(iter_hex_frames(Generated(lines()), "t"))
    assert len(frames[0].data) == MAX_MESSAGE
    assert frames[0].data[:16] == BALLOON_RESPONSE[:16]
    assert [f.severity for f in frames[0].findings] == [Severity.ERROR]
    assert f"lines up to {rows}" in frames[0].findings[0].message
    assert [f.data for f in frames[1:]] == MESSAGES
    assert [f.index for f in frames] == list(range(1, 7))


def test_star_reaching_far_beyond_any_message():
    text = "00000000  07 00 38 00 28 e3 01 d2  31 32 49 7e 0a 00 00 00  |..8.(...12I~....|\n*\nffffffff\n"
    frame = only(text)
    assert len(frame.data) == MAX_MESSAGE
    assert Severity.ERROR in severities(frame)


def test_unreadable_stream_raises_input_error_after_the_good_frames():
    class Broken(io.RawIOBase):
        def __init__(self):
            self.calls = 0

        def readable(self):
            return True

        def read(self, n=-1):
            self.calls += 1
            if self.calls == 1:
                return fixture("xxd.txt").encode()
            raise OSError("device gone")

    got = []
    with pytest.raises(InputError, match="device gone"):
        for frame in iter_hex_frames(Broken(), "dump.txt"):
            got.append(frame.data)
    # The first read was short (the input paused) and the last message, whose
    # short last row completes its header's size, is handed out before the
    # failing read: live input shows each message as soon as it is complete.
    assert got == MESSAGES


# --- properties: any message through any format comes back byte-exact ------------------------


@st.composite
def dm_messages(draw) -> bytes:
    """8..600 bytes behind a plausible header whose size is the length; sometimes
    zero-padded, so that dump tools print '*' for repeated lines."""
    length = draw(st.integers(HEADER := 8, 600))
    kind = draw(st.one_of(st.integers(0, 14), st.integers(0, 0xFFFF)))
    trans_id = draw(st.integers(0, 0xFFFFFFFF))
    body_len = length - HEADER
    body = draw(
        st.one_of(
            st.binary(min_size=body_len, max_size=body_len),
            st.binary(max_size=body_len).map(lambda b: b.ljust(body_len, b"\0")),
        )
    )
    return hdr(kind, length, trans_id) + body


MESSAGE_LISTS = st.lists(dm_messages(), min_size=1, max_size=3)

TOOLS = {
    "xxd": ["xxd"],
    "xxd -p": ["xxd", "-p"],
    "xxd -g1": ["xxd", "-g1"],
    "xxd -e": ["xxd", "-e"],
    "xxd -g8": ["xxd", "-g8"],
    "xxd -c32": ["xxd", "-c32"],
    "xxd -i": ["xxd", "-i"],
    "hexdump -C": ["hexdump", "-C"],
    "hexdump": ["hexdump"],
    "od -A x -t x1z": ["od", "-A", "x", "-t", "x1z"],
    "od -A x -t x1z -v": ["od", "-A", "x", "-t", "x1z", "-v"],
    "od -t x1": ["od", "-t", "x1"],
    "od -x": ["od", "-x"],
    "od -A d -t x4": ["od", "-A", "d", "-t", "x4"],
}


@pytest.mark.parametrize("tool", sorted(TOOLS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=MESSAGE_LISTS)
def test_property_real_tools_round_trip(tool, messages):
    args = TOOLS[tool]
    if shutil.which(args[0]) is None:
        pytest.skip(f"{args[0]} is not installed")
    text = "".join(run_tool(args, m) + ("\n" if tool == "xxd -i" else "") for m in messages)
    frames = frames_of(text)
    assert [f.data for f in frames] == messages
    assert [f.index for f in frames] == list(range(1, len(messages) + 1))


GENERATED = {
    "tshark -x": tshark_x,
    "wireshark copy": wireshark_copy,
    "tcpdump -X": tcpdump,
    "tcpdump -xx": lambda ms: tcpdump(ms, ascii=False),
    **{
        name: (lambda f: lambda ms: "\n".join(f(m) for m in ms) + "\n")(f)
        for name, f in PLAIN_FORMATS.items()
    },
    "xxd -p blocks": lambda ms: (
        "\n".join("\n".join(m[i : i + 30].hex() for i in range(0, len(m), 30)) for m in ms) + "\n"
    ),
    "C array blocks": lambda ms: "".join(
        "unsigned char m[] = {\n"
        + ",\n".join(
            "  " + ", ".join(f"0x{b:02x}" for b in m[i : i + 12]) for i in range(0, len(m), 12)
        )
        + "\n};\n"
        for m in ms
    ),
}


@pytest.mark.parametrize("fmt", sorted(GENERATED))
@settings(max_examples=40, deadline=None)
@given(messages=MESSAGE_LISTS)
def test_property_generated_formats_round_trip(fmt, messages):
    assert datas(GENERATED[fmt](messages)) == messages


@settings(max_examples=300, deadline=None)
@given(
    messages=MESSAGE_LISTS,
    prefix_type=st.sampled_from([DUMP_PREFIX_OFFSET, DUMP_PREFIX_ADDRESS, DUMP_PREFIX_NONE]),
    rowsize=st.sampled_from([16, 32]),
    groupsize=st.sampled_from([1, 2, 4, 8]),
    ascii=st.booleans(),
    stamp=st.sampled_from(sorted(STAMPS)),
    prefix_str=st.sampled_from(["hv_balloon: ", "", "dm: host->guest: "]),
    real_address=st.booleans(),
    start=st.integers(0, 10**6),
)
def test_property_kernel_print_hex_dump_round_trip(
    messages, prefix_type, rowsize, groupsize, ascii, stamp, prefix_str, real_address, start
):
    """Every print_hex_dump variant.  The one left out: no prefix at all, no stamp,
    no ASCII column and multi-byte groups, where nothing can tell the kernel's words
    from xxd's bytes (the hex_order override is for that case)."""
    if stamp == "none" and not prefix_str:
        prefix_str = "hv_balloon: "
    times = [start + n * 0.25 for n in range(len(messages))]
    address = 0xFFFF888100000000 + 0x1000 * start if real_address else None
    text = kernel_dump(
        messages, prefix_type, rowsize, groupsize, ascii, stamp, prefix_str, address, times
    )
    frames = frames_of(text)
    assert [f.data for f in frames] == messages
    assert [f.time for f in frames] == pytest.approx([STAMP_TIME[stamp](t) for t in times])
    expected_direction = "host->guest" if "host->guest" in prefix_str else None
    assert all(f.direction == expected_direction for f in frames)


# --- properties: nothing raises ----------------------------------------------------------------

FRAGMENTS = [
    "00000000:",
    "00000010: ",
    "0x0000:",
    "0x0010:  ",
    "*",
    "0700",
    "3800",
    "38",
    "0",
    "  ",
    " ",
    "   ",
    "|",
    ">",
    "<",
    "{",
    "}",
    "};",
    "[",
    "]",
    "0x07,",
    "0x7",
    "b'",
    "\\x0",
    "\\x07",
    "'",
    '"',
    "[  100.5] ",
    "<7>",
    "I ",
    "O ",
    "host->guest",
    "0000010",
    "000000",
    "0000000",
    "00000038",
    "deadbeef",
    "\t",
    "12:00:03.5",
    "2026-11-27T01:09:11Z",
    "(____ptrval____): ",
    "-",
    ":",
    ",",
    "z",
    "ffffffff",
    "ffff888100a3c000: ",
    "..8.",
    "1234abcd",
    "\x1b[32m",
    "\r",
    "\u00e9",
    "0" * 17,
    "07 00 38 00 ",
    "=",
    "hv_balloon: ",
]
GARBAGE_LINES = st.one_of(
    st.text(max_size=80), st.lists(st.sampled_from(FRAGMENTS), max_size=24).map("".join)
)


def check_frames(frames) -> None:
    for number, frame in enumerate(frames, 1):
        assert frame.index == number
        assert isinstance(frame.data, bytes) and 0 < len(frame.data) <= MAX_MESSAGE
        assert frame.origin.startswith("g:")
        assert frame.direction in (None, "guest->host", "host->guest")
        assert frame.direction_source == ("text" if frame.direction else "unknown")
        assert frame.time is None or isinstance(frame.time, float | int)


@settings(max_examples=400, deadline=None)
@given(lines=st.lists(GARBAGE_LINES, max_size=30))
def test_property_garbage_lines_never_raise(lines):
    text = "\n".join(lines)
    check_frames(list(iter_hex_frames(io.BytesIO(text.encode("utf-8", "surrogatepass")), "g")))


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=2000))
def test_property_binary_garbage_never_raises(raw):
    check_frames(list(iter_hex_frames(io.BytesIO(raw), "g")))


@settings(max_examples=100, deadline=None)
@given(messages=MESSAGE_LISTS, cut=st.integers(0, 4000), junk=GARBAGE_LINES)
def test_property_torn_dumps_never_raise(messages, cut, junk):
    text = kernel_dump(messages, groupsize=4) + fixture("hexdump_C.txt")
    torn = text[:cut] + junk + text[cut : cut + 200]
    check_frames(list(iter_hex_frames(io.BytesIO(torn.encode()), "g")))


# --- the real tshark and tcpdump, run live when installed -----------------------------------

LIVE = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("text2pcap", "tshark", "tcpdump")),
    reason="text2pcap, tshark or tcpdump is not installed (apt-get install tshark tcpdump)",
)


@LIVE
def test_live_tshark_and_tcpdump_on_random_messages(tmp_path):
    rng = random.Random(20261127)
    messages = []
    for n in range(6):
        length = 8 * rng.randint(1, 70)
        messages.append(hdr(rng.randint(0, 14), length, n) + rng.randbytes(length - 8))
    source = tmp_path / "in.txt"
    source.write_text(
        "".join(
            f"{'IO'[n % 2]} 2026-11-27 12:00:{n:02d}.{n:06d}\n"
            + run_tool(["od", "-A", "x", "-t", "x1", "-v"], m)
            for n, m in enumerate(messages)
        )
    )
    assert [f.data for f in frames_of(source.read_text())] == messages
    capture = tmp_path / "dm.pcapng"
    subprocess.run(
        [
            "text2pcap",
            "-q",
            "-D",
            "-t",
            "%Y-%m-%d %H:%M:%S.%f",
            "-l",
            "147",
            str(source),
            str(capture),
        ],
        capture_output=True,
        check=True,
    )
    for args in (
        ["tshark", "-r", str(capture), "-x"],
        ["tcpdump", "-r", str(capture), "-tttt", "-X"],
        ["tcpdump", "-r", str(capture), "-xx"],
    ):
        out = subprocess.run(args, capture_output=True, check=True, env={"TZ": "UTC"}).stdout
        assert datas(out) == messages, args


# --- regressions found in review ------------------------------------------------------------


def test_final_offset_of_a_dump_that_starts_mid_message():
    lines = fixture("hexdump_C.txt").splitlines()[1:5]
    frame = only("\n".join(lines))
    assert frame.data == BALLOON_RESPONSE[16:]
    assert severities(frame) == [Severity.ERROR]


def test_lone_closing_brace_does_not_glue_lines_together():
    text = BALLOON_RESPONSE[:30].hex() + "\n}\n" + BALLOON_RESPONSE[30:].hex() + "\n"
    assert datas(text) == [BALLOON_RESPONSE[:30], BALLOON_RESPONSE[30:]]


def test_braced_c_array_opening_with_a_few_bytes():
    text = "{0x07, 0x00,\n" + ", ".join(f"0x{b:02x}" for b in BALLOON_RESPONSE[2:]) + "};\n"
    assert datas(text) == [BALLOON_RESPONSE]


def test_labelled_eight_byte_message_without_direction_words():
    assert datas(f"dm: {UNBALLOON_RESPONSE.hex()}\ndm: {UNBALLOON_RESPONSE.hex()}\n") == [
        UNBALLOON_RESPONSE,
        UNBALLOON_RESPONSE,
    ]


def test_torn_bytes_repr_keeps_what_it_has():
    frame = only(repr(BALLOON_RESPONSE)[:-5])
    assert severities(frame) == [Severity.WARNING]
    assert frame.data == BALLOON_RESPONSE[:-1]
    assert frames_of("it's b'cause the ring was full, said the guest driver\n") == []


@pytest.mark.parametrize(
    "pattern",
    ["00  ", "00 00  ", "/*", "0x", "b'", "00000000: ", "0 ", "00:", "0000 ", "guest->host ", "| "],
)
def test_long_noise_lines_are_read_in_bounded_memory(pattern):
    """Lines just under the 1 MiB cap built to defeat naive parsing.

    Tests never assert timings; the time these take is watched by running
    them (a quadratic parser would make this test crawl), memory is asserted.
    """
    import tracemalloc

    line = (pattern * (900_000 // len(pattern))).encode() + b"\n"
    tracemalloc.start()
    try:
        check_frames(list(iter_hex_frames(io.BytesIO(line), "g")))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 96 << 20  # about 64 MiB at worst: bounded by the 1 MiB line cap


def test_reads_back_what_the_dmesg_view_writes():
    """views/hexlog.py writes frames the way a driver would log them; they must read back
    with their bytes, times and directions."""
    hexlog = pytest.importorskip("dmdissect.views.hexlog")
    from dmdissect.sources.frame import Frame

    frames = [
        Frame(n, m, time=100.5 + n, direction=("guest->host", "host->guest")[n % 2])
        for n, m in enumerate(MESSAGES, 1)
    ]
    try:
        text = "\n".join(hexlog.dmesg_lines(frames)) + "\n"
    except (AttributeError, TypeError) as exc:
        pytest.skip(f"views/hexlog.py changed its interface: {exc}")
    back = frames_of(text)
    assert [f.data for f in back] == MESSAGES
    assert [f.time for f in back] == pytest.approx([f.time for f in frames])
    assert [f.direction for f in back] == [f.direction for f in frames]


def test_trailing_comments_on_plain_lines():
    text = (
        f"{BALLOON_RESPONSE.hex(' ')}  # balloon response, guest->host\n"
        f"{BALLOON_REQUEST.hex()} // host to guest\n"
        f"{UNBALLOON_RESPONSE.hex(':')} #\n"
    )
    frames = frames_of(text)
    assert [f.data for f in frames] == [BALLOON_RESPONSE, BALLOON_REQUEST, UNBALLOON_RESPONSE]
    assert [f.direction for f in frames] == ["guest->host", "host->guest", None]
    assert [f.comment for f in frames] == ["balloon response, guest->host", "host to guest", None]


def test_kernel_ascii_column_that_starts_like_an_xxd_partial_group():
    """`` 4a  ...`` after a full line of 16-bit groups is the ASCII column (found by fuzzing)."""
    row = b" 4a  63b9b0824.a"
    message = hdr(6, 48, 1) + bytes(8) + row + bytes(16)
    for address in (None, 0xFFFF888100000000):
        text = kernel_dump(
            [message], DUMP_PREFIX_ADDRESS, groupsize=2, stamp="none", address=address
        )
        assert "   4a  63b9b0824.a" in text
        assert datas(text) == [message]


# --- review: text2pcap's one-space form, ASCII spaces, interleaved logs, syslog, live input --

# DM_STATUS_REPORT: num_avail 1000, num_committed 2000, page_file_size 3000,
# zero_free 4000, page_file_writes 5, io_diff 6
STATUS_48 = hdr(5, 48, 10) + struct.pack("<QQQQII", 1000, 2000, 3000, 4000, 5, 6)
# DM_BALLOON_REQUEST whose trans_id and num_pages are spaces
SPACE_REQUEST = hdr(6, 16, 0x20202020) + struct.pack("<II", 0x2020, 0)
# DM_BALLOON_RESPONSE with three ranges: 40 bytes, rows of 16, 16 and 8
BALLOON_40 = (
    hdr(7, 40, 0x1234)
    + struct.pack("<II", 0, 3 << 1)
    + b"".join(page_range(0x200000 + 0x200 * k, 512) for k in range(3))
)


def test_space_fixture_is_the_struct_built_message():
    assert (FIXTURES / "space.bin").read_bytes() == SPACE_REQUEST


def pcap_records(path: Path) -> list[bytes]:
    """The packets of a classic pcap file, read with struct from the file format."""
    raw = path.read_bytes()
    endian = {
        b"\xd4\xc3\xb2\xa1": "<",
        b"\xa1\xb2\xc3\xd4": ">",
        b"\x4d\x3c\xb2\xa1": "<",
        b"\xa1\xb2\x3c\x4d": ">",
    }[raw[:4]]
    out, pos = [], 24
    while pos + 16 <= len(raw):
        incl = struct.unpack_from(endian + "IIII", raw, pos)[2]
        out.append(raw[pos + 16 : pos + 16 + incl])
        pos += 16 + incl
    return out


def text2pcap_layout(
    message: bytes, digits: int, width: int, ascii: bool, separator: str = " "
) -> str:
    """text2pcap's input: offset, one space (or a colon and a space, or a tab), bytes,
    and (the man page's example) one space and the ASCII column."""
    lines = []
    for off in range(0, len(message), width):
        row = message[off : off + width]
        line = f"{off:0{digits}x}{separator}" + " ".join(f"{b:02x}" for b in row)
        lines.append(line + (" " + render(row) if ascii else "") + "\n")
    return "".join(lines)


def test_offset_one_space_bytes_as_in_the_review():
    text = (
        "0000 05 00 30 00 0a 00 00 00 e8 03 00 00 00 00 00 00\n"
        "0010 d0 07 00 00 00 00 00 00 b8 0b 00 00 00 00 00 00\n"
        "0020 a0 0f 00 00 00 00 00 00 05 00 00 00 06 00 00 00\n"
    )
    frame = only(text)
    assert frame.data == STATUS_48
    assert frame.findings == []


@pytest.mark.parametrize("args", [["xxd", "-g1"], ["xxd"], ["xxd", "-g4"]])
def test_xxd_with_its_colon_removed(args):
    """``xxd -g1 status.bin | sed 's/://'``: 8-digit offsets, one space."""
    if shutil.which("xxd") is None:
        pytest.skip("xxd is not installed")
    text = "".join(
        line.replace(":", "", 1) + "\n" for line in run_tool(args, STATUS_48).splitlines()
    )
    assert text.startswith("00000000 05")
    frame = only(text)
    assert frame.data == STATUS_48
    assert frame.findings == []


@pytest.mark.parametrize("name", ["text2pcap_doc", "text2pcap_offset4", "xxd_g1_nocolon"])
def test_one_space_fixtures_give_what_text2pcap_decodes(name):
    """MAKE.sh ran text2pcap on each layout; its pcap holds what text2pcap understood."""
    pcap = FIXTURES / f"{name}.pcap"
    if not pcap.exists():
        pytest.skip("text2pcap was not installed when MAKE.sh ran")
    expected = pcap_records(pcap)
    assert expected == MESSAGES
    frames = frames_of(fixture(f"{name}.txt"))
    assert [f.data for f in frames] == expected
    assert all(not f.findings for f in frames), [f.findings for f in frames]


def test_text2pcap_doc_fixture_has_the_documented_layout():
    first = fixture("text2pcap_doc.txt").splitlines()[0]
    assert first == "000000 07 00 38 00 28 e3 01 d2 ..8.(..."


@pytest.mark.skipif(shutil.which("text2pcap") is None, reason="text2pcap is not installed")
def test_live_text2pcap_agrees_on_one_space_layouts(tmp_path):
    """Random messages, some with hex-looking ASCII columns, in every one-space layout:
    the bytes must be what text2pcap itself reads."""
    rng = random.Random(147)
    messages = []
    for n in range(12):
        length = rng.choice([8, 10, 11, 19, 24, 40, 57, 64])
        body = bytes(rng.choice(b"0123456789abcdefAB \x00\xff") for _ in range(length - 8))
        messages.append(hdr(rng.randint(0, 14), length, n) + body)
    for digits, width, ascii, sep in [
        (4, 16, False, " "),
        (6, 8, True, " "),
        (6, 16, True, " "),
        (8, 16, True, " "),
        (4, 16, True, ": "),
        (6, 16, False, "\t"),
    ]:
        source = tmp_path / f"in{digits}{width}{ascii}.txt"
        source.write_text("".join(text2pcap_layout(m, digits, width, ascii, sep) for m in messages))
        capture = tmp_path / "out.pcap"
        subprocess.run(
            ["text2pcap", "-q", "-F", "pcap", "-l", "147", str(source), str(capture)],
            capture_output=True,
            check=True,
        )
        assert pcap_records(capture) == messages, (digits, width, ascii)
        assert datas(source.read_text()) == messages, (digits, width, ascii)


@pytest.mark.parametrize("separator", [": ", "\t", ":\t"])
def test_offset_with_a_colon_or_a_tab_as_text2pcap_takes_it(separator):
    text = "".join(text2pcap_layout(m, 4, 16, False, separator) for m in MESSAGES)
    assert text.startswith(f"0000{separator}07 00 38")
    assert datas(text) == MESSAGES


def test_number_before_hex_bytes_is_a_label_unless_a_dump_starts_at_zero():
    """``2023 01 02 ...`` is no dump that lost its first 0x2023 bytes; a labelled
    message keeps working as before."""
    assert frames_of("2023 01 02 03 04 05 06 07 08 09\n") == []
    assert datas(f"0010 {UNBALLOON_RESPONSE.hex(' ')}\n") == [UNBALLOON_RESPONSE]
    assert datas(f"1234: {UNBALLOON_RESPONSE.hex(' ')}\n") == [UNBALLOON_RESPONSE]


def test_one_space_ascii_column_made_of_hex_digits():
    """``000008 61 62 ab``: the column ``ab`` renders the bytes before it."""
    message = hdr(9, 10, 0x2B) + b"ab"
    text = text2pcap_layout(message, 6, 8, True)
    assert text.endswith("000008 61 62 ab\n")
    assert datas(text) == [message]


def test_one_space_row_whose_last_byte_looks_like_the_column():
    """``000008 34 31 41`` without a column reads like two bytes and the column ``41``;
    the final offset, or else the header's size, says the third is a byte."""
    message = hdr(9, 11, 0x2B) + b"41A"
    text = text2pcap_layout(message, 6, 8, False)
    assert text.endswith("000008 34 31 41\n")
    assert datas(text + "00000b\n") == [message]
    assert datas(text + text) == [message, message]
    shorter = hdr(9, 10, 0x2B) + b"41"
    assert datas(text2pcap_layout(shorter, 6, 8, True)) == [shorter]


def test_one_space_offset_does_not_swallow_plain_groups():
    """Kernel DUMP_PREFIX_NONE rows of 8-digit groups are not an offset and words."""
    text = kernel_dump(
        [BALLOON_RESPONSE], DUMP_PREFIX_NONE, groupsize=4, stamp="none", prefix_str=""
    )
    assert text.startswith("00380007 d201e328")
    assert datas(text) == [BALLOON_RESPONSE]


@pytest.mark.parametrize(
    "name",
    [
        "xxd_space.txt",
        "hexdump_C_space.txt",
        "od_x1z_space.txt",
        "tshark_x_space.txt",
        "tcpdump_X_space.txt",
    ],
)
def test_space_bytes_in_every_tool_ascii_column(name):
    """tcpdump prints only graphic characters, so 0x20 shows as '.'; xxd, hexdump -C,
    od and tshark print a space.  Neither is a disagreement."""
    text = fixture(name)
    if name.startswith("tcpdump"):
        assert "................" in text
    else:
        assert "....      ......" in text
    frame = only(text)
    assert frame.data == SPACE_REQUEST
    assert frame.findings == []


def test_tcpdump_layout_generator_matches_tcpdump_on_spaces():
    stamp = fixture("tcpdump_X_space.txt").split(" UNSUPPORTED")[0]
    assert tcpdump([SPACE_REQUEST], stamps=[stamp]) == fixture("tcpdump_X_space.txt")


@settings(max_examples=60, deadline=None)
@given(
    messages=st.lists(
        dm_messages().map(lambda m: m[:8] + m[8:].replace(b"\0", b" ")), min_size=1, max_size=3
    )
)
def test_property_tcpdump_spaces_give_no_ascii_note(messages):
    frames = frames_of(tcpdump(messages))
    assert [f.data for f in frames] == messages
    assert all(not f.findings for f in frames), [f.findings for f in frames]


def test_tcpdump_column_that_really_disagrees_still_gets_the_note():
    text = tcpdump([SPACE_REQUEST]).replace("................", "........X.......", 1)
    frames = frames_of(text)
    assert [f.data for f in frames] == [SPACE_REQUEST]
    assert [f.severity for f in frames[0].findings] == [Severity.NOTE]


FOREIGN = "e1000: eth0 NIC Link is Up"


def interleaved(
    prefix_type,
    groupsize,
    ascii,
    stamp,
    after=(1,),
    foreign=FOREIGN,
    address=None,
    message=BALLOON_40,
):
    """A print_hex_dump of ``message`` with another driver's line after the given rows."""
    lines = kernel_dump(
        [message], prefix_type, 16, groupsize, ascii, stamp, address=address
    ).splitlines()
    for row in sorted(after, reverse=True):
        lines.insert(row, STAMPS[stamp](100.75) + foreign)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("stamp", sorted(STAMPS))
@pytest.mark.parametrize(
    "prefix_type, address",
    [
        (DUMP_PREFIX_NONE, None),
        (DUMP_PREFIX_ADDRESS, None),
        (DUMP_PREFIX_ADDRESS, 0xFFFF888100A3C000),
    ],
)
@pytest.mark.parametrize("groupsize", [1, 2, 4, 8])
@pytest.mark.parametrize("ascii", [True, False])
def test_foreign_log_line_inside_a_dump_without_offsets(
    stamp, prefix_type, address, groupsize, ascii
):
    text = interleaved(prefix_type, groupsize, ascii, stamp, address=address)
    assert FOREIGN in text.splitlines()[1]
    frame = only(text)
    assert frame.data == BALLOON_40
    assert frame.findings == []
    assert frame.time == pytest.approx(STAMP_TIME[stamp](100.5))


def test_several_foreign_lines_inside_a_dump_without_offsets():
    text = interleaved(DUMP_PREFIX_NONE, 4, False, "dmesg", after=(1, 1, 2, 2, 2))
    assert datas(text) == [BALLOON_40]
    text = interleaved(
        DUMP_PREFIX_NONE,
        1,
        True,
        "journalctl",
        after=(1, 2),
        foreign="hv_balloon: Max. dynamic memory size: 4096 MB",
    )
    assert datas(text) == [BALLOON_40]


def test_foreign_lines_beyond_the_limit_end_the_dump():
    """A dump whose last lines were lost must not swallow a later dump."""
    text = interleaved(DUMP_PREFIX_NONE, 1, True, "dmesg", after=(1,) * (MAX_FOREIGN_LINES + 1))
    assert datas(text)[0] == BALLOON_40[:16]


def test_blank_line_still_ends_a_dump_without_offsets():
    lines = kernel_dump([BALLOON_40], DUMP_PREFIX_NONE).splitlines()
    text = "\n".join(lines[:1] + [""] + lines[1:]) + "\n"
    assert datas(text)[0] == BALLOON_40[:16]


SYSLOG_NOW = utc(2026, 11, 27, 12, 0, 0)


@pytest.fixture
def clock(monkeypatch):
    """Sets the clock that dates syslog stamps (they carry no year)."""

    def set_clock(seconds: float) -> None:
        monkeypatch.setattr(timestamps, "_now", lambda: seconds)

    set_clock(SYSLOG_NOW)
    return set_clock


@pytest.mark.parametrize("prefix_type", [DUMP_PREFIX_OFFSET, DUMP_PREFIX_ADDRESS, DUMP_PREFIX_NONE])
@pytest.mark.parametrize(
    "stamp, seconds",
    [
        ("Nov 27 01:09:11 myhost kernel: ", utc(2026, 11, 27, 1, 9, 11)),
        ("Nov  7 01:09:11 myhost kernel: ", utc(2026, 11, 7, 1, 9, 11)),
        ("Nov 27 01:09:11.250000 myhost kernel: ", utc(2026, 11, 27, 1, 9, 11, 0.25)),
        ("<4>Nov 27 01:09:11 myhost kernel: ", utc(2026, 11, 27, 1, 9, 11)),
    ],
)
def test_syslog_short_dates_give_the_time(clock, prefix_type, stamp, seconds):
    lines = [
        stamp + line
        for line in print_hex_dump("hv_balloon: ", prefix_type, 16, 1, BALLOON_RESPONSE, True)
    ]
    frame = only("\n".join(lines) + "\n")
    assert frame.data == BALLOON_RESPONSE
    assert frame.time == pytest.approx(seconds, abs=1e-6)


@pytest.mark.parametrize(
    "now, stamp, seconds",
    [
        (utc(2027, 1, 1, 0, 30, 0), "Dec 31 23:59:58", utc(2026, 12, 31, 23, 59, 58)),
        (utc(2026, 11, 27, 12, 0, 0), "Nov 28 23:00:00", utc(2026, 11, 28, 23, 0, 0)),
        (utc(2026, 11, 27, 12, 0, 0), "Dec  5 00:00:00", utc(2025, 12, 5, 0, 0, 0)),
        (utc(2029, 3, 1, 0, 0, 0), "Feb 29 12:00:00", utc(2028, 2, 29, 12, 0, 0)),
    ],
)
def test_syslog_year_is_this_year_unless_that_is_in_the_future(clock, now, stamp, seconds):
    clock(now)
    text = f"{stamp} myhost kernel: hv_balloon: " + UNBALLOON_RESPONSE.hex(" ") + "\n"
    assert only(text).time == pytest.approx(seconds)


def test_syslog_date_on_the_line_before_and_dmesg_stamp_winning(clock):
    text = "Nov 27 01:09:11 myhost dm: sending\n" + fixture("xxd.txt").split("00000000: 0500")[0]
    assert only(text).time == utc(2026, 11, 27, 1, 9, 11)
    text = kernel_dump([BALLOON_RESPONSE], stamp="syslog")
    assert only(text).time == 100.5
    assert only("Feb 30 01:00:00 h kernel: hv_balloon: " + UNBALLOON_RESPONSE.hex()).time is None


# Live input: frames must come out while the writer is still writing.


class LineFeeder(io.RawIOBase):
    """A stream that hands out one line per read, like a pipe a logger writes to slowly,
    counting what it has handed out."""

    def __init__(self, text: str):
        self.lines = [line.encode() for line in text.splitlines(keepends=True)]
        self.served = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        if self.served == len(self.lines):
            return 0
        line = self.lines[self.served]
        assert len(line) <= len(buffer)
        buffer[: len(line)] = line
        self.served += 1
        return len(line)


def arrivals(text: str) -> list[tuple[bytes, int]]:
    """Each frame with the number of lines read when it came out."""
    feeder = LineFeeder(text)
    return [(f.data, feeder.served) for f in iter_hex_frames(io.BufferedReader(feeder), "live")]


def _ends_of(text: str, messages: list[bytes]) -> list[int]:
    """The line number of each message's last dump line: the shortest start of the
    text that, read at once, yields the message."""
    lines = text.splitlines(keepends=True)
    ends = []
    for index, message in enumerate(messages):
        for count in range(1, len(lines) + 1):
            got = datas("".join(lines[:count]))
            if len(got) > index and got[index] == message:
                ends.append(count)
                break
    return ends


def test_streamed_messages_come_out_with_their_last_line():
    """Short last rows end a message; a message without offsets ends at its size."""
    cases = [
        kernel_dump([BALLOON_RESPONSE, UNBALLOON_RESPONSE, HOT_ADD_REQUEST, BALLOON_40]),
        kernel_dump(MESSAGES, DUMP_PREFIX_NONE, groupsize=4),
        kernel_dump(MESSAGES, DUMP_PREFIX_NONE, rowsize=32, stamp="journalctl"),
        "".join(m.hex() + "\n" for m in MESSAGES),
        "".join(f"guest->host: {m.hex(' ')}\n" for m in MESSAGES),
        tcpdump([BALLOON_RESPONSE, HOT_ADD_REQUEST]),
    ]
    for text in cases:
        got = arrivals(text)
        assert [d for d, _ in got] == datas(text)
        ends = _ends_of(text, [d for d, _ in got])
        assert [served for _, served in got] == ends, text


def test_streamed_message_with_a_full_last_row_waits_for_the_next_line():
    """With offsets a full last row may be followed by trailing bytes the header does
    not count, which must stay in the message: it comes out at the next line."""
    lines = kernel_dump([STATUS_REPORT]).splitlines(keepends=True)
    assert len(lines) == 3
    foreign = "[  101.000000] e1000: eth0 NIC Link is Up\n"
    assert arrivals("".join(lines) + foreign + kernel_dump([UNBALLOON_RESPONSE])) == [
        (STATUS_REPORT, 4),
        (UNBALLOON_RESPONSE, 5),
    ]
    assert arrivals("".join(lines) + kernel_dump([UNBALLOON_RESPONSE])) == [
        (STATUS_REPORT, 4),
        (UNBALLOON_RESPONSE, 4),
    ]
    assert arrivals("".join(lines) + "\n") == [(STATUS_REPORT, 4)]
    trailing = STATUS_REPORT + b"\0" * 8
    assert arrivals(kernel_dump([trailing])) == [(trailing, 4)]


def test_foreign_line_inside_an_offset_dump_with_a_lying_header():
    """hdr.size 16 on a 56-byte response: the offsets keep the dump whole across a
    foreign line.  Only when live input pauses right after the foreign line is the
    message, whose size is reached, handed out there (the documented rule)."""
    lying = BALLOON_RESPONSE[:2] + b"\x10\x00" + BALLOON_RESPONSE[4:]
    lines = kernel_dump([lying]).splitlines(keepends=True)
    text = lines[0] + "[  100.600000] e1000: eth0 NIC Link is Up\n" + "".join(lines[1:])
    assert datas(text) == [lying]
    assert [d for d, _ in arrivals("".join(lines))] == [lying]
    assert arrivals(text)[0] == (lying[:16], 2)


def test_streaming_waits_for_the_closing_brace_and_the_end_offset():
    text = (
        "unsigned char m[] = {\n" + ", ".join(f"0x{b:02x}" for b in UNBALLOON_RESPONSE) + "\n};\n"
    )
    assert arrivals(text) == [(UNBALLOON_RESPONSE, 3)]
    lying = BALLOON_RESPONSE[:2] + b"\x10\x00" + BALLOON_RESPONSE[4:]
    padded = run_tool(["hexdump"], hdr(9, 9, 1) + b"\x01") if shutil.which("hexdump") else None
    if padded is not None:
        assert arrivals(padded) == [(hdr(9, 9, 1) + b"\x01", 2)]  # at the end offset
    assert [d for d, _ in arrivals(lying[:30].hex() + "\n" + lying[30:].hex() + "\n")] == [lying]


def test_hex_reader_never_waits_for_a_full_buffer():
    """``read(n)`` on a buffered pipe waits for n bytes; the reader must use read1."""

    class NoBlockingRead(io.BufferedReader):
        def read(self, size=-1):
            raise AssertionError(f"read({size}) would wait for {size} bytes on a pipe")

    raw = io.BytesIO(fixture("xxd.txt").encode())
    assert [f.data for f in iter_hex_frames(NoBlockingRead(raw), "t")] == MESSAGES


def test_frames_arrive_from_a_slow_pipe_before_the_writer_finishes():
    """A thread writes dmesg lines into a pipe with pauses, like ``dmesg -w``; after
    each message it waits (up to 10 s) until the reader has shown it."""
    messages = [BALLOON_RESPONSE, UNBALLOON_RESPONSE, HOT_ADD_REQUEST, STATUS_REPORT]
    dumps = [kernel_dump([m], times=[100.5 + n]) for n, m in enumerate(messages[:3])]
    dumps.append(kernel_dump([STATUS_REPORT], DUMP_PREFIX_NONE, groupsize=4, times=[104.0]))
    read_end, write_end = os.pipe()
    shown = [threading.Event() for _ in dumps]
    finished = threading.Event()
    late = []

    def writer():
        try:
            for n, dump in enumerate(dumps):
                for line in dump.splitlines(keepends=True):
                    os.write(write_end, line.encode())
                    time.sleep(0.01)
                if not shown[n].wait(10):
                    late.append(n)
        finally:
            finished.set()
            os.close(write_end)

    thread = threading.Thread(target=writer, daemon=True)
    got = []
    with open(read_end, "rb") as stream:
        thread.start()
        for frame in iter_hex_frames(stream, "<pipe>"):
            got.append((frame.data, finished.is_set()))
            shown[len(got) - 1].set()
    thread.join(10)
    assert [data for data, _ in got] == messages
    assert late == [] and not any(done for _, done in got), (late, got)


FIXTURE_NAMES = [
    "xxd.txt",
    "xxd_g1.txt",
    "xxd_e.txt",
    "xxd_p.txt",
    "xxd_i.txt",
    "hexdump_C.txt",
    "hexdump.txt",
    "od_x1z_v.txt",
    "od_x1z.txt",
    "od_octal.txt",
    "od_decimal_x2.txt",
    "tshark_x.txt",
    "tcpdump_X.txt",
    "tcpdump_xx.txt",
    "text2pcap_io.txt",
    "xxd_g1_nocolon.txt",
    "xxd_nocolon.txt",
    "text2pcap_doc.txt",
    "text2pcap_offset4.txt",
]


class Pieces(io.RawIOBase):
    """A stream that returns ``data`` in pieces of the given sizes (short reads)."""

    def __init__(self, data: bytes, sizes):
        self.data, self.pos, self.sizes = data, 0, iter(sizes)

    def readable(self):
        return True

    def readinto(self, buffer):
        size = min(next(self.sizes, 1 << 20), len(buffer), len(self.data) - self.pos)
        buffer[:size] = self.data[self.pos : self.pos + size]
        self.pos += size
        return size


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(FIXTURE_NAMES), sizes=st.lists(st.integers(1, 300), max_size=200))
def test_property_pauses_never_change_what_a_dump_gives(name, sizes):
    """Read in pieces that pause anywhere, a well-formed dump gives the same frames."""
    text = fixture(name)
    stream = io.BufferedReader(Pieces(text.encode(), sizes))
    frames = list(iter_hex_frames(stream, "t"))
    assert [f.data for f in frames] == MESSAGES
    assert [(f.time, f.direction, f.findings) for f in frames] == [
        (f.time, f.direction, f.findings) for f in frames_of(text)
    ]
