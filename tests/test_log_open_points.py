# ruff: noqa: E501  (log lines are quoted whole, as the programs print them)
"""The review's open points on logs: values a field cannot hold, lines that must not vanish.

Each log line is typed from its format string (log-sources.md: hw/hyperv/trace-events,
drivers/hv/hv_balloon.c, hv_trace_balloon.h, qapi/machine.json); the expected values are
worked out by hand, or by the C header through ctypes (tests/oracle.py).
"""

from __future__ import annotations

import io

from dmdissect.analysis.dissect import dissect
from dmdissect.sources import read_frames
from tests import oracle


def frames_of(data: bytes, fmt: str | None = None):
    return list(read_frames(io.BytesIO(data), "log", fmt))


def ids(frame) -> list[str]:
    return [finding.expert.id for finding in frame.findings]


# --- 2l: the caps QEMU traces carry reserved bits -----------------------------------------


def test_traced_caps_with_reserved_bits_set_raise_the_same_finding_as_the_message():
    (frame,) = frames_of(b"hv_balloon_incoming_caps incoming caps 0xffffffff\n")
    message = dissect(frame)
    caps = message.body.caps
    assert (caps.balloon, caps.hot_add, caps.hot_add_alignment, caps.hot_remove) == (1, 1, 15, 1)
    assert "reservedz" in caps.missing  # bits 32-63 are not on the line
    [finding] = message.findings
    # the same caps in a message: the ctypes header says what the decoder must flag
    obj = oracle.new(oracle.dm_capabilities, caps__caps=0xFFFFFFFF)
    decoded = dissect(type(frame)(0, bytes(obj)))
    [from_bytes] = [f for f in decoded.findings if f.field == "caps.reservedz"]
    assert finding.expert.id == from_bytes.expert.id == "hvdm.reserved.nonzero"
    assert finding.field == "caps.reservedz"
    assert obj.caps.cap_bits.reservedz == 0x1FFFFFF
    assert finding.message == (
        "reserved field caps.reservedz is not zero (0x1ffffff in the 25 bits the trace shows)"
    )


def test_traced_caps_of_a_linux_guest_raise_nothing():
    (frame,) = frames_of(b"hv_balloon_incoming_caps incoming caps 0x1f\n")
    message = dissect(frame)
    caps = message.body.caps
    assert (caps.balloon, caps.hot_add, caps.hot_add_alignment, caps.hot_remove) == (1, 1, 7, 0)
    assert message.findings == []


# --- 2n: ftrace numbers beyond what %lld / %ld print -------------------------------------

FTRACE_LINE = "      hv_balloon-312     [002] .....    48.123456: balloon_status: available {}, committed {}; vm_memory_committed {}; pages_ballooned 2, pages_added {}, pages_onlined 3\n"


def test_ftrace_numbers_beyond_64_bits_are_a_finding_and_never_shown_as_values():
    line = FTRACE_LINE.format(-5, 99999999999999999999, 1, -9223372036854775809)
    (frame,) = frames_of(line.encode())
    message = dissect(frame)
    assert frame.witness.fields == {}  # -5 and the 20-digit committed are no page counts
    assert frame.witness.extra == {
        "vm_memory_committed": 1,
        "pages_ballooned": 2,
        "pages_onlined": 3,
        "task": "hv_balloon",
        "pid": 312,
        "cpu": 2,
    }
    assert message.body.num_committed is None and "num_committed" in message.body.missing
    assert [(f.expert.id, f.message) for f in frame.findings] == [
        (
            "hvdm.log.ftrace_range",
            "committed 99999999999999999999 is beyond what %lld prints (64 bits): not taken as a value",
        ),
        (
            "hvdm.log.ftrace_range",
            "pages_added -9223372036854775809 is beyond what %ld prints (64 bits): not taken as a value",
        ),
        ("hvdm.log.ftrace_negative", "available -5 is negative: not sent as is"),
    ]


def test_ftrace_numbers_at_the_64_bit_limits_are_values():
    # 2**63 - 1 is the largest a signed 64-bit %lld prints; a u64 num_committed holds it
    line = FTRACE_LINE.format(7, 9223372036854775807, -9223372036854775808, 0)
    (frame,) = frames_of(line.encode())
    assert frame.witness.fields == {"num_avail": 7, "num_committed": 2**63 - 1}
    assert frame.witness.extra["vm_memory_committed"] == -(2**63)
    assert frame.findings == []
