"""``dmdissect synth``: its sessions read back through the real sources and analysis.

Nothing here compares the generator's bytes with bytes it wrote earlier.  The
sessions are written with the command, read back with ``open_frames`` and
``messages_of``, and checked against what docs/protocol.md says the real
peers do (numbering, delays, part sizes, range sizes), against the expert
findings each planned malformation must cause, and against the plan the
generator exposes (which the transaction tracker must rediscover).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from dmdissect.analysis.records import Transaction
from dmdissect.cli import main
from dmdissect.pipeline import messages_of, transactions_of
from dmdissect.sources import open_frames
from dmdissect.synth import generate
from dmdissect.views.hexlog import dmesg_lines, hex_dump_to_buffer, print_hex_dump, stamp

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "captures"
G2H, H2G = "guest->host", "host->guest"
WIN10, WIN8 = 0x00020000, 0x00010000

SEEDS = settings(max_examples=12, deadline=None)


def synth(tmp_path: Path, *args: str, name: str = "out") -> Path:
    path = tmp_path / name
    result = CliRunner().invoke(main, ["synth", *args, "-o", str(path)])
    assert (result.exit_code, result.stderr) == (0, "")
    return path


def read_back(path: Path, **options) -> list:
    return list(messages_of(open_frames(str(path), **options)))


def findings(message) -> list[tuple[str, str]]:
    return [(f.severity.value, f.message) for f in message.findings]


def of_type(messages, msg_type: int) -> list:
    return [m for m in messages if m.type == msg_type]


# --- what the peers do (docs/protocol.md) -------------------------------------------


def check_handshake(messages) -> float:
    """Version offers and capabilities with echoed ids; the time the host accepted them."""
    offers = of_type(messages, 1)
    answers = of_type(messages, 2)
    assert len(offers) == len(answers) >= 1
    for offer, answer in zip(offers, answers):
        assert offer.direction == G2H and answer.direction == H2G
        assert answer.trans_id == offer.trans_id
        assert offer.frame.index < answer.frame.index
    assert [a.body.is_accepted for a in answers] == [0] * (len(answers) - 1) + [1]
    (report,) = of_type(messages, 3)
    (reply,) = of_type(messages, 4)
    assert reply.trans_id == report.trans_id
    assert (
        reply.body.is_accepted,
        reply.body.hot_remove,
        reply.body.suppress_pressure_reports,
    ) == (1, 1, 0)
    return reply.frame.time


def check_guest_numbering(messages) -> None:
    """Linux: one counter for everything the guest sends, from 1, always increasing."""
    ids = [m.trans_id for m in messages if m.direction == G2H]
    assert ids[0] == 1
    assert all(later > earlier for earlier, later in zip(ids, ids[1:]))


def check_status_clock(messages, first_after: float, fields: str) -> None:
    reports = of_type(messages, 5)
    times = [m.frame.time for m in reports]
    assert times[0] - messages[0].frame.time >= first_after
    assert all(1.0 <= b - a <= 1.01 for a, b in zip(times, times[1:]))
    for report in reports:
        body = report.body
        if fields == "linux":
            assert body.num_avail > 0 and body.num_committed > 0
            assert (body.page_file_size, body.zero_free, body.page_file_writes, body.io_diff) == (
                0,
                0,
                0,
                0,
            )
        else:
            assert body.num_avail > 0 and body.num_committed > 0 and body.page_file_size > 0


def check_linux_qemu(messages) -> None:
    accepted_at = check_handshake(messages)
    offers = of_type(messages, 1)
    assert [(o.body.version.version, o.body.is_last_attempt) for o in offers] in (
        [(WIN10, 0)],
        [(WIN10, 0), (WIN8, 0)],
    )
    caps = of_type(messages, 3)[0].body
    assert (
        caps.caps.balloon,
        caps.caps.hot_add,
        caps.caps.hot_add_alignment,
        caps.caps.hot_remove,
        caps.min_page_cnt,
        caps.max_page_number,
    ) == (1, 1, 7, 0, 0, 2**64 - 1)
    check_guest_numbering(messages)
    check_status_clock(messages, 45.0, "linux")
    requests = [m for m in messages if m.type in (6, 8, 10)]
    assert requests and requests[0].frame.time - accepted_at >= 50.0
    host_ids = []
    for request in requests:
        if not host_ids or request.type != 8 or request.trans_id != host_ids[-1]:
            host_ids.append(request.trans_id)
    assert host_ids == list(range(len(host_ids)))
    assert all(m.direction == H2G for m in requests)
    _check_linux_transactions(messages)


def _check_linux_transactions(messages) -> None:
    """Walk the host's requests and what follows each, as the two peers would."""
    pending = None
    for message in messages:
        if message.type == 5:
            continue
        body = message.body
        if message.type == 6:
            assert pending is None
            pending = ["balloon", body.num_pages, 0]
        elif message.type == 7:
            assert pending[0] == "balloon"
            assert len(message.message_bytes) == 16 + 8 * body.range_count <= 4096
            assert 1 <= body.range_count <= 510
            assert all(r.page_cnt == 512 and r.start_page % 512 == 0 for r in body.range_array)
            pending[2] += 512 * body.range_count
            if not body.more_pages:
                assert pending[2] == pending[1]
                pending = None
        elif message.type == 8:
            if pending is None:
                pending = ["unballoon", message.trans_id, True]
            assert pending[:3:2] == ["unballoon", True] and pending[1] == message.trans_id
            assert body.range_count == 1 and 0 < body.range_array[0].page_cnt <= 524288
            pending[2] = bool(body.more_pages)
        elif message.type == 9:
            assert pending[:3:2] == ["unballoon", False]
            assert len(message.message_bytes) == 8
            pending = None
        elif message.type == 10:
            assert pending is None
            assert message.header.size == 24 and body.region is not None
            added, region = body.range, body.region
            assert added.page_cnt % 32768 == 0 and added.start_page % 32768 == 0
            assert region.start_page <= added.start_page
            assert added.start_page + added.page_cnt <= region.start_page + region.page_cnt
            pending = ["hot_add", added.page_cnt]
        elif message.type == 11:
            assert pending[0] == "hot_add"
            assert (body.page_count, body.result) == (pending[1], 1)
            pending = None
    assert pending is None


