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
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import cache
from typing import Any, BinaryIO, NamedTuple

from dmdissect import findings as ei
from dmdissect.findings import Finding
from dmdissect.sources.frame import Event, Frame
from dmdissect.sources.logs.lines import bad_line_frame, iter_lines
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


def format_pattern(c_format: str) -> str:
    """The pattern of what a C trace format prints (``%u``, ``0x%x``, ``%s``, PRI macros)."""
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
    return "".join(out)


def format_regex(c_format: str) -> re.Pattern[str]:
    """The regex of a whole argument text of a C trace format (:func:`format_pattern`)."""
    return re.compile(format_pattern(c_format) + r"\Z")


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
    from dmdissect.layers import DMCaps
    from dmdissect.layers.layout import layout_of

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
    for number, text in iter_lines(stream, name):
        if isinstance(text, str):
            frame = _line(text, name, number)
            if frame is not None:
                yield frame
        else:
            yield bad_line_frame(SOURCE, f"{name}:{number}", HOST_SIDE, text)


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


def conversion_bits(c_format: str) -> tuple[int | None, ...]:
    """How many bits each conversion of a C trace format prints, in order (``%s``: None).

    A ``PRIu32``/``PRIx32`` and a plain ``%u`` (an unsigned int) hold 32, a
    ``PRIu64``/``PRIx64`` 64: a number printed beyond that is no value QEMU
    could have printed.
    """
    found = re.findall(r'%"PRI[ux](32|64)"?|%([uxs])', c_format)
    return tuple(None if plain == "s" else int(width or 32) for width, plain in found)


def _line(text: str, name: str, number: int) -> Frame | None:
    """The frame of one line of the log, None for a line of no hv-balloon event.

    The event's name is found by plain searches, and the line of that event
    matched whole by one expression (:attr:`_Spec.line`: no prefix or the usual
    ``TID@SEC.USEC:``, then its format); any other line (other prefixes, a
    garbled one, a number past its width) is read by :func:`_general_line`,
    which the fast one gives the same frame as where it matches.
    """
    at = text.find("hv_balloon_")
    if at < 0:
        return _qemu_message(text, f"{name}:{number}") if "qemu" in text else None
    space = text.find(" ", at)
    spec = _SPECS.get(text[at + _EVENT_NAME : space] if space > 0 else text[at + _EVENT_NAME :])
    if spec is not None and (found := spec.line(text)) is not None:
        stamp = found.groups()
        sec = stamp[0]
        time = None if sec is None else int(sec) + int(stamp[1]) / 1e6
        printed = stamp[2:]
        values: list[Any] = list(map(int, printed, spec.bases)) if spec.bases else list(printed)
        for index, bits in spec.numbers:
            if values[index] >> bits:
                return _general_line(text, at, name, number)
        return spec.build(values, time, f"{name}:{number}", text[space + 1 :])
    return _general_line(text, at, name, number)


def _general_line(text: str, at: int, name: str, number: int) -> Frame | None:
    """:func:`_line` of any line naming an ``hv_balloon_`` event at ``at``: its prefix read by
    the expression of the usual ``TID@SEC.USEC:`` (the others only when it fails), and
    its arguments by the one expression of that event (:data:`_SPECS`)."""
    if not at:
        return _event(text, at, None, name, number)
    tid = _TID_STAMP.match(text, 0, at)
    if tid is not None:  # the usual prefix, the first of _PREFIX's, read as _time reads it
        return _event(text, at, int(tid[1]) + int(tid[2]) / 1e6, name, number)
    m = _PREFIX.match(text, 0, at)
    if m is not None:
        time = _time(m)
        if time is not None or m["iso"] is None:
            return _event(text, at, time, name, number)
    elif _STAMP_LIKE.match(text, 0, at) is None:
        return None  # hv_balloon_ inside some other line
    frame = _event(text, at, None, name, number)
    if frame is not None:
        shown = text[:at] if at <= 48 else text[:44] + "..."
        frame.findings.insert(
            0,
            ei.LOG_TIME_UNREADABLE(
                f"prefix '{shown}' is no time QEMU prints: the line has no time"
            ),
        )
    return frame


