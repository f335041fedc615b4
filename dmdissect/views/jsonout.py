"""Messages as JSON objects: the contract scripts depend on (see README, "JSON output").

Built from the fields the tree walks (:mod:`~dmdissect.views.jsonfields` is
tested equal to the walk, and needs no Scapy), so every field shown is exported:
C names, integers as numbers, nested objects for unions and ranges, enum
names beside their numbers, bytes as hex strings.

Encoded by orjson (several times faster than the standard library); output is
always ASCII, as the standard library's is: an object whose encoding holds
another character (a comment, a file name) or that orjson refuses (a lone
surrogate, an integer past 64 bits) goes through :mod:`json` instead, which
escapes it, so the output stays valid JSON whatever the input held.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from dmdissect.analysis.events import LogEvent
from dmdissect.analysis.message import Message
from dmdissect.analysis.records import Link, SeriesLink
from dmdissect.escape import json_safe
from dmdissect.views.expert import finding_object
from dmdissect.views.jsonfields import json_fields
from dmdissect.views.records import link_object


def event_object(event: LogEvent) -> dict[str, Any]:
    """An event line: its own kind, never dressed up as a message."""
    frame = event.frame
    info = event.event
    out: dict[str, Any] = {
        "frame": frame.index,
        "event": info.name,
        "side": info.side,
        "source": frame.source,
        "origin": json_safe(frame.origin),
        "file": None if frame.file is None else json_safe(frame.file),
    }
    if frame.time is not None:
        out["time"] = frame.time
    out["facts"] = dict(info.facts)
    if info.text:
        out["text"] = json_safe(info.text)
    if isinstance(event.transaction, (Link, SeriesLink)):
        out["transaction"] = link_object(event.transaction)
    out["expert"] = [finding_object(f) for f in event.findings]
    return out


def witness_object(message: Message) -> dict[str, Any]:
    """A message known from a log line: only the facts the line carries; unknown ones left out."""
    from dmdissect.analysis.witness import unknown_fields, unreadable_fields  # logs only

    frame = message.frame
    out: dict[str, Any] = {"frame": frame.index}
    if frame.time is not None:
        out["time"] = frame.time
    out.update(
        direction=message.direction,
        direction_source=message.direction_source,
        type_name=message.type_name,
        source=frame.source,
        origin=json_safe(frame.origin),
        file=None if frame.file is None else json_safe(frame.file),
    )
    hdr: dict[str, Any] = {"type": message.type, "type_name": message.type_name}
    if message.trans_id is not None:
        hdr["trans_id"] = message.trans_id
    out["hdr"] = hdr
    if message.body is not None:
        out.update(json_fields(message.body))
    if frame.witness is not None and frame.witness.extra:
        out["log"] = dict(frame.witness.extra)
    out["not_in_log"] = unknown_fields(message)
    unreadable = unreadable_fields(message)
    if unreadable:
        out["unreadable_in_log"] = unreadable
    if isinstance(message.transaction, (Link, SeriesLink)):
        out["transaction"] = link_object(message.transaction)
    out["expert"] = [finding_object(f) for f in message.findings]
    return out


def message_object(message: Message | LogEvent) -> dict[str, Any]:
    if isinstance(message, LogEvent):
        return event_object(message)
    if message.frame.witness is not None:
        return witness_object(message)
    frame = message.frame
    type_name = message.type_name
    out: dict[str, Any] = {
        "frame": frame.index,
        "time": frame.time,
        "direction": message.direction,
        "direction_source": message.direction_source,
        "type_name": type_name,
        "origin": json_safe(frame.origin),
        "file": None if frame.file is None else json_safe(frame.file),
        "interface": frame.interface,
        "length": len(frame.data),
        "hdr": {
            "type": message.type,
            "type_name": type_name,
            "size": message.size,
            "trans_id": message.trans_id,
        },
    }
    if frame.comment:
        out["comment"] = json_safe(frame.comment)
    framed = message.framed
    vmbus = message.vmbus if framed else None
    if vmbus is not None:
        out["vmbus"] = json_fields(vmbus)
    body = message.body
    # Bytes past what the layers decoded are trailing or cut short; most messages have none.
    left = message.consumed < message.available
    if body is not None:
        out.update(json_fields(body))
        if left:
            rest = message.trailing
            if rest:
                out["trailing"] = rest.hex()
            cut = message.cut
            if cut:
                out["cut"] = cut.hex()
    elif left:
        out["body"] = message.rest.hex()
    if framed:
        extra = message.extra
        if extra:
            out["vmbus_trailing"] = extra.hex()
    link = message.transaction
    if isinstance(link, (Link, SeriesLink)):
        out["transaction"] = link_object(link)
    out["expert"] = [finding_object(f) for f in message.findings]
    return out


def dumps_line(obj: Any) -> str:
    """One compact JSON text, ASCII only."""
    try:
        data = orjson.dumps(obj)
    except TypeError:
        return json.dumps(obj, separators=(",", ":"))
    if data.isascii():
        return data.decode("ascii")
    return json.dumps(obj, separators=(",", ":"))


#: An element of a ``-T json`` array is the same compact text as a ``-T jsonl`` line.
dumps = dumps_line