def check_windows_hyperv(messages) -> None:
    accepted_at = check_handshake(messages)
    (offer,) = of_type(messages, 1)
    assert offer.body.version.version == WIN10
    assert of_type(messages, 3)[0].body.caps.hot_remove == 1
    (info,) = of_type(messages, 12)
    assert info.direction == H2G and info.frame.time >= accepted_at
    (entry,) = info.body.info
    assert (entry.type, entry.data_size) == (0, 8) and entry.data > 0
    check_guest_numbering([m for m in messages if m.type in (1, 3, 5)])
    check_status_clock(messages, 1.0, "windows")
    adds = of_type(messages, 10)
    answers = of_type(messages, 11)
    assert [m.header.size for m in adds] == [16, 16]
    assert [(a.body.page_count, a.body.result) for a in answers] == [(0, 0), (0, 1)]
    assert adds[0].frame.time - accepted_at >= 50.0
    removes = of_type(messages, 13)
    assert removes and all(r.frame.time > answers[-1].frame.time for r in removes)
    for request in removes:
        assert (request.body.virtual_node, int(request.body.qos_flags)) == (0, 1)
        parts = [m for m in messages if m.type == 14 and m.trans_id == request.trans_id]
        assert [p.body.more_pages for p in parts] == [1] * (len(parts) - 1) + [0]
        assert all(p.body.result == 1 and 1 <= p.body.range_count <= 509 for p in parts)
        assert all(r.page_cnt == 512 for p in parts for r in p.body.range_array)
        assert sum(512 * p.body.range_count for p in parts) == request.body.page_count


# --- clean profiles --------------------------------------------------------------------


@SEEDS
@given(seed=st.integers(0, 2**32))
def test_linux_qemu_is_clean_and_behaves_like_linux_and_qemu(tmp_path_factory, seed):
    path = synth(tmp_path_factory.mktemp("lq"), "--seed", str(seed))
    messages = read_back(path)
    assert [findings(m) for m in messages if m.findings] == []
    check_linux_qemu(messages)


TRANSIENT = ("note", "hot add failed (result 0: transient, the host may retry)")
PERMANENT = ("note", "result 1 with page_count 0: permanent failure, the host stops hot-adding")


