"""QMP traffic (one JSON object a line) as frames: the guest's status reports, in bytes.

``HV_BALLOON_STATUS_REPORT`` events witness a DM_STATUS_REPORT: QEMU turns
the guest's 4 KiB page counts into bytes, so ``available`` and
``committed`` divided by the page size give back ``num_avail`` and
``num_committed``; the other fields of the report never reach QMP.  The
event's ``timestamp`` is when QEMU built it (host clock).  The return value
of ``query-hv-balloon-status-report`` (the latest report QEMU holds, no
time) is the host's state, a host event, not a report the guest sent; its
error replies are host events too: known by their words (hv-balloon.c's),
or, where the log also holds the commands a client sent, by answering an
``execute`` of the query (QMP answers commands in order, or by their
``id``), whatever their words.  Other events, command
replies and the greeting are skipped; a line that is no JSON object is a
finding.  Lines may end in CRLF (the monitor's own line ends) or LF.

A number QEMU never writes (``4096.0``, ``1e400``, more than 64 bits) is
still JSON: the line is read, the field holding it is said to be wrong by
name and left unknown, the rest of the event is kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO

from dmdissect import findings as ei
from dmdissect.findings import Finding
from dmdissect.layers.numbers import PAGE_SIZE
from dmdissect.sources.frame import Frame
from dmdissect.sources.logs.lines import BadLine, bad_line_frame, iter_lines
from dmdissect.sources.logs.witnesses import HOST_SIDE, event_frame, message_frame

SOURCE = "qmp"
EVENT = "HV_BALLOON_STATUS_REPORT"
QUERY = "query-hv-balloon-status-report"
#: What QMP reports of a status report, and the DM_STATUS_REPORT field it comes from.
FIELDS = {"available": "num_avail", "committed": "num_committed"}
#: The latest whole second a date can show (9999-12-31T23:59:59Z).
MAX_EPOCH = 253402300799
#: Errors of query-hv-balloon-status-report (hv-balloon.c), worth showing.
#: Keys of QMP's greeting, events, replies and commands.
QMP_KEYS = {"QMP", "event", "return", "error", "execute"}
QUERY_ERRORS = (
    "hv-balloon device present",
    "guest memory status reporting not enabled",
    "no guest memory status report received yet",
)


def looks_like_qmp(lines: list[str]) -> bool:
    """The first non-blank line is a JSON object of one of QMP's shapes."""
    for line in lines:
        text = line.strip()
        if text:
            obj = _object(text)
            return obj is not None and bool(QMP_KEYS & obj.keys())
    return False


