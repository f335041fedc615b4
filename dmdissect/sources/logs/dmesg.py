"""The Linux guest's ``hv_balloon:`` log lines (dmesg, ``dmesg -T``, journalctl -k, syslog).

The driver prints little, and no trans_id anywhere: the negotiated version,
the host's max-memory info message, partial balloons ("Balloon floor
reached."), hot-add failures, the requests it ignores (a hibernation-capable
guest sends no reply) and, with dynamic debug on, each balloon, unballoon
and hot add it carried out.  Lines that witness a message become message
frames (the version accepted, the info message, capabilities refused); the
rest are guest events.  Hex dumps printed into the same log
(``print_hex_dump``) still read as messages: every line also goes to the hex
reader, in order.

Times come from the line's prefix through the hex reader's stamp rules:
``[seconds.micros]`` counts from the guest's boot, dated forms are epoch
seconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from dmdissect import findings as ei
from dmdissect.sources.frame import Frame
from dmdissect.sources.hex.framer import Framer
from dmdissect.sources.hex.timestamps import prefix_time
from dmdissect.sources.logs.lines import BadLine, bad_line_frame, iter_lines
from dmdissect.sources.logs.witnesses import GUEST_SIDE, event_frame, message_frame

SOURCE = "dmesg"
PREFIX = "hv_balloon: "
REGISTER = "hv_vmbus: registering driver hv_balloon"

_U = r"(-?\d{1,20})"
_X = r"([0-9a-fA-F]{1,16})"


def _fmt(text: str) -> re.Pattern[str]:
    """The regex of a printk format (``%u %d %lu %llu`` numbers, ``%lx`` hex)."""
    out = re.escape(text)
    out = re.sub(r"%l{0,2}[ud]", lambda _: _U, out)
    out = out.replace("0x%lx", "0x" + _X)
    return re.compile(out + r"\Z")


#: printk format (drivers/hv/hv_balloon.c) -> (event name, facts' names, severity or None).
LINES = [
    ("Using Dynamic Memory protocol version %u.%u", "version", ("major", "minor"), None),
    ("Max. dynamic memory size: %llu MB", "max_memory", ("mb",), None),
    ("Received Unknown type: %d", "info_unknown", ("type",), "warning"),
    (
        "Balloon request will be partially fulfilled. Not enough memory.",
        "partial_balloon",
        (),
        "partial",
    ),
    (
        "Balloon request will be partially fulfilled. Balloon floor reached.",
        "floor",
        (),
        "partial",
    ),
    ("Ballooned %u out of %u requested pages.", "ballooned", ("last_chunk", "requested"), None),
    ("Balloon response failed", "response_failed", (), "error"),
    ("Freed %u ballooned pages.", "freed", ("pages",), None),
    ("hot_add memory failed error is %d", "hot_add_error", ("errno",), "error"),
    ("Memory hot add failed", "hot_add_failed", (), "error"),
    ("Ignore hot-add request!", "ignore_hot_add", (), "note"),
    ("Hot adding %lu pages starting at pfn 0x%lx.", "hot_adding", ("pages", "pfn"), None),
    ("Online %lu pages starting at pfn 0x%lx", "online", ("pages", "pfn"), None),
    ("Ignore balloon-up request!", "ignore_balloon", (), "ignores"),
    ("Ignore balloon-down request!", "ignore_unballoon", (), "ignores"),
    ("Currently ballooning", "busy_ballooning", (), "warning"),
    ("Currently hot-adding", "busy_hot_adding", (), "warning"),
    ("Unhandled message: type: %d", "unhandled", ("type",), "warning"),
    ("Capabilities not accepted by host", "caps_refused", (), "error"),
    (
        "Ballooning disabled because page size is not 4096 bytes",
        "no_balloon",
        (),
        "note",
    ),
    ("Memory hot add disabled on ARM64", "no_hot_add", (), "note"),
    ("Ballooned pages: %d", "ballooned_at_removal", ("pages",), "warning"),
    ("Cold memory discard hint enabled with order %d", "cold_discard", ("order",), None),
    (
        "Failed to enable cold memory discard: %d",
        "cold_discard_failed",
        ("errno",),
        "note",
    ),
    ("Defaulting to page_reporting_order %d", "reporting_order", ("order",), None),
    (
        "Multiple failures in cold memory discard hypercall, disabling page reporting",
        "cold_discard_off",
        (),
        "note",
    ),
]
_LINES = [(_fmt(fmt), fmt, name, args, severity) for fmt, name, args, severity in LINES]
#: What the guest's words say, for the findings of notable lines.
MEANING = {
    "ignore_balloon": "the guest ignores balloon requests (hibernation is allowed) and sends "
    "no reply: the host waits for one forever",
    "ignore_unballoon": "the guest ignores unballoon requests (hibernation is allowed) and sends "
    "no reply",
    "floor": "the guest keeps a floor of memory: it gave fewer pages than asked",
    "partial_balloon": "the guest had not enough free memory: it gave fewer pages than asked",
}


def recognised(text: str) -> bool:
    at = text.find(PREFIX)
    if at < 0:
        return REGISTER in text
    rest = text[at + len(PREFIX) :].rstrip()
    return any(regex.match(rest) for regex, *_ in _LINES)


def looks_like_dmesg(lines: list[str]) -> bool:
    return any(recognised(line) for line in lines)


def iter_dmesg(stream: BinaryIO, name: str, hex_order: str | None = None) -> Iterator[Frame]:
    """Frames of the hv_balloon lines and of any hex dump among them, in line order."""
    dumps = Framer(name, hex_order)
    held: list[tuple[int, int, Frame]] = []
    for number, line in iter_lines(stream, name):
        text = None if isinstance(line, BadLine) else line
        held.extend((_first_line(frame), 0, frame) for frame in dumps.feed(number, text))
        if isinstance(line, BadLine):
            held.append((number, 1, bad_line_frame(SOURCE, f"{name}:{number}", GUEST_SIDE, line)))
        if held:
            yield from _ready(held, dumps)
        if text is None:
            continue
        at = text.find(PREFIX)
        if at < 0:
            if REGISTER in text:
                time = prefix_time(text[: text.find(REGISTER)])
                yield event_frame(
                    SOURCE, f"{name}:{number}", time, GUEST_SIDE, "driver_registered", text=REGISTER
                )
            continue
        rest = text[at + len(PREFIX) :].rstrip()
        for regex, _, event, args, severity in _LINES:
            found = regex.match(rest)
            if found is None:
                continue
            values = dict(
                zip(args, (int(v, 16 if a == "pfn" else 10) for a, v in zip(args, found.groups())))
            )
            time = prefix_time(text[:at]) if at else None
            held.append(
                (number, 1, _frame(f"{name}:{number}", time, event, values, rest, severity))
            )
            break
    held.extend((_first_line(frame), 0, frame) for frame in dumps.finish())
    held.sort(key=lambda item: item[:2])
    for *_, frame in held:
        yield frame


#: Lines held back behind a hex dump still being read, at most.
HOLD = 1000
_LINE_OF = re.compile(r":(\d+)(?:-\d+)?\Z")


def _first_line(frame: Frame) -> int:
    found = _LINE_OF.search(frame.origin)
    return int(found[1]) if found else 0


def _ready(held: list[tuple[int, int, Frame]], dumps: Framer) -> Iterator[Frame]:
    """Frames in line order: those before a hex dump still being assembled wait for it."""
    pending = dumps.pending
    limit = pending.line if pending is not None and len(held) < HOLD else None
    held.sort(key=lambda item: item[:2])
    keep = [item for item in held if limit is not None and item[0] >= limit]
    for line, _, frame in held:
        if limit is None or line < limit:
            yield frame
    held[:] = keep


def _finding(kind: str, text: str):
    """The registered finding of a guest line's kind (the table names them by word)."""
    if kind == "ignores":
        return ei.LOG_GUEST_IGNORES(text)
    if kind == "partial":
        return ei.LOG_GUEST_PARTIAL(text)
    if kind == "warning":
        return ei.LOG_GUEST_WARNING(text)
    if kind == "error":
        return ei.LOG_GUEST_ERROR(text)
    return ei.LOG_GUEST_NOTE(text)


def _frame(origin: str, time, event: str, values: dict, text: str, severity) -> Frame:
    findings = []
    if severity is not None:
        findings.append(_finding(severity, f"guest: {MEANING.get(event, text)}"))
    if event == "version":
        version = {"major_version": values["major"], "minor_version": values["minor"]}
        return message_frame(
            SOURCE,
            origin,
            time,
            "DM_VERSION_RESPONSE",
            fields={"is_accepted": 1},
            extra={"version": version},
        )
    if event == "caps_refused":
        return message_frame(
            SOURCE,
            origin,
            time,
            "DM_CAPABILITIES_RESPONSE",
            fields={"is_accepted": 0},
            findings=findings,
        )
    if event in ("max_memory", "info_unknown"):
        return message_frame(
            SOURCE, origin, time, "DM_INFO_MESSAGE", extra=values, findings=findings
        )
    return event_frame(SOURCE, origin, time, GUEST_SIDE, event, values, text, findings)