@SEEDS
@given(seed=st.integers(0, 2**32))
def test_windows_hyperv_is_clean_but_for_the_refused_hot_adds(tmp_path_factory, seed):
    path = synth(tmp_path_factory.mktemp("wh"), "--profile", "windows-hyperv", "--seed", str(seed))
    messages = read_back(path)
    noted = [(m.type, findings(m)) for m in messages if m.findings]
    assert noted == [(11, [TRANSIENT]), (11, [PERMANENT])]
    check_windows_hyperv(messages)


def test_status_reports_fall_between_balloon_parts():
    messages = list(messages_of(generate("linux-qemu", seed=2).frames))
    kinds = "".join({5: "s", 7: "p"}.get(m.type, "-") for m in messages if m.type in (5, 6, 7))
    assert "psp" in kinds


# --- the faulty profile: each planned malformation, exactly -----------------------------

#: label -> the findings its message must have, and no others (severity, text).
FAULTS = {
    "fault: unknown protocol version": [("note", "version 3.0 is not a known protocol version")],
    "fault: shorter than the header": [("error", "5 bytes: shorter than the 8-byte header")],
    "fault: hdr.size smaller than the header": [
        ("error", "hdr.size 4 is smaller than the 8-byte header")
    ],
    "fault: hdr.size smaller than the fixed part": [
        ("error", "hdr.size 16 is smaller than the fixed part of DM_STATUS_REPORT (48 bytes)")
    ],
    "fault: truncated": [
        ("error", "truncated: hdr.size 48 but only 30 bytes present"),
        ("error", "missing page_file_size, zero_free, page_file_writes, io_diff"),
    ],
    "fault: trailing bytes": [("warning", "8 bytes after the end of the message (trailing)")],
    "fault: range_count larger than the bytes": [
        ("error", "range_count 5 but the bytes hold only 3 ranges"),
        ("warning", "hdr.size 40 disagrees with the content (56 bytes)"),
    ],
    "fault: hdr.size disagrees with range_count": [
        ("warning", "hdr.size 16 disagrees with the content (40 bytes)")
    ],
    "fault: part larger than 4096 bytes": [
        ("warning", "4104 bytes in one part; peers send at most 4096")
    ],
    "fault: non-zero reserved bits": [("warning", "reserved field reserved is not zero (0x1)")],
    "fault: unknown message type": [("error", "unknown message type 51200")],
    "fault: wrong direction": [
        ("warning", "DM_STATUS_REPORT is sent guest->host, but this one went host->guest")
    ],
    "fault: info data_size lies": [
        ("error", "info[0]: data_size 16 but only 8 bytes"),
        ("warning", "info[0]: MAX_PAGE_CNT carries 16 bytes, not 8"),
    ],
    "fault: info_size past the end": [
        ("error", "info_size 64 but only 16 bytes follow"),
        ("warning", "hdr.size 32 disagrees with the content (80 bytes)"),
    ],
    "fault: truncated info entry": [("error", "info[0]: truncated entry, missing data_size, data")],
    "fault: MAX_PAGE_CNT not 8 bytes": [
        ("warning", "info[0]: MAX_PAGE_CNT carries 4 bytes, not 8")
    ],
    "fault: unknown info type": [("note", "info[0]: unknown info type 7")],
    "fault: VMBus len8 past the frame": [
        ("error", "VMBus len8 20 claims 160 bytes but the frame holds 64")
    ],
    "fault: bytes after the VMBus packet": [("warning", "8 bytes after the VMBus packet (len8 8)")],
    "fault: VMBus len8 disagrees with hdr.size": [
        (
            "warning",
            "VMBus len8 9 (72 bytes) does not match the message (64 bytes with "
            "descriptor and padding)",
        ),
        ("warning", "8 bytes after the end of the message (trailing)"),
    ],
    "fault: unknown hot-add result": [("warning", "unknown hot-add result 7")],
}


def matches(got: list[tuple[str, str]], expected: list[tuple[str, str]]) -> bool:
    """Each expected finding matched by exactly one found, and nothing else found."""
    left = list(got)
    for severity, text in expected:
        hits = [f for f in left if f[0] == severity and text in f[1]]
        if len(hits) != 1:
            return False
        left.remove(hits[0])
    return not left


