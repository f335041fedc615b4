"""The stages in order: frames -> dissected messages -> transactions.

Every command that reads messages goes through here, so all of them see the
same findings and the same transaction links.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from dmdissect.analysis.dissect import dissect
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
from dmdissect.analysis.records import LOOKAHEAD
from dmdissect.analysis.transactions import Series, Tracker, Transaction, annotate, stop_reason
from dmdissect.findings import Finding
from dmdissect.interrupt import Interrupted
from dmdissect.sources.errors import InputError
from dmdissect.sources.frame import Frame, place_in_file

if TYPE_CHECKING:
    from dmdissect.analysis.sessions import SessionHealth, Sessions
    from dmdissect.filter import Filter
    from dmdissect.filter.rows import RowFilter


def first(frames: Iterable[Frame], count: int, tracker: Tracker | Sessions) -> Iterator[Frame]:
    """The first ``count`` frames (as tshark -c); transactions open then were cut by -c.

    The input is not read past the last frame wanted (a live pipe may never
    send another), so after ``count`` frames reading stopped whatever followed.
    """
    if count <= 0:
        tracker.end_reason = f"reading stopped at -c {count}"
        return
    for number, frame in enumerate(frames, 1):
        yield frame
        if number >= count:
            tracker.end_reason = f"reading stopped at -c {count}"
            return


def dissected(frames: Iterable[Frame]) -> Iterator[Message | LogEvent]:
    """Dissect frames lazily, in order; memory stays flat however long the input.

    A log's event lines come through as :class:`LogEvent`, in their place.
    """
    for frame in frames:
        yield LogEvent(frame) if frame.event is not None else dissect(frame)


def messages_of(
    frames: Iterable[Frame],
    tracker: Tracker | Sessions | None = None,
    keep: Filter | None = None,
) -> Iterator[Message | LogEvent]:
    """Dissected messages in input order, each linked to its transaction.

    Two passes (the default): messages of an open transaction are held back (a
    bounded lookahead, see :func:`~dmdissect.analysis.transactions.annotate`)
    so that each can name the frame its transaction ends in.  With a
    ``Tracker(one_pass=True)`` (live input) nothing is held: each message comes
    out as soon as it is read.  Pass a ``tracker`` to read the
    session it saw once the messages are consumed.  ``keep`` (a display
    filter) drops the messages it does not match *after* tracking, so frame
    numbers, links and reassembly are those of the whole input, as with
    tshark's ``-Y``.
    """
    tracker = tracker or Tracker()
    hold = 0 if tracker.one_pass else LOOKAHEAD
    messages = annotate(dissected(frames), tracker, hold=hold)
    return messages if keep is None else kept(messages, keep)


def kept(messages: Iterable[Message | LogEvent], keep: Filter) -> Iterator[Message | LogEvent]:
    """The messages a display filter matches; it sees every one (its time reference)."""
    for message in messages:
        keep.see(message)
        if keep(message):
            yield message


def tapped(messages: Iterable[Message | LogEvent], taps: list) -> Iterator[Message | LogEvent]:
    """Messages passed on unchanged after each tap's ``feed`` saw them (``-z``, ``-t d``).

    Taps see every message read, before any display filter, as tshark's do.
    """
    if not taps:
        yield from messages
        return
    feeds = [tap.feed for tap in taps]
    for message in messages:
        for feed in feeds:
            feed(message)
        yield message


def transactions_of(
    frames: Iterable[Frame],
    tracker: Tracker | Sessions | None = None,
    keep: Filter | None = None,
    monitor: HealthMonitor | SessionHealth | None = None,
) -> Iterator[Transaction | Series]:
    """Transactions and series in start order, as soon as each is final.

    No message is held here: only the tracker's bounded state.  With ``keep``
    (a display filter), a row is given only when at least one of its
    messages matches; see :class:`~dmdissect.filter.rows.RowFilter`.  A
    ``monitor`` sees every message and every row, filtered or not, so its
    verdicts are those of the whole session.
    """
    tracker = tracker or Tracker()
    rows = None
    if keep is not None:
        from dmdissect.filter.rows import RowFilter

        rows = RowFilter(keep)
    try:
        for message in dissected(frames):
            ready = tracker.feed(message)
            if monitor is not None:
                monitor.observe(message)
                monitor.add_rows(ready)
            if rows is None:
                yield from ready
                continue
            rows.see(message)
            yield from rows.shown(ready)
    except (Exception, Interrupted) as exc:
        # The input failed part-way or a signal stopped it: the rows read still come out.
        tracker.end_reason = stop_reason(exc)
        yield from _finish(tracker, rows, monitor)
        raise
    yield from _finish(tracker, rows, monitor)


def _finish(
    tracker: Tracker | Sessions,
    rows: RowFilter | None,
    monitor: HealthMonitor | SessionHealth | None,
) -> Iterator[Transaction | Series]:
    ready = tracker.finish()
    if monitor is not None:
        monitor.add_rows(ready)
    yield from ready if rows is None else rows.shown(ready)


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
