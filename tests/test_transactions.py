"""The transaction tracker on sessions as the real peers produce them.

Sessions are built here with the project's layers, numbered the way the peers
number them (docs/protocol.md): a Linux guest takes a new trans_id for every
message it sends, status reports and each balloon part included; QEMU keeps
its own counter, stamps one id on every unballoon part and echoes the
guest's id on version and capabilities replies.
"""

from __future__ import annotations

import tracemalloc

import pytest

from dmdissect.analysis.records import RETAIN_FRAMES, Link
from dmdissect.analysis.transactions import ORDER_LIMIT, Tracker, annotate
from dmdissect.layers import (
    DMBalloonRequest,
    DMCapabilitiesReport,
    DMCapabilitiesResponse,
    DMCaps,
    DMHeader,
    DMHotAddRequest,
    DMHotAddResponse,
    DMHotRemoveRequest,
    DMHotRemoveResponse,
    DMInfoEntry,
    DMInfoMessage,
    DMPageRange,
    DMUnballoonRequest,
    DMUnballoonResponse,
    DMVersion,
    DMVersionRequest,
    DMVersionResponse,
    VMBusDescriptor,
)
from dmdissect.pipeline import dissected, messages_of, transactions_of
from dmdissect.sources.frame import Frame
from dmdissect.views.records import link_label, link_object, row_object, session_object
from tests.peers import (
    T0,
    WIN7,
    WIN8,
    WIN10,
    balloon_part,
    chunks,
    handshake,
    linux_qemu_session,
    rng,
    status,
    unballoon_part,
)

# --- building sessions --------------------------------------------------------------


def make_frames(packets, step: float = 0.25, vmbus: bool = False) -> list[Frame]:
    out = []
    for index, packet in enumerate(packets, 1):
        data = bytes(VMBusDescriptor() / packet) if vmbus else bytes(packet)
        out.append(Frame(index, data, T0 + step * (index - 1)))
    return out


def track(packets, **options):
    """Rows (transactions and series, start order) and the session, as ``timeline`` gets them."""
    tracker = Tracker()
    rows = list(transactions_of(make_frames(packets, **options), tracker))
    return rows, tracker.session


def brief(row) -> tuple:
    """The facts every test checks: kind, number, frames, pages moved/asked, outcome, complete."""
    if row.kind in ("status", "other"):
        return (row.kind, row.number, row.first_frame, row.last_frame, row.count)
    return (
        row.kind,
        row.number,
        row.frames,
        row.pages,
        row.pages_requested,
        row.outcome,
        row.complete,
    )


def labels(packets, **options) -> list[tuple[int, str | None]]:
    out = []
    for message in messages_of(make_frames(packets, **options)):
        link = message.transaction
        out.append((message.frame.index, link_label(link) if isinstance(link, Link) else None))
    return out


def findings(row) -> list[tuple[str, str]]:
    return [(f.severity.value, f.message) for f in row.findings()]


# --- whole sessions -------------------------------------------------------------------


def test_linux_guest_balloon_parts_with_new_ids_and_status_between():
    rows, session = track(linux_qemu_session())
    assert [brief(row) for row in rows] == [
        ("version", 1, [1, 2], None, None, "accepted", True),
        ("capabilities", 1, [3, 4], None, None, "accepted", True),
        ("status", 1, 5, 5, 1),
        ("balloon", 1, [6, 7, 9, 12, 13], 20480, 20480, "accepted", True),
        ("status", 2, 8, 14, 4),
        ("unballoon", 1, [15, 16, 17], 5120, 5120, "accepted", True),
        ("status", 3, 18, 18, 1),
    ]
    balloon = rows[3]
    assert balloon.ids == {"host": [0], "guest": [4, 6, 10, 11]}
    assert balloon.rules == ["request", "state", "state", "state", "state"]
    assert (balloon.part_count, balloon.range_count) == (4, 40)
    assert [part.frame for part in balloon.parts] == [7, 9, 12, 13]
    assert balloon.parts[3].ranges[9] == (0x103C00 + 9 * 512, 512)
    assert (balloon.start, balloon.end) == (T0 + 1.25, T0 + 3.0)
    assert balloon.duration == 1.75
    assert balloon.latency == 0.25
    assert findings(balloon) == []
    assert (rows[4].num_avail, rows[4].num_committed) == (241664, 131072)
    unballoon = rows[5]
    assert unballoon.ids == {"host": [1], "guest": [13]}
    assert unballoon.rules == ["request", "state+trans_id", "state"]
    assert findings(unballoon) == []
    assert (session.version, session.version_frame, session.negotiations) == (0x20000, 1, 1)
    assert session.guest_caps == {
        "balloon": 1,
        "hot_add": 1,
        "hot_add_alignment": 7,
        "hot_remove": 0,
        "min_page_cnt": 0,
        "max_page_number": 0xFFFFFFFFFFFFFFFF,
    }
    assert session.host_caps == {"is_accepted": 1, "hot_remove": 1, "suppress_pressure_reports": 0}
    assert (session.first_time, session.last_time, session.messages) == (T0, T0 + 4.25, 18)


