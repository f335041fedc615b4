"""QMP traffic (one JSON object a line) as frames: the guest's status reports, in bytes.

``HV_BALLOON_STATUS_REPORT`` events witness a DM_STATUS_REPORT: QEMU turns
the guest's 4 KiB page counts into bytes, so ``available`` and
``committed`` divided by the page size give back ``num_avail`` and
``num_committed``; the other fields of the report never reach QMP.  The
event's ``timestamp`` is when QEMU built it (host clock).  The return value
of ``query-hv-balloon-status-report`` (the latest report, no time) is read
the same way; error replies become host events.  Other events, command
replies and the greeting are skipped; a line that is no JSON object is a
finding.  Lines may end in CRLF (the monitor's own line ends) or LF.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson

from dmdissect import findings as ei
from dmdissect.layers.header import PAGE_SIZE
from dmdissect.sources.frame import Frame
from dmdissect.sources.logs.lines import BadLine, bad_line_frame, iter_lines
from dmdissect.sources.logs.witnesses import HOST_SIDE, event_frame, message_frame

SOURCE = "qmp"
EVENT = "HV_BALLOON_STATUS_REPORT"
#: What QMP reports of a status report, and the DM_STATUS_REPORT field it comes from.
FIELDS = {"available": "num_avail", "committed": "num_committed"}
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


def _object(text: str) -> dict | None:
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


def _time(obj: dict) -> float | None:
    stamp = obj.get("timestamp")
    if not isinstance(stamp, dict):
        return None
    seconds, micro = stamp.get("seconds"), stamp.get("microseconds")
    if type(seconds) is not int or type(micro) is not int or seconds < 0 or not 0 <= micro < 10**6:
        return None
    return seconds + micro / 1e6


def _status(data: Any, origin: str, time: float | None, via: str) -> Frame:
    """A status report witness from ``{"available": A, "committed": C}``."""
    fields: dict[str, int] = {}
    findings = []
    for key, name in FIELDS.items():
        value = data.get(key) if isinstance(data, dict) else None
        if type(value) is not int or value < 0:
            findings.append(ei.LOG_QMP_VALUE(f"{via}: '{key}' is missing or not a byte count"))
        elif value % PAGE_SIZE:
            findings.append(
                ei.LOG_QMP_VALUE(f"{via}: '{key}' {value} is not a whole number of pages")
            )
        else:
            fields[name] = value // PAGE_SIZE
    extra = {"via": via}
    if isinstance(data, dict):
        extra.update({key: data[key] for key in FIELDS if type(data.get(key)) is int})
    return message_frame(
        SOURCE, origin, time, "DM_STATUS_REPORT", fields=fields, extra=extra, findings=findings
    )


def iter_qmp(stream: BinaryIO, name: str) -> Iterator[Frame]:
    """Frames of the status reports (and hv-balloon query errors) of a QMP log."""
    for number, text in iter_lines(stream, name):
        origin = f"{name}:{number}"
        if isinstance(text, BadLine):
            yield bad_line_frame(SOURCE, origin, HOST_SIDE, text)
            continue
        text = text.strip()
        if not text:
            continue
        if EVENT not in text and '"return"' not in text and '"error"' not in text:
            if not text.startswith("{"):
                yield _bad(origin, "not a JSON object; skipped")
            continue
        obj = _object(text)
        if obj is None:
            yield _bad(origin, "not a JSON object; skipped")
            continue
        if obj.get("event") == EVENT:
            yield _status(obj.get("data"), origin, _time(obj), EVENT)
            continue
        answer = obj.get("return")
        if isinstance(answer, dict) and set(answer) == set(FIELDS):
            yield _status(answer, origin, None, "query-hv-balloon-status-report")
            continue
        fault = obj.get("error")
        desc = fault.get("desc") if isinstance(fault, dict) else None
        if isinstance(desc, str) and any(text in desc for text in QUERY_ERRORS):
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


def _bad(origin: str, text: str, finding=None) -> Frame:
    found = finding(text) if finding is not None else ei.LOG_QMP_NOT_JSON(text)
    return event_frame(SOURCE, origin, None, HOST_SIDE, "unreadable", findings=[found])
