"""Per-message expert findings on malformed messages, byte strings written by hand."""

from __future__ import annotations

import struct

import pytest

from dmdissect.analysis.dissect import dissect
from dmdissect.sources.frame import Frame
from dmdissect.vocabulary import DirectionSource


def hdr(msg_type: int, size: int, trans_id: int = 1) -> bytes:
    return struct.pack("<HHI", msg_type, size, trans_id)


def rng(start: int, count: int) -> bytes:
    return struct.pack("<Q", start | count << 40)


def findings(data: bytes, **frame) -> list[tuple[str, str]]:
    message = dissect(Frame(1, data, **frame))
    return [(f.severity.value, f.message) for f in message.findings]


STATUS = hdr(5, 48) + struct.pack("<QQQQII", 1000, 2000, 0, 0, 0, 0)


def test_clean_messages_have_no_findings():
    assert findings(STATUS) == []
    assert findings(hdr(7, 24) + struct.pack("<II", 0, 1 << 1) + rng(0x1000, 512)) == []
    assert findings(hdr(9, 8)) == []


def test_shorter_than_header():
    assert findings(b"\x05\x00\x30") == [("error", "3 bytes: shorter than the 8-byte header")]


def test_unknown_type_keeps_the_body():
    message = dissect(Frame(1, hdr(32768, 12) + b"\xde\xad\xbe\xef"))
    assert [(f.severity.value, f.message) for f in message.findings] == [
        ("error", "unknown message type 32768")
    ]
    assert bytes(message.header.payload) == b"\xde\xad\xbe\xef"
    assert message.type_name == "UNKNOWN(32768)"


def test_size_smaller_than_header():
    assert findings(hdr(9, 4)) == [("error", "hdr.size 4 is smaller than the 8-byte header")]


def test_size_smaller_than_fixed_part():
    assert findings(hdr(5, 16) + STATUS[8:]) == [
        ("error", "hdr.size 16 is smaller than the fixed part of DM_STATUS_REPORT (48 bytes)")
    ]


def test_truncated_body_is_decoded_as_far_as_it_goes():
    message = dissect(Frame(1, STATUS[:20]))
    assert message.body.num_avail == 1000
    assert message.body.missing == (
        "num_committed",
        "page_file_size",
        "zero_free",
        "page_file_writes",
        "io_diff",
    )
    assert [(f.severity.value, f.message) for f in message.findings] == [
        ("error", "truncated: hdr.size 48 but only 20 bytes present"),
        (
            "error",
            "truncated: the bytes end inside DM_STATUS_REPORT after 20; missing "
            "num_committed, page_file_size, zero_free, page_file_writes, io_diff",
        ),
    ]


def test_header_only_message_of_a_type_with_a_body():
    assert findings(hdr(6, 8)) == [
        ("error", "hdr.size 8 is smaller than the fixed part of DM_BALLOON_REQUEST (16 bytes)"),
        (
            "error",
            "truncated: the bytes end inside DM_BALLOON_REQUEST after 8; missing "
            "num_pages, reservedz",
        ),
    ]


def test_trailing_bytes():
    assert findings(STATUS + b"\0" * 8) == [
        ("warning", "8 bytes after the end of the message (trailing)")
    ]


def test_range_count_larger_than_the_bytes():
    data = hdr(7, 0xFFFF) + struct.pack("<II", 0, 0x7FFFFFFF << 1) + rng(1, 2) + rng(3, 4)
    message = dissect(Frame(1, data))
    assert [(r.start_page, r.page_cnt) for r in message.body.range_array] == [(1, 2), (3, 4)]
    assert [(f.severity.value, f.message) for f in message.findings] == [
        ("error", "truncated: hdr.size 65535 but only 32 bytes present"),
        ("warning", "hdr.size 65535 disagrees with the content (17179869192 bytes)"),
        ("warning", "17179869192 bytes in one part; peers send at most 4096"),
        ("error", "range_count 2147483647 but the bytes hold only 2 ranges"),
    ]


def test_size_disagrees_with_range_count_but_ranges_are_decoded():
    # A known guest bug: hdr.size=16 on balloon responses that carry ranges.
    data = hdr(7, 16) + struct.pack("<II", 0, 3 << 1) + rng(0, 512) + rng(512, 512) + rng(1024, 512)
    message = dissect(Frame(1, data))
    assert len(message.body.range_array) == 3
    assert [(f.severity.value, f.message) for f in message.findings] == [
        ("warning", "hdr.size 16 disagrees with the content (40 bytes)")
    ]


def test_nonzero_reserved_bits_including_nested_unions():
    caps = struct.pack("<Q", 1 | 1 << 1 | 7 << 2 | 1 << 7)
    data = hdr(3, 32) + caps + struct.pack("<QQ", 0, 2**64 - 1)
    assert findings(data) == [("warning", "reserved field caps.reservedz is not zero (0x1)")]
    data = hdr(2, 16) + struct.pack("<Q", 1 | 1 << 63)
    assert findings(data) == [
        ("warning", "reserved field reservedz is not zero (0x4000000000000000)")
    ]