def test_read_labels_name_the_final_frame_like_wireshark():
    assert labels(linux_qemu_session()) == [
        (1, "request of version #1, response in frame 2"),
        (2, "response of version #1, final: accepted: 2.0 (WIN10), 0.250000 s"),
        (3, "request of capabilities #1, response in frame 4"),
        (
            4,
            "response of capabilities #1, final: accepted: balloon, hot-add (align 128 MiB), "
            "0.250000 s",
        ),
        (5, None),
        (6, "request of balloon #1, reassembled in frame 13"),
        (7, "part 1 of balloon #1, reassembled in frame 13"),
        (8, None),
        (9, "part 2 of balloon #1, reassembled in frame 13"),
        (10, None),
        (11, None),
        (12, "part 3 of balloon #1, reassembled in frame 13"),
        (
            13,
            "part 4 of balloon #1, final: 4 parts, 20480 of 20480 pages (80 MiB), accepted, "
            "1.750000 s",
        ),
        (14, None),
        (15, "part 1 of unballoon #1, reassembled in frame 17"),
        (16, "part 2 of unballoon #1, reassembled in frame 17"),
        (17, "response of unballoon #1, final: 2 parts, 5120 pages (20 MiB), accepted, 0.500000 s"),
        (18, None),
    ]


def test_json_refs_of_messages_and_status_series():
    messages = list(messages_of(make_frames(linux_qemu_session())))
    refs = {m.frame.index: link_object(m.transaction) for m in messages}
    assert refs[9] == {
        "kind": "balloon",
        "number": 1,
        "role": "part",
        "part": 2,
        "rule": "state",
        "request_frame": 6,
        "final_frame": 13,
        "complete": True,
    }
    assert refs[16] == {
        "kind": "unballoon",
        "number": 1,
        "role": "part",
        "part": 2,
        "rule": "state+trans_id",
        "request_frame": 15,
        "final_frame": 17,
        "complete": True,
    }
    assert refs[11] == {
        "kind": "status",
        "number": 2,
        "role": "report",
        "part": 3,
        "rule": "series",
    }
    assert not isinstance(messages[10].transaction, Link)


def test_reassembled_tree_only_under_the_final_part():
    messages = list(messages_of(make_frames(linux_qemu_session())))
    trees = {
        m.frame.index
        for m in messages
        if isinstance(m.transaction, Link) and m.transaction.reassembled_here() is not None
    }
    assert trees == {2, 4, 13, 17}


def test_qemu_shared_unballoon_id_confirms_and_colliding_ids_do_not():
    packets = handshake() + [
        DMHeader(trans_id=4) / DMBalloonRequest(num_pages=1024),
        balloon_part(4, 0, chunks(0x200000, 2)),  # guest id 4 == host id 4: chance
        DMHeader(trans_id=5) / DMUnballoonRequest(more_pages=1, range_array=[rng(0x200000, 512)]),
        DMHeader(trans_id=5) / DMUnballoonRequest(more_pages=1, range_array=[rng(0x200200, 256)]),
        DMHeader(trans_id=5) / DMUnballoonRequest(more_pages=0, range_array=[rng(0x200300, 256)]),
        DMHeader(trans_id=5) / DMUnballoonResponse(),  # same id again: the guest's own
    ]
    rows, _ = track(packets)
    assert [row.rules for row in rows] == [
        ["request", "state+trans_id"],
        ["request", "state+trans_id"],
        ["request", "state"],
        ["request", "state+trans_id", "state+trans_id", "state"],
    ]
    assert [brief(row) for row in rows[2:]] == [
        ("balloon", 1, [5, 6], 1024, 1024, "accepted", True),
        ("unballoon", 1, [7, 8, 9, 10], 1024, 1024, "accepted", True),
    ]
    assert rows[3].ids == {"host": [5], "guest": [5]}
    assert findings(rows[3]) == []


