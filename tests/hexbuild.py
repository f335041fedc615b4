"""Hex dump inputs built independently of the code under test, shared by the hex tests.

Messages are packed with struct from the header layout; kernel dumps are a
port of ``print_hex_dump()`` (lib/hexdump.c, v4.0 and later), little-endian.
"""

from __future__ import annotations

import calendar
import io
import random
import struct


def hdr(kind: int, size: int, trans_id: int) -> bytes:
    return struct.pack("<HHI", kind, size, trans_id)


def page_range(start: int, count: int) -> bytes:
    return struct.pack("<Q", start | (count << 40))


BALLOON_RESPONSE = (
    hdr(7, 56, 0xD201E328)
    + struct.pack("<II", 0x7E493231, 5 << 1)
    + b"".join(page_range(0x100000 + 0x200 * k, 512) for k in range(5))
)
STATUS_REPORT = hdr(5, 48, 0x2A) + struct.pack("<QQQQII", 0x3E8A2, 0, 0, 0, 0, 0)
UNBALLOON_RESPONSE = hdr(9, 8, 0x2B)
BALLOON_REQUEST = hdr(6, 16, 0x65666163) + struct.pack("<II", 0x3431, 0)
HOT_ADD_REQUEST = hdr(10, 24, 0x2C) + page_range(0x140000, 0x8000) + b"1234abcd"
MESSAGES = [BALLOON_RESPONSE, STATUS_REPORT, UNBALLOON_RESPONSE, BALLOON_REQUEST, HOT_ADD_REQUEST]


def utc(year, month, day, h, m, s, frac=0.0) -> float:
    return calendar.timegm((year, month, day, h, m, s, 0, 0, 0)) + frac


# --- the kernel's print_hex_dump (lib/hexdump.c, v4.0 and later), little-endian -------

DUMP_PREFIX_NONE, DUMP_PREFIX_ADDRESS, DUMP_PREFIX_OFFSET = 0, 1, 2


def hex_dump_to_buffer(buf: bytes, rowsize: int, groupsize: int, ascii: bool) -> str:
    """One line as hex_dump_to_buffer() writes it into print_hex_dump's 131-byte buffer."""
    if rowsize not in (16, 32):
        rowsize = 16
    length = min(len(buf), rowsize)
    if groupsize not in (1, 2, 4, 8):  # !is_power_of_2(groupsize) || groupsize > 8
        groupsize = 1
    if length % groupsize:  # no mixed size output
        groupsize = 1
    ngroups = length // groupsize
    ascii_column = rowsize * 2 + rowsize // groupsize + 1
    if groupsize > 1:  # get_unaligned() of a native (LE) word
        words = (
            int.from_bytes(buf[j * groupsize : (j + 1) * groupsize], "little")
            for j in range(ngroups)
        )
        line = " ".join(f"{w:0{2 * groupsize}x}" for w in words)
    else:
        line = " ".join(f"{b:02x}" for b in buf[:length])
    if not ascii:
        return line
    line = line.ljust(ascii_column)  # while (lx < ascii_column) ' '
    return line + "".join(chr(c) if 0x20 <= c < 0x7F else "." for c in buf[:length])


def print_hex_dump(
    prefix_str: str,
    prefix_type: int,
    rowsize: int,
    groupsize: int,
    buf: bytes,
    ascii: bool,
    address: int | None = None,
) -> list[str]:
    """The lines print_hex_dump() hands to printk.  ``address`` None means hashed %p
    (a 32-bit hash printed as 16 digits, different on every line)."""
    if rowsize not in (16, 32):
        rowsize = 16
    lines = []
    for i in range(0, len(buf), rowsize):
        linebuf = hex_dump_to_buffer(buf[i : i + rowsize], rowsize, groupsize, ascii)
        if prefix_type == DUMP_PREFIX_ADDRESS:
            pointer = (
                address + i
                if address is not None
                else random.Random(i * 7919 + len(buf)).getrandbits(32) | 1 << 31
            )
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


def kernel_dump(
    messages,
    prefix_type=DUMP_PREFIX_OFFSET,
    rowsize=16,
    groupsize=1,
    ascii=True,
    stamp="dmesg",
    prefix_str="hv_balloon: ",
    address=None,
    times=None,
) -> str:
    out = []
    for n, message in enumerate(messages):
        t = times[n] if times else 100.5 + n
        for line in print_hex_dump(
            prefix_str, prefix_type, rowsize, groupsize, message, ascii, address
        ):
            out.append(STAMPS[stamp](t) + line)
    return "\n".join(out) + "\n"


# --- reading a dump with and without the reader's fast paths ------------------------


class _Trickle(io.RawIOBase):
    """A pipe that hands over ``step`` bytes a read: live input pausing anywhere."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step = data, step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.step, len(self.data))
        buffer[:n], self.data = self.data[:n], self.data[n:]
        return n


def both_ways(data: bytes, step: int | None = None):
    """The frames of ``data`` read by the general reader alone, then with the fast lane
    and whole dumps (``Framer.use_lane``); ``step`` trickles it in as live input."""
    from dmdissect.sources.hex import iter_hex_frames
    from dmdissect.sources.hex.framer import Framer

    results = []
    for lane in (False, True):
        Framer.use_lane = lane
        try:
            stream = io.BufferedReader(_Trickle(data, step)) if step else io.BytesIO(data)
            results.append(list(iter_hex_frames(stream, "t")))
        finally:
            Framer.use_lane = True
    return results
