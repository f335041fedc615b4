"""The generated Wireshark dissector against dmdissect, through the real tshark.

For every frame of a capture, what ``tshark -X lua_script:PLUGIN -T json``
shows under ``hvdm`` must be exactly dmdissect's JSON for that frame (every
field, every value, every repetition), the Info column must be the summary
line's text, and the expert infos the plugin raises must be dmdissect's
static findings.  The captures: the shipped ones, and random ones (valid
headers with random bodies at full field width, then cut, lengthened or
framed at random), which are also the fuzz test: no Lua error on any.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dmdissect
from dmdissect.analysis.expert import check
from dmdissect.analysis.records import Link
from dmdissect.analysis.registry import FIELDS, TimeReference
from dmdissect.cli import main
from dmdissect.cli.convert import convert
from dmdissect.filter.compiler import FilterError, compile_filter
from dmdissect.findings import REGISTRY
from dmdissect.layers import MESSAGE_LAYERS, VMBusDescriptor, fixed_size
from dmdissect.layers.registry import PROTOCOL_FIELDS
from dmdissect.pipeline import messages_of
from dmdissect.sources import open_frames
from dmdissect.sources.frame import Frame
from dmdissect.sources.writer import write_frames
from dmdissect.views.expert import finding_object
from dmdissect.views.jsonout import message_object
from dmdissect.views.summary import info_text, transaction_text
from dmdissect.vocabulary import Direction
from dmdissect.wireshark.experts import STATIC_IDS, TRANSACTION_FIELDS
from dmdissect.wireshark.generate import plugin_source
from tests import pcapngfile, tshark

CAPTURES = Path(__file__).parent.parent / "captures"


@pytest.fixture(scope="module")
def plugin(tmp_path_factory) -> Path:
    tshark.require_tshark()
    path = tmp_path_factory.mktemp("plugin") / "hvdm.lua"
    path.write_text(plugin_source())
    return path


def _messages(capture: Path):
    return list(messages_of(open_frames(str(capture))))


def _abbrev(name: str) -> str:
    """A registry name as the plugin names it (the protocol itself is plain ``hvdm``)."""
    return name if name == "hvdm" else f"hvdm.{name}"


def _registry_names(converted: bool) -> list[str]:
    """The registry's fields the plugin shows per frame, without expert (compared by finding).

    The transaction's fields come from convert's comment, so only on a converted capture.
    """
    return [
        name
        for name, field in FIELDS.items()
        if field.group != "frame"
        and not name.startswith("expert")
        and (converted or not name.startswith("transaction"))
    ]


def _noted(message, obj: dict) -> dict[str, list]:
    """The generated fields the plugin reads from convert's marker."""
    out: dict[str, list] = {"hvdm.origin": [message.frame.origin.split(" (from ", 1)[1][:-1]]}
    # Converted without -Y: the input's frame numbers are the capture's.
    out["hvdm.input_frame"] = [message.frame.index]
    link = obj.get("transaction")
    if link and isinstance(message.transaction, Link):
        out["hvdm.transaction"] = [""]
    if link:
        out.setdefault("hvdm.transaction", [""])
        for key, value in link.items():
            if value is not None:
                out[f"hvdm.transaction.{key}"] = [value]
    return out


def check_capture(plugin: Path, capture: Path, converted: bool = False) -> int:
    """Compare every frame of ``capture``; the number of frames compared.

    ``converted``: the capture was written by convert, so the plugin also has
    the transactions (the Info column ends with the same link as the summary).
    """
    shown = tshark.packets(plugin, capture)
    info = tshark.columns(plugin, capture, "_ws.col.Info")
    messages = _messages(capture)
    assert sorted(shown) == [m.frame.index for m in messages]
    for message in messages:
        number = message.frame.index
        obj = message_object(message)
        expected = tshark.expected_fields(obj)
        if converted:
            expected.update(_noted(message, obj))
        fields, experts, rows = shown[number]
        got = {
            k: v
            for k, v in fields.items()
            if k != "hvdm.expert" and not k.startswith("hvdm.expert.")
        }
        assert set(got) == set(expected), (number, set(got) ^ set(expected))
        # Every field of dmdissect's registry that has a value here is in the plugin's tree,
        # and none that has none: a registry field the plugin lacks fails here.
        for name in _registry_names(converted):
            present = bool(FIELDS[name].get(message, TimeReference()))
            assert (_abbrev(name) in fields) == present, (number, name, present)
        for key, values in expected.items():
            assert len(got[key]) == len(values), (number, key, got[key], values)
            for want, have in zip(values, got[key]):
                assert tshark.same_value(want, have), (number, key, want, have)
        assert info[number][0] == _info_column(message, converted)
        raised = Counter((expert_id, msg) for expert_id, msg in experts)
        static = [finding_object(f) for f in check(message) if f.id in STATIC_IDS]
        # Converted, convert noted every finding: the plugin shows them all, once, by id.
        findings = obj["expert"] if converted else static
        wanted = Counter((f["id"], f["message"]) for f in findings)
        assert raised == wanted, (number, raised, wanted)
        # Each hvdm.expert subtree holds the finding's JSON: id, group, severity, message, field.
        want_rows = Counter(tuple(f.get(k) for k in tshark.EXPERT_KEYS) for f in findings)
        assert Counter(rows) == want_rows, (number, rows, want_rows)
        assert all(expert_id in REGISTRY for expert_id, _ in experts), experts
    return len(messages)


def _info_column(message, converted: bool) -> str:
    """The plugin's Info column: the summary line's text (and, converted, its link)."""
    tid = "-" if message.trans_id is None else message.trans_id
    text = info_text(message)
    want = f"{message.type_name} id={tid}" + (f" {text}" if text else "")
    return want + (transaction_text(message) if converted else "")


