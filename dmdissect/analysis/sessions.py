"""One transaction tracker per session: per capture file and interface; the logs as one.

Two files, or two interfaces of one pcapng file, may be two VMs: their
version negotiations, balloon exchanges and trans_id counters have nothing to
do with each other, and pairing a request of one with a reply of the other
would invent a transaction.  :class:`Sessions` gives each (file, interface)
its own :class:`~dmdissect.analysis.transactions.Tracker` and offers the
tracker's interface (``feed``, ``finish``), so the pipeline drives it as it
drives one tracker.  Frame numbers stay those of the (merged) input.

Logs are the other way round: no log sees the whole exchange (QEMU's trace
has the host's side, QMP the status reports, dmesg and ftrace the guest's),
so the logs read in one run (``Frame.session``) are one session, told by one
tracker, whatever their files; a rotated log's parts are one session too.
The logs of two VMs are read in two runs.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Any

from dmdissect.analysis.records import Series, Session, Transaction
from dmdissect.analysis.transactions import REPLY_TIMEOUT, Tracker

Row = Transaction | Series
#: Rows of other sessions held behind an open one, at most (two passes).
HOLD_LIMIT = 10_000
#: (file, interface) of a capture's frame, or the log session's name: what makes a session.
Key = tuple[str | None, int | None] | str


def key_of(frame: Any) -> Key:
    return frame.session or (frame.file, frame.interface)


class Sessions:
    """Trackers by (file, interface), created as their first message arrives.

    ``on_rows`` listeners get every batch of finished rows (transactions and
    series) any tracker hands back: the statistics that need whole
    transactions read them there, without holding messages.
    """

    def __init__(self, one_pass: bool = False, reply_timeout: float = REPLY_TIMEOUT) -> None:
        #: Live input: trackers that hold nothing (see ``Tracker(one_pass=...)``).
        self.one_pass = one_pass
        #: ``--reply-timeout``, which the trackers' "never answered" respects.
        self.reply_timeout = reply_timeout
        self.trackers: dict[Key, Tracker] = {}
        self.on_rows: list[Callable[[list[Row]], None]] = []
        #: The last frame's session, file and interface, and its tracker: the next
        #: frame is nearly always of the same, found in three comparisons.
        self._last: tuple[str | None, str | None, int | None, Tracker] | None = None
        self._end_reason: str | None = None
        #: How the logs' clocks were matched (see :mod:`dmdissect.sources.align`).
        self.alignment: str | None = None
        #: The files of each session, in first-seen order (a log session has several).
        self._files: dict[Key, list[str | None]] = {}
        #: Each session's number, 1.. in first-seen order; that of the last frame's.
        self._numbers: dict[Key, int] = {}
        self._number = 0
        #: Rows waiting for an earlier row of another session: (first frame, sequence, row).
        self._held: list[tuple[int, int, Row]] = []
        self._sequence = itertools.count()

    @property
    def end_reason(self) -> str | None:
        return self._end_reason

    @end_reason.setter
    def end_reason(self, reason: str) -> None:
        """Why the input ended (``-c``, an error), for every session's open transactions."""
        self._end_reason = reason
        for tracker in self.trackers.values():
            tracker.end_reason = reason

    def tracker_for(self, frame: Any) -> Tracker:
        last = self._last
        if (
            last is not None
            and last[0] == frame.session
            and last[1] == frame.file
            and last[2] == frame.interface
        ):
            return last[3]
        key = key_of(frame)
        tracker = self.trackers.get(key)
        if tracker is None:
            tracker = self.trackers[key] = Tracker(self.one_pass, self.reply_timeout)
            self._numbers[key] = len(self.trackers)
            if self._end_reason is not None:
                tracker.end_reason = self._end_reason
            if isinstance(key, str):
                tracker.session.alignment = self.alignment
            self._files[key] = [frame.file]
        elif isinstance(key, str) and frame.file not in self._files[key]:
            self._files[key].append(frame.file)
        self._last = (frame.session, frame.file, frame.interface, tracker)
        self._number = self._numbers[key]
        return tracker

    def align(self, text: str | None) -> None:
        """How the logs' clocks were matched: said by the log session."""
        self.alignment = text
        for key, tracker in self.trackers.items():
            if isinstance(key, str):
                tracker.session.alignment = text

    def feed(self, message: Any) -> list[Row]:
        """The rows now final, each marked with its session's number.

        Two passes: in start order across the sessions too (see :meth:`_in_order`).
        """
        frame = message.frame
        last = self._last
        if (
            last is not None
            and last[0] == frame.session
            and last[1] == frame.file
            and last[2] == frame.interface
        ):
            tracker = last[3]  # tracker_for's first test, in line: nearly every message
        else:
            tracker = self.tracker_for(frame)
        rows = tracker.feed(message)
        if rows:
            number = self._number
            for row in rows:
                row.session = number
        if len(self.trackers) > 1 and not self.one_pass:
            rows = self._in_order(rows)
        if rows:
            self._tell(rows)
        return rows

    def _in_order(self, rows: list[Row]) -> list[Row]:
        """Rows held until no session can still give one that started earlier.

        Each tracker gives its rows in start order; a row of one session waits
        while another holds an earlier, still open one, at most
        :data:`HOLD_LIMIT` rows (then the earliest go, so memory stays bounded
        when a session falls silent with a request open).
        """
        held = self._held
        for row in rows:
            heapq.heappush(held, (row.first_frame, next(self._sequence), row))
        starts = [t.held_from() for t in self.trackers.values()]
        horizon = min((start for start in starts if start is not None), default=None)
        out: list[Row] = []
        while held and (horizon is None or held[0][0] < horizon or len(held) > HOLD_LIMIT):
            out.append(heapq.heappop(held)[2])
        return out

    def number_of(self, frame: Any) -> int:
        """The number of the frame's session (after the frame was fed)."""
        last = self._last
        if (
            last is not None
            and last[0] == frame.session
            and last[1] == frame.file
            and last[2] == frame.interface
        ):
            return self._number
        return self._numbers[key_of(frame)]

    def files_of(self, number: int) -> list[str | None]:
        """The files of session ``number`` (1..), in first-seen order."""
        for key, found in self._numbers.items():
            if found == number:
                return list(self._files[key])
        return []

    def finish(self) -> list[Row]:
        rows: list[Row] = [entry[2] for entry in self._held]
        self._held.clear()
        for number, tracker in enumerate(self.trackers.values(), 1):
            ready = tracker.finish()
            for row in ready:
                row.session = number
            rows.extend(ready)
        if len(self.trackers) > 1 and not self.one_pass:
            rows.sort(key=lambda row: row.first_frame)
        if rows:
            self._tell(rows)
        return rows

    def _tell(self, rows: list[Row]) -> None:
        for listener in self.on_rows:
            listener(rows)

    @property
    def session(self) -> Session:
        """The session when there is one (or none yet): what single-input views show."""
        if not self.trackers:
            return Session()
        return next(iter(self.trackers.values())).session

    @property
    def first_time(self) -> float | None:
        """The earliest time of any session: what relative times count from."""
        times = [t.session.first_time for t in self.trackers.values()]
        known = [time for time in times if time is not None]
        return min(known) if known else None

    def first_time_of(self, number: int | None) -> float | None:
        """When session ``number`` starts, what its relative times count from (the earliest
        of all for None); each session has its own clock and its own start."""
        if number is not None:
            for key, known in self._numbers.items():
                if known == number:
                    return self.trackers[key].session.first_time
        return self.first_time

    def labelled(self) -> list[tuple[str | None, Session]]:
        """Every session with its name (None when there is only one), in first-seen order.

        A name is the file, with the interface when the file has several; the
        log session's is its files, joined by ``+``.
        """
        if len(self.trackers) <= 1:
            return [(None, self.session)]
        per_file: dict[str | None, int] = {}
        for key in self.trackers:
            if not isinstance(key, str):
                per_file[key[0]] = per_file.get(key[0], 0) + 1
        out: list[tuple[str | None, Session]] = []
        for key, tracker in self.trackers.items():
            if isinstance(key, str):
                name = " + ".join(file or "input" for file in self._files[key])
            else:
                file, interface = key
                name = file or "input"
                if per_file[file] > 1 and interface is not None:
                    name += f" interface {interface}"
            out.append((name, tracker.session))
        return out


class SessionHealth:
    """One health monitor per session, offering a monitor's interface (``observe``, ``add_rows``).

    Verdicts (a request never answered, pressure, status gaps) are about one
    VM, so each session is judged on its own messages and rows.
    """

    def __init__(self, sessions: Sessions, monitor: Callable[[], Any]) -> None:
        self.sessions = sessions
        self._monitor = monitor
        self.monitors: dict[int, Any] = {}
        #: The last message's session number and its monitor (the next is nearly always the same).
        self._last: tuple[int, Any] | None = None

    def _of(self, number: int) -> Any:
        found = self.monitors.get(number)
        if found is None:
            found = self.monitors[number] = self._monitor()
        return found

    def observe(self, message: Any) -> None:
        number = self.sessions.number_of(message.frame)
        last = self._last
        if last is None or last[0] != number:
            last = self._last = (number, self._of(number))
        last[1].observe(message)

    def add_rows(self, rows: list[Row]) -> None:
        for row in rows:
            self._of(row.session or 1).add_rows([row])

    def finish(self) -> list[Any]:
        """Each session's health, in the sessions' order (one, empty, when nothing was read)."""
        if not self.monitors:
            return [self._of(1).finish()]
        return [self.monitors[number].finish() for number in sorted(self.monitors)]