class Number:
    """A JSON number that is no integer of at most 20 digits, kept as the line wrote it.

    QEMU writes its byte counts and times as whole numbers; anything else is
    shown as written (``4096.0`` is not silently 4096, ``1e400`` not infinity).
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    @property
    def integral(self) -> bool:
        return not any(c in self.text for c in ".eE")


def _integer(text: str) -> int | Number:
    # 20 digits hold any 64-bit count; longer ones stay text (and never meet int()'s limit).
    return int(text) if len(text.lstrip("-")) <= 20 else Number(text)


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is no JSON")


def _object(text: str) -> dict | None:
    """The JSON object of a line, or None; numbers that are no plain integer are Numbers."""
    try:
        obj = json.loads(text, parse_int=_integer, parse_float=Number, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def _compact(value: Any, depth: int = 0) -> str:
    """A parsed value as compact JSON, numbers as the line wrote them (for messages)."""
    if isinstance(value, Number):
        return value.text
    if depth > 8:
        return "..."
    if isinstance(value, dict):
        inner = ",".join(
            f"{json.dumps(key, ensure_ascii=False)}:{_compact(item, depth + 1)}"
            for key, item in value.items()
        )
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + ",".join(_compact(item, depth + 1) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _time(obj: dict) -> tuple[float | None, Finding | None]:
    """An event's time, or the finding that its ``timestamp`` is none QEMU prints.

    QEMU's ``qmp_timestamp`` is whole seconds since the epoch and microseconds
    0..999999; anything else (negative, too many microseconds, not numbers)
    leaves the event without a time, said, never read as some other time.
    """
    stamp = obj.get("timestamp")
    if stamp is None:
        return None, None
    seconds = stamp.get("seconds") if isinstance(stamp, dict) else None
    micro = stamp.get("microseconds") if isinstance(stamp, dict) else None
    if (
        type(seconds) is not int
        or type(micro) is not int
        or not 0 <= seconds <= MAX_EPOCH
        or not 0 <= micro < 10**6
    ):
        shown = _compact(stamp)
        shown = shown if len(shown) <= 60 else shown[:56] + "..."
        return None, ei.LOG_TIME_UNREADABLE(
            f"QMP timestamp {shown} is no time QEMU prints: the event has no time"
        )
    return seconds + micro / 1e6, None


#: The most a byte count QEMU writes can be (its ``size`` is 64 bits).
MAX_BYTES = (1 << 64) - 1


#: A field the event lacks (JSON's null is a value, and a wrong one).
_ABSENT: Any = object()


def _wrong(key: str, value: Any) -> str | None:
    """What is wrong with a byte count QEMU would not write, or None when it could."""
    if value is _ABSENT:
        return f"'{key}' is missing"
    range_ = f"out of range: QEMU's byte counts are whole numbers from 0 to {MAX_BYTES}"
    if type(value) is int:
        return None if 0 <= value <= MAX_BYTES else f"'{key}' {value} is {range_}"
    if isinstance(value, Number):
        if value.integral or abs(float(value.text)) > MAX_BYTES:
            return f"'{key}' {_shown(value.text)} is {range_}"
        whole = "QEMU writes byte counts as whole numbers"
        return f"'{key}' {_shown(value.text)} is not an integer: {whole}"
    return f"'{key}' is {_shown(_compact(value))}, not a number"


def _shown(text: str) -> str:
    return text if len(text) <= 40 else text[:36] + "..."


def _pages(data: Any, via: str) -> tuple[dict[str, int], list[Finding], tuple[str, ...]]:
    """The DM_STATUS_REPORT fields of ``{"available": A, "committed": C}``, findings, and
    the fields the event holds but unreadably.

    A field holding what QEMU never writes is said by name and left out (it is
    in the log, unreadable; a key the event lacks is not in the log); the
    other is still read.
    """
    fields: dict[str, int] = {}
    findings = []
    unreadable = []
    for key, name in FIELDS.items():
        value = data.get(key, _ABSENT) if isinstance(data, dict) else _ABSENT
        wrong = _wrong(key, value)
        if wrong is not None:
            findings.append(ei.LOG_QMP_VALUE(f"{via}: {wrong}"))
        elif value % PAGE_SIZE:
            findings.append(
                ei.LOG_QMP_VALUE(f"{via}: '{key}' {value} is not a whole number of pages")
            )
        else:
            fields[name] = value // PAGE_SIZE
            continue
        if value is not _ABSENT:
            unreadable.append(name)
    return fields, findings, tuple(unreadable)


def _status(data: Any, origin: str, time: float | None) -> Frame:
    """A status report witness from an event's ``{"available": A, "committed": C}``."""
    fields, findings, unreadable = _pages(data, EVENT)
    extra = {"via": EVENT}
    if isinstance(data, dict):
        extra.update({key: data[key] for key in FIELDS if type(data.get(key)) is int})
    return message_frame(
        SOURCE,
        origin,
        time,
        "DM_STATUS_REPORT",
        fields=fields,
        extra=extra,
        findings=findings,
        unreadable=unreadable,
    )


