# ruff: noqa: E501  (log lines are quoted whole, as the programs print them)
"""A value that is in the log but unreadable is said so, never "not in this log" (review F13).

A line may hold a field with a value the field cannot take: QMP's ``4096.0``
(QEMU writes whole numbers), an ftrace ``%lld`` beyond 64 bits or a negative
page count, QEMU's ``more 7`` for a 1-bit flag.  The field is unknown, but the
log does carry it: the summary, ``-V`` and JSON say "unreadable", and the list
of what the line lacks does not name it.  Every line is written by hand from
the programs' formats; the expected texts are written out in full.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from dmdissect.cli import main

GREETING = (
    '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 8}}, "capabilities": []}}\r\n'
)
#: What a QMP status report never carries: everything but num_avail and num_committed.
NEVER_IN_QMP = ["trans_id", "size", "page_file_size", "zero_free", "page_file_writes", "io_diff"]


def _qmp(data: str) -> str:
    return (
        '{"timestamp": {"seconds": 1700000060, "microseconds": 250000}, '
        f'"event": "HV_BALLOON_STATUS_REPORT", "data": {data}}}\r\n'
    )


def _run(tmp_path, text: str, *args: str) -> str:
    path = tmp_path / "input.log"
    path.write_text(text)
    result = CliRunner().invoke(main, [*args, str(path)])
    assert result.exit_code == 0, result.output
    return result.output


def _jsonl(tmp_path, text: str) -> list[dict]:
    return [json.loads(line) for line in _run(tmp_path, text, "read", "-T", "jsonl").splitlines()]


@pytest.mark.parametrize("available", ["4096.0", "1e400", "-4096", '"4096"', "null", "4097"])
def test_a_qmp_value_in_the_log_is_unreadable_not_absent(tmp_path, available):
    log = GREETING + _qmp(f'{{"available": {available}, "committed": 1962934272}}')
    (report,) = _jsonl(tmp_path, log)
    assert report["num_committed"] == 479232
    assert "num_avail" not in report
    assert report["unreadable_in_log"] == ["num_avail"]
    assert report["not_in_log"] == NEVER_IN_QMP


def test_a_qmp_key_the_event_lacks_is_not_in_the_log(tmp_path):
    (report,) = _jsonl(tmp_path, GREETING + _qmp('{"committed": 1962934272}'))
    assert report["not_in_log"] == ["trans_id", "size", "num_avail", *NEVER_IN_QMP[2:]]
    assert "unreadable_in_log" not in report


def test_a_readable_qmp_report_has_no_unreadable_key(tmp_path):
    (report,) = _jsonl(tmp_path, _qmp('{"available": 4096, "committed": 8192}'))
    assert (report["num_avail"], report["num_committed"]) == (1, 2)
    assert "unreadable_in_log" not in report


def test_the_summary_line_says_unreadable_apart_from_not_in_this_log(tmp_path):
    log = GREETING + _qmp('{"available": 4096.0, "committed": 1962934272}')
    out = _run(tmp_path, log, "read")
    assert out.endswith(
        "num_committed 479232 pages (1872 MiB), via HV_BALLOON_STATUS_REPORT, committed 1962934272 "
        "(num_avail: unreadable) "
        "(trans_id, size, page_file_size, zero_free, page_file_writes, io_diff: not in this log) "
        "[warning: HV_BALLOON_STATUS_REPORT: 'available' 4096.0 is not an integer: QEMU writes "
        "byte counts as whole numbers]\n"
    )


def test_the_tree_says_unreadable_in_this_log_for_that_field_only(tmp_path):
    log = GREETING + _qmp('{"available": 4096.0, "committed": 1962934272}')
    out = _run(tmp_path, log, "read", "-V")
    body = out[out.index("├── DM_STATUS_REPORT") :].splitlines()[1:7]
    assert body == [
        "│   ├── num_avail: (unreadable in this log)",
        "│   ├── num_committed: 479232 pages (1872 MiB)",
        "│   ├── page_file_size: (not in this log)",
        "│   ├── zero_free: (not in this log)",
        "│   ├── page_file_writes: (not in this log)",
        "│   └── io_diff: (not in this log)",
    ]


#: balloon_status as trace_pipe prints it (TP_printk of hv_trace_balloon.h).
FTRACE = (
    "      kworker/0:1-42      [000] .....    12.345678: balloon_status: "
    "available {available}, committed {committed}; vm_memory_committed 100; "
    "pages_ballooned 0, pages_added 0, pages_onlined 0\n"
)


@pytest.mark.parametrize(
    "available, committed, unreadable",
    [
        ("-5", "200", ["num_avail"]),
        ("300", "18446744073709551616", ["num_committed"]),
        ("-1", "-2", ["num_avail", "num_committed"]),
    ],
)
def test_an_ftrace_count_beyond_64_bits_or_negative_is_unreadable(
    tmp_path, available, committed, unreadable
):
    (report,) = _jsonl(tmp_path, FTRACE.format(available=available, committed=committed))
    assert report["unreadable_in_log"] == unreadable
    assert not set(unreadable) & set(report["not_in_log"])
    assert report["not_in_log"] == NEVER_IN_QMP


def test_a_qemu_flag_printed_beyond_its_bit_is_unreadable(tmp_path):
    trace = (
        "99@1700000000.000000:hv_balloon_outgoing_balloon posting balloon 0 for 512, remaining 512\n"
        "99@1700000000.500000:hv_balloon_incoming_balloon incoming balloon response 30, ranges 1, more 7\n"
    )
    response = _jsonl(tmp_path, trace)[-1]
    assert (response["hdr"]["trans_id"], response["range_count"]) == (30, 1)
    assert response["unreadable_in_log"] == ["more_pages"]
    assert response["not_in_log"] == ["size", "reservedz", "range_array"]
    line = _run(tmp_path, trace, "read").splitlines()[-1]
    assert "(more_pages: unreadable) (size, reservedz, range_array: not in this log)" in line


#: A QEMU trace of one balloon (request, two parts) and one hot-add, in hv-balloon.c's formats.
BALLOON_TRACE = (
    "hv_balloon_outgoing_balloon posting balloon {trans_id} for 20480, remaining 0\n"
    "hv_balloon_incoming_balloon incoming balloon response 10, ranges {ranges}, more 1\n"
    "hv_balloon_incoming_balloon incoming balloon response 11, ranges 5, more 0\n"
    "hv_balloon_outgoing_hot_add posting hot add 1 for {count} @ 0x100000\n"
    "hv_balloon_incoming_hot_add incoming hot add response 1, result 1, count 32768\n"
)


def test_a_qemu_number_beyond_its_format_keeps_the_message_with_the_field_unreadable(tmp_path):
    """``%u`` above 2**32 - 1 or a 64-bit count above 2**64 - 1: the line still witnesses
    its message (review 5 F2): the tracker links the parts and the hot-add's response."""
    log = BALLOON_TRACE.format(trans_id=4294967296, ranges=4294967296, count=2**64)
    request, part1, part2, hot_add, response = _jsonl(tmp_path, log)
    assert request["type_name"] == "DM_BALLOON_REQUEST"
    assert "trans_id" not in request["hdr"]
    assert request["num_pages"] == 20480
    assert request["unreadable_in_log"] == ["trans_id"]
    assert "trans_id" not in request["not_in_log"]
    assert [e["message"] for e in request["expert"]] == [
        "hv_balloon_outgoing_balloon line prints trans_id 4294967296, beyond the 32 bits of its format 'posting balloon %u for %u, remaining %u'"
    ]
    assert part1["hdr"]["trans_id"] == 10
    assert part1["more_pages"] == 1
    assert part1["unreadable_in_log"] == ["range_count"]
    assert part1["transaction"]["part"] == 1
    assert part2["transaction"]["part"] == 2
    assert part2["transaction"]["request_frame"] == 1
    assert hot_add["type_name"] == "DM_MEM_HOT_ADD_REQUEST"
    assert hot_add["hdr"]["trans_id"] == 1
    assert hot_add["unreadable_in_log"] == ["range"]
    assert response["transaction"]["request_frame"] == 4
    row = _run(tmp_path, log, "timeline").splitlines()
    (hot_add_row,) = [line for line in row if "hot_add #1 " in line and "health" not in line]
    assert "accepted: range unknown (unreadable in this log)" in hot_add_row
    (balloon_row,) = [line for line in row if " balloon #1 " in line and "health" not in line]
    assert " 1-3 " in balloon_row


def test_a_qemu_number_within_its_format_is_read_as_before(tmp_path):
    """The same trace with numbers QEMU can print: every value taken (the control)."""
    log = BALLOON_TRACE.format(trans_id=4294967295, ranges=5, count=2**64 - 1)
    request, part1, _, hot_add, _ = _jsonl(tmp_path, log)
    assert request["hdr"]["trans_id"] == 4294967295
    assert part1["range_count"] == 5
    assert "unreadable_in_log" not in request and "unreadable_in_log" not in part1
    # A page count of 2**64 - 1 fits the format but not the range's 40-bit page_cnt.
    assert hot_add["unreadable_in_log"] == ["range"]
