"""Compressed inputs made by the real gzip, bzip2, xz and zstd commands, read as tshark does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dmdissect.sources import InputError, open_frames
from tests.pcapfile import pcap_bytes

ROOT = Path(__file__).resolve().parent.parent
CAPTURE = ROOT / "captures" / "linux-qemu.pcapng"
DMESG = ROOT / "captures" / "linux-qemu-dmesg.log"
COMPRESSORS = {"gzip": "gz", "bzip2": "bz2", "xz": "xz", "zstd": "zst"}


def compress(tool: str, source: Path, target: Path) -> Path:
    """``target`` written by the real command line tool, as a user would make it."""
    with source.open("rb") as data, target.open("wb") as out:
        subprocess.run([tool, "-c", "-q"], stdin=data, stdout=out, check=True)
    return target


def cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dmdissect", *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
    )


def frames(path: str) -> list[tuple]:
    return [(f.data, f.time, f.direction, f.comment) for f in open_frames(path)]


@pytest.mark.parametrize("tool", COMPRESSORS)
@pytest.mark.parametrize("source", [CAPTURE, DMESG], ids=["pcapng", "dmesg"])
def test_compressed_file_reads_as_the_original(tool, source, tmp_path):
    packed = compress(tool, source, tmp_path / f"{source.name}.{COMPRESSORS[tool]}")
    expected = frames(str(source))
    assert len(expected) == {CAPTURE: 108, DMESG: 43}[source]
    assert frames(str(packed)) == expected


@pytest.mark.parametrize("tool", COMPRESSORS)
def test_compressed_stdin_gives_the_same_output(tool, tmp_path):
    packed = compress(tool, CAPTURE, tmp_path / f"c.{COMPRESSORS[tool]}")
    plain = cli("read", str(CAPTURE))
    # A pipe is live input (one pass): -2 asks for the file's two-pass lines.
    piped = cli("read", "-2", "-", stdin=packed.read_bytes())
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == plain.stdout
    assert sum(line[:5].strip().isdigit() for line in piped.stdout.splitlines()) == 108


def test_concatenated_zstd_frames_are_one_stream(tmp_path):
    one = compress("zstd", CAPTURE, tmp_path / "one.zst").read_bytes()
    both = tmp_path / "both.zst"
    both.write_bytes(one + one)
    assert len(frames(str(both))) == 216


@pytest.mark.parametrize("tool", COMPRESSORS)
def test_cut_compressed_file_is_one_error_line(tool, tmp_path):
    packed = compress(tool, CAPTURE, tmp_path / f"c.{COMPRESSORS[tool]}").read_bytes()
    cut = tmp_path / f"cut.{COMPRESSORS[tool]}"
    cut.write_bytes(packed[: len(packed) - 40])
    result = cli("read", str(cut))
    assert result.returncode == 2
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"dmdissect: error: cannot read {cut}: its {tool} data ")
    assert "Traceback" not in result.stderr.decode()


def test_small_pcap_in_gzip_through_the_library(tmp_path):
    import gzip

    data = pcap_bytes([(1.5, bytes.fromhex("0500300003000000") + bytes(40))])
    path = tmp_path / "x.pcap.gz"
    path.write_bytes(gzip.compress(data))
    assert [(f.data, f.time) for f in open_frames(str(path))] == [(data[40:], 1.5)]


def test_lz4_is_refused_with_a_hint(tmp_path):
    path = tmp_path / "capture.pcapng.lz4"
    path.write_bytes(b"\x04\x22\x4d\x18" + bytes(60))
    with pytest.raises(InputError) as info:
        open_frames(str(path))
    assert str(info.value) == f"{path} is lz4-compressed, which is not read; decompress it first"


def test_compressed_empty_file_says_so(tmp_path):
    path = compress("gzip", Path("/dev/null"), tmp_path / "empty.gz")
    with pytest.raises(InputError) as info:
        open_frames(str(path))
    assert str(info.value) == f"{path} is empty once gzip-decompressed"
