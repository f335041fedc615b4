"""Structure-aware captures: pcap and pcapng whose lengths sit at every limit.

Random bytes almost never form a section header, so a fuzzer fed them tests
the magic check and little else.  These generators build well-formed files
and then bend one structure field to a value next to a limit: a block length
around each block's minimum (12, 20, 28, 32), lengths that are not multiples
of 4 or disagree with their trailer, options of 65535 bytes or running past
their block, records and blocks claiming 4 GiB, files cut at any byte.  They
draw from a :class:`random.Random`, so hypothesis (``st.randoms()``) and
atheris (``fuzz/fuzz_captures.py``) drive the same code through
:func:`fuzz.harness.exercise`.
"""

from __future__ import annotations

import random
import struct

#: A status report, the message most captures are made of (header + 40 bytes).
STATUS = struct.pack("<HHI", 5, 48, 1) + struct.pack("<QQQQII", 1000, 2000, 0, 0, 0, 0)
#: Lengths next to what a reader checks: block minimums, alignment, u16/u32 limits.
LENGTHS = (0, 1, 4, 8, 11, 12, 13, 16, 19, 20, 24, 27, 28, 29, 31, 32, 33, 36, 64, 65535,
           65536, 262144, 262145, 16 * 1024 * 1024, 16 * 1024 * 1024 + 4, 0xFFFFFFF0,
           0xFFFFFFFF)  # fmt: skip


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def option(code: int, value: bytes, length: int | None = None) -> bytes:
    """A pcapng option; ``length`` may lie about the value's size."""
    return struct.pack("<HH", code, len(value) if length is None else length & 0xFFFF) + _pad(value)


def block(kind: int, body: bytes, length: int | None = None, trailer: int | None = None) -> bytes:
    real = 12 + len(_pad(body))
    length = real if length is None else length
    trailer = length if trailer is None else trailer
    return (
        struct.pack("<II", kind, length & 0xFFFFFFFF)
        + _pad(body)
        + struct.pack("<I", trailer & 0xFFFFFFFF)
    )


def shb() -> bytes:
    return block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))


def idb(linktype: int = 147) -> bytes:
    return block(1, struct.pack("<HHI", linktype, 0, 0))


def epb(data: bytes, options: bytes = b"", caplen: int | None = None) -> bytes:
    caplen = len(data) if caplen is None else caplen
    body = struct.pack("<IIIII", 0, 0, 1, caplen & 0xFFFFFFFF, len(data)) + _pad(data)
    return block(6, body + (options + option(0, b"") if options else b""))


def pcapng(rnd: random.Random) -> bytes:
    """A pcapng file with one structure bent next to a limit."""
    blocks = [shb(), idb()]
    blocks += [epb(STATUS) for _ in range(rnd.randint(0, 3))]
    bend = rnd.choice(
        ["block length", "trailer", "option 65535", "option overrun", "caplen", "spb", "idb"]
    )
    length = rnd.choice(LENGTHS)
    if bend == "block length":
        body = bytes(rnd.choice((0, 4, 8, 16, 20, 24, 48)))
        blocks.append(block(rnd.choice((1, 2, 3, 6, 0xBAD)), body, length=length))
    elif bend == "trailer":
        good = epb(STATUS)
        blocks.append(good[:-4] + struct.pack("<I", length & 0xFFFFFFFF))
    elif bend == "option 65535":
        size = rnd.choice((65531, 65532, 65535))
        blocks.append(epb(STATUS, option(1, "é".encode() * (size // 2))))
    elif bend == "option overrun":
        blocks.append(epb(STATUS, option(rnd.choice((1, 2, 9)), b"abcd", length=length)))
    elif bend == "caplen":
        blocks.append(epb(STATUS, caplen=length))
    elif bend == "spb":
        blocks.append(block(3, struct.pack("<I", length & 0xFFFFFFFF) + STATUS))
    else:
        blocks.append(block(1, struct.pack("<HHI", rnd.choice((1, 147, 0xFFFF)), 0, length)))
    blocks += [epb(STATUS) for _ in range(rnd.randint(0, 2))]
    return _cut(rnd, b"".join(blocks))


def pcap(rnd: random.Random) -> bytes:
    """A classic pcap with one record whose lengths sit next to a limit."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 147)]
    for _ in range(rnd.randint(0, 3)):
        out.append(struct.pack("<IIII", 1, 0, len(STATUS), len(STATUS)) + STATUS)
    caplen, wirelen = rnd.choice(LENGTHS), rnd.choice(LENGTHS)
    out.append(struct.pack("<IIII", 2, 0, caplen & 0xFFFFFFFF, wirelen & 0xFFFFFFFF))
    out.append(STATUS[: rnd.choice((0, 8, 24, 48))])
    return _cut(rnd, b"".join(out))


def _cut(rnd: random.Random, data: bytes) -> bytes:
    """Sometimes the file is torn at a random byte."""
    return data[: rnd.randint(0, len(data))] if rnd.random() < 0.3 else data


def capture(rnd: random.Random) -> bytes:
    return pcapng(rnd) if rnd.random() < 0.6 else pcap(rnd)
