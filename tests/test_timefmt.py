"""``-t`` time formats against the real tshark's on the same capture, and ``--boot-time``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dmdissect.cli import main

ROOT = Path(__file__).resolve().parent.parent
CAPTURE = ROOT / "captures" / "linux-qemu.pcapng"
DMESG = ROOT / "captures" / "linux-qemu-dmesg.log"
#: A zone with an offset and daylight saving, so local and UTC formats differ.
ZONE = "America/New_York"
LINE = re.compile(r"^\s*\d+ (.*?) +(?:guest->host|host->guest|\?) ")


def ours(*args: str, zone: str = ZONE) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "dmdissect", "read", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ, TZ=zone),
        cwd=ROOT,
        check=True,
    )
    return [LINE.match(line).group(1).strip() for line in result.stdout.splitlines()]


def tsharks(capture: Path, fmt: str) -> list[str]:
    result = subprocess.run(
        ["tshark", "-r", str(capture), "-t", fmt, "-T", "fields", "-e", "_ws.col.Time"],
        capture_output=True,
        text=True,
        env=dict(os.environ, TZ=ZONE),
        check=True,
    )
    return result.stdout.splitlines()


@pytest.mark.parametrize("fmt", ["r", "d", "dd", "e", "a", "ad", "u", "ud"])
def test_time_format_matches_tshark(fmt):
    expected = tsharks(CAPTURE, fmt)
    assert len(expected) == 108
    assert ours("-t", fmt, str(CAPTURE)) == expected


def test_time_format_of_a_converted_pcap_matches_tshark(tmp_path):
    pcap = tmp_path / "c.pcap"
    subprocess.run(
        ["editcap", "-F", "pcap", str(CAPTURE), str(pcap)], check=True, capture_output=True
    )
    converted = tmp_path / "c.pcapng"
    subprocess.run(["editcap", "-F", "pcapng", str(pcap), str(converted)], check=True)
    for fmt in ("ad", "d", "ud"):
        assert ours("-t", fmt, str(pcap)) == tsharks(converted, fmt)


def test_dmesg_times_stay_seconds_since_boot():
    # The log's first stamps, copied from captures/linux-qemu-dmesg.log by hand.
    assert ours("-c", "3", "-t", "ad", str(DMESG)) == ["1.737193", "1.737705", "1.738646"]
    assert ours("-c", "3", "-t", "e", str(DMESG)) == ["1.737193", "1.737705", "1.738646"]
    assert ours("-c", "3", "-t", "d", str(DMESG)) == ["0.000000", "0.000512", "0.000941"]


def test_boot_time_anchors_dmesg_times():
    anchored = ours("-c", "2", "-t", "ud", "--boot-time", "2026-01-01T00:00:00Z", str(DMESG))
    assert anchored == ["2026-01-01 00:00:01.737193", "2026-01-01 00:00:01.737705"]
    # A time without a zone is local time: midnight in New York is 05:00 UTC in January.
    local = ours("-c", "1", "-t", "ud", "--boot-time", "2026-01-01 00:00:00", str(DMESG))
    assert local == ["2026-01-01 05:00:01.737193"]
    epoch = ours("-c", "1", "-t", "e", "--boot-time", "1767225600", str(DMESG))
    assert epoch == ["1767225601.737193"]


def test_boot_time_reaches_json_and_the_session(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "dmdissect", "read", "-c", "1", "-T", "jsonl", "-z", "session"]
        + ["--boot-time", "2026-01-01T00:00:00+00:00", str(DMESG)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert '"time":1767225601.737193' in result.stdout.splitlines()[0]


def test_bad_boot_time_is_a_usage_error():
    result = subprocess.run(
        [sys.executable, "-m", "dmdissect", "read", "--boot-time", "yesterday", str(DMESG)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "--boot-time 'yesterday' is neither an ISO 8601 time" in result.stderr


@pytest.mark.parametrize("command", ["read", "timeline", "check", "report"])
@pytest.mark.parametrize(
    "value", ["nan", "inf", "-inf", "1e308", "1e30", "-5", "0001-01-01T00:00:00Z"]
)
def test_a_boot_time_no_date_can_show_is_a_usage_error(command, value):
    # Epoch seconds 0 .. 253402300799 (9999-12-31T23:59:59Z) are dates; nothing else is.
    result = CliRunner().invoke(main, [command, f"--boot-time={value}", str(DMESG)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert (
        f"--boot-time {value!r} is no time between 1970-01-01 and 9999-12-31 (epoch seconds 0 "
        "to 253402300799)" in result.stderr
    )


def test_the_last_boot_time_a_date_shows_is_taken():
    result = CliRunner().invoke(main, ["read", "--boot-time=253402300799", str(DMESG)])
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("fmt", ["r", "d", "dd", "e", "a", "ad", "u", "ud"])
def test_a_column_that_follows_its_messages_writes_what_a_tapped_one_writes(fmt):
    """``follow()`` (no display filter, no tap) feeds the column in ``text``: the same
    words as a column that a tap fed first, times missing and repeated included."""
    from types import SimpleNamespace

    from dmdissect.views.timefmt import TimeColumn

    times = [None, 1.5, 1.5, None, 2.25, 1_700_000_000.5, 7.0, None]
    messages = [SimpleNamespace(frame=SimpleNamespace(time=t)) for t in times]
    tapped, following = TimeColumn(fmt), TimeColumn(fmt)
    following.follow()
    expected, got = [], []
    for message in messages:
        tapped.feed(message)
        expected.append(tapped.text(message))
        got.append(following.text(message))
        assert following.first == tapped.first
    assert got == expected
