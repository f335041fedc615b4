"""The guest's ``hyperv:balloon_status`` tracepoint (``trace_pipe`` or ``trace``) as frames.

The tracepoint fires when the guest has decided to send a status report
(after its start-up delay and its once-a-second check), so each line
witnesses a DM_STATUS_REPORT: ``available`` and ``committed`` are its
``num_avail`` and ``num_committed`` in 4 KiB pages; the guest's own counters
on the line (``vm_memory_committed``, ``pages_ballooned``, ``pages_added``,
``pages_onlined``) are kept beside it.  The trans_id it takes is not on the
line.  Times count from the guest's boot (the trace clock).

Line layout (kernel/trace/trace_output.c): task-pid, optional ``(tgid)``,
``[cpu]``, the irq-info flags (5 characters in current kernels, 4 in older
ones, absent with ``options/irq-info`` off), ``seconds.micros:``, the event
name.  ``#`` header lines and other events are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from dmdissect import findings as ei
from dmdissect.sources.frame import Frame
from dmdissect.sources.logs.lines import BadLine, bad_line_frame, iter_lines
from dmdissect.sources.logs.witnesses import GUEST_SIDE, event_frame, message_frame

SOURCE = "ftrace"

#: ``TP_printk`` of balloon_status (drivers/hv/hv_trace_balloon.h).
TP_PRINTK = (
    "available %lld, committed %lld; vm_memory_committed %ld; "
    "pages_ballooned %ld, pages_added %ld, pages_onlined %ld"
)
_NUMBER = r"(-?\d{1,20})"
_ARGS = re.compile(re.escape(TP_PRINTK).replace("%lld", _NUMBER).replace("%ld", _NUMBER) + r"\Z")
#: What a 64-bit kernel's ``%lld`` and ``%ld`` can print (``long`` and ``long long``).
LONG_MIN, LONG_MAX = -(1 << 63), (1 << 63) - 1
_NAMES = (
    "available",
    "committed",
    "vm_memory_committed",
    "pages_ballooned",
    "pages_added",
    "pages_onlined",
)
#: The printk conversion of each number on the line, in TP_PRINTK's order.
_CONVERSION = dict(zip(_NAMES, re.findall(r"%l{1,2}d", TP_PRINTK), strict=True))
_LINE = re.compile(
    r"\s*(?P<task>.{1,64}?)-(?P<pid>\d{1,10})\s+(?:\(\s*[\d-]{1,10}\)\s+)?\[(?P<cpu>\d{1,5})\]\s+"
    r"(?:(?P<flags>[^\s\[\]]{4,5})\s+)?(?P<sec>\d{1,12})\.(?P<usec>\d{6}): "
    r"(?P<event>\w+): (?P<args>.*)\Z"
)


def looks_like_ftrace(lines: list[str]) -> bool:
    return any(
        "balloon_status: " in line and (m := _LINE.match(line)) and m["event"] == "balloon_status"
        for line in lines
    )


def iter_ftrace(stream: BinaryIO, name: str) -> Iterator[Frame]:
    for number, text in iter_lines(stream, name):
        origin = f"{name}:{number}"
        if isinstance(text, BadLine):
            yield bad_line_frame(SOURCE, origin, GUEST_SIDE, text)
            continue
        if "balloon_status" not in text:
            continue
        m = _LINE.match(text)
        if m is None or m["event"] != "balloon_status":
            if not text.lstrip().startswith("#"):
                yield _bad(origin, "balloon_status line not in trace_pipe's layout; skipped")
            continue
        time = int(m["sec"]) + int(m["usec"]) / 1e6
        found = _ARGS.match(m["args"])
        if found is None:
            yield _bad(origin, f"balloon_status line does not match '{TP_PRINTK}'", time)
            continue
        values = dict(zip(_NAMES, map(int, found.groups())))
        findings = []
        for key, value in list(values.items()):
            if not LONG_MIN <= value <= LONG_MAX:
                del values[key]
                findings.append(
                    ei.LOG_FTRACE_RANGE(
                        f"{key} {value} is beyond what {_CONVERSION[key]} prints "
                        "(64 bits): not taken as a value"
                    )
                )
        fields = {}
        unreadable = []
        for key, field in (("available", "num_avail"), ("committed", "num_committed")):
            if key not in values:
                unreadable.append(field)  # printed, but beyond 64 bits
            elif values[key] < 0:
                findings.append(
                    ei.LOG_FTRACE_NEGATIVE(f"{key} {values[key]} is negative: not sent as is")
                )
                unreadable.append(field)
            else:
                fields[field] = values[key]
        extra: dict[str, Any] = {key: values[key] for key in _NAMES[2:] if key in values}
        extra.update(task=m["task"].strip(), pid=int(m["pid"]), cpu=int(m["cpu"]))
        yield message_frame(
            SOURCE,
            origin,
            time,
            "DM_STATUS_REPORT",
            fields=fields,
            extra=extra,
            findings=findings,
            unreadable=tuple(unreadable),
        )


def _bad(origin: str, text: str, time: float | None = None, finding: Any = None) -> Frame:
    found = finding(text) if finding is not None else ei.LOG_FTRACE_LINE(text)
    return event_frame(SOURCE, origin, time, GUEST_SIDE, "unreadable", findings=[found])
