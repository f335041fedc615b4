"""A log line about a peer's state (not a message), as the analysis stages see it.

QEMU's state changes, memslots and range bookkeeping, the guest's own
notes ("Balloon floor reached"), QEMU's warnings: they explain the
messages around them, so they travel the pipeline in order with the
messages, the tracker uses them, and ``read`` shows them, in their own kind.
The attributes a message view reads first (``type``, ``trans_id``,
``body``, ``direction``) are None here, so that code which only asks about
messages passes an event by.
"""

from __future__ import annotations

from typing import Any

from dmdissect.findings import Finding
from dmdissect.sources.frame import Event, Frame


class LogEvent:
    """One event line: its frame, findings (the source's and the tracker's), its transaction."""

    __slots__ = ("frame", "findings", "transaction")

    type = None
    trans_id = None
    size = None
    body = None
    direction = None
    direction_source = "log"
    type_name = "event"

    def __init__(self, frame: Frame) -> None:
        self.frame = frame
        self.findings: list[Finding] = list(frame.findings)
        self.transaction: Any = None

    @property
    def event(self) -> Event:
        assert self.frame.event is not None
        return self.frame.event

    @property
    def name(self) -> str:
        return self.event.name


def is_event(item: Any) -> bool:
    return isinstance(item, LogEvent)