@pytest.mark.parametrize(
    "name",
    ["linux-qemu.pcapng", "windows-hyperv.pcapng", "faulty.pcapng", "linux-qemu-vmbus.pcapng"],
)
def test_shipped_captures_decode_the_same(plugin, name):
    assert check_capture(plugin, CAPTURES / name) > 0


def _random_message(rng: random.Random) -> bytes:
    """A header of a random type and a body of random bytes, often of the right size."""
    msg_type = rng.choice([*MESSAGE_LAYERS, rng.randrange(15, 0x10000)])
    fixed = fixed_size(msg_type) or 8
    body_len = fixed - 8 + 8 * rng.choice([0, 0, 1, 2, 3, 40])
    body = bytes(rng.getrandbits(8) for _ in range(body_len))
    if rng.random() < 0.5:
        # Counts and sizes small enough to describe what is there.
        body = bytearray(body)
        for at in range(0, len(body), 4):
            if rng.random() < 0.5:
                body[at : at + 4] = rng.randrange(0, 6).to_bytes(4, "little")
        body = bytes(body)
    size = 8 + len(body) if rng.random() < 0.7 else rng.randrange(0, 0x10000)
    data = msg_type.to_bytes(2, "little") + size.to_bytes(2, "little")
    data += rng.getrandbits(32).to_bytes(4, "little") + body
    roll = rng.random()
    if roll < 0.15:
        data = data[: rng.randrange(0, len(data) + 1)]
    elif roll < 0.25:
        data += bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 12)))
    elif roll < 0.35:
        data = bytes(VMBusDescriptor(trans_id=rng.getrandbits(64)) / data) + bytes(
            rng.randrange(0, 3)
        )
    elif roll < 0.4:
        data = bytes(VMBusDescriptor(len8=rng.randrange(0, 0x10000)) / data)
    return data


def _write_capture(path: Path, payloads: list[bytes], rng: random.Random) -> None:
    frames = [
        Frame(
            index=n,
            data=data,
            time=1_700_000_000 + n / 1000,
            direction=rng.choice([Direction.GUEST_TO_HOST, Direction.HOST_TO_GUEST, None]),
        )
        for n, data in enumerate(payloads, 1)
    ]
    with path.open("wb") as out:
        write_frames(frames, out)


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1))
def test_random_and_malformed_messages_decode_the_same(plugin, tmp_path, seed):
    rng = random.Random(seed)
    capture = tmp_path / f"random-{seed}.pcapng"
    _write_capture(capture, [_random_message(rng) for _ in range(300)], rng)
    assert check_capture(plugin, capture) == 300


@pytest.mark.parametrize("name", ["linux-qemu.pcapng", "faulty.pcapng", "windows-hyperv.pcapng"])
def test_converted_captures_carry_the_transactions(plugin, tmp_path, name):
    converted = tmp_path / name
    result = CliRunner().invoke(convert, [str(CAPTURES / name), str(converted)])
    assert result.exit_code == 0, result.output
    assert check_capture(plugin, converted, converted=True) > 0


#: tshark -z expert's heading of each severity.
_SEVERITY_HEADINGS = {"Errors": "error", "Warns": "warning", "Notes": "note", "Chats": "chat"}


def _expert_stats(text: str) -> Counter:
    """``tshark -z expert``'s table as (severity, group, summary) -> frequency."""
    found: Counter = Counter()
    severity = None
    for line in text.splitlines():
        heading = line.split(" (")[0]
        if heading in _SEVERITY_HEADINGS:
            severity = _SEVERITY_HEADINGS[heading]
            continue
        parts = line.split(None, 3)
        if severity and len(parts) == 4 and parts[0].isdigit() and parts[2] == "HVDM":
            found[(severity, parts[1].lower(), parts[3])] += int(parts[0])
    return found


@pytest.mark.parametrize(
    ("name", "at_least"), [("faulty.pcapng", 20), ("linux-qemu-vmbus.pcapng", 0)]
)
def test_without_a_tree_the_columns_and_expert_infos_are_all_there(
    plugin, tmp_path, name, at_least
):
    """Plain tshark shows no tree, and the plugin then adds no field item nobody asks for:
    the Info column and every expert info are still dmdissect's, for every frame."""
    converted = tmp_path / name
    assert CliRunner().invoke(convert, [str(CAPTURES / name), str(converted)]).exit_code == 0
    messages = _messages(converted)
    # The Info column alone: a built-in column, which asks for no field.
    plain = tshark.run(plugin, converted, "-o", 'gui.column.format:"Info","%i"').stdout
    assert plain.splitlines() == [_info_column(m, converted=True) for m in messages]
    stats = tshark.run(plugin, converted, "-q", "-z", "expert").stdout
    findings = [f for m in messages for f in message_object(m)["expert"]]
    assert len(findings) >= at_least
    # tshark names a group by its first word (response_code is "Response").
    assert _expert_stats(stats) == Counter(
        (str(f["severity"]), f["group"].split("_")[0], f["message"]) for f in findings
    )


@pytest.mark.parametrize("name", ["linux-qemu.pcapng", "faulty.pcapng"])
def test_a_filter_selects_the_same_frames_with_and_without_a_tree(plugin, tmp_path, name):
    """Without a tree the plugin adds only the items a filter asks for, learning which as
    it goes; a subtree's own item (Wireshark's text field) is asked for like any field."""
    converted = tmp_path / name
    assert CliRunner().invoke(convert, [str(CAPTURES / name), str(converted)]).exit_code == 0
    for text in ("_ws.lua.text", "hvdm.range_array.page_cnt", "hvdm.info", "hvdm.expert.id"):
        plain = tshark.run(plugin, converted, "-Y", text).stdout
        shown = [int(line.split()[0]) for line in plain.splitlines()]
        tree = tshark.run(plugin, converted, "-Y", text, "-V").stdout
        assert shown == [int(n) for n in re.findall(r"^Frame (\d+):", tree, re.M)], text
        # Both captures have subtrees (ranges): the comparison can fail.
        assert shown or text in ("hvdm.info", "hvdm.expert.id"), text


