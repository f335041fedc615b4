"""Capture files built byte by byte with ``struct`` from the pcap and pcapng formats.

Never by dmdissect's own writer, so that the readers are checked against the
formats.  Shared by the capture, convert and other tests.
"""

from __future__ import annotations

import struct

# ------------------------------------------------------------ message bytes


def header(kind: int, size: int, trans_id: int) -> bytes:
    return struct.pack("<HHI", kind, size, trans_id)


VERSION_REQUEST = header(1, 16, 1) + struct.pack("<HHI", 0, 2, 0)
VERSION_RESPONSE = header(2, 16, 1) + struct.pack("<Q", 1)
CAPABILITIES = header(3, 32, 2) + struct.pack("<QQQ", 0b11111, 0, 2**64 - 1)
STATUS = header(5, 48, 3) + struct.pack("<QQQQII", 262144, 131072, 0, 0, 0, 0)
BALLOON_REQUEST = header(6, 16, 0) + struct.pack("<II", 512, 0)
BALLOON_RESPONSE = (
    header(7, 24, 4) + struct.pack("<II", 0, 1 << 1) + struct.pack("<Q", 0x10000 | 512 << 40)
)
MESSAGES = [
    VERSION_REQUEST,
    VERSION_RESPONSE,
    CAPABILITIES,
    STATUS,
    BALLOON_REQUEST,
    BALLOON_RESPONSE,
]


# -------------------------------------------------------- capture builders


def pcap(
    records: list[tuple[int, int, bytes]],
    endian: str = "<",
    nano: bool = False,
    linktype: int = 147,
) -> bytes:
    """A classic pcap file: records of (seconds, fraction, data)."""
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = [struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)]
    for sec, frac, data in records:
        out.append(struct.pack(endian + "IIII", sec, frac, len(data), len(data)) + data)
    return b"".join(out)


def option(endian: str, code: int, value: bytes) -> bytes:
    return struct.pack(endian + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def block(endian: str, kind: int, body: bytes, options: bytes = b"") -> bytes:
    body += b"\0" * (-len(body) % 4)
    if options:
        body += options + struct.pack(endian + "HH", 0, 0)
    length = 12 + len(body)
    return struct.pack(endian + "II", kind, length) + body + struct.pack(endian + "I", length)


def shb(endian: str) -> bytes:
    return block(endian, 0x0A0D0D0A, struct.pack(endian + "IHHq", 0x1A2B3C4D, 1, 0, -1))


def idb(
    endian: str,
    linktype: int,
    tsresol: int | None = None,
    tsoffset: int | None = None,
    snaplen: int = 0,
) -> bytes:
    options = b""
    if tsresol is not None:
        options += option(endian, 9, bytes([tsresol]))
    if tsoffset is not None:
        options += option(endian, 14, struct.pack(endian + "q", tsoffset))
    return block(endian, 1, struct.pack(endian + "HHI", linktype, 0, snaplen), options)


def epb(
    endian: str,
    ifid: int,
    ticks: int,
    data: bytes,
    flags: int | None = None,
    comments: tuple[str, ...] = (),
    caplen: int | None = None,
) -> bytes:
    options = b"".join(option(endian, 1, c.encode()) for c in comments)
    if flags is not None:
        options += option(endian, 2, struct.pack(endian + "I", flags))
    fixed = struct.pack(
        endian + "IIIII",
        ifid,
        ticks >> 32,
        ticks & 0xFFFFFFFF,
        len(data) if caplen is None else caplen,
        len(data),
    )
    return block(endian, 6, fixed + data, options)


def spb(endian: str, data: bytes) -> bytes:
    return block(endian, 3, struct.pack(endian + "I", len(data)) + data)


def hand_pcapng() -> tuple[bytes, list[tuple]]:
    """Two sections (little- then big-endian), three interfaces, every packet block kind.

    Returns the file and, per frame, (data, time, direction, direction_source,
    comment, offset).
    """
    le, be = "<", ">"
    parts: list[bytes] = []
    expected: list[tuple] = []

    def add(raw: bytes, frame: tuple | None = None) -> None:
        if frame is not None:
            expected.append(frame + (sum(map(len, parts)),))
        parts.append(raw)

    add(shb(le))
    add(idb(le, 147, tsresol=6))
    add(idb(le, 150, tsresol=9, tsoffset=1700000000))
    add(block(le, 0x0BADCAFE, b"unknown block, skipped"))
    add(
        epb(le, 0, 1700000000_123456, VERSION_REQUEST, flags=1, comments=("hello",)),
        (VERSION_REQUEST, 1700000000.123456, "guest->host", "capture", "hello"),
    )
    add(
        epb(le, 1, 5_000000001, VERSION_RESPONSE, flags=2 | 0x1E0),
        (VERSION_RESPONSE, 1700000005.000000001, "host->guest", "capture", None),
    )
    add(spb(le, CAPABILITIES), (CAPABILITIES, None, None, "unknown", None))
    add(block(le, 4, struct.pack("<HH", 0, 0)))
    add(
        epb(le, 0, 1700000002_000000, STATUS, flags=0, comments=("a", "b")),
        (STATUS, 1700000002.0, None, "unknown", "a\nb"),
    )
    add(shb(be))
    add(idb(be, 162, tsresol=0x80 | 10))
    add(
        epb(be, 0, 1700000003 * 1024 + 512, BALLOON_REQUEST, flags=2, comments=("big",)),
        (BALLOON_REQUEST, 1700000003.5, "host->guest", "capture", "big"),
    )
    ticks = 1700000004 * 1024
    obsolete = (
        struct.pack(
            be + "HHIIII",
            0,
            0,
            ticks >> 32,
            ticks & 0xFFFFFFFF,
            len(BALLOON_RESPONSE),
            len(BALLOON_RESPONSE),
        )
        + BALLOON_RESPONSE
    )
    add(
        block(be, 2, obsolete, option(be, 2, struct.pack(be + "I", 1))),
        (BALLOON_RESPONSE, 1700000004.0, "guest->host", "capture", None),
    )
    return b"".join(parts), expected
