"""The fast lane for clean kernel dumps gives exactly what the general reader gives.

Each input is read twice, with the lane and without it (``Framer.use_lane``),
and the frames must be equal in every field; the inputs are kernel logs with
every kind of surprise the lane hands back to the general reader: jumps,
other prefixes, columns that disagree, blank and foreign lines, pauses of
live input in the middle of a dump, dumps of messages back to back.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dmdissect.sources.hex import formats
from tests.hexbuild import MESSAGES, both_ways, hdr, kernel_dump

ROOT = Path(__file__).resolve().parent.parent


def _mutate(rnd: random.Random, lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        roll = rnd.random()
        if roll < 0.03:
            out.append("")
        elif roll < 0.06:
            out.append("[  101.000000] other: something else happened")
        elif roll < 0.08:
            line = line.replace("hv_balloon:", "hv_other:")
        elif roll < 0.10 and line.endswith("."):
            line = line[:-1] + "x"
        elif roll < 0.12:
            line = line.replace(": 00000010:", ": 00000020:")
        elif roll < 0.13:
            line = line.replace("[  ", "[" + "9" * 30)
        elif roll < 0.14:
            continue
        out.append(line)
    return out


def _messages(rnd: random.Random) -> list[bytes]:
    found = []
    for _ in range(rnd.randrange(1, 8)):
        body = rnd.randbytes(rnd.choice((0, 8, 16, 40, rnd.randrange(60))))
        found.append(hdr(rnd.choice((5, 7, 9, 12)), 8 + len(body), rnd.randrange(1 << 32)) + body)
    return found


def _log(rnd: random.Random, messages: list[bytes]) -> str:
    lines = []
    for n, message in enumerate(messages):
        if rnd.random() < 0.7:
            lines.append(
                f"[  {100 + n}.000000] hv_balloon: {rnd.choice(['guest->host', 'host->guest'])}"
            )
        lines += kernel_dump([message], times=[100.0 + n]).splitlines()
    return "\n".join(_mutate(rnd, lines)) + rnd.choice(("", "\n"))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), st.sampled_from([None, 7, 64, 333]))
def test_the_lane_changes_nothing_on_kernel_logs_with_surprises(rnd, step):
    data = _log(rnd, _messages(rnd)).encode()
    general, fast = both_ways(data, step)
    assert fast == general


def test_the_lane_changes_nothing_on_the_shipped_dmesg_log():
    log = (ROOT / "captures" / "linux-qemu-dmesg.log").read_bytes()
    general, fast = both_ways(log)
    assert fast == general and len(fast) > 10


def test_the_lane_changes_nothing_on_messages_back_to_back():
    data = kernel_dump([b"".join(MESSAGES)]).encode()
    general, fast = both_ways(data)
    assert fast == general and [f.data for f in fast] == MESSAGES


@pytest.mark.parametrize("groupsize", [1, 2, 4])
def test_the_lane_changes_nothing_on_other_group_sizes(groupsize):
    data = kernel_dump(MESSAGES, groupsize=groupsize).encode()
    general, fast = both_ways(data)
    assert fast == general and [f.data for f in fast] == MESSAGES


@settings(max_examples=300, deadline=None)
@given(
    st.binary(min_size=1, max_size=32),
    st.sampled_from(["", "[  100.500000] hv_balloon: ", "[1.5] deadbeef: ", "[ 2.25] a-b.c: "]),
    st.integers(0, 0xFFFF),
)
def test_the_kernel_row_expression_gives_the_tables_row(data, prefix, offset):
    """The one expression for kernel rows against the table's parsers."""
    row = " ".join(f"{b:02x}" for b in data)
    column = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in data)
    line = f"{prefix}{offset:08x}: {row.ljust(16 * 3)} {column}".rstrip()
    assert formats.parse_line(line) == formats.parse_by_table(line)