#: Display filters that must select the same frames in tshark (hvdm.X) and in dmdissect.
FILTERS = [
    ('transaction.kind == "balloon"', lambda o: o["transaction"]["kind"] == "balloon"),
    ("transaction.complete == 1", lambda o: o["transaction"].get("complete") is True),
    ("transaction.request_frame == 11", lambda o: o["transaction"].get("request_frame") == 11),
    ("hdr.type == 7", lambda o: o["hdr"]["type"] == 7),
    ("range_count > 500", lambda o: (o.get("range_count") or 0) > 500),
    (
        "range_array.page_cnt == 512",
        lambda o: any(r["page_cnt"] == 512 for r in o.get("range_array") or []),
    ),
    ("caps.hot_add == 1", lambda o: (o.get("caps") or {}).get("hot_add") == 1),
    # An info entry's data: a page count under its own name, other data as bytes.
    (
        "info.max_page_cnt == 4194304",
        lambda o: any(e.get("max_page_cnt") == 4194304 for e in o.get("info") or []),
    ),
    (
        "info.max_page_cnt > 4194303",
        lambda o: any((e.get("max_page_cnt") or 0) > 4194303 for e in o.get("info") or []),
    ),
    (
        "info.data == 61:62:63:64",
        lambda o: any(e.get("data") == "61626364" for e in o.get("info") or []),
    ),
    ("info.data", lambda o: any(e.get("data") is not None for e in o.get("info") or [])),
    ("version.version == WIN10", lambda o: (o.get("version") or {}).get("name") == "WIN10"),
    ('direction == "host->guest"', lambda o: o["direction"] == "host->guest"),
    ("expert", lambda o: bool(o["expert"])),
    ('expert.severity == "error"', lambda o: any(e["severity"] == "error" for e in o["expert"])),
    ("hdr.type#1 == 7", lambda o: o["hdr"].get("type") == 7),
    ("hdr.type#2 == 7", lambda o: False),
    (
        "range_array.page_cnt#[-1] == 512",
        lambda o: any(r["page_cnt"] == 512 for r in o.get("range_array") or []),
    ),
    ("hdr.type == '\\x07'", lambda o: o["hdr"].get("type") == 7),
    ("hdr.type in {7, DM_STATUS_REPORT, 9..10}", lambda o: o["hdr"].get("type") in (5, 7, 9, 10)),
    (
        "hdr.trans_id in {hvdm.hdr.size, 5}",
        lambda o: o["hdr"].get("trans_id") in (5, o["hdr"].get("size", -1)),
    ),
    ("range_count + 1 > {250 * 2}", lambda o: (o.get("range_count") or 0) + 1 > 500),
    (
        "hdr.trans_id#[1:2] >= {hvdm.hdr.type * 2}",
        lambda o: (
            None not in (o["hdr"].get("trans_id"), o["hdr"].get("type"))
            and o["hdr"]["trans_id"] >= 2 * o["hdr"]["type"]
        ),
    ),
    ("len(hvdm.hdr.type) == 2", lambda o: o["hdr"].get("type") is not None),
    ("len(hvdm.range_count) == 4", lambda o: o.get("range_count") is not None),
    ("len(hvdm.version.version) == 4", lambda o: o.get("version") is not None),
    ("count(hvdm.range_array.page_cnt) == 1", lambda o: len(o.get("range_array") or []) == 1),
    ("version.version == ${hvdm.version.version}", lambda o: False),
    ("!(hvdm.hdr.type == ${hvdm.hdr.type})", lambda o: True),
    # A name two messages share (hot-add and hot-remove responses' result) takes its values
    # in both.
    ("result == success", lambda o: o.get("result") == 1),
    # Arithmetic is done in the integer the field's type is held in (32 bits up to
    # FT_UINT32, 64 for FT_UINT64), signed below zero; a result that overflows has no value.
    ("hdr.size * 256 * 256 * 256 * 16 > 0", lambda o: 0 < _size(o) * 2**28 < 2**32),
    ("hdr.trans_id + 4294967295 > 0", lambda o: o["hdr"].get("trans_id") == 0),
    (
        "hdr.size - hvdm.hdr.trans_id < 0",
        lambda o: (
            None not in (o["hdr"].get("size"), o["hdr"].get("trans_id"))
            and o["hdr"]["size"] < o["hdr"]["trans_id"]
        ),
    ),
    (
        "range_array.start_page * 4294967295 > 0",
        lambda o: any(
            0 < r["start_page"] * (2**32 - 1) < 2**64 for r in o.get("range_array") or []
        ),
    ),
    # An unsigned value and a negative constant are of two types: only != holds; a value
    # arithmetic took below zero is signed and compares as a number.
    ("hdr.size > -1", lambda o: False),
    ("hdr.size != -1", lambda o: o["hdr"].get("size") is not None),
    ("hdr.size - 17 <= -1", lambda o: 0 <= _size(o) <= 16),
    ("hdr.size - 15 > -1", lambda o: False),
    ("hdr.size >= -0", lambda o: o["hdr"].get("size") is not None),
    # A bitfield's constant is checked against its ProtoField's type (here FT_UINT64), not
    # its bits.
    (
        "range_array.page_cnt > 16777216",
        lambda o: any(r["page_cnt"] > 2**24 for r in o.get("range_array") or []),
    ),
    # Unary plus changes no value, on a field, a number, a name or a set's member.
    ("hdr.size == +16", lambda o: o["hdr"].get("size") == 16),
    ("hdr.type == +DM_STATUS_REPORT", lambda o: o["hdr"].get("type") == 5),
    ("hdr.size * +2 == hvdm.hdr.size + +hvdm.hdr.size", lambda o: "size" in o["hdr"]),
    ("hdr.size in {+16..+31}", lambda o: 16 <= _size(o) <= 31),
]


