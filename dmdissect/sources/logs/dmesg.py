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
seconds.  Each frame keeps how finely its stamp counts (``time_step``: a
journal's whole seconds), so a merge puts the guest's reaction after the
host's request of the same second.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from dmdissect import findings as ei
from dmdissect.findings import Finding
from dmdissect.sources.frame import Frame
from dmdissect.sources.hex.formats import parse_line
from dmdissect.sources.hex.framer import Framer
from dmdissect.sources.hex.preamble import find_direction
from dmdissect.sources.hex.timestamps import overlong_time, prefix_stamp
from dmdissect.sources.logs.lines import BadLine, bad_line_frame, iter_lines
from dmdissect.sources.logs.witnesses import GUEST_SIDE, event_frame, message_frame

SOURCE = "dmesg"
PREFIX = "hv_balloon: "
REGISTER = "hv_vmbus: registering driver hv_balloon"

_NUMBER = r"(-?\d{1,20})"
_HEX = r"([0-9a-fA-F]{1,16})"
_CONVERSION = re.compile(r"%l{0,2}[udx]")
#: What each printk conversion can print on a 64-bit kernel: (least, greatest, base).
RANGES = {
    "%u": (0, (1 << 32) - 1, 10),
    "%d": (-(1 << 31), (1 << 31) - 1, 10),
    "%lu": (0, (1 << 64) - 1, 10),
    "%llu": (0, (1 << 64) - 1, 10),
    "%ld": (-(1 << 63), (1 << 63) - 1, 10),
    "%lld": (-(1 << 63), (1 << 63) - 1, 10),
    "%lx": (0, (1 << 64) - 1, 16),
    "%llx": (0, (1 << 64) - 1, 16),
}


def _fmt(text: str) -> tuple[re.Pattern[str], re.Pattern[str], tuple[str, ...]]:
    """What a printk format prints: its regex, its words alone, and its conversions.

    The second regex finds the format's fixed words with anything in place
    of the numbers: a line it finds but the first does not match is this
    message garbled (a number out of range, a byte lost), not another one.
    """
    pieces = _CONVERSION.split(text)
    conversions = tuple(_CONVERSION.findall(text))
    exact = [re.escape(pieces[0])]
    loose = [re.escape(pieces[0])]
    for conversion, piece in zip(conversions, pieces[1:], strict=True):
        exact.append(_HEX if conversion.endswith("x") else _NUMBER)
        loose.append(".*?")
        exact.append(re.escape(piece))
        loose.append(re.escape(piece))
    return re.compile("".join(exact) + r"\Z"), re.compile("".join(loose)), conversions


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
    (
        "Cold memory discard hypercall failed with status %llx",
        "cold_discard_error",
        ("status",),
        "note",
    ),
    (
        "Underlying Hyper-V does not support order less than 9. Hypercall failed",
        "cold_discard_order",
        (),
        "note",
    ),
    ("Cold memory discard hint not supported by Hyper-V", "no_cold_discard", (), None),
    ("Defaulting to page_reporting_order %d", "reporting_order", ("order",), None),
    (
        "Multiple failures in cold memory discard hypercall, disabling page reporting",
        "cold_discard_off",
        (),
        "note",
    ),
]
_LINES = [(*_fmt(fmt), fmt, name, args, severity) for fmt, name, args, severity in LINES]
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


def _values(found: re.Match[str], conversions: tuple[str, ...], args: tuple[str, ...]) -> Any:
    """The line's numbers by name, or the first that its conversion cannot print."""
    values = {}
    for arg, conversion, digits in zip(args, conversions, found.groups(), strict=True):
        least, greatest, base = RANGES[conversion]
        value = int(digits, base)
        if not least <= value <= greatest:
            return f"{digits} is beyond what {conversion} prints"
        values[arg] = value
    return values


def looks_like_dmesg(lines: list[str]) -> bool:
    return any(recognised(line) for line in lines)


def iter_dmesg(stream: BinaryIO, name: str, hex_order: str | None = None) -> Iterator[Frame]:
    """Frames of the hv_balloon lines and of any hex dump among them, in line order."""
    dumps = Framer(name, hex_order)
    held: list[tuple[int, int, Frame]] = []
    for number, line in iter_lines(stream, name):
        text = None if isinstance(line, BadLine) else line
        in_dump = dumps.pending is not None
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
                found = prefix_stamp(text[: text.find(REGISTER)])
                registered = event_frame(
                    SOURCE,
                    f"{name}:{number}",
                    found and found[0],
                    GUEST_SIDE,
                    "driver_registered",
                    text=REGISTER,
                )
                registered.time_step = found and found[1]
                yield registered
            continue
        rest = text[at + len(PREFIX) :].rstrip()
        origin = f"{name}:{number}"
        time, step, stamp = _time(text[:at]) if at else (None, None, None)
        frame = _line_frame(origin, time, rest, text, in_dump)
        if frame is not None:
            frame.time_step = step
            if stamp is not None:
                frame.findings.insert(0, stamp)
            held.append((number, 1, frame))
            # At once: on a live ``dmesg -w`` this line may be the last for a long time.
            yield from _ready(held, dumps)
    held.extend((_first_line(frame), 0, frame) for frame in dumps.finish())
    held.sort(key=lambda item: item[:2])
    for *_, frame in held:
        yield frame