def test_refused_version_then_accepted_one():
    packets = [
        DMHeader(trans_id=1) / DMVersionRequest(version=WIN10),
        DMHeader(trans_id=1) / DMVersionResponse(is_accepted=0),
        DMHeader(trans_id=2) / DMVersionRequest(version=WIN8),
        DMHeader(trans_id=2) / DMVersionResponse(is_accepted=1),
    ]
    rows, session = track(packets)
    assert [brief(row) for row in rows] == [
        ("version", 1, [1, 2], None, None, "refused", True),
        ("version", 2, [3, 4], None, None, "accepted", True),
    ]
    assert [row.detail for row in rows] == ["2.0 (WIN10)", "1.0 (WIN8)"]
    assert [findings(row) for row in rows] == [[], []]
    assert (session.version, session.version_frame, session.negotiations) == (0x10000, 3, 1)


def test_version_negotiation_failed_on_the_last_attempt():
    packets = [
        DMHeader(trans_id=1) / DMVersionRequest(version=WIN7, is_last_attempt=1),
        DMHeader(trans_id=1) / DMVersionResponse(is_accepted=0),
    ]
    rows, session = track(packets)
    assert brief(rows[0]) == ("version", 1, [1, 2], None, None, "refused", True)
    assert findings(rows[0]) == [
        (
            "error",
            "version negotiation failed: the host refused the guest's last offer (0.3 (WIN7))",
        )
    ]
    assert session.version is None
    messages = list(messages_of(make_frames(packets)))
    assert [f.message for f in messages[1].findings] == [
        "version negotiation failed: the host refused the guest's last offer (0.3 (WIN7))"
    ]


def test_capabilities_refused():
    packets = [
        DMHeader(trans_id=2) / DMCapabilitiesReport(caps=DMCaps(balloon=1)),
        DMHeader(trans_id=2) / DMCapabilitiesResponse(is_accepted=0),
    ]
    rows, session = track(packets)
    assert brief(rows[0]) == ("capabilities", 1, [1, 2], None, None, "refused", True)
    assert findings(rows[0]) == [("warning", "capabilities refused by the host")]
    assert session.host_caps["is_accepted"] == 0


def test_guest_at_floor_and_partial_balloon():
    packets = [
        DMHeader(trans_id=3) / DMBalloonRequest(num_pages=2048),
        balloon_part(20, 0, []),
        DMHeader(trans_id=4) / DMBalloonRequest(num_pages=2048),
        balloon_part(21, 1, chunks(0x300000, 2)),
        balloon_part(23, 0, []),
    ]
    rows, _ = track(packets)
    assert [brief(row) for row in rows] == [
        ("balloon", 1, [1, 2], 0, 2048, "at_floor", True),
        ("balloon", 2, [3, 4, 5], 1024, 2048, "partial", True),
    ]
    assert labels(packets)[1] == (
        2,
        "part 1 of balloon #1, final: 1 part, 0 of 2048 pages (0 MiB), guest at floor, 0.250000 s",
    )


def test_a_truncated_part_that_claims_ranges_is_not_the_floor():
    """range_count 3 with the ranges cut off: pages 0, but the guest did not say floor.

    Nor is it "partial": the cut ranges were given, the capture lost them.
    """
    part = bytes(balloon_part(20, 0, chunks(0x300000, 3)))[:16]
    frames = make_frames([DMHeader(trans_id=3) / DMBalloonRequest(num_pages=1536)])
    frames.append(Frame(2, part, T0 + 0.25))
    rows = list(transactions_of(frames, Tracker()))
    assert [brief(row) for row in rows] == [("balloon", 1, [1, 2], 0, 1536, "unknown", True)]
    assert rows[0].pages_lower_bound