def _size(o: dict) -> int:
    size = o["hdr"].get("size")
    return -1 if size is None else size


@pytest.mark.parametrize(
    "name",
    ["linux-qemu.pcapng", "faulty.pcapng", "linux-qemu-vmbus.pcapng", "windows-hyperv.pcapng"],
)
def test_the_same_filters_select_the_same_frames(plugin, tmp_path, name):
    converted = tmp_path / name
    assert CliRunner().invoke(convert, [str(CAPTURES / name), str(converted)]).exit_code == 0
    objects = [message_object(m) for m in _messages(converted)]
    for text, wanted in FILTERS:
        # A filter opening on a field takes the plugin's name; one opening on a function or
        # "!" names its fields with hvdm. itself.
        text = text if text.startswith(("len(", "count(", "!(")) else f"hvdm.{text}"
        frames = [o["frame"] for o in objects if wanted(o)]
        kept = messages_of(open_frames(str(converted)), keep=compile_filter(text))
        assert [m.frame.index for m in kept] == frames, f"dmdissect -Y {text}"
        assert tshark.selected(plugin, converted, text) == frames, f"tshark -Y {text}"


#: Hand-written frames: an info entry's data is a page count (an 8-byte MAX_PAGE_CNT) or bytes,
#: and reservedz is 31 bits in one message and 63 in another.
ONE_TYPE_PER_NAME = [
    # DM_INFO_MESSAGE, one MAX_PAGE_CNT entry of 8 bytes: 12345 pages
    "0c00 2000 01000000 00000000 10000000 00000000 08000000 3930000000000000",
    # one entry of unknown type 7, 4 bytes of data
    "0c00 1c00 02000000 00000000 0c000000 07000000 04000000 01020304",
    # a MAX_PAGE_CNT of 4 bytes (bytes, not a count), then one of 8 bytes: 2**32 pages
    "0c00 2c00 03000000 00000000 1c000000 00000000 04000000 00001000"
    " 00000000 08000000 0000000001000000",
    # DM_MEM_HOT_REMOVE_RESPONSE, result 1, no ranges, reservedz 0x180000000 (above bit 0)
    "0e00 1800 04000000 01000000 00000000 0000000003000000",
    # DM_BALLOON_RESPONSE, reservedz 5 (a 32-bit word), no ranges
    "0700 1000 05000000 05000000 00000000",
]
#: (filter, the frames it selects), worked out by hand from the bytes above.
ONE_TYPE_FILTERS = [
    ("hvdm.info.max_page_cnt == 12345", [1]),
    ("hvdm.info.max_page_cnt == 4294967296", [3]),
    ("hvdm.info.max_page_cnt > 4294967295", [3]),
    ("hvdm.info.max_page_cnt", [1, 3]),
    ("hvdm.info.data", [2, 3]),
    ("hvdm.info.data == 01:02:03:04", [2]),
    ("hvdm.info.data == 00:00:10:00", [3]),
    ("hvdm.info.data contains 10", [3]),
    ("len(hvdm.info.data) == 4", [2, 3]),
    ("len(hvdm.info.max_page_cnt) == 8", [1, 3]),
    ("count(hvdm.info.data) == 1 && count(hvdm.info.max_page_cnt) == 1", [3]),
    ("hvdm.reservedz == 6442450944", [4]),
    ("hvdm.reservedz > 4294967295", [4]),
    ("hvdm.reservedz == 5", [5]),
    ("len(hvdm.reservedz) == 8", [4, 5]),
]


def test_one_name_has_one_type_in_both_tools(plugin, tmp_path):
    """info.data is bytes and info.max_page_cnt the page count, reservedz a 64-bit number
    in every message: the same value filters select the same frames in both tools."""
    capture = tmp_path / "types.pcapng"
    _write_capture(capture, [bytes.fromhex(h) for h in ONE_TYPE_PER_NAME], random.Random(0))
    assert check_capture(plugin, capture) == len(ONE_TYPE_PER_NAME)
    for text, frames in ONE_TYPE_FILTERS:
        kept = messages_of(open_frames(str(capture)), keep=compile_filter(text))
        assert [m.frame.index for m in kept] == frames, f"dmdissect -Y {text}"
        assert tshark.selected(plugin, capture, text) == frames, f"tshark -Y {text}"
    names = ["hvdm.info.max_page_cnt", "hvdm.info.data", "hvdm.reservedz"]
    assert tshark.columns(plugin, capture, *names) == {
        1: ["12345", "", ""],
        2: ["", "01020304", ""],
        3: ["4294967296", "00001000", ""],
        4: ["", "", "6442450944"],
        5: ["", "", "5"],
    }


