"""Classic pcap files written with ``struct`` from the file format, for tests.

Independent of dmdissect's own readers and writers, so a test that reads one
back checks the reader against the format, not against itself.
"""

from __future__ import annotations

import struct
from pathlib import Path

LINKTYPE_USER0 = 147


def pcap_bytes(records: list[tuple[float, bytes]], linktype: int = LINKTYPE_USER0) -> bytes:
    """A little-endian microsecond pcap holding one record per (time, data)."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)]
    for time, data in records:
        seconds = int(time)
        micros = round((time - seconds) * 1_000_000)
        out.append(struct.pack("<IIII", seconds, micros, len(data), len(data)))
        out.append(data)
    return b"".join(out)


def write_pcap(
    path: Path, records: list[tuple[float, bytes]], linktype: int = LINKTYPE_USER0
) -> Path:
    path.write_bytes(pcap_bytes(records, linktype))
    return path