@pytest.mark.parametrize("fmt,seed", [("pcapng", 0), ("pcapng", 1), ("hex", 7)])
def test_faulty_has_each_planned_malformation_and_nothing_else(tmp_path, fmt, seed):
    path = synth(tmp_path, "--profile", "faulty", "--seed", str(seed), "--format", fmt)
    messages = read_back(path)
    comments = {m.frame.index: m.frame.comment for m in messages if m.frame.comment}
    labelled = {
        m.frame.index: m
        for m in messages
        if m.frame.comment and m.frame.comment.startswith("fault: ")
    }
    if fmt == "hex":
        plan = generate("faulty", seed=seed)
        labelled = {f.frame: messages[f.frame - 1] for f in plan.faults}
        labels = {f.frame: f.label for f in plan.faults}
    else:
        labels = comments
    assert sorted(labels[i] for i in labelled) == sorted(FAULTS)
    for index, message in labelled.items():
        assert matches(findings(message), FAULTS[labels[index]]), (labels[index], findings(message))
    assert [findings(m) for m in messages if m.frame.index not in labelled and m.findings] == []


def test_faulty_under_vmbus_keeps_every_fault(tmp_path):
    """VMBus padding changes the byte counts and adds len8 warnings; each fault still shows."""
    messages = read_back(synth(tmp_path, "--profile", "faulty", "--vmbus"))
    labelled = [m for m in messages if (m.frame.comment or "").startswith("fault: ")]
    assert sorted(m.frame.comment for m in labelled) == sorted(FAULTS)
    for message in labelled:
        severity, text = FAULTS[message.frame.comment][0]
        if message.frame.comment == "fault: truncated":
            text = "truncated: hdr.size 48 but only 32 bytes present"
        assert any(
            f == (severity, text) or (f[0] == severity and text in f[1]) for f in findings(message)
        ), message.frame.comment
    short = next(m for m in labelled if m.frame.comment == "fault: shorter than the header")
    assert short.vmbus is None and len(short.frame.data) == 5
    others = [m for m in messages if m not in labelled]
    assert all(m.vmbus is not None for m in others)
    assert [findings(m) for m in others if m.findings] == []


def test_wrong_direction_needs_a_capture_that_says_so(tmp_path):
    """Classic pcap has no direction: the fault cannot show, and the rest still do."""
    messages = read_back(synth(tmp_path, "--profile", "faulty", "--format", "pcap"))
    plan = generate("faulty")
    (wrong,) = [f.frame for f in plan.faults if f.label == "fault: wrong direction"]
    assert messages[wrong - 1].direction_source == "inferred"
    assert findings(messages[wrong - 1]) == []
    assert sum(1 for m in messages if m.findings) == len(FAULTS) - 1


def test_faulty_refuses_a_duration_too_short_for_its_faults(tmp_path):
    result = CliRunner().invoke(
        main, ["synth", "--profile", "faulty", "--duration", "5", "-o", str(tmp_path / "x")]
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "dmdissect: error: the faulty profile needs a duration of at least 14 s\n"
    )
    assert not (tmp_path / "x").exists()
    synth(tmp_path, "--profile", "faulty", "--duration", "14")


# --- the plan, rediscovered by the transaction tracker ----------------------------------

MULTIPART = {"balloon", "unballoon", "hot_remove"}


def tracked(path: Path) -> list[tuple]:
    rows = [t for t in transactions_of(open_frames(str(path))) if isinstance(t, Transaction)]
    return [
        (
            t.kind,
            t.outcome,
            t.pages_requested,
            t.pages if t.kind not in ("version", "capabilities", "info") else 0,
            t.part_count if t.kind in MULTIPART else 1,
            t.frames,
            t.complete,
        )
        for t in rows
    ]


def planned(session) -> list[tuple]:
    return [
        (p.kind, p.outcome, p.pages_requested, p.pages, p.parts, p.frames, True)
        for p in session.transactions
    ]


@pytest.mark.parametrize("profile", ["linux-qemu", "windows-hyperv", "faulty"])
@pytest.mark.parametrize("seed", [0, 3, 11])
@pytest.mark.parametrize("vmbus", [False, True])
def test_transactions_match_the_plan(tmp_path, profile, seed, vmbus):
    flags = ["--vmbus"] if vmbus else []
    path = synth(tmp_path, "--profile", profile, "--seed", str(seed), *flags)
    session = generate(profile, seed=seed, vmbus=vmbus)
    assert tracked(path) == planned(session)