#: Filters tshark refuses for a constant its field's type cannot hold, also where the
#: constant stands on the other side of arithmetic on the field.
REFUSED = [
    "hvdm.hdr.size * 4096 > 100000000",
    "hvdm.hdr.size > 70000",
    "hvdm.hdr.size * 1048576 > 0",
    "hvdm.hdr.size - 4294967295 < 0",
    "frame.number > 4294967296",
    "hvdm.hdr.trans_id * 2 == 4294967296",
    "hvdm.hdr.size == 99999999999999999999999999",
    "--hvdm.hdr.size == 16",
    # A unary sign takes a value, not a {...} group; contains and matches take no arithmetic.
    "hvdm.hdr.size == -{16}",
    "hvdm.hdr.size == +{16}",
    "++hvdm.hdr.size == 16",
    "hvdm.hdr.size == +-16",
    'frame.comment contains +"unballoon"',
    'frame.comment contains {"a"}',
    '+frame.comment contains "a"',
    'frame.comment matches -"a"',
    # A colon joins two-digit groups only; the scanner takes ":0" as a token of its own.
    "frame[0:2] == 1:0",
    "frame[0:3] == 0100:10",
    "frame[0:3] == 01:00:1",
    "frame[0:2] == 01:00a",
    # A minus takes numbers only: not a value's name, a string or a character.
    "hvdm.hdr.type != -DM_ERROR",
    "hvdm.hdr.type in {-DM_ERROR}",
    "hvdm.hdr.size == -'a'",
    'hvdm.hdr.size == -"16"',
    # A time span takes + and - only, a date no arithmetic.
    "frame.time_relative * 2 > 100",
    "frame.time + 1 > 1",
]


#: Byte strings as tshark 4.0 reads them, with the bytes each stands for (written by hand):
#: digits without separators go in pairs from the left, an odd last digit is a byte.
BYTE_STRINGS = [
    ("frame[0:2] == 0100", b"\x01\x00"),
    ("frame[0:2] == 010", b"\x01\x00"),
    ("frame[1:3] == 010", b"\x01\x00"),
    ("frame[0:3] == 01001", b"\x01\x00\x01"),
    ("frame[0:2] == 050", b"\x05\x00"),
    ("frame[0:1] == 5", b"\x05"),
    ("frame[0:2] == 1-0", b"\x01\x00"),
    ("frame[0:2] == 1.00", b"\x01\x00"),
    ("frame[0:3] == 1.0.10", b"\x01\x00\x10"),
    ("frame[0:2] == 05:00", b"\x05\x00"),
    ("frame[0:2] == abc", b"\xab\x0c"),
]


def test_byte_strings_mean_the_bytes_tshark_reads(plugin):
    capture = CAPTURES / "linux-qemu.pcapng"
    frames = [(m.frame.index, m.frame.data) for m in messages_of(open_frames(str(capture)))]
    selections = []
    for text, wanted in BYTE_STRINGS:
        start, end = (int(n) for n in re.findall(r"\d+", text.split("]")[0]))
        expected = [index for index, data in frames if data[start:end] == wanted]
        kept = messages_of(open_frames(str(capture)), keep=compile_filter(text))
        assert [m.frame.index for m in kept] == expected, f"dmdissect -Y {text}"
        assert tshark.selected(plugin, capture, text) == expected, f"tshark -Y {text}"
        selections.append(expected)
    # Some strings select frames and some none: reading them otherwise would show.
    assert any(selections) and not all(selections)


def test_constants_too_big_for_the_field_are_refused_as_tshark_refuses_them(plugin, tmp_path):
    converted = tmp_path / "linux-qemu.pcapng"
    assert (
        CliRunner().invoke(convert, [str(CAPTURES / "linux-qemu.pcapng"), str(converted)]).exit_code
        == 0
    )
    for text in REFUSED:
        with pytest.raises(FilterError) as caught:
            compile_filter(text)
        assert caught.value.message == tshark.refusal(plugin, converted, text), text


#: One field of every kind: numbers of each width (a 24-bit part of a 64-bit
#: unit, a name whose width differs by message), booleans, labels (structures,
#: lists, the header), strings, and the derived numbers, booleans and times of
#: tshark's own frame fields and of the plugin's transaction fields.
LEN_FIELDS = [
    "hvdm.hdr",
    "hvdm.hdr.type",
    "hvdm.hdr.trans_id",
    "hvdm.vmbus",
    "hvdm.vmbus.trans_id",
    "hvdm.version",
    "hvdm.version.version",
    "hvdm.caps",
    "hvdm.caps.hot_add",
    "hvdm.caps.hot_add_alignment",
    "hvdm.reservedz",
    "hvdm.is_last_attempt",
    "hvdm.range_count",
    "hvdm.range_array",
    "hvdm.range_array.start_page",
    "hvdm.range_array.page_cnt",
    "hvdm.num_avail",
    "hvdm.direction",
    "hvdm.transaction",
    "hvdm.transaction.number",
    "hvdm.transaction.request_frame",
    "hvdm.transaction.complete",
    "hvdm.transaction.kind",
    "frame.number",
    "frame.len",
    "frame.time",
    "frame.time_relative",
    "frame.time_epoch",
]
LEN_WIDTHS = tuple(range(13))


@pytest.mark.parametrize("name", ["linux-qemu-vmbus.pcapng", "faulty.pcapng"])
def test_len_is_what_tshark_answers_for_every_kind_of_field(plugin, tmp_path, name):
    """len() of a number is its type's width, of a boolean, time or label 0, as in tshark.

    One tshark run, for all fields, finds no frame where tshark answers a
    width dmdissect does not; for a field with several widths, tshark selects
    the same frames as dmdissect for each.  The protocol's bytes are the whole frame in
    both tools (the VMBus descriptor is part of the protocol).
    """
    converted = tmp_path / name
    assert CliRunner().invoke(convert, [str(CAPTURES / name), str(converted)]).exit_code == 0

    def mine(text: str) -> list[int]:
        kept = messages_of(open_frames(str(converted)), keep=compile_filter(text))
        return [m.frame.index for m in kept]

    others = []
    for field in LEN_FIELDS:
        answered = [w for w in LEN_WIDTHS if mine(f"len({field}) == {w}")]
        # One width: the run for all fields below checks it; several: which frame has which.
        for width in answered if len(answered) > 1 else ():
            text = f"len({field}) == {width}"
            assert mine(text) == tshark.selected(plugin, converted, text), f"-Y {text}"
        # tshark 4.0 tests only a field for membership in a set: one == per width.
        known = " || ".join(f"len({field}) == {w}" for w in answered) or "frame.number == 0"
        others.append(f"({field} && !({known}))")
    assert mine(" || ".join(others)) == []
    assert tshark.selected(plugin, converted, " || ".join(others)) == []
    # The same run with every width moved by one selects frames in both: it can fail.
    moved = " || ".join(others).replace(") == ", ") == 1 + ")
    assert tshark.selected(plugin, converted, moved) == mine(moved) != []
    whole = "len(hvdm) == len(frame) && hvdm[0:4] == frame[0:4]"
    assert mine(whole) == tshark.selected(plugin, converted, whole) != []
    # The widths themselves, as the C header declares the fields (an independent check).
    balloon = [m.frame.index for m in _messages(converted) if m.type == 7]
    assert set(balloon) <= set(mine("len(hvdm.range_array.page_cnt) == 8"))
    assert set(balloon) <= set(mine("len(hvdm.hdr.type) == 2 && len(hvdm.hdr) == 0"))


