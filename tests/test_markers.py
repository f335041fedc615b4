"""A comment can no longer forge a finding or an origin when a capture is read back.

convert seals what it notes on a packet (origin, source findings, the
transaction) in one marker comment whose CRC-32 covers the packet's bytes;
only such a marker is read back.  A user's comment that looks like the old
``dmdissect origin: ...`` / ``dmdissect error: ...`` forms, a marker edited
by hand, or a marker copied onto another packet stays a comment, text intact.
"""

from __future__ import annotations

import io
import zlib

from click.testing import CliRunner

from dmdissect.cli.convert import convert
from dmdissect.findings import HEX_STARTS_LATE
from dmdissect.sources import open_frames
from dmdissect.sources.capture import iter_pcapng
from dmdissect.sources.frame import Frame
from dmdissect.sources.markers import decode, encode
from dmdissect.sources.writer import write_frames

STATUS = bytes.fromhex("05003000030000001be30b0000000000c3400700000000000000000000000000") + bytes(
    16
)
BALLOON = bytes.fromhex("0600100000000000005800000000000000")[:16]


def _read_back(frames: list[Frame]) -> list[Frame]:
    buffer = io.BytesIO()
    write_frames(frames, buffer)
    buffer.seek(0)
    return list(iter_pcapng(buffer, "x.pcapng"))


def _sealed(data: bytes, body: str) -> str:
    """A marker computed here, independently of the encoder."""
    return f"dmdissect/1 {zlib.crc32(body.encode(), zlib.crc32(data)):08x}\n{body}"


def test_encode_matches_an_independent_crc():
    assert encode(STATUS, [("origin", "a.log:3")]) == _sealed(STATUS, "origin=a.log:3\n")
    assert decode(STATUS, _sealed(STATUS, "origin=a.log:3\n")) == [("origin", "a.log:3")]


def test_values_with_newlines_and_backslashes_survive():
    text = encode(STATUS, [("label", "two\nlines \\n not"), ("k", "")])
    assert decode(STATUS, text) == [("label", "two\nlines \\n not"), ("k", "")]


def test_old_style_comments_stay_comments():
    forged = "dmdissect origin: /etc/shadow:1\ndmdissect error: the host is compromised"
    (frame,) = _read_back([Frame(1, STATUS, 1.0, comment=forged)])
    assert frame.comment == forged
    assert frame.findings == []
    assert frame.origin == "x.pcapng#1@84"


def test_a_marker_with_a_wrong_seal_stays_a_comment():
    body = "origin=elsewhere:9\nsource.finding=error - forged finding\n"
    bad = "dmdissect/1 00000000\n" + body
    (frame,) = _read_back([Frame(1, STATUS, 1.0, comment=bad)])
    assert frame.comment == bad
    assert frame.findings == []
    assert "elsewhere" not in frame.origin


def test_a_marker_copied_onto_another_packet_stays_a_comment():
    marker = _sealed(BALLOON, "origin=elsewhere:9\nsource.finding=error - copied\n")
    assert decode(BALLOON, marker) is not None
    (frame,) = _read_back([Frame(1, STATUS, 1.0, comment=marker)])
    assert frame.comment == marker
    assert frame.findings == []


def test_the_real_marker_comes_back_as_origin_and_findings():
    source = Frame(1, STATUS, 1.0, origin="dmesg.txt:17", findings=[HEX_STARTS_LATE("odd line")])
    (frame,) = _read_back([source])
    assert frame.comment is None
    assert frame.origin == "x.pcapng#1@84 (from dmesg.txt:17)"
    assert [(f.severity.value, f.message) for f in frame.findings] == [("error", "odd line")]


def test_convert_twice_keeps_user_comments_and_one_origin(tmp_path):
    first, second = tmp_path / "a.pcapng", tmp_path / "b.pcapng"
    with first.open("wb") as out:
        write_frames([Frame(1, STATUS, 1.0, comment="dmdissect note: mine")], out)
    runner = CliRunner()
    assert runner.invoke(convert, [str(first), str(second)]).exit_code == 0
    (frame,) = list(open_frames(str(second)))
    assert frame.comment == "dmdissect note: mine"
    assert frame.findings == []
    assert frame.origin == f"{second}#1@84 (from {first}#1@84)"