def test_the_plan_names_what_each_profile_is_for():
    kinds = {
        name: {(p.kind, p.outcome) for p in generate(name, seed=2).transactions}
        for name in ("linux-qemu", "windows-hyperv", "faulty")
    }
    assert {
        ("balloon", "accepted"),
        ("unballoon", "accepted"),
        ("hot_add", "accepted"),
        ("version", "accepted"),
        ("capabilities", "accepted"),
    } <= kinds["linux-qemu"]
    assert {
        ("info", "sent"),
        ("hot_add", "transient_failure"),
        ("hot_add", "permanent_failure"),
        ("hot_remove", "accepted"),
    } <= kinds["windows-hyperv"]
    assert {("version", "refused"), ("balloon", "partial"), ("hot_add", "unknown")} <= kinds[
        "faulty"
    ]
    lq = generate("linux-qemu", seed=2).transactions
    assert max(p.parts for p in lq if p.kind == "balloon") >= 2
    assert max(p.parts for p in lq if p.kind == "unballoon") >= 2
    wh = generate("windows-hyperv", seed=0).transactions
    assert max(p.parts for p in wh if p.kind == "hot_remove") >= 2


def test_some_seeds_refuse_win10_and_fall_back_to_win8():
    outcomes = {
        tuple(
            p.outcome
            for p in generate("linux-qemu", seed=seed, duration=5).transactions
            if p.kind == "version"
        )
        for seed in range(12)
    }
    assert outcomes == {("accepted",), ("refused", "accepted")}


# --- determinism and duration ----------------------------------------------------------


@pytest.mark.parametrize("profile", ["linux-qemu", "windows-hyperv", "faulty"])
@pytest.mark.parametrize("fmt", ["pcapng", "pcap", "hex"])
def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, profile, fmt):
    args = ["--profile", profile, "--format", fmt]
    one = synth(tmp_path, *args, "--seed", "5", name="one").read_bytes()
    two = synth(tmp_path, *args, "--seed", "5", name="two").read_bytes()
    other = synth(tmp_path, *args, "--seed", "6", name="other").read_bytes()
    assert one == two
    assert one != other


def test_standard_output_gets_the_same_bytes(tmp_path):
    result = CliRunner().invoke(main, ["synth", "--seed", "4"])
    assert result.exit_code == 0
    assert result.stdout_bytes == synth(tmp_path, "--seed", "4").read_bytes()


@pytest.mark.parametrize("profile", ["linux-qemu", "windows-hyperv"])
def test_a_longer_session_continues_a_shorter_one(profile):
    short = generate(profile, seed=9, duration=70)
    long = generate(profile, seed=9, duration=200)
    assert [(f.data, f.time, f.direction) for f in short.frames] == [
        (f.data, f.time, f.direction) for f in long.frames[: len(short.frames)]
    ]
    for session, duration in ((short, 70), (long, 200)):
        times = [f.time for f in session.frames]
        assert times == sorted(times)
        assert times[-1] - times[0] <= duration
        assert times[-1] - times[0] > duration - 1.1


# --- formats ---------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["linux-qemu", "windows-hyperv", "faulty"])
def test_hex_reads_back_byte_exact(tmp_path, profile):
    path = synth(tmp_path, "--profile", profile, "--seed", "8", "--format", "hex")
    session = generate(profile, seed=8)
    frames = list(open_frames(str(path)))
    assert [(f.data, f.direction, f.direction_source) for f in frames] == [
        (f.data, f.direction, "text") for f in session.frames
    ]
    assert [round(f.time * 1e6) for f in frames] == [
        round((f.time - session.boot_time) * 1e6) for f in session.frames
    ]
    assert all(not f.findings for f in frames)


def test_hex_is_what_print_hex_dump_prints(tmp_path):
    lines = synth(tmp_path, "--format", "hex", "--duration", "2").read_text().splitlines()
    assert len(lines) == 9
    assert re.fullmatch(r"\[    \d\.\d{6}\] hv_balloon: guest->host", lines[0])
    assert lines[1] == lines[0][:15] + (
        "hv_balloon: 00000000: 01 00 10 00 01 00 00 00 00 00 02 00 00 00 00 00  ................"
    )


def test_pcap_keeps_bytes_and_times_only(tmp_path):
    messages = read_back(synth(tmp_path, "--format", "pcap", "--seed", "1"))
    session = generate("linux-qemu", seed=1)
    assert [m.frame.data for m in messages] == [f.data for f in session.frames]
    assert [round(m.frame.time * 1e6) for m in messages] == [
        round(f.time * 1e6) for f in session.frames
    ]
    assert {m.direction_source for m in messages} == {"inferred"}
    assert all(m.frame.comment is None and not m.findings for m in messages)