def _line_frame(
    origin: str, time: float | None, rest: str, text: str, in_dump: bool
) -> Frame | None:
    """The frame of one ``hv_balloon:`` line's message; None for a line of a hex dump.

    A line is a dump's row when a dump is under way, or when it has an offset
    column or at least a 4-byte word's worth of hex: a lone number ending a line
    of words (``Something new 42``) is no dump, and saying nothing of it would
    drop the line.
    """
    for regex, _, conversions, fmt, event, args, severity in _LINES:
        found = regex.match(rest)
        if found is None:
            continue
        values = _values(found, conversions, args)
        if isinstance(values, dict):
            return _frame(origin, time, event, values, rest, severity)
        return _garbled(origin, time, rest, f"{values}: not the driver's '{fmt}'")
    for _, words, _, fmt, *_ in _LINES:
        if words.search(rest):
            return _garbled(origin, time, rest, f"does not match the driver's '{fmt}'")
    row = parse_line(text)
    if row is not None and (in_dump or row.offset_token is not None or row.nbytes >= 4):
        return None  # a row of a hex dump
    if find_direction(rest) is not None:
        return None  # the direction line before one
    return event_frame(
        SOURCE,
        origin,
        time,
        GUEST_SIDE,
        "unknown",
        text=rest,
        findings=[ei.LOG_DMESG_UNKNOWN("hv_balloon line that is none of the driver's messages")],
    )


def _garbled(origin: str, time: float | None, rest: str, why: str) -> Frame:
    finding = ei.LOG_DMESG_FORMAT(f"hv_balloon line {why}")
    return event_frame(
        SOURCE, origin, time, GUEST_SIDE, "unreadable", text=rest, findings=[finding]
    )


#: A printk stamp: seconds, a point and six digits of microseconds, in brackets.
_PRINTK_STAMP = re.compile(r"\[\s*\d+\.(\d+)\]")
_LEVEL = re.compile(r"\s*<\d{1,3}>")
#: What only a time stamp looks like in a line's prefix, read or not: a bracket where
#: dmesg puts its stamp (padded, a number, a day's name), a time of day, a date, or
#: seconds with a fraction at the start.  A host or program name (``vm01 kernel:``,
#: ``ip-10-0-0-5``, ``10.0.0.5``, ``kernel[42]:``) has digits but none of these shapes.
_STAMP_SHAPED = re.compile(
    r"\A\s*\[(?:\s|[+\d]|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) )"
    r"|(?<![\w:.])\d{1,2}:\d\d(?::\d\d)?(?![\w:])"
    r"|(?<![\w-])\d{4}-\d{1,2}-\d{1,2}(?![\w-])"
    r"|(?<![\w-])\d{4}-\d{1,2}-\d{1,2}T"
    r"|\A\s*\d+\.\d+(?![\w.])"
)
#: ``dmesg -e``'s stamps: the minute (``[Dec 1 12:00]``) and the time since the line
#: before (``[  +0.000100]``): a real form, but no time of the line's own.
_RELATIVE = re.compile(r"\A\s*\[(?:\s*\+\d+\.\d+|[A-Z][a-z]{2}[ \d]\d \d\d:\d\d)\]")


def _time(prefix: str) -> tuple[float | None, float | None, Finding | None]:
    """The time of a line's prefix, how finely it counts, and the finding when a stamp there
    cannot be read.

    A prefix with no stamp (``dmesg -t``, ``journalctl -o cat``, a host name and
    ``kernel:``) gives no time and no finding: only what has a stamp's shape and
    cannot be read is said.
    """
    found = prefix_stamp(prefix)
    time, step = found if found is not None else (None, None)
    stamp = _PRINTK_STAMP.search(prefix)
    if (overlong := overlong_time(prefix)) is not None:
        why = f"'{overlong}' is out of range"
    elif stamp is not None and len(stamp[1]) != 6:
        why = f"'{_shown(stamp.group())}' is not printk's [seconds.micros]"
    elif time is None and (relative := _RELATIVE.match(prefix, _end_of_level(prefix))):
        why = f"'{relative.group().strip()}' is dmesg -e's stamp, which is not the line's own time"
    elif time is None and _STAMP_SHAPED.search(prefix, _end_of_level(prefix)):
        why = f"'{_shown(prefix.strip())}' is no time the kernel or syslog prints"
    else:
        return time, step, None
    return None, None, ei.LOG_TIME_UNREADABLE(f"time stamp {why}: the line has no time")


def _end_of_level(prefix: str) -> int:
    level = _LEVEL.match(prefix)
    return level.end() if level else 0


def _shown(text: str) -> str:
    return text if len(text) <= 40 else text[:36] + "..."


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


def _finding(kind: str, text: str) -> Any:
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


def _frame(origin: str, time: Any, event: str, values: dict, text: str, severity: Any) -> Frame:
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
