"""What ``check`` and ``report`` gather from one read: findings, verdicts, frame facts.

Kept apart from :mod:`dmdissect.pipeline` so that ``read``, which judges no
health, does not import the health checks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from dmdissect.analysis.events import LogEvent
from dmdissect.analysis.health import (
    MAX_FRAME_FACTS,
    MAX_VERDICTS,
    FrameFacts,
    HealthMonitor,
    HealthRun,
    Places,
    Thresholds,
    Verdict,
    finding_verdict,
)
from dmdissect.analysis.message import Message
from dmdissect.analysis.transactions import Series, Transaction, stop_reason
from dmdissect.findings import Finding
from dmdissect.pipeline import dissected
from dmdissect.sources.errors import InputError
from dmdissect.sources.frame import Frame, place_in_file

if TYPE_CHECKING:
    from dmdissect.analysis.sessions import Sessions


class _Gathered:
    """One session's findings and frame facts as ``check`` and ``report`` collect them, bounded.

    A tracker finding may sit on a message and on its transaction at once: it
    is counted once (the objects seen are kept, bounded with the list).
    """

    def __init__(self) -> None:
        self.findings: list[Verdict] = []
        self.dropped = 0
        self.facts: dict[int, FrameFacts] = {}
        self.places = Places()
        self._seen: dict[int, Finding] = {}

    def add(self, finding: Finding, frames: tuple[int, ...], time: float | None) -> None:
        if id(finding) in self._seen:
            return
        if len(self.findings) >= MAX_VERDICTS:
            self.dropped += 1
            return
        self._seen[id(finding)] = finding
        self.findings.append(finding_verdict(finding, frames, time))

    def message(self, message: Message | LogEvent) -> None:
        frame = message.frame
        for finding in message.findings:
            self.add(finding, (frame.index,), frame.time)
        place = place_in_file(frame.origin, frame.file)
        self.places.add(frame.index, frame.file, place)
        if len(self.facts) < MAX_FRAME_FACTS:
            event = frame.event
            self.facts[frame.index] = FrameFacts(
                frame.time,
                # A log's event has no direction: the side whose log it is, as read shows it.
                message.direction or (event.side if event is not None else None),
                message.type_name,
                message.trans_id,
                tuple(f.message for f in message.findings),
                frame.file,
                place,
            )

    def row(self, row: Transaction | Series) -> None:
        """A transaction's own findings (a series of status reports has none of its own)."""
        if isinstance(row, Transaction):
            frames = () if row.first_frame is None else (row.first_frame,)
            for finding in row.findings():
                self.add(finding, frames, row.start)


def health_of(
    frames: Iterable[Frame], thresholds: Thresholds | None = None, sessions: Sessions | None = None
) -> list[HealthRun]:
    """Read inputs once for ``check`` and ``report``: findings, verdicts, memory series.

    One run per session, as ``read`` and ``timeline`` split them (each capture
    file and interface, the logs of one run together), in first-seen order;
    always at least one.  The findings are every message's, every
    transaction's and the session's own.  Inputs that fail part-way still
    yield what was read; the error is kept in :attr:`HealthRun.error` for the
    command to report after it.  Pass ``sessions`` to hear how the logs' clocks
    were matched (its ``align``).
    """
    from dmdissect.analysis.sessions import SessionHealth, Sessions

    sessions = sessions or Sessions()
    monitor = SessionHealth(sessions, lambda: HealthMonitor(thresholds))
    gathered: dict[int, _Gathered] = {}

    def rows_done(rows: list) -> None:
        monitor.add_rows(rows)
        for row in rows:
            gathered.setdefault(row.session or 1, _Gathered()).row(row)

    error: Exception | None = None
    try:
        for message in dissected(frames):
            rows = sessions.feed(message)
            monitor.observe(message)
            gathered.setdefault(sessions.number_of(message.frame), _Gathered()).message(message)
            rows_done(rows)
    except InputError as exc:
        error = exc
        sessions.end_reason = stop_reason(exc)
    rows_done(sessions.finish())
    numbers = sorted(monitor.monitors) or [1]
    healths = dict(zip(numbers, monitor.finish(), strict=True))
    runs = []
    for number, (name, session) in enumerate(sessions.labelled(), 1):
        found = gathered.get(number) or _Gathered()
        for finding in session.expert:
            frame = session.expert_frames.get(id(finding))
            found.add(finding, () if frame is None else (frame,), None)
        files = [f for f in sessions.files_of(number) if f is not None]
        health = healths.get(number) or HealthMonitor(thresholds).finish()
        run = HealthRun(session, health, found.findings, found.dropped, found.facts)
        run.places = found.places
        run.error = error
        run.label = name or " + ".join(files)
        run.files = files
        runs.append(run)
    return runs