def test_hot_add_permanent_transient_and_success():
    packets = [
        DMHeader(trans_id=1)
        / DMHotAddRequest(range=rng(0x100000, 32768), region=rng(0x100000, 32768)),
        DMHeader(trans_id=30) / DMHotAddResponse(page_count=0, result=0),
        DMHeader(trans_id=2)
        / DMHotAddRequest(range=rng(0x100000, 32768), region=rng(0x100000, 32768)),
        DMHeader(trans_id=31) / DMHotAddResponse(page_count=32768, result=1),
        DMHeader(trans_id=3) / DMHotAddRequest(range=rng(0x108000, 32768)),
        DMHeader(trans_id=32) / DMHotAddResponse(page_count=0, result=1),
    ]
    rows, _ = track(packets)
    assert [brief(row) for row in rows] == [
        ("hot_add", 1, [1, 2], 0, 32768, "transient_failure", True),
        ("hot_add", 2, [3, 4], 32768, 32768, "accepted", True),
        ("hot_add", 3, [5, 6], 0, 32768, "permanent_failure", True),
    ]
    assert [row.detail for row in rows] == [
        "at 0x100000, region 32768 pages at 0x100000",
        "at 0x100000, region 32768 pages at 0x100000",
        "at 0x108000",
    ]
    assert rows[0].ids == {"host": [1], "guest": [30]}
    assert rows[0].rules == ["request", "state"]


def test_hot_remove_in_several_parts():
    packets = [
        DMHeader(trans_id=7) / DMHotRemoveRequest(virtual_node=0, page_count=4096),
        DMHeader(trans_id=40)
        / DMHotRemoveResponse(result=0, more_pages=1, range_array=chunks(0x400000, 3)),
        status(41),
        DMHeader(trans_id=42)
        / DMHotRemoveResponse(result=0, more_pages=1, range_array=chunks(0x401000, 3)),
        DMHeader(trans_id=43)
        / DMHotRemoveResponse(result=0, more_pages=0, range_array=[rng(0x402000, 1024)]),
    ]
    rows, _ = track(packets)
    assert [brief(row) for row in rows] == [
        ("hot_remove", 1, [1, 2, 4, 5], 4096, 4096, "accepted", True),
        ("status", 1, 3, 3, 1),
    ]
    assert (rows[0].part_count, rows[0].range_count) == (3, 7)
    assert rows[0].ids == {"host": [7], "guest": [40, 42, 43]}
    assert rows[0].detail == "node 0, result 0"


def test_info_stands_alone():
    packets = [DMHeader(trans_id=9) / DMInfoMessage(info=[DMInfoEntry(type=0, data=1048576)])]
    rows, _ = track(packets)
    assert brief(rows[0]) == ("info", 1, [1], None, None, "sent", True)
    assert rows[0].detail == "MAX_PAGE_CNT 1048576 pages (4096 MiB)"
    assert rows[0].rules == ["standalone"]
    # The message is the whole transaction: it is "info #1", not "info of info #1".
    assert labels(packets) == [(1, "info #1, final: sent: MAX_PAGE_CNT 1048576 pages (4096 MiB)")]


def test_one_page_is_one_page():
    """The page count after "N of M" agrees with M (it used to be "1 of 1 pages")."""
    one = [DMPageRange(start_page=0x100000, page_cnt=1)]
    asked_one = [DMHeader(trans_id=1) / DMBalloonRequest(num_pages=1), balloon_part(1, 0, one)]
    asked_two = [DMHeader(trans_id=1) / DMBalloonRequest(num_pages=2), balloon_part(1, 0, one)]
    assert labels(asked_one)[1][1].startswith("part 1 of balloon #1, final: 1 part, 1 of 1 page (")
    assert labels(asked_two)[1][1].startswith("part 1 of balloon #1, final: 1 part, 1 of 2 pages (")


# --- cut captures ---------------------------------------------------------------------------


