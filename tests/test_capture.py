"""Capture inputs: pcap, pcapng, raw, detection and the open_frames entry point.

Every capture here is built byte by byte with ``struct`` from the file formats
(or by scapy / the Wireshark tools), never by dmdissect's own writer, so the
readers are checked against the formats.
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import sys
import threading
import tracemalloc
import types
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dmdissect import findings as ei
from dmdissect.findings import Finding, Severity
from dmdissect.sources import FORMATS, open_frames
from dmdissect.sources.capture import iter_pcap, iter_pcapng
from dmdissect.sources.detect import detect_format
from dmdissect.sources.errors import InputError
from dmdissect.sources.raw import iter_raw_frames
from tests.capbuild import (
    BALLOON_REQUEST,
    CAPABILITIES,
    MESSAGES,
    STATUS,
    VERSION_REQUEST,
    VERSION_RESPONSE,
    block,
    epb,
    hand_pcapng,
    header,
    idb,
    pcap,
    shb,
    spb,
)
from tests.torn import frames_and_error

FIXTURES = Path(__file__).parent / "fixtures" / "capture"


def frames_of(data: bytes, tmp_path: Path, name: str = "in.cap", **kwargs) -> list:
    path = tmp_path / name
    path.write_bytes(data)
    return list(open_frames(str(path), **kwargs))


def summary(frame) -> tuple:
    return (
        frame.index,
        frame.data,
        frame.time,
        frame.direction,
        frame.direction_source,
        frame.origin,
        frame.comment,
        frame.findings,
    )


# -------------------------------------------------------------------- pcap


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("nano", [False, True])
def test_pcap_byte_orders_and_resolutions(tmp_path, endian, nano):
    frac = 123456789 if nano else 123456
    data = pcap([(1700000000, frac, VERSION_REQUEST), (1700000001, 0, CAPABILITIES)], endian, nano)
    frames = frames_of(data, tmp_path)
    path = str(tmp_path / "in.cap")
    first_time = 1700000000.123456789 if nano else 1700000000.123456
    assert [summary(f) for f in frames] == [
        (1, VERSION_REQUEST, first_time, None, "unknown", f"{path}#1@24", None, []),
        (2, CAPABILITIES, 1700000001.0, None, "unknown", f"{path}#2@56", None, []),
    ]


def test_pcap_every_user_linktype(tmp_path):
    for linktype in range(147, 163):
        frames = frames_of(pcap([(1, 0, STATUS)], linktype=linktype), tmp_path)
        assert [f.data for f in frames] == [STATUS]


def test_pcap_linktype_in_upper_bits_ignored(tmp_path):
    data = bytearray(pcap([(1, 0, STATUS)]))
    data[20:24] = struct.pack("<I", 0x10000000 | 147)
    assert [f.data for f in frames_of(bytes(data), tmp_path)] == [STATUS]


def test_pcap_snapped_packet_warns(tmp_path):
    data = pcap([(1, 0, STATUS[:16])])
    data = data[:24] + struct.pack("<IIII", 1, 0, 16, 48) + STATUS[:16]
    frames = frames_of(data, tmp_path)
    assert frames[0].data == STATUS[:16]
    assert frames[0].findings == [
        ei.CAPTURE_SNAPLEN("packet cut by the capture's snap length: 16 of 48 bytes")
    ]


def test_pcap_wrong_linktype(tmp_path):
    path = tmp_path / "capture.pcap"
    path.write_bytes(pcap([(1, 0, STATUS)], linktype=1))
    with pytest.raises(InputError) as info:
        open_frames(str(path))
    assert str(info.value) == (
        f"{path}: link type 1 (ETHERNET) is not a Dynamic Memory link type; "
        f"use --linktype 1 to force"
    )


def test_pcap_unknown_linktype_named_by_number(tmp_path):
    path = tmp_path / "capture.pcap"
    path.write_bytes(pcap([(1, 0, STATUS)], linktype=4242))
    with pytest.raises(InputError) as info:
        open_frames(str(path))
    assert str(info.value) == (
        f"{path}: link type 4242 is not a Dynamic Memory link type; use --linktype 4242 to force"
    )


def test_pcap_linktype_override(tmp_path):
    frames = frames_of(
        pcap([(1, 0, STATUS), (2, 0, BALLOON_REQUEST)], linktype=1), tmp_path, linktype=1
    )
    assert [f.data for f in frames] == [STATUS, BALLOON_REQUEST]


def test_pcap_format_forced_on_other_content(tmp_path):
    path = tmp_path / "x.pcap"
    path.write_bytes(VERSION_REQUEST)
    with pytest.raises(InputError) as info:
        open_frames(str(path), fmt="pcap")
    assert str(info.value) == f"{path}: not a pcap file (magic 0x01001000)"


# ------------------------------------------------------------------ pcapng


def test_pcapng_written_by_scapy(tmp_path):
    from scapy.packet import Raw
    from scapy.utils import PcapNgWriter

    path = tmp_path / "scapy.pcapng"
    writer = PcapNgWriter(str(path))
    writer.linktype = 147
    for time, data, direction, comments in [
        (1700000000.5, VERSION_REQUEST, 1, [b"first"]),
        (1700000000.75, VERSION_RESPONSE, 2, None),
        (1700000001.25, STATUS, None, [b"status", b"two lines"]),
    ]:
        packet = Raw(data)
        packet.time = time
        packet.direction = direction
        packet.comments = comments
        writer.write(packet)
    writer.close()
    frames = list(open_frames(str(path)))
    assert [(f.data, f.time, f.direction, f.direction_source, f.comment) for f in frames] == [
        (VERSION_REQUEST, 1700000000.5, "guest->host", "capture", "first"),
        (VERSION_RESPONSE, 1700000000.75, "host->guest", "capture", None),
        (STATUS, 1700000001.25, None, "unknown", "status\ntwo lines"),
    ]


def test_pcapng_by_hand_sections_interfaces_blocks(tmp_path):
    data, expected = hand_pcapng()
    frames = frames_of(data, tmp_path)
    path = tmp_path / "in.cap"
    assert [summary(f) for f in frames] == [
        (n, d, t, di, ds, f"{path}#{n}@{off}", c, [])
        for n, (d, t, di, ds, c, off) in enumerate(expected, 1)
    ]


def test_pcapng_spb_cut_to_snaplen(tmp_path):
    # The block holds the 16 bytes the snap length keeps; the original length is 48.
    cut = block("<", 3, struct.pack("<I", len(STATUS)) + STATUS[:16])
    data = shb("<") + idb("<", 147, snaplen=16) + cut
    frames = frames_of(data, tmp_path)
    assert frames[0].data == STATUS[:16]
    assert frames[0].findings == [
        ei.CAPTURE_SNAPLEN("packet cut by the capture's snap length: 16 of 48 bytes")
    ]


def test_pcapng_wrong_linktype(tmp_path):
    path = tmp_path / "capture.pcapng"
    path.write_bytes(
        shb("<") + idb("<", 147) + idb("<", 1) + epb("<", 0, 1, STATUS) + epb("<", 1, 2, STATUS)
    )
    frames = open_frames(str(path))
    assert next(frames).data == STATUS
    with pytest.raises(InputError) as info:
        next(frames)
    assert str(info.value) == (
        f"{path}: link type 1 (ETHERNET) is not a Dynamic Memory link type; "
        f"use --linktype 1 to force"
    )


def test_pcapng_linktype_override(tmp_path):
    data = shb("<") + idb("<", 1) + epb("<", 0, 1, STATUS)
    assert [f.data for f in frames_of(data, tmp_path, linktype=1)] == [STATUS]


def test_pcapng_packet_on_missing_interface(tmp_path):
    data = shb("<") + idb("<", 147) + epb("<", 3, 1, STATUS) + epb("<", 0, 2, STATUS)
    frames = frames_of(data, tmp_path)
    assert [(f.data, f.time, f.findings) for f in frames] == [
        (
            STATUS,
            None,
            [
                ei.CAPTURE_INTERFACE_UNKNOWN(
                    "packet on interface 3, but the section describes 1 interface(s)"
                )
            ],
        ),
        (STATUS, 2e-6, []),
    ]


def test_pcapng_caplen_past_block_end_keeps_going(tmp_path):
    data = (
        shb("<")
        + idb("<", 147)
        + epb("<", 0, 1, STATUS, caplen=0xFFFFFFF0)
        + epb("<", 0, 2, BALLOON_REQUEST)
    )
    frames = frames_of(data, tmp_path)
    assert [(f.data, f.findings) for f in frames] == [
        (
            STATUS,
            [
                ei.CAPTURE_CAPLEN_OVERRUN(
                    "captured length 4294967280 runs past the block end; 48 bytes kept"
                )
            ],
        ),
        (BALLOON_REQUEST, []),
    ]


def test_pcapng_trailer_mismatch_stops(tmp_path):
    bad = bytearray(epb("<", 0, 1, STATUS))
    bad[-4:] = struct.pack("<I", 4)
    data = shb("<") + idb("<", 147) + bytes(bad) + epb("<", 0, 2, STATUS)
    path = tmp_path / "in.cap"
    path.write_bytes(data)
    frames, stop = frames_and_error(lambda: open_frames(str(path)))
    assert [(f.data, f.findings) for f in frames] == [
        (
            STATUS,
            [
                ei.CAPTURE_TRAILER_MISMATCH(
                    "block length 80 differs from its trailer 4; reading stopped"
                )
            ],
        ),
    ]
    offset = len(shb("<") + idb("<", 147))
    assert stop == (
        f"{path}: record 1 at offset {offset}: block length 80 differs from its trailer 4; "
        f"reading stopped"
    )


def test_pcapng_bad_option_length(tmp_path):
    raw = bytearray(epb("<", 0, 1, STATUS, comments=("abcd",)))
    raw[28 + 48 + 2 : 28 + 48 + 4] = struct.pack("<H", 400)
    frames = frames_of(shb("<") + idb("<", 147) + bytes(raw), tmp_path)
    assert [(f.data, f.comment, f.findings) for f in frames] == [
        (
            STATUS,
            None,
            [
                ei.CAPTURE_OPTION_OVERRUN(
                    "option 1 runs past the end of its block; options ignored from there"
                )
            ],
        ),
    ]


@pytest.mark.parametrize(
    "head, message",
    [
        (b"\x0a\x0d\x0d\x0a\x1c\0\0\0", "pcapng section header truncated: 8 of 12 bytes"),
        (b"\x0a\x0d\x0d\x0a\x1c\0\0\0\x11\x22\x33\x44", "bad pcapng byte-order magic 0x11223344"),
        (b"\x0a\x0d\x0d\x0a\x08\0\0\0\x4d\x3c\x2b\x1a", "section header block length 8 is invalid"),
        (
            block("<", 0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 2, 0, -1)),
            "pcapng version 2 is not supported",
        ),
    ],
)
def test_pcapng_bad_first_section(tmp_path, head, message):
    path = tmp_path / "bad.pcapng"
    path.write_bytes(head)
    with pytest.raises(InputError) as info:
        open_frames(str(path), fmt="pcapng")
    assert str(info.value) == f"{path}: {message}"


# ------------------------------------------------ files made by other tools


FIXTURE_FRAMES = [
    (VERSION_REQUEST, 1700000000.123456789, "guest->host"),
    (VERSION_RESPONSE, 1700000000.223456, "host->guest"),
    (CAPABILITIES, 1700000001.000001, "guest->host"),
    (BALLOON_REQUEST, 1700000050.5, "host->guest"),
]
FIXTURE_CAPABILITIES = header(3, 32, 2) + struct.pack("<Q", 0x1F) + bytes(8) + b"\xff" * 8


def fixture_expected(directions: bool, micro: bool, comments=(None,) * 4) -> list[tuple]:
    out = []
    for (data, time, direction), comment in zip(FIXTURE_FRAMES, comments):
        if data is CAPABILITIES:
            data = FIXTURE_CAPABILITIES
        if micro:
            time = int(time * 1e6) / 1e6
        out.append((data, time, direction if directions else None, comment))
    return out


def essentials(frames) -> list[tuple]:
    return [(f.data, f.time, f.direction, f.comment) for f in frames]


def test_fixture_text2pcap():
    frames = list(open_frames(str(FIXTURES / "text2pcap.pcapng")))
    assert essentials(frames) == fixture_expected(True, False)


def test_fixture_editcap_pcap_micro_and_nano():
    assert essentials(open_frames(str(FIXTURES / "editcap.pcap"))) == fixture_expected(False, True)
    assert essentials(open_frames(str(FIXTURES / "editcap-nsec.pcap"))) == fixture_expected(
        False, False
    )


def test_fixture_editcap_comments():
    frames = list(open_frames(str(FIXTURES / "editcap-comments.pcapng")))
    assert essentials(frames) == fixture_expected(
        True, False, (None, "accepted 2.0", None, "first balloon")
    )


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Wireshark tools are optional in CI)")
    return path


def test_text2pcap_live(tmp_path):
    out = tmp_path / "live.pcapng"
    subprocess.run(
        [
            tool("text2pcap"),
            "-q",
            "-D",
            "-t",
            "ISO",
            "-l",
            "147",
            str(FIXTURES / "session.txt"),
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    assert essentials(open_frames(str(out))) == fixture_expected(True, False)


def test_editcap_live_from_struct_pcap(tmp_path):
    source = tmp_path / "in.pcap"
    source.write_bytes(
        pcap([(1700000000, 250000, VERSION_REQUEST), (1700000001, 5, STATUS)], endian=">")
    )
    out = tmp_path / "out.pcapng"
    subprocess.run(
        [tool("editcap"), "-F", "pcapng", "-a", "2:from editcap", str(source), str(out)],
        check=True,
        capture_output=True,
    )
    assert essentials(open_frames(str(out))) == [
        (VERSION_REQUEST, 1700000000.25, None, None),
        (STATUS, 1700000001.000005, None, "from editcap"),
    ]


def test_editcap_live_nanosecond_pcap(tmp_path):
    source = tmp_path / "in.pcapng"
    source.write_bytes(hand_pcapng()[0])
    out = tmp_path / "out.pcap"
    subprocess.run(
        [tool("editcap"), "-T", "user0", "-F", "nsecpcap", str(source), str(out)],
        check=True,
        capture_output=True,
    )
    frames = list(open_frames(str(out)))
    assert [(f.data, f.time) for f in frames] == [
        (data, 0.0 if time is None else time) for data, time, *_ in hand_pcapng()[1]
    ]


# --------------------------------------------------------- damaged captures


def pcap_boundaries(data: bytes) -> list[int]:
    """Record start offsets of a little-endian pcap, and the end."""
    offsets, pos = [], 24
    while pos < len(data):
        offsets.append(pos)
        pos += 16 + struct.unpack_from("<I", data, pos + 8)[0]
    return offsets + [pos]


def test_pcap_truncated_at_every_offset(tmp_path):
    records = [(1700000000, i, message) for i, message in enumerate(MESSAGES[:3])]
    data = pcap(records)
    whole = frames_of(data, tmp_path)
    bounds = pcap_boundaries(data)
    path = tmp_path / "cut.pcap"
    for cut in range(len(data)):
        path.write_bytes(data[:cut])
        if cut == 0:
            with pytest.raises(InputError, match="is empty$"):
                open_frames(str(path), fmt="pcap")
            continue
        if cut < 24:
            with pytest.raises(InputError) as info:
                open_frames(str(path), fmt="pcap")
            message = (
                f"not a pcap file (magic 0x{data[:cut].hex()})"
                if cut < 4
                else f"pcap file header truncated: {cut} of 24 bytes"
            )
            assert str(info.value) == f"{path}: {message}"
            continue
        frames, stop = frames_and_error(lambda: open_frames(str(path)))
        kept = sum(1 for end in bounds[1:] if end <= cut)
        assert [summary(f)[1:5] for f in frames[:kept]] == [summary(f)[1:5] for f in whole[:kept]]
        if cut in bounds:
            assert (len(frames), stop) == (kept, None)
            continue
        start = bounds[kept]
        got = cut - start
        where = f"{path}: record {kept + 1} at offset {start}: "
        if got < 16:
            problem = f"record header truncated: {got} of 16 bytes"
        else:
            problem = f"record truncated: {got - 16} of {len(MESSAGES[kept])} bytes"
        assert stop == where + problem + "; reading stopped"
        if got <= 16:
            # No byte of the message arrived: no frame, not a phantom 0-byte one.
            assert len(frames) == kept
            continue
        assert len(frames) == kept + 1
        torn = frames[-1]
        assert torn.origin == f"{path}#{kept + 1}@{start}"
        assert (torn.data, torn.findings) == (
            MESSAGES[kept][: got - 16],
            [ei.CAPTURE_RECORD_TRUNCATED(problem)],
        )


def pcapng_layout(data: bytes) -> list[tuple[int, int, int]]:
    """(offset, type, length) of every block of a little-endian pcapng file."""
    out, pos = [], 0
    while pos < len(data):
        kind, length = struct.unpack_from("<II", data, pos)
        out.append((pos, kind, length))
        pos += length
    return out


def small_pcapng() -> bytes:
    return (
        shb("<")
        + idb("<", 147, tsresol=6)
        + epb("<", 0, 1700000000_000001, VERSION_REQUEST, flags=1, comments=("c",))
        + block("<", 0x0BAD, b"skip me")
        + spb("<", STATUS)
        + shb("<")
        + idb("<", 148)
        + epb("<", 0, 7, BALLOON_REQUEST, flags=2)
    )


def expected_torn(
    kind: int, length: int, got: int, data_in_block: bytes
) -> tuple[bytes, Finding | None, str]:
    """What the reader must say of a block cut after ``got`` of its ``length`` bytes.

    The bytes of the torn frame (empty: no frame), its finding, and the error that stops.
    """
    if got < 8:
        return b"", None, f"block header truncated: {got} of 8 bytes"
    if kind == 0x0A0D0D0A:
        if got < 12:
            return b"", None, f"section header truncated: {got} of 12 bytes"
        return b"", None, f"section header truncated: {got} of {length} bytes"
    if kind == 1:
        return b"", None, f"interface block truncated: {got} of {length} bytes"
    if kind not in (3, 6):
        return b"", None, f"block type {kind} truncated: {got} of {length} bytes"
    fixed = 28 if kind == 6 else 12
    stop = f"block truncated: {got} of {length} bytes"
    if got < fixed:
        return b"", None, stop
    present = data_in_block[: got - fixed]
    if len(present) < len(data_in_block):
        cut = f"record truncated: {len(present)} of {len(data_in_block)} bytes"
        return present, ei.CAPTURE_RECORD_TRUNCATED(cut), stop
    after = f"block truncated after the packet bytes: {got} of {length} bytes"
    return present, ei.CAPTURE_BLOCK_TRUNCATED(after), stop


def test_pcapng_truncated_at_every_offset(tmp_path):
    data = small_pcapng()
    layout = pcapng_layout(data)
    payloads = {6: [VERSION_REQUEST, BALLOON_REQUEST], 3: [STATUS]}
    block_data = []
    seen = {3: 0, 6: 0}
    for _offset, kind, _length in layout:
        if kind in payloads:
            block_data.append(payloads[kind][seen[kind]])
            seen[kind] += 1
        else:
            block_data.append(None)
    whole = frames_of(data, tmp_path)
    assert [f.data for f in whole] == [VERSION_REQUEST, STATUS, BALLOON_REQUEST]
    path = tmp_path / "cut.pcapng"
    first_shb = layout[0][2]
    for cut in range(first_shb, len(data)):
        path.write_bytes(data[:cut])
        frames, stop = frames_and_error(lambda: open_frames(str(path)))
        complete = [i for i, (off, _k, length) in enumerate(layout) if off + length <= cut]
        packets = sum(1 for i in complete if block_data[i] is not None)
        assert [summary(f)[1:5] + summary(f)[6:] for f in frames[:packets]] == [
            summary(f)[1:5] + summary(f)[6:] for f in whole[:packets]
        ]
        if cut in [off for off, _k, _l in layout]:
            assert (len(frames), stop) == (packets, None)
            continue
        torn_block = len(complete)
        offset, kind, length = layout[torn_block]
        expected_data, finding, problem = expected_torn(
            kind, length, cut - offset, block_data[torn_block] or b""
        )
        assert (
            stop == f"{path}: record {packets + 1} at offset {offset}: {problem}; reading stopped"
        )
        if not expected_data:
            assert len(frames) == packets
            continue
        assert len(frames) == packets + 1
        torn = frames[-1]
        assert (torn.index, torn.data, torn.origin, torn.findings) == (
            packets + 1,
            expected_data,
            f"{path}#{packets + 1}@{offset}",
            [finding],
        )


def test_pcapng_cut_inside_first_section_header(tmp_path):
    data = small_pcapng()
    path = tmp_path / "cut.pcapng"
    for cut in range(1, 28):
        path.write_bytes(data[:cut])
        with pytest.raises(InputError):
            open_frames(str(path), fmt="pcapng")


def peak_bytes(function) -> int:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_pcap_record_claiming_4gib(tmp_path):
    data = pcap([(1, 0, STATUS)])
    data += struct.pack("<IIII", 2, 0, 0xFFFFFFF0, 0xFFFFFFF0) + b"x" * 100
    path = tmp_path / "huge.pcap"
    path.write_bytes(data)
    got: list = []
    peak = peak_bytes(lambda: got.append(frames_and_error(lambda: open_frames(str(path)))))
    frames, stop = got[0]
    assert [(f.data, f.findings) for f in frames] == [(STATUS, [])]
    assert stop == (
        f"{path}: record 2 at offset {24 + 16 + len(STATUS)}: record claims 4294967280 bytes, "
        f"more than the 262144-byte limit; reading stopped"
    )
    assert peak < 2 * 1024 * 1024


def test_pcapng_block_claiming_4gib(tmp_path):
    data = shb("<") + idb("<", 147) + epb("<", 0, 1, STATUS)
    data += struct.pack("<II", 6, 0xFFFFFFF0) + b"x" * 100
    path = tmp_path / "huge.pcapng"
    path.write_bytes(data)
    got: list = []
    peak = peak_bytes(lambda: got.append(frames_and_error(lambda: open_frames(str(path)))))
    frames, stop = got[0]
    assert [(f.data, f.findings) for f in frames] == [(STATUS, [])]
    offset = len(shb("<") + idb("<", 147) + epb("<", 0, 1, STATUS))
    assert stop == (
        f"{path}: record 2 at offset {offset}: block type 6 claims 4294967280 bytes, not a "
        f"valid block length (12 to 16777216, multiple of 4); reading stopped"
    )
    assert peak < 2 * 1024 * 1024


def test_pcapng_block_claiming_16mib_in_small_file(tmp_path):
    length = 16 * 1024 * 1024 - 4
    fixed = struct.pack("<IIIII", 0, 0, 0, 4000, 4000)
    data = shb("<") + idb("<", 147) + struct.pack("<II", 6, length) + fixed + b"x" * 3000
    path = tmp_path / "claims.pcapng"
    path.write_bytes(data)
    got: list = []
    peak = peak_bytes(lambda: got.append(frames_and_error(lambda: open_frames(str(path)))))
    frames, stop = got[0]
    assert [(f.data, f.findings) for f in frames] == [
        (b"x" * 3000, [ei.CAPTURE_RECORD_TRUNCATED("record truncated: 3000 of 4000 bytes")]),
    ]
    assert stop.endswith(
        f"block truncated: {len(data) - 20 - 28} of {length} bytes; reading stopped"
    )
    assert peak < 2 * 1024 * 1024


def test_pcapng_unknown_block_claiming_16mib_skipped_in_chunks(tmp_path):
    length = 16 * 1024 * 1024 - 4
    data = shb("<") + idb("<", 147) + struct.pack("<II", 0xBAD, length) + b"y" * 500_000
    path = tmp_path / "claims.pcapng"
    path.write_bytes(data)
    got: list = []
    peak = peak_bytes(lambda: got.append(frames_and_error(lambda: open_frames(str(path)))))
    offset = len(shb("<") + idb("<", 147))
    assert got == [
        (
            [],
            f"{path}: record 1 at offset {offset}: block type 2989 truncated: "
            f"{8 + 500_000} of {length} bytes; reading stopped",
        )
    ]
    assert peak < 2 * 1024 * 1024


def errors_only_last(frames) -> bool:
    return all(x.severity is not Severity.ERROR for f in frames[:-1] for x in f.findings)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_pcapng_any_bytes_after_header_never_raise(tail):
    """Nothing but InputError escapes; no frame is empty (no phantom of a torn record)."""
    frames, _ = frames_and_error(iter_pcapng(io.BytesIO(shb("<") + tail), "fuzz", linktype=147))
    assert all(len(f.data) <= len(tail) for f in frames)
    assert all(f.data for f in frames)
    assert errors_only_last(frames)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_pcap_any_bytes_after_header_never_raise(tail):
    frames, stop = frames_and_error(iter_pcap(io.BytesIO(pcap([]) + tail), "fuzz"))
    assert sum(len(f.data) for f in frames) + 16 * len(frames) >= len(tail) or stop
    assert errors_only_last(frames)


# ---------------------------------------------------------------------- raw


def raw_frames(data: bytes) -> list:
    return list(iter_raw_frames(io.BytesIO(data), "raw.bin"))


def test_raw_back_to_back():
    data = b"".join(MESSAGES)
    frames = raw_frames(data)
    offsets = [sum(map(len, MESSAGES[:i])) for i in range(len(MESSAGES))]
    assert [(f.index, f.data, f.origin, f.findings) for f in frames] == [
        (i + 1, message, f"raw.bin#{i + 1}@{offset}", [])
        for i, (message, offset) in enumerate(zip(MESSAGES, offsets))
    ]


def test_raw_size_running_past_the_end():
    liar = header(5, 100, 3) + bytes(40)
    frames = raw_frames(VERSION_REQUEST + liar + BALLOON_REQUEST)
    assert [(f.data, f.origin, f.findings) for f in frames] == [
        (VERSION_REQUEST, "raw.bin#1@0", []),
        (
            liar + BALLOON_REQUEST,
            "raw.bin#2@16",
            [
                ei.RAW_SPLIT_STOPPED(
                    "hdr.size 100 runs past the end of the input (64 bytes left); splitting "
                    "stopped, the remaining 64 bytes form this last frame"
                )
            ],
        ),
    ]


def test_raw_size_below_header():
    liar = header(5, 4, 3) + bytes(40)
    frames = raw_frames(VERSION_REQUEST + liar + BALLOON_REQUEST)
    assert [(f.data, f.findings) for f in frames] == [
        (VERSION_REQUEST, []),
        (
            liar + BALLOON_REQUEST,
            [
                ei.RAW_SPLIT_STOPPED(
                    "hdr.size 4 is smaller than the 8-byte header; splitting stopped, the "
                    "remaining 64 bytes form this last frame"
                )
            ],
        ),
    ]


def test_raw_short_tail():
    frames = raw_frames(VERSION_REQUEST + b"\x01\x00")
    assert [(f.data, f.findings) for f in frames] == [
        (VERSION_REQUEST, []),
        (
            b"\x01\x00",
            [
                ei.RAW_SPLIT_STOPPED(
                    "2 trailing bytes are too few for a message header; splitting "
                    "stopped, the remaining 2 bytes form this last frame"
                )
            ],
        ),
    ]


def descriptor(message: bytes) -> bytes:
    padded = message + b"\0" * (-len(message) % 8)
    return struct.pack("<HHHHQ", 6, 2, (16 + len(padded)) // 8, 0, 7) + padded


def test_raw_with_vmbus_descriptors():
    odd = header(0, 12, 9) + b"abcd"
    records = [descriptor(VERSION_REQUEST), descriptor(odd), descriptor(STATUS)]
    frames = raw_frames(b"".join(records))
    assert [(f.data, f.findings) for f in frames] == [(r, []) for r in records]


def test_raw_huge_input_streams_in_chunks():
    count = 20000
    data = STATUS * count
    stream = io.BytesIO(data)
    seen = 0

    def run() -> None:
        nonlocal seen
        for frame in iter_raw_frames(stream, "big"):
            assert frame.data == STATUS
            seen += 1

    peak = peak_bytes(run)
    assert seen == count
    assert peak < 1024 * 1024


def test_raw_garbage_rest_is_bounded():
    data = header(5, 2, 0) + b"z" * 500_000
    got: list = []
    peak = peak_bytes(lambda: got.append(frames_and_error(iter_raw_frames(io.BytesIO(data), "g"))))
    frames, stop = got[0]
    assert len(frames) == 1
    kept = len(frames[0].data)
    assert frames[0].data == data[:kept] and 0 < kept <= 65552
    assert frames[0].findings == [
        ei.RAW_SPLIT_STOPPED(
            "hdr.size 2 is smaller than the 8-byte header; splitting stopped, this frame "
            f"holds the next {kept} bytes"
        )
    ]
    # Not read to its end (it may be endless): the error names where splitting stopped.
    assert stop == (
        "g: message 1 at offset 0: hdr.size 2 is smaller than the 8-byte header; splitting stopped"
    )
    assert peak < 2 * 1024 * 1024


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(MESSAGES), max_size=8), st.binary(max_size=64))
def test_raw_split_keeps_every_byte(messages, tail):
    data = b"".join(messages) + tail
    frames = raw_frames(data)
    assert b"".join(f.data for f in frames) == data
    assert [f.data for f in frames[: len(messages)]] == messages
    assert all(f.findings == [] for f in frames[:-1])


# ---------------------------------------------------------------- detection


@pytest.mark.parametrize(
    "head, fmt",
    [
        (pcap([], "<"), "pcap"),
        (pcap([], ">"), "pcap"),
        (pcap([], "<", nano=True), "pcap"),
        (pcap([], ">", nano=True), "pcap"),
        (shb("<"), "pcapng"),
        (shb(">"), "pcapng"),
        (b"\x0a\x0d\x0d\x0a\x1c\x00", "pcapng"),
    ],
)
def test_detect_captures(head, fmt):
    assert detect_format(head) == fmt


def test_detect_text_and_raw():
    pytest.importorskip("dmdissect.sources.hex", reason="the hex reader has not landed")
    assert (
        detect_format(b"00000000: 0100 1000 0100 0000 0000 0200 0000 0000  ................\n")
        == "hex"
    )
    assert detect_format(b"".join(MESSAGES)) == "raw"
    assert detect_format(b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x11\x22\x33\x44" + bytes(16)) is None


def test_detection_by_content_not_name(tmp_path):
    path = tmp_path / "looks.txt"
    path.write_bytes(shb(">") + idb(">", 147) + epb(">", 0, 3, STATUS))
    assert [f.data for f in open_frames(str(path))] == [STATUS]
    path = tmp_path / "looks.pcapng"
    path.write_bytes(pcap([(0, 0, STATUS)], ">", nano=True))
    assert [f.data for f in open_frames(str(path))] == [STATUS]


# ------------------------------------------------------------- open_frames


def test_formats_exported():
    assert FORMATS == (
        "pcap",
        "pcapng",
        "hex",
        "raw",
        "qemu-trace",
        "qmp",
        "dmesg",
        "ftrace",
        "debugfs",
    )


def test_unknown_format_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError):
        open_frames(str(tmp_path), fmt="csv")


def test_missing_file(tmp_path):
    path = tmp_path / "missing.pcap"
    with pytest.raises(InputError) as info:
        open_frames(str(path))
    assert str(info.value) == f"cannot read {path}: no such file"


def test_directory(tmp_path):
    with pytest.raises(InputError) as info:
        open_frames(str(tmp_path))
    assert str(info.value) == f"cannot read {tmp_path}: it is a directory"


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their mode"
)
def test_permission_denied(tmp_path):
    path = tmp_path / "secret.pcap"
    path.write_bytes(pcap([(0, 0, STATUS)]))
    path.chmod(0)
    with pytest.raises(InputError) as info:
        open_frames(str(path))
    assert str(info.value) == f"cannot read {path}: permission denied"


def test_empty_file(tmp_path):
    path = tmp_path / "empty.pcap"
    path.write_bytes(b"")
    for fmt in (None, *FORMATS):
        with pytest.raises(InputError) as info:
            open_frames(str(path), fmt=fmt)
        assert str(info.value) == f"{path} is empty"


def pipe_stdin(monkeypatch, data: bytes) -> None:
    """Standard input as a real, non-seekable pipe fed by a thread."""
    read_end, write_end = os.pipe()

    def feed() -> None:
        with os.fdopen(write_end, "wb") as out:
            out.write(data)

    threading.Thread(target=feed, daemon=True).start()
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(buffer=os.fdopen(read_end, "rb")))


def test_stdin_pipe_pcapng(monkeypatch):
    data, expected = hand_pcapng()
    pipe_stdin(monkeypatch, data)
    frames = list(open_frames("-"))
    assert [(f.data, f.time, f.origin) for f in frames] == [
        (e[0], e[1], f"<stdin>#{n}@{e[5]}") for n, e in enumerate(expected, 1)
    ]


def test_stdin_pipe_large_pcap_across_the_detection_head(monkeypatch):
    records = [(1, i, STATUS) for i in range(3000)]
    pipe_stdin(monkeypatch, pcap(records, ">", nano=True))
    frames = list(open_frames("-"))
    assert len(frames) == 3000
    assert all(f.data == STATUS for f in frames)
    assert [f.index for f in frames] == list(range(1, 3001))
    assert frames[-1].time == 1 + 2999e-9


def test_stdin_raw_forced(monkeypatch):
    pipe_stdin(monkeypatch, b"".join(MESSAGES))
    assert [f.data for f in open_frames("-", fmt="raw")] == MESSAGES


def test_stdin_empty(monkeypatch):
    pipe_stdin(monkeypatch, b"")
    with pytest.raises(InputError) as info:
        open_frames("-")
    assert str(info.value) == "<stdin> is empty"


def test_pcapng_interface_block_too_short(tmp_path):
    data = shb("<") + block("<", 1, b"") + epb("<", 0, 1, STATUS)
    with pytest.raises(InputError) as info:
        frames_of(data, tmp_path)
    assert str(info.value) == (
        f"{tmp_path / 'in.cap'}: record 1 at offset 28: block length 12 is less than the "
        f"minimum IDB size (20 bytes); reading stopped"
    )


@pytest.mark.parametrize("length", range(12, 32, 4))
def test_pcapng_epb_shorter_than_its_fixed_fields_is_reported_like_tshark(tmp_path, length):
    """The review's crash: an EPB of 12..28 bytes with a matching trailer (struct.error)."""
    bad = struct.pack("<II", 6, length) + b"\0" * (length - 12) + struct.pack("<I", length)
    data = shb("<") + idb("<", 147) + epb("<", 0, 1, STATUS) + bad + epb("<", 0, 2, STATUS)
    path = tmp_path / "short-epb.pcapng"
    path.write_bytes(data)
    frames, stop = frames_and_error(lambda: open_frames(str(path)))
    assert [f.data for f in frames] == [STATUS]
    offset = len(data) - len(bad) - len(epb("<", 0, 2, STATUS))
    assert stop == (
        f"{path}: record 2 at offset {offset}: block length {length} is less than the "
        f"minimum EPB size (32 bytes); reading stopped"
    )