def _event(text: str, at: int, time: float | None, name: str, number: int) -> Frame | None:
    """The frame of the event named at ``at`` (after its prefix)."""
    space = text.find(" ", at)
    if space < 0:
        space = len(text)
    event = text[at + _EVENT_NAME : space]
    spec = _SPECS.get(event)
    if spec is None:
        if not event.isidentifier():
            return None
        return event_frame(
            SOURCE,
            f"{name}:{number}",
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
    args = text[space + 1 :]
    found = spec.match(args)
    origin = f"{name}:{number}"
    if found is None:
        return _unreadable(event, "does not match its format", text, at, time, origin)
    printed = found.groups()
    values: list[Any] = list(map(int, printed, spec.bases)) if spec.bases else list(printed)
    over = [(index, bits) for index, bits in spec.numbers if values[index] >> bits]
    if not over:
        return spec.build(values, time, origin, args)
    whys = [
        f"prints {spec.names[index]} {printed[index]}, beyond the {bits} bits of its format"
        for index, bits in over
    ]
    if event not in _FEEDS:
        return _unreadable(event, whys[0], text, at, time, origin)
    # The line still witnesses its message: what the garbled numbers feed is unreadable.
    for index, _ in over:
        values[index] = 0
    frame = spec.build(values, time, origin, args)
    witness = frame.witness
    assert witness is not None, "a message frame"
    for index, _ in over:
        for name in _FEEDS[event][spec.names[index]]:
            if name == "trans_id":
                witness.trans_id = None
            witness.fields.pop(name, None)
            witness.extra.pop(name, None)
            if name not in witness.unreadable:
                witness.unreadable += (name,)
    form = printed_format(EVENTS[event][1])
    frame.findings[:0] = [
        ei.LOG_QEMU_FORMAT(f"hv_balloon_{event} line {why} '{form}'") for why in whys
    ]
    return frame


def _qemu_message(text: str, origin: str) -> Frame | None:
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


def _host_event(event: str, facts: dict, time: float | None, origin: str, text: str) -> Frame:
    """The frame of a line about the host's own state (no message): the state and its facts."""
    findings = []
    if event == "state_change":
        if facts["state"] not in _STATE_SET:
            findings.append(
                ei.LOG_QEMU_UNKNOWN_STATE(
                    f"state {facts['state']} is not one of hv-balloon's states"
                )
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
        event=Event(HOST_SIDE, event, facts, text),
    )


def _fit_fields(frame: Frame, event: str) -> Frame:
    """Drop and flag a witnessed field whose value its layer field cannot hold.

    QEMU prints a bitfield through a wider ``%u`` (``more %u`` of the 1-bit
    ``more_pages``, ``for %u`` of a range's 24-bit ``page_cnt``): a value past
    the field's bits is a garbled line, and it is unknown (in the log,
    unreadable), never taken; a structure with such a value is unreadable whole.
    Fields in layout order.
    """
    witness = frame.witness
    assert witness is not None, "a message frame"
    fields = witness.fields
    widths = _field_bits(witness.type)
    over: list[tuple[str, str, int, int]] = []
    for name, value in fields.items():
        width = widths.get(name)
        if isinstance(width, int):
            if type(value) is int and value >> width:
                over.append((name, name, value, width))
        elif width is not None:
            for item in value if isinstance(value, list) else [value]:
                for inner, number in item.items() if isinstance(item, dict) else ():
                    bits = width.get(inner)
                    if type(number) is int and bits is not None and number >> bits:
                        over.append((name, f"{name}.{inner}", number, bits))
    if not over:
        return frame
    order = list(widths)
    for name, shown, value, bits in sorted(over, key=lambda o: order.index(o[0])):
        if fields.pop(name, None) is not None:
            witness.unreadable += (name,)
        frame.findings.append(
            ei.LOG_QEMU_FORMAT(
                f"hv_balloon_{event} prints {shown} {value}, which its {bits}-bit field "
                "cannot hold: not taken as a value"
            )
        )
    return frame


@cache
def _field_bits(msg_type: int) -> dict[str, Any]:
    """The width in bits of each field of a message's layer that has one, in layout
    order; of a structure's (or a list of them), the widths of its own fields."""
    from dmdissect.layers import MESSAGE_LAYERS

    layer = MESSAGE_LAYERS.get(msg_type)
    return {} if layer is None else _layer_bits(layer)


def _layer_bits(layer: type) -> dict[str, Any]:
    from dmdissect.layers.layout import layout_of

    out: dict[str, Any] = {}
    for spot in layout_of(layer).spots:
        inner = getattr(spot.field, "cls", None)
        if isinstance(inner, type):
            out[spot.name] = _layer_bits(inner)
            continue
        bits = spot.bits if spot.bits is not None else 8 * spot.size if spot.size else None
        if bits is not None:
            out[spot.name] = bits
    return out


# --- one builder per event: the frame of its values, in its arguments' order ----------


def _message(type_name: str) -> Callable[..., Frame]:
    """The builder of frames of ``type_name`` witnessed by one event, checked against the
    widths of the layer's fields (:func:`_fit_fields`)."""

    def build(
        event: str,
        origin: str,
        time: float | None,
        trans_id: int | None = None,
        fields: dict | None = None,
        extra: dict | None = None,
        findings: list[Finding] | None = None,
    ) -> Frame:
        frame = message_frame(SOURCE, origin, time, type_name, trans_id, fields, extra, findings)
        return _fit_fields(frame, event)

    return build


_VERSION_REQUEST = _message("DM_VERSION_REQUEST")
_CAPS_REPORT = _message("DM_CAPABILITIES_REPORT")
_BALLOON_REQUEST = _message("DM_BALLOON_REQUEST")
_BALLOON_RESPONSE = _message("DM_BALLOON_RESPONSE")
_UNBALLOON_REQUEST = _message("DM_UNBALLOON_REQUEST")
_UNBALLOON_RESPONSE = _message("DM_UNBALLOON_RESPONSE")
_HOT_ADD_REQUEST = _message("DM_MEM_HOT_ADD_REQUEST")
_HOT_ADD_RESPONSE = _message("DM_MEM_HOT_ADD_RESPONSE")


def _incoming_version(v: list, time: float | None, origin: str, text: str) -> Frame:
    major, minor = v
    fields = {"version": {"major_version": major, "minor_version": minor}}
    return _VERSION_REQUEST("incoming_version", origin, time, fields=fields)


def _incoming_caps(v: list, time: float | None, origin: str, text: str) -> Frame:
    caps, findings = _caps_fields(v[0])
    return _CAPS_REPORT("incoming_caps", origin, time, fields={"caps": caps}, findings=findings)


def _outgoing_balloon(v: list, time: float | None, origin: str, text: str) -> Frame:
    trans_id, count, rempages = v
    return _BALLOON_REQUEST(
        "outgoing_balloon", origin, time, trans_id, {"num_pages": count}, {"remaining": rempages}
    )


def _incoming_balloon(v: list, time: float | None, origin: str, text: str) -> Frame:
    trans_id, range_count, more_pages = v
    fields = {"range_count": range_count, "more_pages": more_pages}
    return _BALLOON_RESPONSE("incoming_balloon", origin, time, trans_id, fields)


def _outgoing_unballoon(v: list, time: float | None, origin: str, text: str) -> Frame:
    trans_id, count, start, rempages = v
    fields = {
        "more_pages": int(rempages > 0),
        "range_count": 1,
        "range_array": [{"start_page": start, "page_cnt": count}],
    }
    return _UNBALLOON_REQUEST(
        "outgoing_unballoon", origin, time, trans_id, fields, {"remaining": rempages}
    )


def _incoming_unballoon(v: list, time: float | None, origin: str, text: str) -> Frame:
    return _UNBALLOON_RESPONSE("incoming_unballoon", origin, time, v[0])


def _outgoing_hot_add(v: list, time: float | None, origin: str, text: str) -> Frame:
    trans_id, count, start = v
    fields = {"range": {"start_page": start, "page_cnt": count}}
    return _HOT_ADD_REQUEST("outgoing_hot_add", origin, time, trans_id, fields)


def _incoming_hot_add(v: list, time: float | None, origin: str, text: str) -> Frame:
    trans_id, result, count = v
    fields = {"page_count": count, "result": result}
    return _HOT_ADD_RESPONSE("incoming_hot_add", origin, time, trans_id, fields)


def _state_change(v: list, time: float | None, origin: str, text: str) -> Frame:
    return _host_event("state_change", {"state": v[0]}, time, origin, text)


def _host(event: str, names: tuple[str, ...]) -> Callable[[list, float | None, str, str], Frame]:
    """The builder of a host event whose facts are its arguments by name."""

    def build(v: list, time: float | None, origin: str, text: str) -> Frame:
        return _host_event(event, dict(zip(names, v, strict=True)), time, origin, text)

    return build


_MESSAGE_BUILDERS = {
    "incoming_version": _incoming_version,
    "incoming_caps": _incoming_caps,
    "outgoing_balloon": _outgoing_balloon,
    "incoming_balloon": _incoming_balloon,
    "outgoing_unballoon": _outgoing_unballoon,
    "incoming_unballoon": _incoming_unballoon,
    "outgoing_hot_add": _outgoing_hot_add,
    "incoming_hot_add": _incoming_hot_add,
}
#: What each printed number of a message's event becomes (fields, extra facts, the
#: header's trans_id): all of it is unreadable when the number is beyond its format.
_FEEDS: dict[str, dict[str, tuple[str, ...]]] = {
    "incoming_version": {"major": ("version",), "minor": ("version",)},
    "incoming_caps": {"caps": ("caps",)},
    "outgoing_balloon": {
        "trans_id": ("trans_id",),
        "count": ("num_pages",),
        "rempages": ("remaining",),
    },
    "incoming_balloon": {
        "trans_id": ("trans_id",),
        "range_count": ("range_count",),
        "more_pages": ("more_pages",),
    },
    "outgoing_unballoon": {
        "trans_id": ("trans_id",),
        "count": ("range_array",),
        "start": ("range_array",),
        "rempages": ("more_pages", "remaining"),
    },
    "incoming_unballoon": {"trans_id": ("trans_id",)},
    "outgoing_hot_add": {"trans_id": ("trans_id",), "count": ("range",), "start": ("range",)},
    "incoming_hot_add": {
        "trans_id": ("trans_id",),
        "result": ("result",),
        "count": ("page_count",),
    },
}
_STATE_SET = frozenset(STATES)
#: Events about the host's own state: events, not messages.
_HOST_EVENTS = frozenset(
    {"state_change", "our_range_add", "map_slot", "unmap_slot"}
    | {name for name in EVENTS if name.startswith("remove_response")}
)


class _Spec(NamedTuple):
    """How one event's line is read: its arguments' names, the expression of its format
    (``match``, on the arguments alone) and of a whole line of it in the usual forms
    (``line``: no prefix or ``TID@SEC.USEC:``, whose seconds and microseconds are its
    first two groups), the base of each printed number (empty for the one ``%s``
    event), ``(index, bits)`` of each number, its builder."""

    names: tuple[str, ...]
    match: Callable[[str], re.Match[str] | None]
    line: Callable[[str], re.Match[str] | None]
    bases: tuple[int, ...]
    numbers: tuple[tuple[int, int], ...]
    build: Callable[[list, float | None, str, str], Frame]


#: The usual prefix, as :data:`_TID_STAMP` reads it, or none.
_USUAL_PREFIX = r"(?:\d{1,10}@(\d{1,12})\.(\d{6}):)?hv_balloon_"


def _spec(event: str) -> _Spec:
    args, regex = _FORMATS[event]
    names = tuple(args)
    c_format = EVENTS[event][1]
    widths = conversion_bits(c_format)
    whole = re.compile(f"{_USUAL_PREFIX}{event} {format_pattern(c_format)}\\Z")
    bases = (
        () if "tostr" in names else tuple(16 if arg in _HEX_ARGS[event] else 10 for arg in names)
    )
    numbers = tuple((index, bits) for index, bits in enumerate(widths) if bits is not None)
    build: Callable[[list, float | None, str, str], Frame]
    if event == "state_change":
        build = _state_change
    elif event in _HOST_EVENTS:
        build = _host(event, names)
    else:
        build = _MESSAGE_BUILDERS[event]
    return _Spec(names, regex.match, whole.match, bases, numbers, build)


#: The reading of each event, by its name after ``hv_balloon_``.
_SPECS = {event: _spec(event) for event in EVENTS}