def test_capture_cut_at_the_head():
    packets = [
        balloon_part(10, 1, chunks(0x100000, 1)),
        status(11),
        balloon_part(12, 0, chunks(0x100200, 1)),
        DMHeader(trans_id=13) / DMUnballoonResponse(),
        DMHeader(trans_id=1) / DMBalloonRequest(num_pages=512),
        balloon_part(14, 0, chunks(0x100400, 1)),
    ]
    rows, session = track(packets)
    assert [brief(row) for row in rows] == [
        ("balloon", 1, [1, 3], 1024, None, "unknown", False),
        ("status", 1, 2, 2, 1),
        ("unballoon", 1, [4], None, None, "accepted", False),
        ("balloon", 2, [5, 6], 512, 512, "accepted", True),
    ]
    assert [row.reason for row in rows if row.kind != "status"] == [
        "no request seen",
        "no request seen",
        None,
    ]
    assert rows[0].rules == ["orphan", "state"]
    assert findings(rows[0]) == [
        ("note", "response with no request in the capture (it may start after the request)")
    ]
    assert rows[0].latency is None
    assert session.version is None
    assert labels(packets)[:4] == [
        (1, "part 1 of balloon #1, reassembled in frame 3; incomplete: no request seen"),
        (2, None),
        (
            3,
            "part 2 of balloon #1, final: 2 parts, 1024 pages (4 MiB), unknown, 0.500000 s; "
            "incomplete: no request seen",
        ),
        (4, "response of unballoon #1, final: accepted; incomplete: no request seen"),
    ]


def test_capture_cut_at_the_tail():
    packets = [
        DMHeader(trans_id=1) / DMHotAddRequest(range=rng(0x100000, 32768)),
        DMHeader(trans_id=2) / DMBalloonRequest(num_pages=4096),
        balloon_part(20, 1, chunks(0x100000, 4)),
        status(21),
    ]
    rows, _ = track(packets)
    assert [brief(row) for row in rows] == [
        ("hot_add", 1, [1], None, 32768, "unknown", False),
        ("balloon", 1, [2, 3], 2048, 4096, "unknown", False),
        ("status", 1, 4, 4, 1),
    ]
    assert [rows[0].reason, rows[1].reason] == [
        "no response (capture ended)",
        "final part missing (capture ended)",
    ]
    assert labels(packets) == [
        (1, "request of hot_add #1; incomplete: no response (capture ended)"),
        (2, "request of balloon #1; incomplete: final part missing (capture ended)"),
        (3, "part 1 of balloon #1; incomplete: final part missing (capture ended)"),
        (4, None),
    ]


# --- framing and other inputs ----------------------------------------------------------


def test_vmbus_framed_session_tracks_like_the_bare_one():
    framed, framed_session = track(linux_qemu_session(), vmbus=True)
    bare, bare_session = track(linux_qemu_session())
    assert [row_object(row) for row in framed] == [row_object(row) for row in bare]
    assert brief(framed[3]) == ("balloon", 1, [6, 7, 9, 12, 13], 20480, 20480, "accepted", True)
    assert session_object(framed_session) == session_object(bare_session)


def _dmesg_dump(packets, step: float = 0.25) -> str:
    """The session as the kernel's print_hex_dump(DUMP_PREFIX_OFFSET, 16, 1) in dmesg."""
    lines = []
    for index, packet in enumerate(packets):
        stamp = f"[{100.0 + step * index:12.6f}]"
        data = bytes(packet)
        for offset in range(0, len(data), 16):
            chunk = " ".join(f"{b:02x}" for b in data[offset : offset + 16])
            lines.append(f"{stamp} hv_balloon: {offset:08x}: {chunk}")
    return "\n".join(lines) + "\n"


def test_same_session_from_a_hex_dump(tmp_path):
    pytest.importorskip("dmdissect.sources.hex", reason="the hex reader has not landed")
    from dmdissect.sources import open_frames

    path = tmp_path / "dmesg.txt"
    path.write_text(_dmesg_dump(linux_qemu_session()))
    tracker = Tracker()
    rows = list(transactions_of(open_frames(str(path), fmt="hex", hex_order="bytes"), tracker))
    bare, _ = track(linux_qemu_session())
    assert [brief(row) for row in rows] == [brief(row) for row in bare]
    assert (rows[3].start, rows[3].end) == (101.25, 103.0)
    assert (tracker.session.first_time, tracker.session.last_time) == (100.0, 104.25)


