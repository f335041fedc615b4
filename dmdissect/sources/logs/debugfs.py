"""A snapshot of ``/sys/kernel/debug/hv-balloon``: the Linux guest's own view of the session.

hv_balloon_debug_show prints one ``name : value`` line per item (the name
padded to 22 columns): host_version (the last version offered, which is the
negotiated one), capabilities (the guest's own, not the host's answer),
state with its name, page_size, pages_added, pages_onlined,
pages_ballooned, total_pages_committed, max_dynamic_page_count.  The whole
snapshot is one guest event; it has no time.  Lines the driver also prints
to the log on every read (ballooning or hot add disabled) are kept as notes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from dmdissect import findings as ei
from dmdissect.layers import PAGE_SIZE
from dmdissect.sources.frame import Frame
from dmdissect.sources.logs.lines import BadLine, iter_lines
from dmdissect.sources.logs.witnesses import GUEST_SIDE, event_frame

SOURCE = "debugfs"


def fact_text(value: object) -> str:
    """A snapshot's value as the guest prints it: a list of words space-separated, as debugfs."""
    if isinstance(value, list):
        return " ".join(map(str, value)) if value else "(none)"
    return str(value)


#: Items and how their value reads; "state" keeps its name in parentheses.
ITEMS = {
    "host_version": re.compile(r"(?P<major>\d{1,5})\.(?P<minor>\d{1,5})\Z"),
    "capabilities": re.compile(r"(?P<words>(?: ?(?:enabled|hot_add))*)\Z"),
    "state": re.compile(r"(?P<number>\d{1,10})(?: \((?P<name>[\w ]{1,32})\))?\Z"),
    "page_size": re.compile(r"(?P<number>-?\d{1,20})\Z"),
    "pages_added": re.compile(r"(?P<number>\d{1,20})\Z"),
    "pages_onlined": re.compile(r"(?P<number>\d{1,20})\Z"),
    "pages_ballooned": re.compile(r"(?P<number>\d{1,20})\Z"),
    "total_pages_committed": re.compile(r"(?P<number>\d{1,20})\Z"),
    "max_dynamic_page_count": re.compile(r"(?P<number>\d{1,20})\Z"),
}
_LINE = re.compile(r"(?P<name>[a-z_]{1,32}) *:(?P<value>.*)\Z")
_MIN_ITEMS = 3


def looks_like_debugfs(lines: list[str]) -> bool:
    names = {m["name"] for line in lines if (m := _LINE.match(line))}
    return "host_version" in names and len(names & ITEMS.keys()) >= _MIN_ITEMS


def iter_debugfs(stream: BinaryIO, name: str) -> Iterator[Frame]:
    facts: dict = {}
    findings = []
    first = None
    for number, text in iter_lines(stream, name):
        if isinstance(text, BadLine):
            findings.append(text.finding)
            continue
        if not text.strip():
            continue
        first = first or number
        m = _LINE.match(text)
        item = m["name"] if m else None
        value = m["value"].strip() if m else ""
        pattern = ITEMS.get(item or "")
        found = pattern.match(value) if pattern else None
        if found is None:
            findings.append(
                ei.LOG_DEBUGFS_LINE(f"line {number} is no hv-balloon debugfs item: {text[:80]!r}")
            )
            continue
        if item == "host_version":
            facts[item] = f"{int(found['major'])}.{int(found['minor'])}"
        elif item == "capabilities":
            facts[item] = found["words"].split()
        elif item == "state":
            facts[item] = int(found["number"])
            if found["name"]:
                facts["state_name"] = found["name"]
        else:
            facts[item] = int(found["number"])
    if first is None:
        return
    if facts.get("page_size", PAGE_SIZE) != PAGE_SIZE:
        findings.append(
            ei.LOG_DEBUGFS_PAGE_SIZE(
                f"page size is not {PAGE_SIZE} bytes: the guest does not balloon"
            )
        )
    text = ", ".join(f"{key} {fact_text(value)}" for key, value in facts.items())
    yield event_frame(
        SOURCE, f"{name}:{first}", None, GUEST_SIDE, "guest_state", facts, text, findings
    )