#: Hand-written frames: (bytes, the undecoded-bytes field dmdissect names and its hex, or None).
UNDECODED = [
    ("", None),  # nothing arrived: no header
    ("07", ("body", "07")),  # ends before the header's type: no header, the byte undecoded
    ("070018", ("body", "070018")),  # the type arrived: a header, cut short
    ("0700 1800 05000000", None),  # a whole header, the body's fields all missing
    # DM_BALLOON_RESPONSE of one range, then 2 bytes the message does not count
    ("0700 1800 05000000 00000000 02000000 01000000ab563412 aabb", ("trailing", "aabb")),
    # range_count 2 but one range: the 2 bytes are the start of the missing one
    ("0700 1800 05000000 00000000 04000000 01000000ab563412 aabb", ("cut", "aabb")),
    ("ff00 1000 05000000 0102030405060708", ("body", "0102030405060708")),  # unknown type
    # VMBus in-band, len8 4 (32 bytes): a 16-byte DM_STATUS_REPORT cut to 16, then 3 bytes more
    (
        "0600 0200 0400 0000 0900000000000000 0500 3000 01000000 0100000000000000 ccddee",
        ("vmbus_trailing", "ccddee"),
    ),
]


def test_undecoded_bytes_and_frames_without_a_header_as_dmdissect_names_them(plugin, tmp_path):
    """hvdm.trailing, .cut, .body and .vmbus_trailing hold the bytes the layers left, and
    a frame whose bytes end before the header's type has no hvdm.hdr, in both tools."""
    capture = tmp_path / "undecoded.pcapng"
    _write_capture(capture, [bytes.fromhex(h) for h, _ in UNDECODED], random.Random(0))
    assert check_capture(plugin, capture) == len(UNDECODED)
    names = ["trailing", "cut", "body", "vmbus_trailing"]
    shown = tshark.columns(plugin, capture, *(f"hvdm.{n}" for n in names))
    for number, (_, want) in enumerate(UNDECODED, 1):
        row = ["" for _ in names]
        if want is not None:
            row[names.index(want[0])] = want[1]
        assert shown[number] == row, number
    for text, frames in [
        ("hvdm.hdr", [3, 4, 5, 6, 7, 8]),
        ("hvdm", list(range(1, 9))),
        ("frame && len(hvdm) == 0", [1]),
        ("hvdm.body", [2, 3, 7]),
        ("hvdm.cut || hvdm.trailing || hvdm.vmbus_trailing", [5, 6, 8]),
    ]:
        kept = messages_of(open_frames(str(capture)), keep=compile_filter(text))
        assert [m.frame.index for m in kept] == frames, f"dmdissect -Y {text}"
        assert tshark.selected(plugin, capture, text) == frames, f"tshark -Y {text}"


#: A packet's comments as written: none, one, one not ASCII, two, one that looks like a marker.
COMMENTED = [(), ("plain",), ("déjà vu",), ("first", "second\nline"), ("dmdissect/1 0\nx=1\n",)]


def test_frame_comment_is_every_comment_of_the_packet_as_tshark_has_it(plugin, tmp_path):
    """frame.comment: one value a pcapng comment, convert's marker included, in both tools.

    A capture dmdissect wrote holds its marker as one more comment, which tshark
    sees like any other; dmdissect's filter sees it too, so ``len()``, ``count()``,
    ``contains`` and ``-e frame.comment`` give the same answers.  len() counts a
    string's UTF-8 bytes, as tshark does ("déjà vu" is 9).
    """
    data = bytes.fromhex("0500 3000 01000000") + bytes(40)
    packets = [
        pcapngfile.Packet(n, data, comment=(c or (None,))[0], more_comments=c[1:])
        for n, c in enumerate(COMMENTED, 1)
    ]
    raw = pcapngfile.write_pcapng(tmp_path / "commented.pcapng", packets)
    converted = tmp_path / "converted.pcapng"
    assert CliRunner().invoke(convert, [str(raw), str(converted)]).exit_code == 0

    def mine(capture: Path, text: str) -> list[int]:
        kept = messages_of(open_frames(str(capture)), keep=compile_filter(text))
        return [m.frame.index for m in kept]

    known = {
        raw: {"frame.comment": [2, 3, 4, 5], "count(frame.comment) == 2": [4]},
        converted: {"frame.comment": [1, 2, 3, 4, 5], "count(frame.comment) == 2": [2, 3, 4, 5]},
    }
    for capture, facts in known.items():
        widths = sorted({w for w in range(400) if mine(capture, f"len(frame.comment) == {w}")})
        assert (9 in widths) and (7 not in widths)
        others = " || ".join(f"len(frame.comment) == {w}" for w in widths)
        filters = [
            *facts,
            "count(frame.comment) == 1",
            'frame.comment contains "dmdissect/1"',
            'frame.comment contains "second"',
            'frame.comment == "plain"',
            *(f"len(frame.comment) == {w}" for w in widths),
            f"frame.comment && !({others})",
        ]
        for text in filters:
            want = mine(capture, text)
            assert want == tshark.selected(plugin, capture, text), f"-Y {text} on {capture.name}"
            assert want == facts.get(text, want), text
        assert mine(capture, filters[-1]) == []
        shown = tshark.columns(plugin, capture, "frame.comment")
        result = CliRunner().invoke(
            main,
            ["read", "-T", "fields", "-e", "frame.number", "-e", "frame.comment", str(capture)],
        )
        assert result.exit_code == 0, result.output
        lines = [line.split("\t") for line in result.output.splitlines()]
        assert {int(n): [text] for n, text in lines} == shown