def _query_reply(answer: dict, origin: str) -> Frame:
    """The host's state a query reply shows: the last report QEMU holds, sent by nobody now.

    It repeats a report the guest sent earlier (QMP may have held back its
    event), so it is no status report of its own and counts as none.
    """
    fields, findings, _ = _pages(answer, QUERY)
    facts: dict[str, Any] = {key: answer[key] for key in FIELDS if type(answer[key]) is int}
    facts.update(
        {f"{name}_pages": fields[field] for name, field in FIELDS.items() if field in fields}
    )
    shown = ", ".join(
        f"{name} {facts[f'{name}_pages']} pages" for name in FIELDS if f"{name}_pages" in facts
    )
    text = f"{QUERY}: the last status report QEMU holds" + (f": {shown}" if shown else "")
    return event_frame(SOURCE, origin, None, HOST_SIDE, "status_query", facts, text, findings)


class _Commands:
    """The commands a log shows sent and not yet answered, to know what a reply answers.

    QMP answers in order, except that a command sent with an ``id`` is answered
    with that ``id`` (out-of-band ones may overtake the others).  Bounded: a log
    of commands never answered keeps the latest few.
    """

    LIMIT = 256

    def __init__(self) -> None:
        self._waiting: list[tuple[Any, Any]] = []

    def sent(self, obj: dict) -> None:
        self._waiting.append((obj.get("id"), obj.get("execute") or obj.get("exec-oob")))
        del self._waiting[: -self.LIMIT]

    def answered(self, obj: dict) -> Any:
        """The command ``obj`` (a reply) answers, None when the log does not show it."""
        key = obj.get("id")
        for at, (waiting, command) in enumerate(self._waiting):
            if waiting == key:
                del self._waiting[at]
                return command
        return None


def iter_qmp(stream: BinaryIO, name: str) -> Iterator[Frame]:
    """Frames of the status reports (and hv-balloon query errors) of a QMP log."""
    commands = _Commands()
    for number, text in iter_lines(stream, name):
        origin = f"{name}:{number}"
        if isinstance(text, BadLine):
            yield bad_line_frame(SOURCE, origin, HOST_SIDE, text)
            continue
        text = text.strip()
        if not text:
            continue
        if (
            EVENT not in text
            and '"return"' not in text
            and '"error"' not in text
            and '"execute"' not in text
            and '"exec-oob"' not in text
        ):
            if not text.startswith("{"):
                yield _bad(origin, "not a JSON object; skipped")
            continue
        obj = _object(text)
        if obj is None:
            yield _bad(origin, "not a JSON object; skipped")
            continue
        if obj.get("event") == EVENT:
            time, unreadable = _time(obj)
            frame = _status(obj.get("data"), origin, time)
            if unreadable is not None:
                frame.findings.insert(0, unreadable)
            yield frame
            continue
        if "execute" in obj or "exec-oob" in obj:
            commands.sent(obj)
            continue
        asked = commands.answered(obj) if "return" in obj or "error" in obj else None
        answer = obj.get("return")
        if isinstance(answer, dict) and set(answer) == set(FIELDS):
            yield _query_reply(answer, origin)
            continue
        fault = obj.get("error")
        desc = fault.get("desc") if isinstance(fault, dict) else None
        if asked == QUERY and isinstance(fault, dict) and not isinstance(desc, str):
            desc = f"an error of class {fault.get('class')!r} without its words"
        # What the reply answers, where the log shows it, wins over its words.
        known = asked == QUERY if asked is not None else None
        if isinstance(desc, str) and (
            known or (known is None and any(text in desc for text in QUERY_ERRORS))
        ):
            yield event_frame(
                SOURCE,
                origin,
                None,
                HOST_SIDE,
                "query_error",
                {"desc": desc},
                desc,
                [ei.LOG_QMP_QUERY_ERROR(f"QMP: {desc}")],
            )


def _bad(origin: str, text: str, finding: Any = None) -> Frame:
    found = finding(text) if finding is not None else ei.LOG_QMP_NOT_JSON(text)
    return event_frame(SOURCE, origin, None, HOST_SIDE, "unreadable", findings=[found])
