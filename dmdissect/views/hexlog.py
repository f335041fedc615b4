"""Frames as dmesg shows them when a driver logs each message with ``print_hex_dump()``.

A faithful port of the kernel's lib/hexdump.c (``hex_dump_to_buffer()`` and
``print_hex_dump()``), so that what the hex reader is tested against is what a
kernel really prints: the ASCII column starts at ``rowsize * 2 + rowsize /
groupsize + 1``, a short last line is padded up to it, groups of 2, 4 or 8
bytes are printed as little-endian words (x86), a line whose length is not a
multiple of the group size falls back to single bytes, and only bytes 0x20 to
0x7e show as themselves in the ASCII column.

Each line carries printk's ``[%5lu.%06lu] `` stamp: seconds since boot.  Before
each dump one line names the direction (``hv_balloon: host->guest``) so that
the hex reader can give frames their direction back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from dmdissect.sources.frame import Frame

#: ``DUMP_PREFIX_*`` of include/linux/printk.h.  DUMP_PREFIX_ADDRESS (1) prints a
#: hashed pointer that nothing can reproduce, so it is not offered.
DUMP_PREFIX_NONE, DUMP_PREFIX_OFFSET = 0, 2

PREFIX = "hv_balloon: "


def hex_dump_to_buffer(
    buf: bytes, rowsize: int = 16, groupsize: int = 1, ascii: bool = True
) -> str:
    """One line of hex (and ASCII) for at most ``rowsize`` bytes, as the kernel builds it."""
    if rowsize not in (16, 32):
        rowsize = 16
    buf = buf[:rowsize]
    length = len(buf)
    if groupsize not in (1, 2, 4, 8):
        groupsize = 1
    if length % groupsize:
        groupsize = 1
    ascii_column = rowsize * 2 + rowsize // groupsize + 1
    if not length:
        return ""
    if groupsize == 1:
        line = " ".join(f"{byte:02x}" for byte in buf)
    else:
        width = groupsize * 2
        line = " ".join(
            f"{int.from_bytes(buf[i : i + groupsize], 'little'):0{width}x}"
            for i in range(0, length, groupsize)
        )
    if not ascii:
        return line
    line = line.ljust(ascii_column)
    return line + "".join(chr(byte) if 0x20 <= byte <= 0x7E else "." for byte in buf)


def print_hex_dump(
    prefix_str: str, prefix_type: int, rowsize: int, groupsize: int, buf: bytes, ascii: bool = True
) -> Iterator[str]:
    """The lines ``print_hex_dump()`` hands to printk, without the level or the newline."""
    if rowsize not in (16, 32):
        rowsize = 16
    for offset in range(0, len(buf), rowsize):
        line = hex_dump_to_buffer(buf[offset : offset + rowsize], rowsize, groupsize, ascii)
        if prefix_type == DUMP_PREFIX_OFFSET:
            yield f"{prefix_str}{offset:08x}: {line}"
        else:
            yield f"{prefix_str}{line}"


def stamp(microseconds: int) -> str:
    """printk's time prefix: ``[%5lu.%06lu] ``."""
    seconds, micro = divmod(max(microseconds, 0), 1_000_000)
    return f"[{seconds:5d}.{micro:06d}] "


def dmesg_lines(
    frames: Iterable[Frame], boot_time: float = 0.0, prefix: str = PREFIX
) -> Iterator[str]:
    """Each frame as a direction line and its dump, stamped with seconds since ``boot_time``.

    A frame without a time is stamped like the one before it (0 at the start);
    a frame without a direction gets no direction line.
    """
    micro = 0
    for frame in frames:
        if frame.time is not None:
            micro = round((frame.time - boot_time) * 1_000_000)
        head = stamp(micro)
        if frame.direction:
            yield f"{head}{prefix}{frame.direction}"
        for line in print_hex_dump(prefix, DUMP_PREFIX_OFFSET, 16, 1, frame.data):
            yield head + line
