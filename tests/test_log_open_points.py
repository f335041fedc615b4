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