def test_pcapng_keeps_directions_and_comments(tmp_path):
    messages = read_back(synth(tmp_path, "--seed", "1"))
    assert {m.direction_source for m in messages} == {"capture"}
    commented = [m for m in messages if m.frame.comment]
    assert commented[0].type == 5 and "45 s" in commented[0].frame.comment
    assert any("settling delay" in m.frame.comment for m in commented if m.type == 6)


@pytest.mark.parametrize("profile", ["linux-qemu", "windows-hyperv"])
def test_vmbus_framing_reads_back_clean(tmp_path, profile):
    messages = read_back(synth(tmp_path, "--profile", profile, "--seed", "2", "--vmbus"))
    plain = generate(profile, seed=2)
    assert [m.message_bytes for m in messages] == [f.data for f in plain.frames]
    for message in messages:
        assert message.vmbus is not None and not message.extra
        assert not message.findings or findings(message) in ([TRANSIENT], [PERMANENT])
        assert (message.vmbus.type, message.vmbus.offset8, message.vmbus.flags) == (6, 2, 0)
        assert message.vmbus.len8 * 8 == len(message.frame.data) == 16 + message.header.size
    guest = {m.vmbus.trans_id for m in messages if m.direction == G2H}
    assert guest == {0}
    assert all(m.vmbus.trans_id == m.trans_id for m in messages if m.direction == H2G)
    if profile == "linux-qemu":
        check_linux_qemu(messages)
    else:
        check_windows_hyperv(messages)


# --- errors ----------------------------------------------------------------------------

#: What every command's usage error ends with.
USAGE_HINT = " (see 'dmdissect synth --help')"


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["--profile", "bogus"],
            "Invalid value for '--profile': 'bogus' is not one of "
            "'linux-qemu', 'windows-hyperv', 'faulty'." + USAGE_HINT,
        ),
        (
            ["--duration", "0.5"],
            "Invalid value for '--duration': 0.5 is not in the range 1.0<=x<=86400.0." + USAGE_HINT,
        ),
        (["--seed", "-1"], "Invalid value for '--seed': -1 is not in the range x>=0." + USAGE_HINT),
        (
            ["--format", "raw"],
            "Invalid value for '--format': 'raw' is not one of 'pcapng', 'pcap', 'hex', "
            "'qemu-trace', 'qmp', 'dmesg', 'ftrace'." + USAGE_HINT,
        ),
        (
            ["-o", "/nonexistent/dir/x.pcapng"],
            "cannot write /nonexistent/dir/x.pcapng: No such file or directory",
        ),
    ],
)
def test_errors_are_one_line_and_exit_2(args, message):
    result = CliRunner().invoke(main, ["synth", *args])
    assert (result.exit_code, result.stdout, result.stderr) == (
        2,
        "",
        f"dmdissect: error: {message}\n",
    )


