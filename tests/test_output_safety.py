"""Output a user can trust: escaped input text, safe output files, bounded options and times.

Expected strings are written by hand from the Unicode and pcapng specifications;
captures are read back by the real tshark where that settles what a file holds.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import struct
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from dmdissect.cli import main
from dmdissect.escape import json_safe, printable
from dmdissect.pipeline import messages_of
from dmdissect.sources import open_frames
from dmdissect.sources.frame import Frame
from dmdissect.sources.output import OutputError, output_file
from dmdissect.sources.writer import write_frames
from dmdissect.views.jsonout import message_object

ROOT = Path(__file__).resolve().parent.parent
STATUS = struct.pack("<HHI", 5, 48, 3) + struct.pack("<QQQQII", 1000, 2000, 0, 0, 0, 0)
STATUS_HEX = " ".join(f"{b:02x}" for b in STATUS) + "\n"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# --- one escaping function ---------------------------------------------------------------


@pytest.mark.parametrize(
    "raw,shown",
    [
        ("plain text", "plain text"),
        ("tab\tstays", "tab\tstays"),
        ("café, 10\u00a0MiB", "café, 10\u00a0MiB"),
        ("\x1b[2Jgone", "\\x1b[2Jgone"),
        ("line\nbreak", "line\\nbreak"),
        ("abc\u202efdp.exe", "abc\\u202efdp.exe"),
        ("\u2066iso\u2067la\u2068te\u2069", "\\u2066iso\\u2067la\\u2068te\\u2069"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("\ufeffbom", "\\ufeffbom"),
        ("caf\udce9.txt", "caf\\udce9.txt"),
        ("sep\u2028arator", "sep\\u2028arator"),
        ("c1\x85", "c1\\x85"),
    ],
)
def test_printable_escapes_everything_that_can_act_on_a_terminal(raw, shown):
    assert printable(raw) == shown


def test_json_keeps_text_but_writes_lone_surrogates_as_escapes():
    assert json_safe("caf\udce9") == "caf\\udce9"
    assert json_safe("naïve \u202e") == "naïve \u202e"
    frame = Frame(1, STATUS, 1.0, origin="caf\udce9.log:1", comment="note \ud800")
    (message,) = messages_of([frame])
    text = json.dumps(message_object(message), ensure_ascii=False)
    text.encode("utf-8")  # would raise on a lone surrogate
    back = json.loads(text)
    assert back["origin"] == "caf\\udce9.log:1"
    assert back["comment"] == "note \\ud800"


def test_json_writes_a_file_name_that_is_not_utf8_with_escapes(tmp_path):
    """``file`` beside ``origin``: a name undecodable as UTF-8 (``caf\\xe9``) is no lone
    surrogate in the JSON, which a UTF-8 reader could not take, but the same escape."""
    name = os.fsdecode(bytes(tmp_path) + b"/caf\xe9.pcapng")
    with open(name, "wb") as handle:
        write_frames([Frame(1, STATUS, 1.0)], handle)
    for fmt in ("json", "jsonl"):
        result = run("read", "-T", fmt, name)
        assert result.exit_code == 0, result.output
        back = json.loads(result.stdout)
        (obj,) = back if fmt == "json" else [back]
        assert obj["file"] == obj["origin"].rsplit("#", 1)[0]
        assert obj["file"].endswith("/caf\\udce9.pcapng")
        json.dumps(obj, ensure_ascii=False).encode("utf-8")  # would raise on a lone surrogate


def test_comments_and_origins_reach_the_text_views_escaped(tmp_path):
    capture = tmp_path / "c.pcapng"
    with capture.open("wb") as handle:
        write_frames([Frame(1, STATUS, 1.0, comment="evil\u202e\x1b]0;title\x07")], handle)
    tree = run("read", "-V", str(capture)).stdout
    assert "comment: evil\\u202e\\x1b]0;title\\x07" in tree
    assert "\u202e" not in tree and "\x1b" not in tree


# --- convert: names, comments, times --------------------------------------------------


def test_a_source_name_that_is_not_utf8_is_written_escaped(tmp_path):
    name = os.fsdecode(bytes(tmp_path) + b"/caf\xe9.log")
    Path(name).write_text(STATUS_HEX)
    out = tmp_path / "out.pcapng"
    result = run("convert", name, str(out))
    assert result.exit_code == 0, result.output
    (frame,) = open_frames(str(out))
    assert "caf\\udce9.log:1" in frame.origin


def test_a_comment_longer_than_an_option_is_cut_with_a_finding(tmp_path):
    """65535 bytes is the most a pcapng option holds; 70000 two-byte characters do not fit."""
    comment = "é" * 35000  # 70000 bytes of UTF-8
    out = tmp_path / "long.pcapng"
    with out.open("wb") as handle:
        write_frames([Frame(1, STATUS, 1.0, comment=comment)], handle)
    (frame,) = open_frames(str(out))
    assert frame.comment == "é" * (65535 // 2)
    assert [f.message for f in frame.findings] == [
        "comment of 70000 bytes cut to the 65535 a pcapng option holds"
    ]
    tshark = shutil.which("tshark")
    assert tshark, "tshark is needed; .ci/run installs it"
    shown = subprocess.run(
        [tshark, "-r", str(out), "-T", "fields", "-e", "frame.comment"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert shown.startswith("é" * 100)


def test_many_findings_that_overflow_the_marker_are_left_out_with_a_note(tmp_path):
    from dmdissect.findings import HEX_LINE

    findings = [HEX_LINE(f"finding {i} " + "x" * 200) for i in range(400)]
    out = tmp_path / "many.pcapng"
    with out.open("wb") as handle:
        write_frames([Frame(1, STATUS, 1.0, findings=findings)], handle)
    (frame,) = open_frames(str(out))
    messages = [f.message for f in frame.findings]
    assert 0 < len(messages) < 400
    assert messages[-1].endswith("marker items left out: more than a pcapng option holds")
    assert messages[:-1] == [f.message for f in findings[: len(messages) - 1]]


@pytest.mark.parametrize(
    "to,resolution,time,words",
    [
        ("pcap", "us", 2.0**32 + 5, "beyond what pcap holds"),
        ("pcapng", "ns", 2.0**64 / 1e9 + 10, "beyond what pcapng holds at nanosecond"),
        ("pcapng", "us", float("inf"), "cannot be written"),
        ("pcapng", "us", -1.0, "cannot be written"),
    ],
)
def test_times_the_output_cannot_hold_are_an_error_not_a_wrap(to, resolution, time, words):
    with pytest.raises(OutputError) as info:
        write_frames([Frame(1, STATUS, time)], io.BytesIO(), to=to, resolution=resolution)
    assert str(info.value).startswith("frame 1: ")
    assert words in str(info.value)


def test_convert_of_a_time_past_2106_to_pcap_exits_2_and_writes_nothing(tmp_path):
    source = tmp_path / "late.pcapng"
    with source.open("wb") as handle:
        write_frames([Frame(1, STATUS, 2.0**32 + 5)], handle)
    out = tmp_path / "late.pcap"
    result = run("convert", "--to", "pcap", str(source), str(out))
    assert result.exit_code == 2
    assert "beyond what pcap holds" in result.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["late.pcapng"]


# --- where output goes --------------------------------------------------------------------


def test_a_regular_file_is_replaced_by_rename(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    before = target.stat().st_ino
    with output_file(str(target)) as handle:
        handle.write(b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_ino != before


def test_a_symlink_is_written_through_and_kept(tmp_path):
    real = tmp_path / "real.bin"
    real.write_bytes(b"old")
    link = tmp_path / "link.bin"
    link.symlink_to(real)
    with output_file(str(link)) as handle:
        handle.write(b"new")
    assert link.is_symlink()
    assert real.read_bytes() == b"new"


def test_a_fifo_is_opened_for_writing_never_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    with output_file(str(fifo)) as handle:
        handle.write(b"through the fifo")
    reader.join(timeout=60)
    assert got == [b"through the fifo"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_dev_stdout_style_devices_are_written_in_place():
    with output_file(os.devnull) as handle:
        handle.write(b"gone")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_a_directory_as_output_is_one_error(tmp_path):
    with pytest.raises(OutputError, match="it is a directory"):
        with output_file(str(tmp_path)):
            pass


# --- closed standard streams, endless raw input ----------------------------------------


def _dmdissect(args: list[str], close: int | None = None, **options):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "dmdissect", *args],
        stdout=None if close == 1 else subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        preexec_fn=(lambda: os.close(close)) if close is not None else None,
        timeout=120,
        **options,
    )


def test_read_from_a_closed_stdin_is_one_line_and_exit_2():
    result = _dmdissect(["read", "-"], close=0)
    assert result.returncode == 2
    assert result.stderr == b"dmdissect: error: cannot read standard input: it is closed\n"


def test_read_to_a_closed_stdout_is_one_line_and_exit_2():
    result = _dmdissect(["read", str(ROOT / "captures" / "linux-qemu.pcapng")], close=1)
    assert result.returncode == 2
    assert result.stderr == b"dmdissect: error: cannot write standard output: it is closed\n"


def test_raw_on_dev_zero_shows_the_first_bad_frame_and_honours_c():
    result = _dmdissect(["read", "--format", "raw", "-c", "1", "/dev/zero"])
    assert result.returncode == 0
    lines = result.stdout.decode().splitlines()
    assert lines[0].split()[3] == "DM_ERROR"
    assert "hdr.size 0 is smaller than the 8-byte header; splitting stopped" in lines[0]
    endless = _dmdissect(["read", "--format", "raw", "-T", "jsonl", "/dev/zero"])
    assert endless.returncode == 2
    assert len(endless.stdout.splitlines()) == 1
    assert endless.stderr == (
        b"dmdissect: error: /dev/zero: message 1 at offset 0: hdr.size 0 is smaller than the "
        b"8-byte header; splitting stopped\n"
    )


def test_flags_with_unknown_bits_show_the_rest_as_hex(tmp_path):
    request = struct.pack("<HHI", 13, 24, 1) + struct.pack("<IIII", 0, 4096, 0xFF, 0)
    path = tmp_path / "q.txt"
    path.write_text(" ".join(f"{b:02x}" for b in request) + "\n")
    tree = run("read", "-V", str(path)).stdout
    assert "qos_flags: LARGE+LOCAL+0xfc (0xff)" in tree
    assert "?" not in tree.split("qos_flags:")[1].split("\n")[0]