# --- what only the sequence reveals -----------------------------------------------------


def test_new_request_while_one_is_outstanding():
    packets = [
        DMHeader(trans_id=1) / DMBalloonRequest(num_pages=512),
        status(2),
        DMHeader(trans_id=2) / DMBalloonRequest(num_pages=1024),
        balloon_part(3, 0, chunks(0x100000, 2)),
    ]
    rows, _ = track(packets)
    assert [brief(row) for row in rows] == [
        ("balloon", 1, [1], 0, 512, "unknown", False),
        ("status", 1, 2, 2, 1),
        ("balloon", 2, [3, 4], 1024, 1024, "accepted", True),
    ]
    assert rows[0].reason == "no response (superseded by frame 3)"
    assert findings(rows[0]) == [
        ("warning", "new request while balloon #1 (frame 1) is outstanding")
    ]
    messages = list(messages_of(make_frames(packets)))
    assert [f.message for f in messages[2].findings] == [
        "new request while balloon #1 (frame 1) is outstanding"
    ]


def test_part_after_the_final_one():
    packets = [
        DMHeader(trans_id=1) / DMBalloonRequest(num_pages=512),
        balloon_part(2, 0, chunks(0x100000, 1)),
        balloon_part(3, 0, chunks(0x100200, 1)),
    ]
    rows, _ = track(packets)
    assert [brief(row) for row in rows] == [
        ("balloon", 1, [1, 2], 512, 512, "accepted", True),
        ("balloon", 2, [3], 512, None, "unknown", False),
    ]
    assert rows[1].reason == "part after the final one of balloon #1"
    assert rows[1].rules == ["after-final"]
    assert findings(rows[1]) == [("warning", "part after the final one of balloon #1 (frame 2)")]


def test_response_with_no_request_after_earlier_ones_is_a_warning():
    packets = [
        DMHeader(trans_id=1) / DMHotAddRequest(range=rng(0x100000, 512)),
        DMHeader(trans_id=2) / DMHotAddResponse(page_count=512, result=1),
        DMHeader(trans_id=3) / DMHotAddResponse(page_count=512, result=1),
    ]
    rows, _ = track(packets)
    assert brief(rows[1]) == ("hot_add", 2, [3], 512, None, "accepted", False)
    assert findings(rows[1]) == [
        ("warning", "response with no request: no DM_MEM_HOT_ADD_REQUEST is outstanding")
    ]


def test_overlapping_ranges_within_a_transaction():
    packets = [
        DMHeader(trans_id=1) / DMBalloonRequest(num_pages=2048),
        balloon_part(2, 1, [rng(0x100000, 512), rng(0x100100, 512)]),
        balloon_part(3, 0, [rng(0x100000, 1024)]),
    ]
    rows, _ = track(packets)
    assert brief(rows[0]) == ("balloon", 1, [1, 2, 3], 2048, 2048, "accepted", True)
    assert findings(rows[0]) == [
        ("warning", "overlapping ranges within balloon #1: 256 pages (1 MiB) appear twice"),
        ("warning", "overlapping ranges within balloon #1: 768 pages (3 MiB) appear twice"),
    ]


def test_unballooned_pages_never_ballooned_in_the_capture_are_noted():
    """And pages returned twice get their own warning, not "never ballooned"."""
    packets = [
        DMHeader(trans_id=1) / DMBalloonRequest(num_pages=1024),
        balloon_part(2, 0, chunks(0x100000, 2)),
        unballoon_part(2, 0, [rng(0x100200, 1024)]),  # half of it was ballooned
        DMHeader(trans_id=3) / DMUnballoonResponse(),
        unballoon_part(3, 0, [rng(0x100000, 512)]),  # ballooned, not yet returned
        DMHeader(trans_id=4) / DMUnballoonResponse(),
        unballoon_part(4, 0, [rng(0x100000, 512)]),  # returned already
        DMHeader(trans_id=5) / DMUnballoonResponse(),
    ]
    rows, _ = track(packets)
    assert [brief(row) for row in rows] == [
        ("balloon", 1, [1, 2], 1024, 1024, "accepted", True),
        ("unballoon", 1, [3, 4], 1024, 1024, "accepted", True),
        ("unballoon", 2, [5, 6], 512, 512, "accepted", True),
        ("unballoon", 3, [7, 8], 512, 512, "accepted", True),
    ]
    note = "pages unballooned were never ballooned in this capture (it may start after they were)"
    assert [findings(row) for row in rows[1:]] == [
        [("note", f"512 of 1024 {note}")],
        [],
        [
            (
                "warning",
                "512 of 512 pages unballooned again: the host already returned them and they "
                "were not ballooned since",
            )
        ],
    ]


