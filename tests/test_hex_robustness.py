"""The hex reader against the attack review's inputs: long lines, lying headers,
endless findings, and tool outputs that used to be read twice.

Costs are compared, never timed absolutely: a line ten times longer may cost
about ten times more (a quadratic parser costs a hundred times more), and peak
memory at five times the input (past the cap of one message) stays flat.
"""

from __future__ import annotations

import io
import json
import random
import re
import subprocess
import time
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dmdissect.cli import main
from dmdissect.sources import read_frames
from dmdissect.sources.detect import detect_format
from dmdissect.sources.hex import MAX_MESSAGE, iter_hex_frames
from dmdissect.sources.hex.literal_rows import _only_closers, _strip_comments
from dmdissect.sources.hex.message import MAX_LINE_FINDINGS
from fuzz.harness import exercise
from fuzz.hexgen import SPECIALS, document, long_line
from tests.hexbuild import MESSAGES, STATUS_REPORT, UNBALLOON_RESPONSE, hdr, kernel_dump

DUMP = "00000000: 0900 0800 2b00 0000                      ....+...\n"


def frames(text: str | bytes, hex_order: str | None = None):
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return list(iter_hex_frames(io.BytesIO(data), "t", hex_order))


def cost(text: str) -> float:
    """CPU seconds to read ``text``, the best of three runs (the machine is shared)."""
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        frames(text)
        best = min(best, time.process_time() - start)
    return best


def peak(text: str | bytes) -> int:
    tracemalloc.start()
    try:
        frames(text)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def linear(make, n: int) -> None:
    """Ten times the input costs at most about ten times as much (20x for noise)."""
    small, large = cost(make(n)), cost(make(10 * n))
    assert large <= 20 * max(small, 0.002), (small, large)


