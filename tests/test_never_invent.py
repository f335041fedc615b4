"""A field the bytes end before is unknown: nothing derived from it is stated.

Messages are written here as hand-counted bytes (header: type u16, size u16,
trans_id u32, little-endian), cut where the review cut them.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

from dmdissect.analysis.transactions import Tracker
from dmdissect.pipeline import messages_of, transactions_of
from dmdissect.sources import open_frames
from dmdissect.sources.frame import Frame
from dmdissect.views.records import transaction_object, transaction_summary

LINUX = Path(__file__).resolve().parent.parent / "captures" / "linux-qemu.pcapng"


def header(msg_type: int, size: int, trans_id: int = 1) -> bytes:
    return struct.pack("<HHI", msg_type, size, trans_id)


def frames_of(datas: tuple[bytes, ...]) -> list[Frame]:
    return [Frame(i, d, 100.0 + i) for i, d in enumerate(datas, 1)]


def run(*datas: bytes):
    """The messages (as ``read`` gets them), the rows (as ``timeline``) and the session."""
    tracker = Tracker()
    messages = list(messages_of(frames_of(datas), tracker))
    rows = list(transactions_of(frames_of(datas), Tracker()))
    return messages, rows, tracker.session


VERSION_REQUEST = header(1, 16) + struct.pack("<HHI", 0, 2, 0)  # 2.0, not last attempt
CAPS_REPORT = header(3, 32, 2) + struct.pack("<QQQ", 0b1 | 0b10 | (7 << 2), 0, 2**64 - 1)


def texts(message) -> list[str]:
    return [f.message for f in message.findings]


def test_a_version_response_cut_before_is_accepted_is_not_refused():
    messages, rows, session = run(VERSION_REQUEST, header(2, 16))
    (version,) = rows
    assert version.outcome == "unknown"
    assert not version.complete
    assert "cut before is_accepted" in version.reason
    assert session.negotiations == 0
    assert "refused" not in transaction_summary(version)
    assert not any("negotiation failed" in t for t in texts(messages[1]))


def test_a_version_response_of_a_last_attempt_cut_short_raises_no_failure():
    last = header(1, 16) + struct.pack("<HHI", 3, 0, 1 << 31)  # 0.3, is_last_attempt
    messages, rows, _ = run(last, header(2, 16) + b"\0\0")
    assert rows[0].outcome == "unknown"
    assert not any("failed" in t for t in texts(messages[1]))


def test_a_capabilities_response_cut_short_is_not_refused():
    messages, rows, session = run(CAPS_REPORT, header(4, 16, 2))
    (caps,) = rows
    assert caps.outcome == "unknown"
    assert session.host_caps is None
    assert not any("refused" in t for t in texts(messages[1]))


def test_a_capabilities_report_cut_short_gives_no_guest_capabilities():
    _, rows, session = run(header(3, 32, 2) + b"\x03\0")
    assert session.guest_caps is None
    assert "unknown" in rows[0].detail


def test_a_hot_add_response_missing_its_result_is_no_transient_failure():
    for cut in (header(11, 16), header(11, 16) + b"\0\0", header(11, 16) + b"\0\0\0\0"):
        messages, rows, _ = run(cut)
        assert rows[0].outcome == "unknown", cut
        assert not any("transient" in t for t in texts(messages[0])), cut
        assert "transient" not in transaction_summary(rows[0])


def test_a_hot_add_response_missing_page_count_states_no_pages():
    messages, rows, _ = run(header(11, 16) + b"\0\0")
    assert rows[0].pages is None
    assert "0 pages" not in transaction_summary(rows[0])


def test_a_whole_hot_add_response_with_result_0_is_still_transient():
    messages, rows, _ = run(header(11, 16) + struct.pack("<II", 0, 0))
    assert rows[0].outcome == "transient_failure"
    assert any("transient" in t for t in texts(messages[0]))


def test_a_cut_version_request_offers_no_version():
    messages, rows, _ = run(header(1, 16) + b"\0")
    assert not any("not a known protocol version" in t for t in texts(messages[0]))
    assert rows[0].detail == "version unknown"


def test_a_cut_balloon_request_asks_for_no_pages():
    _, rows, _ = run(header(6, 16, 0) + b"\0\0")
    assert rows[0].pages_requested is None


# --- snap length ---------------------------------------------------------------------


def balloon_part(trans_id: int, more: int, ranges: list[tuple[int, int]]) -> bytes:
    body = struct.pack("<II", 0, len(ranges) << 1 | more)
    body += b"".join(struct.pack("<Q", start | count << 40) for start, count in ranges)
    return header(7, 8 + len(body), trans_id) + body


def test_a_balloon_whose_parts_were_snapped_counts_pages_as_a_lower_bound():
    request = header(6, 16, 0) + struct.pack("<II", 2048, 0)
    whole = balloon_part(5, 0, [(0x1000 + 512 * i, 512) for i in range(4)])
    snapped = whole[:24]  # editcap -s 24: the header, the count word and one range
    frames = [
        Frame(1, request, 1.0),
        Frame(2, snapped, 2.0, wire_length=len(whole)),
    ]
    (balloon,) = [r for r in transactions_of(frames, Tracker())]
    assert balloon.pages == 512
    assert balloon.pages_lower_bound
    assert balloon.outcome == "unknown"  # not "partial": the other ranges were not captured
    assert "at least 512 of 2048 pages" in transaction_summary(balloon)
    assert transaction_object(balloon)["pages_lower_bound"] is True


def test_a_part_cut_inside_its_ranges_states_its_pages_as_a_lower_bound():
    """The summary line of a part whose bytes end inside the ranges says "at least": the
    ranges that did not arrive have pages nobody saw (the plugin's Info says the same)."""
    from dmdissect.views.summary import summary_line

    whole = balloon_part(5, 0, [(0x1000 + 512 * i, 512) for i in range(4)])
    cut, full = (
        messages_of([Frame(1, data, 1.0, wire_length=len(whole))]) for data in (whole[:24], whole)
    )
    (cut,), (full,) = list(cut), list(full)
    assert "part: 4 ranges, at least 512 pages, last part" in summary_line(cut, 0.0)
    assert "part: 4 ranges, 2048 pages, last part" in summary_line(full, 0.0)


def test_unballoon_after_snapped_balloon_parts_is_not_called_never_ballooned():
    request = header(6, 16, 0) + struct.pack("<II", 1024, 0)
    whole = balloon_part(5, 0, [(0x1000, 512), (0x2000, 512)])
    unballoon = header(8, 24, 1) + struct.pack("<IIQ", 0, 1, 0x2000 | 512 << 40)
    frames = [
        Frame(1, request, 1.0),
        Frame(2, whole[:24], 2.0, wire_length=len(whole)),
        Frame(3, unballoon, 3.0),
    ]
    messages = list(messages_of(frames))
    assert not any("never ballooned" in t for t in texts(messages[2]))


def test_unballoon_of_pages_never_seen_ballooned_is_still_noted_on_whole_captures():
    unballoon = header(8, 24, 1) + struct.pack("<IIQ", 0, 1, 0x2000 | 512 << 40)
    (message,) = messages_of([Frame(1, unballoon, 1.0)])
    assert any("never ballooned" in t for t in texts(message))


def test_a_capture_cut_by_editcap_s_24_says_so_on_each_message_and_bounds_totals(tmp_path):
    """The real editcap cuts every packet to 24 bytes, keeping each original length."""
    editcap = shutil.which("editcap")
    assert editcap, "editcap (Wireshark) is needed; .ci/run installs it"
    whole = list(open_frames(str(LINUX)))
    cut = tmp_path / "cut.pcapng"
    subprocess.run([editcap, "-s", "24", str(LINUX), str(cut)], check=True)
    messages = list(messages_of(open_frames(str(cut))))
    assert len(messages) == len(whole)
    for original, message in zip(whole, messages):
        snapped = [t for t in texts(message) if "snap length" in t]
        if len(original.data) > 24:
            assert snapped == [
                f"packet cut by the capture's snap length: 24 of {len(original.data)} bytes"
            ]
        else:
            assert snapped == []
    rows = [r for r in transactions_of(open_frames(str(cut))) if r.kind == "balloon"]
    assert rows and all(r.pages_lower_bound and r.outcome != "partial" for r in rows)


def unballoon_part(trans_id: int, more: int, ranges: list[tuple[int, int]]) -> bytes:
    body = struct.pack("<II", more, len(ranges))
    body += b"".join(struct.pack("<Q", start | count << 40) for start, count in ranges)
    return header(8, 8 + len(body), trans_id) + body


UNBALLOON_RESPONSE = header(9, 8, 20)


def test_repeated_unballoon_of_the_same_pages_gets_its_own_finding():
    balloon = header(6, 16, 0) + struct.pack("<II", 512, 0)
    datas = (
        balloon,
        balloon_part(5, 0, [(0x1000, 512)]),
        unballoon_part(1, 0, [(0x1000, 512)]),
        UNBALLOON_RESPONSE,
        unballoon_part(2, 0, [(0x1000, 256)]),
        UNBALLOON_RESPONSE,
    )
    messages, _, _ = run(*datas)
    assert [t for t in texts(messages[2]) if "unballoon" in t] == []
    assert texts(messages[4]) == [
        "256 of 256 pages unballooned again: the host already returned them and they were "
        "not ballooned since"
    ]


def test_pages_ballooned_again_may_be_unballooned_again():
    balloon = header(6, 16, 0) + struct.pack("<II", 512, 0)
    datas = (
        balloon,
        balloon_part(5, 0, [(0x1000, 512)]),
        unballoon_part(1, 0, [(0x1000, 512)]),
        UNBALLOON_RESPONSE,
        balloon,
        balloon_part(7, 0, [(0x1000, 512)]),
        unballoon_part(2, 0, [(0x1000, 512)]),
    )
    messages, _, _ = run(*datas)
    assert not any("again" in t or "never" in t for t in texts(messages[6]))
