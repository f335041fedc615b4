"""QEMU's ``hv_balloon_*`` trace events (log backend, QEMU 8.2 and later) as frames.

Each event's format is matched as ``hw/hyperv/trace-events`` declares it
(quoted in :data:`EVENTS`, the C format with its argument names).  Lines that
witness a message (``posting balloon``, ``incoming balloon response`` ...)
become message frames carrying what the line says; lines about the host's
own state (``-> S_IDLE``, memslots, the bookkeeping of returned ranges)
become host events.  What no line says (the guest's trans_id of a version
request, hdr.size, reserved fields, the ranges of a balloon part) stays
unknown.

Prefixes QEMU puts before the event name, all accepted on any line: none;
``TID@SEC.USEC:`` (``-msg timestamp=on`` before QEMU 10.1); an ISO 8601 UTC
date and a space (newer QEMU; the superseded ``(TID)`` after it too); and
``qemu-trace-stap``'s ``PID@NANOSECONDS`` and a space.  Other trace events
and QEMU's own messages in the same file are skipped, except hv-balloon's
warnings and errors, which become host events with a finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from typing import Any, BinaryIO

from dmdissect import findings as ei
from dmdissect.findings import Finding
from dmdissect.layers import MESSAGE_LAYERS, DMCaps
from dmdissect.layers.layout import layout_of
from dmdissect.sources.frame import Event, Frame
from dmdissect.sources.logs.lines import BadLine, bad_line_frame, iter_lines
from dmdissect.sources.logs.witnesses import HOST_SIDE, event_frame, message_frame
from dmdissect.vocabulary import DirectionSource

SOURCE = "qemu-trace"

#: ``name(args) "format"`` of every hv-balloon trace event, as trace-events declares it.
EVENTS = {
    "state_change": ("tostr", '"-> %s"'),
    "incoming_version": ("major minor", '"incoming proto version %u.%u"'),
    "incoming_caps": ("caps", '"incoming caps 0x%x"'),
    "outgoing_unballoon": (
        "trans_id count start rempages",
        '"posting unballoon %"PRIu32" for %"PRIu64" @ 0x%"PRIx64", remaining %"PRIu64',
    ),
    "incoming_unballoon": ("trans_id", '"incoming unballoon response %"PRIu32'),
    "outgoing_hot_add": (
        "trans_id count start",
        '"posting hot add %"PRIu32" for %"PRIu64" @ 0x%"PRIx64',
    ),
    "incoming_hot_add": (
        "trans_id result count",
        '"incoming hot add response %"PRIu32", result %"PRIu32", count %"PRIu32',
    ),
    "outgoing_balloon": (
        "trans_id count rempages",
        '"posting balloon %"PRIu32" for %"PRIu64", remaining %"PRIu64',
    ),
    "incoming_balloon": (
        "trans_id range_count more_pages",
        '"incoming balloon response %"PRIu32", ranges %"PRIu32", more %"PRIu32',
    ),
    "our_range_add": ("count start", '"adding our range %"PRIu64" @ 0x%"PRIx64'),
    "remove_response": (
        "count start both",
        '"processing remove response range %"PRIu64" @ 0x%"PRIx64", both %u"',
    ),
    "remove_response_hole": (
        "counthole starthole countrange startrange starthpr both",
        '"response range hole %"PRIu64" @ 0x%"PRIx64" from range %"PRIu64" @ 0x%"PRIx64", '
        'before our start 0x%"PRIx64", both %u"',
    ),
    "remove_response_common": (
        "countcommon startcommon countrange startrange counthpr starthpr removed both",
        '"response common range %"PRIu64" @ 0x%"PRIx64" from range %"PRIu64" @ 0x%"PRIx64" '
        'with our %"PRIu64" @ 0x%"PRIx64", removed %"PRIu64", both %u"',
    ),
    "remove_response_remainder": (
        "count start both",
        '"remove response remaining range %"PRIu64" @ 0x%"PRIx64", both %u"',
    ),
    "map_slot": ("idx total_slots offset", '"mapping memslot %u / %u @ 0x%"PRIx64'),
    "unmap_slot": ("idx total_slots offset", '"unmapping memslot %u / %u @ 0x%"PRIx64'),
}

#: The states ``hv_balloon_state_change`` names (hv-balloon.c's enum, in order).
STATES = (
    "S_WAIT_RESET S_POST_RESET_CLOSED S_VERSION S_CAPS S_POST_INIT_WAIT S_IDLE "
    "S_BALLOON_POSTING S_BALLOON_RB_WAIT S_BALLOON_REPLY_WAIT S_UNBALLOON_POSTING "
    "S_UNBALLOON_RB_WAIT S_UNBALLOON_REPLY_WAIT S_HOT_ADD_SETUP S_HOT_ADD_RB_WAIT "
    "S_HOT_ADD_POSTING S_HOT_ADD_REPLY_WAIT"
).split()

#: Longest number a field may print (a u64 has 20 digits); longer ones are bad lines.
_DIGITS = r"(\d{1,20})"
_HEX = r"([0-9a-fA-F]{1,16})"


def printed_format(c_format: str) -> str:
    """A C trace format with the PRI macros spelled as printf conversions."""
    return re.sub(r'"?%"PRI([ux])(?:32|64)"?', lambda m: "%" + m[1], c_format).strip('"')


def format_regex(c_format: str) -> re.Pattern[str]:
    """The regex of what a C trace format prints (``%u``, ``0x%x``, ``%s``, PRI macros)."""
    text = printed_format(c_format)
    out = []
    for piece in re.split(r"(%[usx])", text):
        if piece == "%u":
            out.append(_DIGITS)
        elif piece == "%x":
            out.append(_HEX)
        elif piece == "%s":
            out.append(r"(\S+)")
        else:
            out.append(re.escape(piece))
    return re.compile("".join(out) + r"\Z")


_FORMATS = {name: (args.split(), format_regex(fmt)) for name, (args, fmt) in EVENTS.items()}
_HEX_ARGS = {
    name: {
        arg
        for arg, spec in zip(args.split(), re.findall(r"0x%|%", fmt.replace('%"PRI', "%")))
        if spec == "0x%"
    }
    for name, (args, fmt) in EVENTS.items()
}

#: The event name and its arguments after any of QEMU's prefixes.
_LINE = re.compile(
    r"(?:(?P<tid>\d{1,10})@(?P<sec>\d{1,12})\.(?P<usec>\d{6}):"
    r"|(?P<iso>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)) (?:\(\d{1,10}\) )?"
    r"|(?P<pid>\d{1,10})@(?P<ns>\d{1,20}) )?"
    r"hv_balloon_(?P<event>\w+)(?: (?P<args>.*))?\Z"
)

#: QEMU's own message prefix: ``[ISO-date ][guest-name ]program: [warning: ]``.
_QEMU_MESSAGE = re.compile(
    r"(?:(?P<iso>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z) )?(?:\S+ )?"
    r"(?P<program>qemu[\w.-]*): (?P<warning>warning: )?(?P<text>.*)\Z"
)

#: hv-balloon.c's warn_report/error_report texts (formats matched loosely on numbers).
MESSAGES = [
    (r".* message too short \(\d+ vs \d+\), ignoring", "message too short"),
    (r"unexpected DM_\w+ in -?\d+ state", "message in the wrong state"),
    (r"DM_HOT_ADD_RESPONSE page count higher than requested \(\d+ vs \d+\)", "hot add count"),
    (r"DM_BALLOON_RESPONSE too short for the range count", "balloon response too short"),
    (r"unknown DM message \d+", "unknown message"),
    (r"guest trying to open a DM channel in invalid -?\d+ state", "channel opened in wrong state"),
    (
        r"guest reported more pages removed than currently pending \(\d+ vs \d+\)",
        "more pages than pending",
    ),
    (r"guest reported removed page.*", "removed page not usable"),
    (r"error -?\d+ when posting (?:balloon|unballoon|hot add) msg, expect problems", "post error"),
    (r"trying to unballoon but nothing seems to be ballooned", "nothing ballooned"),
    (r"some parts of the memory backend were already returned by the guest.*", "returned twice"),
]
_MESSAGES = [(re.compile(pattern + r"\Z"), what) for pattern, what in MESSAGES]


#: Bits of the caps word QEMU's trace prints (``caps.caps`` cut to a uint32_t).
CAPS_TRACED_BITS = 32


def _caps_fields(word: int) -> tuple[dict, list[Finding]]:
    """The DMCaps fields a 32-bit ``incoming caps`` value shows whole, and its findings.

    A field the 32 bits cut (``reservedz``, bits 7-63) stays unknown, but
    the bits of it the line does show are checked: set reserved bits are
    the same finding as in a decoded message.
    """
    fields = {}
    findings: list[Finding] = []
    for spot in layout_of(DMCaps).spots:
        if spot.bit is None or spot.bits is None or spot.bit >= CAPS_TRACED_BITS:
            continue
        shown = min(spot.bits, CAPS_TRACED_BITS - spot.bit)
        value = (word >> spot.bit) & ((1 << shown) - 1)
        if shown == spot.bits:
            fields[spot.name] = value
        elif value and spot.name.lower().startswith("reserved"):
            name = f"caps.{spot.name}"
            findings.append(
                ei.RESERVED_NONZERO(
                    f"reserved field {name} is not zero ({value:#x} in the {shown} bits "
                    "the trace shows)",
                    name,
                )
            )
    return fields, findings


def _time(m: re.Match[str]) -> float | None:
    if m["sec"] is not None:
        return int(m["sec"]) + int(m["usec"]) / 1e6
    if m["ns"] is not None:
        return int(m["ns"]) / 1e9
    if m["iso"] is not None:
        return iso_seconds(m["iso"])
    return None


def iso_seconds(text: str) -> float | None:
    """Epoch seconds of an ISO 8601 date with a zone (GLib's form), None if no real date."""
    try:
        return datetime.fromisoformat(text).timestamp()
    except (ValueError, OverflowError):
        return None


def looks_like_qemu_trace(lines: list[str]) -> bool:
    """Any line is an hv-balloon trace event in one of QEMU's forms."""
    return any(_event_line(line) for line in lines)


def _event_line(line: str) -> bool:
    if "hv_balloon_" not in line:
        return False
    m = _LINE.match(line)
    return m is not None and m["event"] in EVENTS


def iter_qemu_trace(stream: BinaryIO, name: str) -> Iterator[Frame]:
    """Frames of the hv-balloon trace events (and hv-balloon warnings) in ``stream``."""
    parse = _Parser(name)
    line = parse.line
    for number, text in iter_lines(stream, name):
        origin = f"{name}:{number}"
        if isinstance(text, BadLine):
            yield bad_line_frame(SOURCE, origin, HOST_SIDE, text)
            continue
        frame = line(text, origin)
        if frame is not None:
            yield frame


#: Everything QEMU may print before the event name, matched on that part of the line alone.
_PREFIX = re.compile(
    r"(?:(?P<tid>\d{1,10})@(?P<sec>\d{1,12})\.(?P<usec>\d{6}):"
    r"|(?P<iso>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)) "
    r"(?:\(\d{1,10}\) )?"
    r"|(?P<pid>\d{1,10})@(?P<ns>\d{1,20}) )?\Z"
)
#: ``TID@SEC.USEC:`` alone (``-msg timestamp=on`` before QEMU 10.1), the most common prefix.
_TID_STAMP = re.compile(r"\d{1,10}@(\d{1,12})\.(\d{6}):\Z")
#: What a prefix of digits and a stamp's punctuation looks like: a garbled time, not other text.
_STAMP_LIKE = re.compile(r"[\d@.:T()Z+ -]{1,64}\Z")
_EVENT_NAME = len("hv_balloon_")


def _hex(text: str) -> int:
    return int(text, 16)


def conversion_bits(c_format: str) -> tuple[int | None, ...]:
    """How many bits each conversion of a C trace format prints, in order (``%s``: None).

    A ``PRIu32``/``PRIx32`` and a plain ``%u`` (an unsigned int) hold 32, a
    ``PRIu64``/``PRIx64`` 64: a number printed beyond that is no value QEMU
    could have printed.
    """
    found = re.findall(r'%"PRI[ux](32|64)"?|%([uxs])', c_format)
    return tuple(None if plain == "s" else int(width or 32) for width, plain in found)


#: Per event: its argument names, the function that reads each printed value, its width.
_READERS = {
    name: (
        tuple(args),
        tuple(str if arg == "tostr" else _hex if arg in _HEX_ARGS[name] else int for arg in args),
        regex,
        conversion_bits(EVENTS[name][1]),
    )
    for name, (args, regex) in _FORMATS.items()
}


class _Parser:
    """Turns one trace line into a frame; keeps nothing but the file name."""

    def __init__(self, name: str) -> None:
        self.name = name

    def line(self, text: str, origin: str) -> Frame | None:
        at = text.find("hv_balloon_")
        if at < 0:
            return self._qemu_message(text, origin) if "qemu" in text else None
        if not at:
            return self._event(text, at, None, origin)
        tid = _TID_STAMP.match(text, 0, at)
        if tid is not None:  # the usual prefix, the first of _PREFIX's, read as _time reads it
            return self._event(text, at, int(tid[1]) + int(tid[2]) / 1e6, origin)
        m = _PREFIX.match(text, 0, at)
        if m is not None:
            time = _time(m)
            if time is not None or m["iso"] is None:
                return self._event(text, at, time, origin)
        elif _STAMP_LIKE.match(text, 0, at) is None:
            return None  # hv_balloon_ inside some other line
        frame = self._event(text, at, None, origin)
        if frame is not None:
            shown = text[:at] if at <= 48 else text[:44] + "..."
            frame.findings.insert(
                0,
                ei.LOG_TIME_UNREADABLE(
                    f"prefix '{shown}' is no time QEMU prints: the line has no time"
                ),
            )
        return frame

    def _event(self, text: str, at: int, time: float | None, origin: str) -> Frame | None:
        """The frame of the event named at ``at`` (after its prefix)."""
        space = text.find(" ", at)
        if space < 0:
            space = len(text)
        event = text[at + _EVENT_NAME : space]
        args = text[space + 1 :]
        reader = _READERS.get(event)
        if reader is None:
            if not event.isidentifier():
                return None
            return event_frame(
                SOURCE,
                origin,
                time,
                HOST_SIDE,
                "unknown",
                {"event": f"hv_balloon_{event}"},
                text[at:],
                [
                    ei.LOG_QEMU_UNKNOWN_EVENT(
                        f"hv_balloon_{event} is no trace event of QEMU 8.2 or later; skipped"
                    )
                ],
            )
        names, reads, regex, widths = reader
        found = regex.match(args)
        if found is None:
            return _unreadable(event, "does not match its format", text, at, time, origin)
        values = {}
        for arg, printed, read, bits in zip(names, found.groups(), reads, widths, strict=True):
            value: Any = read(printed)
            if bits is not None and value >> bits:
                why = f"prints {arg} {printed}, beyond the {bits} bits of its format"
                return _unreadable(event, why, text, at, time, origin)
            values[arg] = value
        if event in _HOST_EVENTS:
            return _host_event(event, values, time, origin, args)
        frame = _frame(event, values, time, origin, args)
        _fit_fields(frame, event)
        return frame

    def _qemu_message(self, text: str, origin: str) -> Frame | None:
        m = _QEMU_MESSAGE.match(text)
        if m is None:
            return None
        message = m["text"]
        for regex, what in _MESSAGES:
            if regex.match(message):
                text = f"QEMU: {message}"
                finding = ei.LOG_QEMU_WARNING(text) if m["warning"] else ei.LOG_QEMU_ERROR(text)
                time = iso_seconds(m["iso"]) if m["iso"] else None
                return event_frame(
                    SOURCE,
                    origin,
                    time,
                    HOST_SIDE,
                    "warning" if m["warning"] else "error",
                    {"what": what},
                    message,
                    [finding],
                )
        return None


def _unreadable(event: str, why: str, text: str, at: int, time: float | None, origin: str) -> Frame:
    """The event frame of a line of a known event that its format does not print."""
    return event_frame(
        SOURCE,
        origin,
        time,
        HOST_SIDE,
        "unreadable",
        {"event": f"hv_balloon_{event}"},
        text[at:],
        [ei.LOG_QEMU_FORMAT(f"hv_balloon_{event} line {why} '{printed_format(EVENTS[event][1])}'")],
    )


def _host_event(event: str, v: dict, time: float | None, origin: str, text: str) -> Frame:
    """The frame of a line about the host's own state (no message): the state and its facts."""
    findings = []
    if event == "state_change":
        v = {"state": v["tostr"]}
        if v["state"] not in _STATE_SET:
            findings.append(
                ei.LOG_QEMU_UNKNOWN_STATE(f"state {v['state']} is not one of hv-balloon's states")
            )
    return Frame(
        0,
        b"",
        time,
        None,
        DirectionSource.UNKNOWN,
        origin,
        None,
        findings,
        source=SOURCE,
        event=Event(HOST_SIDE, event, v, text),
    )


def _fit_fields(frame: Frame, event: str) -> None:
    """Drop and flag a witnessed field whose value its layer field cannot hold.

    QEMU prints a bitfield through a wider ``%u`` (``more %u`` of the 1-bit
    ``more_pages``): a value past the field's bits is a garbled line, and it
    is unknown, never taken.
    """
    witness = frame.witness
    if witness is None:
        return
    fields = witness.fields
    for name, bits in _field_bits(witness.type):
        value = fields.get(name)
        if type(value) is not int or not value >> bits:
            continue
        del fields[name]
        witness.unreadable += (name,)
        frame.findings.append(
            ei.LOG_QEMU_FORMAT(
                f"hv_balloon_{event} prints {name} {value}, which its {bits}-bit field "
                "cannot hold: not taken as a value"
            )
        )


@cache
def _field_bits(msg_type: int) -> tuple[tuple[str, int], ...]:
    """``(name, bits)`` of each field of a message's layer that has a width, in layout order."""
    layer = MESSAGE_LAYERS.get(msg_type)
    if layer is None:
        return ()
    out = []
    for spot in layout_of(layer).spots:
        bits = spot.bits if spot.bits is not None else 8 * spot.size if spot.size else None
        if bits is not None:
            out.append((spot.name, bits))
    return tuple(out)


def _frame(event: str, v: dict, time: float | None, origin: str, text: str) -> Frame:
    if event == "incoming_version":
        fields: dict[str, Any] = {
            "version": {"major_version": v["major"], "minor_version": v["minor"]}
        }
        return message_frame(SOURCE, origin, time, "DM_VERSION_REQUEST", fields=fields)
    if event == "incoming_caps":
        caps, findings = _caps_fields(v["caps"])
        return message_frame(
            SOURCE, origin, time, "DM_CAPABILITIES_REPORT", fields={"caps": caps}, findings=findings
        )
    if event == "outgoing_balloon":
        return message_frame(
            SOURCE,
            origin,
            time,
            "DM_BALLOON_REQUEST",
            v["trans_id"],
            {"num_pages": v["count"]},
            {"remaining": v["rempages"]},
        )
    if event == "incoming_balloon":
        fields = {"range_count": v["range_count"], "more_pages": v["more_pages"]}
        return message_frame(
            SOURCE, origin, time, "DM_BALLOON_RESPONSE", v["trans_id"], fields=fields
        )
    if event == "outgoing_unballoon":
        fields = {
            "more_pages": int(v["rempages"] > 0),
            "range_count": 1,
            "range_array": [{"start_page": v["start"], "page_cnt": v["count"]}],
        }
        return message_frame(
            SOURCE,
            origin,
            time,
            "DM_UNBALLOON_REQUEST",
            v["trans_id"],
            fields,
            {"remaining": v["rempages"]},
        )
    if event == "incoming_unballoon":
        return message_frame(SOURCE, origin, time, "DM_UNBALLOON_RESPONSE", v["trans_id"])
    if event == "outgoing_hot_add":
        fields = {"range": {"start_page": v["start"], "page_cnt": v["count"]}}
        return message_frame(
            SOURCE, origin, time, "DM_MEM_HOT_ADD_REQUEST", v["trans_id"], fields=fields
        )
    if event == "incoming_hot_add":
        fields = {"page_count": v["count"], "result": v["result"]}
        return message_frame(
            SOURCE, origin, time, "DM_MEM_HOT_ADD_RESPONSE", v["trans_id"], fields=fields
        )
    raise AssertionError(f"hv_balloon_{event} is no message event")


_STATE_SET = frozenset(STATES)
#: Events about the host's own state: events, not messages.
_HOST_EVENTS = frozenset(
    {"state_change", "our_range_add", "map_slot", "unmap_slot"}
    | {name for name in EVENTS if name.startswith("remove_response")}
)