# --- the review's long lines: each parsed in time linear in its length ----------------


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda n: "/*x" * (n // 3) + "\n" + DUMP, id="unclosed C comments"),
        pytest.param(lambda n: "I x" + " " * n + "y\n" + DUMP, id="I preamble with spaces"),
        pytest.param(lambda n: ")" * n + "x\n" + DUMP, id="closing parentheses"),
        pytest.param(lambda n: "b'b' " * (n // 5) + "\n", id="bytes literals"),
        pytest.param(lambda n: "[" + "9" * n + ".5] hv_balloon: " + DUMP, id="dmesg digits"),
        pytest.param(lambda n: "0x07, " * (n // 6) + "\n", id="C bytes"),
        pytest.param(lambda n: "07:" * (n // 3) + "0\n", id="separated bytes"),
        pytest.param(lambda n: "host" + " " * n + "x\n" + DUMP, id="direction words"),
    ],
)
def test_review_long_lines_cost_linear_time(make):
    linear(make, 20_000)


def test_200k_bytes_literals_on_one_line_are_read_in_linear_time():
    line = "b'b' " * 200_000 + "\n"
    (frame,) = frames(line)
    assert frame.data == b"b" * 65552 or len(frame.data) <= MAX_MESSAGE
    linear(lambda n: "b'b' " * (n // 5) + "\n", 100_000)


@pytest.mark.parametrize("name", sorted(SPECIALS))
def test_long_lines_of_each_formats_special_characters_cost_linear_time(name):
    def make(n):
        rnd = random.Random(7)
        return long_line(rnd, n, name) + "\n" + DUMP

    linear(make, 20_000)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="/*x}])(;, ", max_size=16))
def test_comment_and_closer_scanners_agree_with_the_regular_expressions(text):
    """The one-pass scanners against the (quadratic) expressions they replace."""
    assert _strip_comments(text) == re.sub(r"/\*.*?\*/|//.*$", "", text)
    assert _only_closers(text) == bool(re.fullmatch(r"[}\])]+[;,)]*", text))


# --- memory: findings inside one message are capped -----------------------------------


def _rows(lines: int, offset) -> str:
    row = " ".join(["00"] * 16)
    head = "00000000  09 00 08 00 2b 00 00 00  00 00 00 00 00 00 00 00  |....+...........|\n"
    return head + "".join(
        f"{offset(i):08x}  {row[:23]}  {row[24:]}  |................|\n" for i in range(1, lines)
    )


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda n: _rows(n, lambda i: 0x10 + 0x10 * (i % 2)), id="alternating"),
        pytest.param(lambda n: _rows(n, lambda i: 0x100 * i), id="jumping"),
        pytest.param(
            lambda n: _rows(n, lambda i: 0x10 * i).replace("|\n", "|\n*\n"), id="star after rows"
        ),
        pytest.param(lambda n: "{\n" + "0x123,\n" * n + "}\n", id="C words"),
        pytest.param(lambda n: "b'" + "\\xZ" * n + "'\n", id="broken escapes"),
    ],
)
def test_peak_memory_stays_flat_with_findings_on_every_line(make):
    small, large = peak(make(5_000)), peak(make(25_000))
    assert large < 2 * small + (1 << 20), (small, large)


def test_findings_of_one_message_are_capped_and_counted():
    """Every row from the third on goes back to offset 0x10: 998 findings, 16 listed."""
    (frame,) = frames(_rows(1000, lambda i: 0x10))
    shown = [f for f in frame.findings if f.message.startswith("line ")]
    assert [f.message for f in shown] == [
        f"line {n}: the offset goes back from 0x20 to 0x10" for n in range(3, 3 + MAX_LINE_FINDINGS)
    ]
    assert f"{998 - MAX_LINE_FINDINGS} more problems on later lines" in frame.findings[-1].message


# --- a lying size on a line without offsets ---------------------------------------------


def test_a_lying_size_on_a_short_line_does_not_swallow_the_next_messages():
    liar = hdr(5, 0xFFFF, 1) + bytes(2)
    text = "\n".join(m.hex() for m in [liar, STATUS_REPORT, UNBALLOON_RESPONSE]) + "\n"
    assert [f.data for f in frames(text)] == [liar, STATUS_REPORT, UNBALLOON_RESPONSE]


def test_a_lying_size_on_a_short_prefixed_row_does_not_swallow_the_next_messages():
    """A kernel dump without offsets whose header says 65535: its short row ends it."""
    liar = hdr(5, 0xFFFF, 1) + bytes(12) + b"\x01\x02\x03\x04"
    rows = [liar[:16], liar[16:]] + [m[i : i + 16] for m in MESSAGES for i in range(0, len(m), 16)]
    text = "".join(f"[  100.5] hv_balloon: {' '.join(f'{b:02x}' for b in r)}\n" for r in rows)
    assert [f.data for f in frames(text)] == [liar, *MESSAGES]


def test_full_rows_still_join_under_a_size_that_asks_for_more():
    """DUMP_PREFIX_NONE rows of 16 bytes are full rows: the dump goes on."""
    message = MESSAGES[0]
    rows = [message[i : i + 16] for i in range(0, len(message), 16)]
    text = "".join(f"hv_balloon: {' '.join(f'{b:02x}' for b in r)}\n" for r in rows)
    assert [f.data for f in frames(text)] == [message]


# --- a dmesg stamp of hundreds of digits --------------------------------------------------


def test_a_timestamp_of_hundreds_of_digits_is_a_finding_not_a_crash():
    text = kernel_dump([UNBALLOON_RESPONSE]).replace("[  100.500000]", "[" + "9" * 400 + ".5]")
    (frame,) = frames(text)
    assert frame.data == UNBALLOON_RESPONSE
    assert frame.time is None
    assert any("more digits than a time may have" in f.message for f in frame.findings)
    exercise(text.encode())


# --- the structure-aware generators through the shared harness --------------------------


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.randoms(use_true_random=False))
def test_generated_hex_documents_through_every_stage(rnd):
    exercise(document(rnd), "hex")
    exercise(document(rnd))


def test_detection_keeps_a_text_log_with_a_nul_byte_as_text():
    text = "[   99.0] hv_balloon: a stray \0 here\n" + kernel_dump(MESSAGES)
    assert detect_format(text.encode()) == "hex"
    assert [f.data for f in read_frames(io.BytesIO(text.encode()), "t")] == MESSAGES


@pytest.mark.parametrize("data", [b"".join(MESSAGES), UNBALLOON_RESPONSE, bytes(range(256))])
def test_detection_still_calls_raw_messages_binary(data):
    assert detect_format(data) != "hex"


def test_format_hex_reads_hex_whatever_detection_would_say(tmp_path):
    text = ("\0\x01" * 100 + "\n" + kernel_dump(MESSAGES)).encode()
    assert detect_format(text) != "hex"
    path = tmp_path / "nul.log"
    path.write_bytes(text)
    result = CliRunner().invoke(main, ["read", "-T", "jsonl", "--format", "hex", str(path)])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["hdr"]["size"] for line in result.output.splitlines()] == [
        len(m) for m in MESSAGES
    ]


