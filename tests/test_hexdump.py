"""Hex dump input: every pasted format back to the exact message bytes.

The messages are built here with struct.pack from the header layout, never
with the code under test.  Dumps come from three places: fixtures made by the
real tools (tests/fixtures/hex/MAKE.sh, committed with their outputs), the
real tools run live when installed, and re-implementations of what has no
tool here (the kernel's print_hex_dump, tshark/tcpdump layouts), which are
themselves checked against the real tools where those exist.
"""

from __future__ import annotations

import calendar
import io
import random
import shutil
import struct
import subprocess
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dmdissect.findings import Severity
from dmdissect.sources.errors import InputError
from dmdissect.sources.hexdump import MAX_MESSAGE, iter_hex_frames, looks_like_hex_text

FIXTURES = Path(__file__).parent / "fixtures" / "hex"


# --- messages, built independently of the code under test -------------------------------

def hdr(kind: int, size: int, trans_id: int) -> bytes:
    return struct.pack("<HHI", kind, size, trans_id)


def page_range(start: int, count: int) -> bytes:
    return struct.pack("<Q", start | (count << 40))


BALLOON_RESPONSE = (hdr(7, 56, 0xD201E328) + struct.pack("<II", 0x7E493231, 5 << 1)
                    + b"".join(page_range(0x100000 + 0x200 * k, 512) for k in range(5)))
STATUS_REPORT = hdr(5, 48, 0x2A) + struct.pack("<QQQQII", 0x3E8A2, 0, 0, 0, 0, 0)
UNBALLOON_RESPONSE = hdr(9, 8, 0x2B)
BALLOON_REQUEST = hdr(6, 16, 0x65666163) + struct.pack("<II", 0x3431, 0)
HOT_ADD_REQUEST = hdr(10, 24, 0x2C) + page_range(0x140000, 0x8000) + b"1234abcd"
MESSAGES = [BALLOON_RESPONSE, STATUS_REPORT, UNBALLOON_RESPONSE, BALLOON_REQUEST, HOT_ADD_REQUEST]


def frames_of(text: str | bytes, hex_order: str | None = None, name: str = "t"):
    raw = text.encode() if isinstance(text, str) else text
    return list(iter_hex_frames(io.BytesIO(raw), name, hex_order))


def datas(text: str | bytes, hex_order: str | None = None) -> list[bytes]:
    return [f.data for f in frames_of(text, hex_order)]


def utc(year, month, day, h, m, s, frac=0.0) -> float:
    return calendar.timegm((year, month, day, h, m, s, 0, 0, 0)) + frac


# --- the kernel's print_hex_dump (lib/hexdump.c, v4.0 and later), little-endian -------

DUMP_PREFIX_NONE, DUMP_PREFIX_ADDRESS, DUMP_PREFIX_OFFSET = 0, 1, 2


def hex_dump_to_buffer(buf: bytes, rowsize: int, groupsize: int, ascii: bool) -> str:
    """One line as hex_dump_to_buffer() writes it into print_hex_dump's 131-byte buffer."""
    if rowsize not in (16, 32):
        rowsize = 16
    length = min(len(buf), rowsize)
    if groupsize not in (1, 2, 4, 8):          # !is_power_of_2(groupsize) || groupsize > 8
        groupsize = 1
    if length % groupsize:                     # no mixed size output
        groupsize = 1
    ngroups = length // groupsize
    ascii_column = rowsize * 2 + rowsize // groupsize + 1
    if groupsize > 1:                          # get_unaligned() of a native (LE) word
        words = (int.from_bytes(buf[j * groupsize:(j + 1) * groupsize], "little")
                 for j in range(ngroups))
        line = " ".join(f"{w:0{2 * groupsize}x}" for w in words)
    else:
        line = " ".join(f"{b:02x}" for b in buf[:length])
    if not ascii:
        return line
    line = line.ljust(ascii_column)            # while (lx < ascii_column) ' '
    return line + "".join(chr(c) if 0x20 <= c < 0x7F else "." for c in buf[:length])