def test_more_pages_than_asked():
    packets = [
        DMHeader(trans_id=1) / DMBalloonRequest(num_pages=512),
        balloon_part(2, 0, chunks(0x100000, 2)),
    ]
    rows, _ = track(packets)
    assert brief(rows[0]) == ("balloon", 1, [1, 2], 1024, 512, "accepted", True)
    assert findings(rows[0]) == [("warning", "1024 pages given, more than the 512 asked for")]


def test_version_negotiated_again_resets_the_channel():
    packets = (
        handshake()
        + [
            DMHeader(trans_id=0) / DMBalloonRequest(num_pages=512),
            status(3),
        ]
        + handshake(guest_id=1)
    )
    rows, session = track(packets)
    assert [brief(row) for row in rows] == [
        ("version", 1, [1, 2], None, None, "accepted", True),
        ("capabilities", 1, [3, 4], None, None, "accepted", True),
        ("balloon", 1, [5], 0, 512, "unknown", False),
        ("status", 1, 6, 6, 1),
        ("version", 2, [7, 8], None, None, "accepted", True),
        ("capabilities", 2, [9, 10], None, None, "accepted", True),
    ]
    assert rows[2].reason == "no response (channel reset in frame 7)"
    assert findings(rows[4]) == [
        ("note", "version negotiated again: the channel was reopened (suspend/resume?)")
    ]
    assert session.negotiations == 2


def test_unballoon_response_sent_as_type_7_by_a_buggy_guest():
    packets = [
        unballoon_part(5, 0, [rng(0x100000, 512)]),
        DMHeader(type=7, size=8, trans_id=9),
    ]
    rows, _ = track(packets)
    assert brief(rows[0]) == ("unballoon", 1, [1, 2], 512, 512, "accepted", True)
    assert rows[0].rules == ["request", "state:type7-unballoon-response"]
    assert findings(rows[0])[1] == (
        "warning",
        "header-only BALLOON_RESPONSE after the last unballoon part: taken as the "
        "UNBALLOON_RESPONSE (a known guest bug)",
    )


def test_qemu_unballoon_part_after_the_final_one_keeps_its_transaction():
    packets = [
        unballoon_part(5, 0, [rng(0x100000, 512)]),
        unballoon_part(5, 0, [rng(0x100200, 512)]),
        DMHeader(trans_id=9) / DMUnballoonResponse(),
        unballoon_part(6, 0, [rng(0x100400, 512)]),
        unballoon_part(7, 0, [rng(0x100600, 512)]),
    ]
    rows, _ = track(packets)
    assert [brief(row) for row in rows] == [
        ("unballoon", 1, [1, 2, 3], 1024, 1024, "accepted", True),
        ("unballoon", 2, [4], 512, 512, "unknown", False),
        ("unballoon", 3, [5], 512, 512, "unknown", False),
    ]
    assert rows[0].rules == ["request", "after-final", "state"]
    assert ("warning", "part after the final one of unballoon #1 (frame 1)") in findings(rows[0])
    assert rows[1].reason == "no response (superseded by frame 5)"
    assert rows[2].reason == "no response (capture ended)"


def test_messages_of_no_transaction_form_an_other_series():
    packets = [
        DMHeader(type=0, size=8, trans_id=1),
        DMHeader(type=32768, size=8, trans_id=2),
        DMHeader(type=32768, size=8, trans_id=3),
        DMHeader(trans_id=4) / DMInfoMessage(info=[DMInfoEntry(type=0, data=512)]),
    ]
    rows, _ = track(packets)
    assert [brief(row) for row in rows] == [
        ("other", 1, 1, 3, 3),
        ("info", 1, [4], None, None, "sent", True),
    ]
    assert rows[0].types == {"DM_ERROR": 1, "UNKNOWN(32768)": 2}