def test_wrong_direction_only_when_the_capture_says_so():
    balloon_request = hdr(6, 16) + struct.pack("<II", 100, 0)
    assert findings(
        balloon_request, direction="guest->host", direction_source=DirectionSource.CAPTURE
    ) == [("warning", "DM_BALLOON_REQUEST is sent host->guest, but this one went guest->host")]
    message = dissect(Frame(1, balloon_request))
    assert (message.direction, message.direction_source) == ("host->guest", "inferred")
    assert message.findings == []


def test_info_entry_that_lies_about_its_size():
    entry = struct.pack("<II", 0, 0xFFFFFFFF) + struct.pack("<Q", 5)
    data = hdr(12, 16 + len(entry)) + struct.pack("<II", 0, len(entry)) + entry
    message = dissect(Frame(1, data))
    assert message.body.info[0].data == struct.pack("<Q", 5)
    assert [(f.severity.value, f.message) for f in message.findings] == [
        ("error", "info[0]: data_size 4294967295 but only 8 bytes"),
        ("warning", "info[0]: MAX_PAGE_CNT carries 4294967295 bytes, not 8"),
    ]


def test_info_size_larger_than_the_bytes():
    entry = struct.pack("<IIQ", 0, 8, 1 << 20)
    data = hdr(12, 16 + 64) + struct.pack("<II", 0, 64) + entry
    assert findings(data) == [
        ("error", "truncated: hdr.size 80 but only 32 bytes present"),
        ("error", "info_size 64 but only 16 bytes follow"),
    ]


@pytest.mark.parametrize(
    "page_count,result,expected",
    [
        (
            0,
            1,
            [("note", "result 1 with page_count 0: permanent failure, the host stops hot-adding")],
        ),
        (0, 0, [("note", "hot add failed (result 0: transient, the host may retry)")]),
        (32768, 1, []),
        (5, 7, [("warning", "unknown hot-add result 7")]),
    ],
)
def test_hot_add_results(page_count, result, expected):
    assert findings(hdr(11, 16) + struct.pack("<II", page_count, result)) == expected


def test_hot_add_region_announced_but_missing():
    data = hdr(10, 24) + rng(0x100000, 32768)
    message = dissect(Frame(1, data))
    assert message.body.region is None
    assert message.body.missing == ("region",)
    assert [(f.severity.value, f.message) for f in message.findings] == [
        ("error", "truncated: hdr.size 24 but only 16 bytes present"),
        (
            "error",
            "truncated: the bytes end inside DM_MEM_HOT_ADD_REQUEST after 16; missing region",
        ),
    ]


def test_unknown_protocol_version_is_noted():
    data = hdr(1, 16) + struct.pack("<HHI", 5, 3, 0)
    assert findings(data) == [("note", "version 3.5 is not a known protocol version")]


def test_oversized_part():
    ranges = b"".join(rng(i * 512, 512) for i in range(520))
    data = hdr(7, 16 + len(ranges)) + struct.pack("<II", 0, 520 << 1) + ranges
    assert findings(data) == [("warning", "4176 bytes in one part; peers send at most 4096")]


def test_vmbus_framing_padding_and_len8():
    message_bytes = hdr(12, 28) + struct.pack("<II", 0, 12) + struct.pack("<II", 7, 4) + b"abcd"
    desc = struct.pack("<HHHHQ", 6, 2, (16 + 32) // 8, 0, 99)
    framed = desc + message_bytes + b"\0" * 4
    message = dissect(Frame(1, framed))
    assert message.vmbus.trans_id == 99
    assert message.header.size == 28
    assert [(f.severity.value, f.message) for f in message.findings] == [
        ("note", "info[0]: unknown info type 7")
    ]
    too_long = struct.pack("<HHHHQ", 6, 2, 20, 0, 0) + STATUS
    assert findings(too_long) == [
        ("error", "VMBus len8 20 claims 160 bytes but the frame holds 64")
    ]
    extra = struct.pack("<HHHHQ", 6, 2, 8, 0, 0) + STATUS + b"\x01" * 8
    assert findings(extra) == [("warning", "8 bytes after the VMBus packet (len8 8)")]


def test_bytes_of_a_cut_structure_are_not_trailing():
    message = dissect(Frame(1, STATUS[:20]))
    assert (message.cut, message.trailing) == (STATUS[16:20], b"")
    part = hdr(7, 40) + struct.pack("<II", 0, 3 << 1) + rng(0, 512) + rng(512, 512) + b"\1\2\3\4"
    message = dissect(Frame(1, part))
    assert (message.cut, message.trailing) == (b"\1\2\3\4", b"")
    assert [(f.severity.value, f.message) for f in message.findings] == [
        ("error", "truncated: hdr.size 40 but only 36 bytes present"),
        ("error", "range_count 3 but the bytes hold only 2 ranges"),
    ]
    whole = dissect(Frame(1, STATUS + b"\1\2"))
    assert (whole.cut, whole.trailing) == (b"", b"\1\2")


def test_qos_flags_outside_the_mask():
    data = hdr(13, 24) + struct.pack("<IIII", 0, 4096, 0xFF, 0)
    assert findings(data) == [
        ("warning", "qos_flags 0xff has bits outside DM_REMOVE_QOS_MASK (0x3)")
    ]
    assert findings(hdr(13, 24) + struct.pack("<IIII", 0, 4096, 3, 0)) == []
