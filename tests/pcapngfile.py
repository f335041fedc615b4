"""pcapng files written with ``struct`` from the file format, for tests.

Independent of dmdissect's own reader and writer: interfaces, per-packet
direction flags and comments as the pcapng specification lays them out.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

LINKTYPE_USER0 = 147
INBOUND, OUTBOUND = 1, 2


@dataclass
class Packet:
    time: float
    data: bytes
    interface: int = 0
    flags: int | None = None
    comment: str | None = None
    #: Further comments after ``comment``, each its own option.
    more_comments: tuple[str, ...] = ()


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + _pad(value)


def _block(kind: int, body: bytes) -> bytes:
    body = _pad(body)
    return struct.pack("<II", kind, len(body) + 12) + body + struct.pack("<I", len(body) + 12)


def pcapng_bytes(packets: list[Packet], interfaces: int = 1) -> bytes:
    """One section, ``interfaces`` microsecond USER0 interfaces, one EPB a packet."""
    out = [_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))]
    out += [_block(1, struct.pack("<HHI", LINKTYPE_USER0, 0, 65535))] * interfaces
    for packet in packets:
        ticks = round(packet.time * 1_000_000)
        body = struct.pack(
            "<IIIII",
            packet.interface,
            ticks >> 32,
            ticks & 0xFFFFFFFF,
            len(packet.data),
            len(packet.data),
        ) + _pad(packet.data)
        options = b""
        if packet.comment is not None:
            options += _option(1, packet.comment.encode())
        for text in packet.more_comments:
            options += _option(1, text.encode())
        if packet.flags is not None:
            options += _option(2, struct.pack("<I", packet.flags))
        if options:
            body += options + _option(0, b"")
        out.append(_block(6, body))
    return b"".join(out)


def write_pcapng(path: Path, packets: list[Packet], interfaces: int = 1) -> Path:
    path.write_bytes(pcapng_bytes(packets, interfaces))
    return path