def test_plain_epb_shortcut_equals_the_full_reader(tmp_path, monkeypatch):
    """The fast read of ordinary enhanced packet blocks gives the very same frames."""
    from dmdissect.sources import capture, open_frames
    from dmdissect.sources.frame import Frame
    from dmdissect.sources.writer import write_frames

    frames = [
        Frame(
            i + 1,
            bytes([5, 0, 48, 0, i, 0, 0, 0]) + bytes(40) + bytes(i % 3),
            time=1_700_000_000 + i / 7,
            direction=[None, "guest->host", "host->guest"][i % 3],
            direction_source=["unknown", "capture", "capture"][i % 3],
            comment="labelled" if i == 4 else None,
        )
        for i in range(9)
    ]
    path = tmp_path / "plain.pcapng"
    with path.open("wb") as out:
        write_frames(frames, out)
    fast = list(open_frames(str(path)))
    monkeypatch.setattr(capture._PcapNg, "_plain_epb", lambda self, body, start: None)
    slow = list(open_frames(str(path)))
    assert fast == slow
    assert [(f.data, f.direction, f.direction_source, f.comment) for f in fast] == [
        (f.data, f.direction, "capture" if f.direction else "unknown", f.comment) for f in frames
    ]


def test_linktype_n_reads_only_link_type_n_besides_the_user_types(tmp_path):
    """--linktype N is honoured: N (and USER0..15) are messages, any other type is not."""
    data = pcap([(1, 0, STATUS)], linktype=1)
    assert [f.data for f in frames_of(data, tmp_path, linktype=1)] == [STATUS]
    with pytest.raises(InputError) as info:
        frames_of(data, tmp_path, linktype=101)
    assert str(info.value) == (
        f"{tmp_path / 'in.cap'}: link type 1 (ETHERNET) is neither a Dynamic Memory link type "
        f"nor --linktype 101"
    )
    user = pcap([(1, 0, STATUS)], linktype=150)
    assert [f.data for f in frames_of(user, tmp_path, linktype=101)] == [STATUS]