def test_an_unknown_option_is_one_line_too():
    result = CliRunner().invoke(main, ["synth", "--frobnicate"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("dmdissect: error: No such option")
    assert "--frobnicate" in result.stderr and result.stderr.count("\n") == 1


# --- the dmesg exporter, against hex-formats.md's lines ---------------------------------

BALLOON_START = bytes.fromhex("0700380028e301d23132497e0a000000901c4b077c6ec54e0e484e5706de")


def test_print_hex_dump_groupsize_1_as_in_hex_formats_md():
    assert list(print_hex_dump("hv_balloon: ", 2, 16, 1, BALLOON_START[:16])) == [
        "hv_balloon: 00000000: 07 00 38 00 28 e3 01 d2 31 32 49 7e 0a 00 00 00  ..8.(...12I~...."
    ]
    assert stamp(100_500_000) + "x" == "[  100.500000] x"


def test_print_hex_dump_groupsize_4_reverses_bytes_and_short_lines_fall_back():
    assert list(print_hex_dump("", 2, 16, 4, BALLOON_START)) == [
        "00000000: 00380007 d201e328 7e493231 0000000a  ..8.(...12I~....",
        "00000010: 90 1c 4b 07 7c 6e c5 4e 0e 48 4e 57 06 de        ..K.|n.N.HNW..",
    ]


def test_hex_dump_to_buffer_ascii_column_and_printable_range():
    assert hex_dump_to_buffer(b"\x1f\x20\x7e\x7f\x80") == "1f 20 7e 7f 80" + " " * 35 + ". ~.."
    assert hex_dump_to_buffer(bytes(8), groupsize=8) == "0000000000000000" + " " * 19 + "." * 8
    assert hex_dump_to_buffer(bytes(4), ascii=False) == "00 00 00 00"
    assert hex_dump_to_buffer(b"") == ""
    assert len(hex_dump_to_buffer(bytes(32), rowsize=32)) == 32 * 3 - 1 + 2 + 32


def test_dmesg_lines_without_times_or_directions():
    from dmdissect.sources.frame import Frame

    lines = list(dmesg_lines([Frame(1, bytes(17)), Frame(2, b"\x01", time=2.5, direction=H2G)]))
    assert lines == [
        "[    0.000000] hv_balloon: 00000000: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  "
        "................",
        "[    0.000000] hv_balloon: 00000010: 00" + " " * 47 + ".",
        "[    2.500000] hv_balloon: host->guest",
        "[    2.500000] hv_balloon: 00000000: 01" + " " * 47 + ".",
    ]


# --- the shipped captures --------------------------------------------------------------

SHIPPED = [
    "faulty.pcapng",
    "linux-qemu-dmesg.log",
    "linux-qemu-guest-dmesg.log",
    "linux-qemu-guest-ftrace.txt",
    "linux-qemu-qmp.log",
    "linux-qemu-trace.log",
    "linux-qemu-vmbus.pcapng",
    "linux-qemu.pcapng",
    "windows-hyperv.pcapng",
]


def test_captures_are_small_and_all_made_by_the_script():
    made = sorted(
        p.name for p in CAPTURES.iterdir() if p.name not in ("README.md", "regenerate.sh")
    )
    assert made == SHIPPED
    assert all((CAPTURES / name).stat().st_size < 100 * 1024 for name in SHIPPED)


@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell")
def test_regenerating_gives_identical_bytes(tmp_path):
    env = dict(os.environ, PYTHON=sys.executable)
    subprocess.run(
        ["sh", str(CAPTURES / "regenerate.sh"), str(tmp_path)],
        check=True,
        env=env,
        capture_output=True,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == SHIPPED
    for name in SHIPPED:
        assert (tmp_path / name).read_bytes() == (CAPTURES / name).read_bytes(), name


def test_readme_commands_are_the_scripts_commands():
    readme = [
        line.strip()
        for line in (CAPTURES / "README.md").read_text().splitlines()
        if line.strip().startswith("dmdissect synth ")
    ]
    script = [
        line.strip().replace('"$out/', "captures/").replace('"', "")
        for line in (CAPTURES / "regenerate.sh").read_text().splitlines()
        if line.startswith("dmdissect synth ")
    ]
    assert readme == script and len(readme) == len(SHIPPED)


def test_shipped_captures_decode_as_their_readme_says():
    lq = read_back(CAPTURES / "linux-qemu.pcapng")
    assert not any(m.findings for m in lq)
    check_linux_qemu(lq)
    assert [m.type for m in lq[10:15]] == [6, 5, 7, 5, 7]
    assert [m.trans_id for m in lq[12:15]] == [10, 11, 13]
    dmesg = read_back(CAPTURES / "linux-qemu-dmesg.log")
    assert len(dmesg) == 43
    assert [(m.frame.data, m.direction) for m in dmesg] == [
        (m.frame.data, m.direction) for m in lq[:43]
    ]
    vmbus = read_back(CAPTURES / "linux-qemu-vmbus.pcapng")
    assert all(m.vmbus is not None and not m.findings for m in vmbus)
    assert [(m.body.version.version, m.type) for m in vmbus[:4] if m.type == 1] == [
        (WIN10, 1),
        (WIN8, 1),
    ]
    windows = read_back(CAPTURES / "windows-hyperv.pcapng")
    check_windows_hyperv(windows)
    assert [windows[i - 1].type for i in (5, 55, 56, 71, 72, 84)] == [12, 10, 11, 10, 11, 13]
    faulty = read_back(CAPTURES / "faulty.pcapng")
    assert sorted(
        m.frame.comment for m in faulty if (m.frame.comment or "").startswith("fault: ")
    ) == sorted(FAULTS)