# --- bounded memory -------------------------------------------------------------------------


def test_lookahead_holds_at_most_its_cap_then_says_the_end_is_unknown():
    packets = [DMHeader(trans_id=1) / DMBalloonRequest(num_pages=512)]
    packets += [status(i) for i in range(2, 12)]
    packets += [balloon_part(12, 0, chunks(0x100000, 1))]
    pulled = 0
    waiting = []

    def source():
        nonlocal pulled
        for message in dissected(make_frames(packets)):
            pulled += 1
            yield message

    out = []
    shown = []
    for message in annotate(source(), hold=4):
        waiting.append(pulled - len(out))
        out.append(message)
        link = message.transaction
        shown.append(link_label(link) if isinstance(link, Link) else None)
    assert max(waiting) == 5
    assert [m.frame.index for m in out] == list(range(1, 13))
    assert shown[0] == "request of balloon #1, end not yet known (lookahead full)"
    assert shown[1:11] == [None] * 10
    assert shown[11] == (
        "part 1 of balloon #1, final: 1 part, 512 of 512 pages (2 MiB), accepted, 2.750000 s"
    )


def test_a_transaction_never_completing_keeps_only_capped_frames():
    parts = RETAIN_FRAMES + 10
    packets = [DMHeader(trans_id=1) / DMBalloonRequest(num_pages=parts)]
    packets += [balloon_part(i, 1, [rng(0x100000 + i, 1)]) for i in range(parts)]
    rows, _ = track(packets, step=0.001)
    balloon = rows[0]
    assert (balloon.frame_count, len(balloon.frames), len(balloon.rules)) == (
        parts + 1,
        RETAIN_FRAMES,
        RETAIN_FRAMES,
    )
    assert (balloon.part_count, len(balloon.parts), balloon.pages) == (parts, RETAIN_FRAMES, parts)
    assert balloon.truncated is True
    assert (balloon.complete, balloon.reason) == (False, "final part missing (capture ended)")


def test_rows_wait_behind_an_unanswered_request_only_up_to_the_limit():
    packets = [DMHeader(trans_id=1) / DMBalloonRequest(num_pages=512)]
    packets += [DMHeader(trans_id=i) / DMInfoMessage() for i in range(ORDER_LIMIT + 1)]
    tracker = Tracker()
    first_out = None
    for count, frame in enumerate(make_frames(packets, step=0.001), 1):
        rows = tracker.feed(next(dissected([frame])))
        if rows and first_out is None:
            first_out = (count, rows[0].kind, rows[0].reason)
    assert first_out == (
        ORDER_LIMIT + 1,
        "balloon",
        f"no response (no reply within the next {ORDER_LIMIT} transactions)",
    )


def test_a_long_status_stream_keeps_memory_flat():
    frame_bytes = bytes(status(1))

    def frames(count):
        for index in range(1, count + 1):
            yield Frame(index, frame_bytes, T0 + index)

    tracemalloc.start()
    rows = list(transactions_of(frames(20000)))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert [brief(row) for row in rows] == [("status", 1, 1, 20000, 20000)]
    assert peak < 512 * 1024


def test_a_message_newer_than_the_negotiated_protocol_is_flagged():
    packets = [
        DMHeader(trans_id=1)
        / DMVersionRequest(version=DMVersion(minor_version=3), is_last_attempt=1),
        DMHeader(trans_id=1) / DMVersionResponse(is_accepted=1),
        DMHeader(trans_id=2) / DMInfoMessage(info=[DMInfoEntry(type=0, data=1 << 20)]),
    ]
    messages = list(messages_of(make_frames(packets)))
    assert [f.message for f in messages[2].findings] == [
        "DM_INFO_MESSAGE belongs to protocol 1.0 (WIN8); this session negotiated 0.3 (WIN7)"
    ]
    assert messages[0].findings == messages[1].findings == []