def test_random_bytes_never_raise_a_lua_error(plugin, tmp_path):
    rng = random.Random(14)
    capture = tmp_path / "noise.pcapng"
    payloads = [bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 64))) for _ in range(500)]
    _write_capture(capture, payloads, rng)
    shown = tshark.packets(plugin, capture)
    assert len(shown) == 500


def test_plugin_loads_in_tshark_without_messages(plugin):
    result = subprocess.run(
        [tshark.require_tshark(), "-G", "fields", "-X", f"lua_script:{plugin}"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    names = {row[2] for row in rows if len(row) > 2 and row[0] in ("F", "P")}
    assert {field.abbrev for field in PROTOCOL_FIELDS.values()} <= names
    assert {f"hvdm.{name}" for name, _, _ in TRANSACTION_FIELDS} <= names
    # Every name `dmdissect fields` lists beyond tshark's own frame fields.
    listed = [name for name, field in FIELDS.items() if field.group != "frame"]
    assert len(listed) > 60
    assert [name for name in listed if _abbrev(name) not in names] == []


def test_no_name_is_registered_with_two_types(plugin):
    """tshark checks a filter's constant against the first field of a name and matches
    values of that type only: a name registered twice with two types filters wrongly.

    Over the plugin's own ProtoFields, and over what tshark lists with it loaded.
    """
    declared: dict[str, set[str]] = defaultdict(set)
    for kind, abbrev in re.findall(r'ProtoField\.(\w+)\("([^"]+)"', plugin.read_text()):
        declared[abbrev].add(kind)
    result = subprocess.run(
        [tshark.require_tshark(), "-G", "fields", "-X", f"lua_script:{plugin}"],
        capture_output=True,
        text=True,
        check=True,
    )
    listed: dict[str, set[str]] = defaultdict(set)
    for row in (line.split("\t") for line in result.stdout.splitlines()):
        if len(row) > 3 and row[0] == "F" and row[2].startswith("hvdm."):
            listed[row[2]].add(row[3])
    # tshark lists the expert infos' names too.
    assert len(declared) > 60 and set(declared) <= set(listed)
    assert {name: kinds for name, kinds in declared.items() if len(kinds) > 1} == {}
    assert {name: types for name, types in listed.items() if len(types) > 1} == {}
    # The widest reservedz is 63 bits (union dm_version_response's): an FT_UINT64 everywhere.
    assert listed["hvdm.reservedz"] == {"FT_UINT64"}
    assert listed["hvdm.hdr.type"] == {"FT_UINT16"}


def test_page_range_shows_its_40_24_bit_split(plugin, tmp_path):
    """Hand-written bytes: start_page 0xab00000001 (5 bytes), page_cnt 0x123456 (3 bytes).

    Wireshark 4.0's Lua keeps 32 bits of a mask, so page_cnt is shown over the
    last 4 bytes of its 8-byte word with mask 0xffffff00: the top byte of
    start_page is in the window, masked out.  It is declared FT_UINT64, the
    type of the C unit it is a part of, so len() is 8 in both tools.
    """
    data = bytes.fromhex(
        "0700 1800 05000000"  # DM_BALLOON_RESPONSE, size 24, trans_id 5
        "00000000"  # reservedz
        "02000000"  # range_count 1, more_pages 0
        "01000000ab"  # start_page 0xab00000001
        "563412"  # page_cnt 0x123456
    )
    capture = tmp_path / "range.pcapng"
    _write_capture(capture, [data], random.Random(0))
    tree = tshark.run(plugin, capture, "-V").stdout
    assert "0001 0010 0011 0100 0101 0110 .... .... = page_cnt: 1193046" in tree
    assert tshark.selected(plugin, capture, "len(hvdm.range_array.page_cnt) == 8") == [1]
    assert "start_page: 0x000000ab00000001" in tree
    layers = json.loads(tshark.run(plugin, capture, "-T", "json", "-x").stdout)[0]["_source"]
    ranges = layers["layers"]["hvdm"]["hvdm.range_array"]
    item = ranges["_ws.lua.text"]  # the range's subtree, labelled by its summary
    assert item["hvdm.range_array.page_cnt"] == "1193046"
    # [hex, offset, length, bitmask, type]: bytes 20-23 of the frame, mask 0xffffff00.
    assert item["hvdm.range_array.page_cnt_raw"][1:4] == [20, 4, 0xFFFFFF00]
    assert item["hvdm.range_array.start_page_raw"][:3] == ["01000000ab", 16, 5]
    fields = subprocess.run(
        [tshark.require_tshark(), "-G", "fields", "-X", f"lua_script:{plugin}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    row = next(
        line.split("\t")
        for line in fields.splitlines()
        if line.split("\t")[2:3] == ["hvdm.range_array.page_cnt"]
    )
    assert row[3:7] == ["FT_UINT64", "hvdm", "BASE_DEC", "0xffffff00"]


def test_a_filtered_conversion_names_the_input_frames(plugin, tmp_path):
    """convert -Y keeps the input's frame numbers in its notes, and says so.

    The oracle is tshark itself on the whole conversion: the same balloon
    responses, their frame numbers there and their links.
    """
    whole, some = tmp_path / "whole.pcapng", tmp_path / "some.pcapng"
    source = str(CAPTURES / "linux-qemu.pcapng")
    assert CliRunner().invoke(convert, [source, str(whole)]).exit_code == 0
    assert CliRunner().invoke(convert, ["-Y", "hdr.type == 7", source, str(some)]).exit_code == 0
    links = ["hvdm.transaction.request_frame", "hvdm.transaction.final_frame"]
    # Renumbered, the links are plain numbers under names of their own.
    numbers = ["hvdm.transaction.input_request_frame", "hvdm.transaction.input_final_frame"]
    names = ["hvdm.input_frame", *links, *numbers, "_ws.col.Info"]
    wanted = tshark.columns(plugin, whole, *names)
    responses = [(n, row) for n, row in wanted.items() if "DM_BALLOON_RESPONSE" in row[-1]]
    shown = tshark.columns(plugin, some, *names)
    assert sorted(shown) == list(range(1, len(responses) + 1)) and len(responses) > 2
    for (number, want), row in zip(responses, shown.values()):
        # Each written frame is frame input_frame of the whole conversion, whose own
        # number and links it carries unchanged.
        assert row[:5] == [str(number), "", "", want[1], want[2]]
        assert want[0] == str(number) and want[3:5] == ["", ""] and "" not in want[1:3]
        assert row[5] == want[5][:-1] + "; frame numbers of the input]"


#: A message type that does not exist, added to a copy of the layers (and nowhere else).
_PROBE_LAYER = '''

class DMProbe(DMMessage):
    """A layer added only to show that the plugin follows the layers."""

    name = "DM_PROBE"
    msg_type = MessageType.DM_PROBE
    sender = Side.GUEST
    fields_desc = [
        LEIntField("probe_count", 0),
        BitField("probe_high", 0, 20, tot_size=-4),
        BitField("probe_low", 0, 12, end_tot_size=-4),
    ]

'''


def test_a_layer_added_to_the_layers_is_in_the_plugin(tmp_path):
    """Copy the package, add one layer in ``layers/`` and the words of its summary in
    ``views/phrases.py``, generate the tables and the plugin, read bytes with tshark."""
    copy = tmp_path / "copy"
    shutil.copytree(Path(dmdissect.__file__).parent, copy / "dmdissect")
    numbers = copy / "dmdissect" / "layers" / "numbers.py"
    text = numbers.read_text()
    last = "    DM_MEM_HOT_REMOVE_RESPONSE = 14\n"
    assert last in text
    numbers.write_text(text.replace(last, last + "    DM_PROBE = 15\n"))
    messages = copy / "dmdissect" / "layers" / "messages.py"
    text = messages.read_text()
    table = "MESSAGE_LAYERS: dict[int, type[DMMessage]] = {"
    assert table in text and "        DMHotRemoveResponse,\n    )" in text
    text = text.replace(table, _PROBE_LAYER.lstrip("\n") + "\n" + table)
    text = text.replace(
        "        DMHotRemoveResponse,\n    )",
        "        DMHotRemoveResponse,\n        DMProbe,\n    )",
    )
    messages.write_text(text)
    phrases = copy / "dmdissect" / "views" / "phrases.py"
    text = phrases.read_text()
    table = "SUMMARIES: dict[str, Phrase] = {\n"
    assert table in text
    probe = (
        '    "DMProbe": Seq("probe ", Value("probe_count"), ", low ", Value("probe_low", "hex")),\n'
    )
    phrases.write_text(text.replace(table, table + probe))
    plugin = tmp_path / "hvdm.lua"
    script = (
        "import sys; from pathlib import Path; from dmdissect.wireshark.generate import "
        "plugin_source; Path(sys.argv[1]).write_text(plugin_source())"
    )
    env = {**os.environ, "PYTHONPATH": str(copy)}
    # As after any change to a layer: the read path's tables are generated again.
    generate = [sys.executable, "-m", "dmdissect.layers.generate"]
    subprocess.run(generate, check=True, env=env, cwd=tmp_path, capture_output=True)
    assert "DMProbe" in (copy / "dmdissect" / "layers" / "tables.py").read_text()
    subprocess.run([sys.executable, "-c", script, str(plugin)], check=True, env=env, cwd=tmp_path)
    # type 15, size 16, trans_id 7; probe_count 0x01020304; the word 0xabcde123 holds
    # probe_low (bits 0-11) 0x123 and probe_high (bits 12-31) 0xabcde.
    data = bytes.fromhex("0f00 1000 070000000403020123e1cdab")
    capture = tmp_path / "probe.pcapng"
    _write_capture(capture, [data], random.Random(0))
    fields, experts, _ = tshark.packets(plugin, capture)[1]
    assert fields["hvdm.probe_count"] == ["16909060"]
    assert fields["hvdm.probe_low"] == [str(0x123)]
    assert fields["hvdm.probe_high"] == [str(0xABCDE)]
    assert fields["hvdm.type_name"] == ["DM_PROBE"]
    assert experts == []
    info = tshark.columns(plugin, capture, "_ws.col.Info")[1]
    assert info == ["DM_PROBE id=7 probe 16909060, low 0x123"]
    tree = tshark.run(plugin, capture, "-V").stdout
    assert "1010 1011 1100 1101 1110 .... .... .... = probe_high: 703710" in tree
    assert ".... .... .... .... .... 0001 0010 0011 = probe_low: 291" in tree