# --- tool outputs that used to be read wrong ------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures" / "hex"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def tshark_fields(name: str) -> list[tuple[float, str, bytes | None]]:
    """Time, direction and (when listed) bytes of each packet, as tshark read them."""
    rows = []
    for line in fixture(name).splitlines():
        epoch, flags, *data = line.split("\t")
        direction = {1: "guest->host", 2: "host->guest"}[int(flags, 16) & 3]
        rows.append((float(epoch), direction, bytes.fromhex(data[0]) if data else None))
    return rows


@pytest.mark.parametrize("name", ["xxd_run.txt", "hexdump_C_run.txt", "od_run.txt"])
def test_one_dump_of_messages_back_to_back_splits_by_their_sizes(name):
    """``cat msg*.bin | xxd``: one run of offsets, five messages (MAKE.sh)."""
    found = frames(fixture(name))
    assert [f.data for f in found] == MESSAGES
    starts = [sum(len(m) for m in MESSAGES[:k]) for k in range(len(MESSAGES))]
    assert [f.origin for f in found] == [f"t:{start // 16 + 1}" for start in starts]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from([1, 3, 5, 7, 9, 12]), st.binary(max_size=60)),
        min_size=2,
        max_size=6,
    )
)
def test_real_xxd_of_concatenated_messages_splits_into_them(parts):
    messages = [hdr(kind, 8 + len(body), n) + body for n, (kind, body) in enumerate(parts)]
    text = subprocess.run(["xxd"], input=b"".join(messages), capture_output=True, check=True)
    assert [f.data for f in frames(text.stdout)] == messages


def test_a_message_with_trailing_bytes_that_are_no_message_stays_whole():
    data = UNBALLOON_RESPONSE + b"\xff" * 8
    text = subprocess.run(["xxd"], input=data, capture_output=True, check=True).stdout
    assert [f.data for f in frames(text)] == [data]


def test_tshark_verbose_with_hex_is_read_once_with_its_times_and_directions():
    """``tshark -V -x``: the tree's ``Data:`` lines are not messages; the tree's epoch
    time and direction flag go to the dump after it, as tshark itself reads them."""
    found = frames(fixture("tshark_Vx.txt"))
    assert [f.data for f in found] == MESSAGES
    expected = tshark_fields("text2pcap_io.tshark-fields.txt")
    assert [(f.time, f.direction) for f in found] == [(t, d) for t, d, _ in expected]


def test_text2pcap_direction_on_the_dumps_first_line():
    """``I 2026-11-27 12:00:01.123451 000000 07 00 ...``: read as text2pcap -D reads it."""
    found = frames(fixture("text2pcap_io_sameline.txt"))
    expected = tshark_fields("text2pcap_io_sameline.tshark-fields.txt")
    assert [(f.time, f.direction, f.data) for f in found] == expected
    assert all(f.direction_source == "text" for f in found)