def print_hex_dump(prefix_str: str, prefix_type: int, rowsize: int, groupsize: int,
                   buf: bytes, ascii: bool, address: int | None = None) -> list[str]:
    """The lines print_hex_dump() hands to printk.  ``address`` None means hashed %p
    (a 32-bit hash printed as 16 digits, different on every line)."""
    if rowsize not in (16, 32):
        rowsize = 16
    lines = []
    for i in range(0, len(buf), rowsize):
        linebuf = hex_dump_to_buffer(buf[i:i + rowsize], rowsize, groupsize, ascii)
        if prefix_type == DUMP_PREFIX_ADDRESS:
            pointer = (address + i if address is not None
                       else random.Random(i * 7919 + len(buf)).getrandbits(32) | 1 << 31)
            lines.append(f"{prefix_str}{pointer:016x}: {linebuf}")
        elif prefix_type == DUMP_PREFIX_OFFSET:
            lines.append(f"{prefix_str}{i:08x}: {linebuf}")
        else:
            lines.append(f"{prefix_str}{linebuf}")
    return lines


def dmesg_stamp(seconds: float) -> str:
    micro = round(seconds * 1_000_000)
    return f"[{micro // 1_000_000:5d}.{micro % 1_000_000:06d}] "


STAMPS = {
    "none": lambda t: "",
    "dmesg": dmesg_stamp,
    "dmesg -r": lambda t: "<7>" + dmesg_stamp(t),
    "dmesg -T": lambda t: "[Fri Nov 27 01:09:11 2026] ",
    "journalctl": lambda t: "2026-11-27T01:09:11.123456+00:00 host kernel: ",
    "syslog": lambda t: "Nov 27 01:09:11 host kernel: " + dmesg_stamp(t),
}
STAMP_TIME = {
    "none": lambda t: None,
    "dmesg": lambda t: t,
    "dmesg -r": lambda t: t,
    "dmesg -T": lambda t: utc(2026, 11, 27, 1, 9, 11),
    "journalctl": lambda t: utc(2026, 11, 27, 1, 9, 11, 0.123456),
    "syslog": lambda t: t,
}


def kernel_dump(messages, prefix_type=DUMP_PREFIX_OFFSET, rowsize=16, groupsize=1,
                ascii=True, stamp="dmesg", prefix_str="hv_balloon: ", address=None,
                times=None) -> str:
    out = []
    for n, message in enumerate(messages):
        t = times[n] if times else 100.5 + n
        for line in print_hex_dump(prefix_str, prefix_type, rowsize, groupsize, message,
                                   ascii, address):
            out.append(STAMPS[stamp](t) + line)
    return "\n".join(out) + "\n"


# --- layouts of tools that are not run here, checked against the real ones below ------

def render(data: bytes) -> str:
    return "".join(chr(c) if 0x20 <= c < 0x7F else "." for c in data)


def tshark_x(messages) -> str:
    blocks = []
    for message in messages:
        lines = []
        for off in range(0, len(message), 16):
            row = message[off:off + 16]
            hexpart = " ".join(f"{b:02x}" for b in row)
            lines.append(f"{off:04x}  {hexpart:<47}   {render(row)}")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks) + "\n"


def wireshark_copy(messages) -> str:
    """Wireshark's "Copy as Hex Dump": three spaces after the offset."""
    return "".join(
        "".join(f"{off:04x}   {' '.join(f'{b:02x}' for b in m[off:off + 16]):<47}   "
                f"{render(m[off:off + 16])}\n" for off in range(0, len(m), 16)) + "\n"
        for m in messages)


def tcpdump_block(message: bytes, ascii: bool) -> list[str]:
    lines = []
    for off in range(0, len(message), 16):
        row = message[off:off + 16]
        words = " ".join(row[i:i + 2].hex() for i in range(0, len(row), 2))
        line = f"\t0x{off:04x}:  {words}"
        lines.append(f"{line}{' ' * (39 - len(words))}  {render(row)}" if ascii else line)
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


@pytest.mark.parametrize("name", [
    "xxd.txt", "xxd_g1.txt", "xxd_e.txt", "xxd_p.txt", "xxd_i.txt",
    "hexdump_C.txt", "hexdump.txt", "od_x1z_v.txt", "od_x1z.txt", "od_octal.txt",
    "od_decimal_x2.txt", "tshark_x.txt", "tcpdump_X.txt", "tcpdump_xx.txt",
    "text2pcap_io.txt",
])
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
    stamps = [line.split(" UNSUPPORTED")[0] for line in fixture("tcpdump_X.txt").splitlines()
              if "UNSUPPORTED" in line]
    assert tcpdump(MESSAGES, stamps=stamps) == fixture("tcpdump_X.txt")
    assert tcpdump(MESSAGES, ascii=False, stamps=stamps) == fixture("tcpdump_xx.txt")
