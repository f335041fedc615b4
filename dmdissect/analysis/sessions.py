"""One transaction tracker per session: per input file and per capture interface.

Two files, or two interfaces of one pcapng file, may be two VMs: their
version negotiations, balloon exchanges and trans_id counters have nothing to
do with each other, and pairing a request of one with a reply of the other
would invent a transaction.  :class:`Sessions` gives each (file, interface)
its own :class:`~dmdissect.analysis.transactions.Tracker` and offers the
tracker's interface (``feed``, ``finish``), so the pipeline drives it as it
drives one tracker.  Frame numbers stay those of the (merged) input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dmdissect.analysis.records import Series, Session, Transaction
from dmdissect.analysis.transactions import Tracker

Row = Transaction | Series
#: (file, interface) of a frame: what makes a session.
Key = tuple[str | None, int | None]


def key_of(frame: Any) -> Key:
    return (frame.file, frame.interface)


class Sessions:
    """Trackers by (file, interface), created as their first message arrives.

    ``on_rows`` listeners get every batch of finished rows (transactions and
    series) any tracker hands back: the statistics that need whole
    transactions read them there, without holding messages.
    """

    def __init__(self, one_pass: bool = False) -> None:
        #: Live input: trackers that hold nothing (see ``Tracker(one_pass=...)``).
        self.one_pass = one_pass
        self.trackers: dict[Key, Tracker] = {}
        self.on_rows: list[Callable[[list[Row]], None]] = []
        self._last: tuple[Key, Tracker] | None = None
        self._end_reason: str | None = None

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
        key = key_of(frame)
        last = self._last
        if last is not None and last[0] == key:
            return last[1]
        tracker = self.trackers.get(key)
        if tracker is None:
            tracker = self.trackers[key] = Tracker(one_pass=self.one_pass)
            if self._end_reason is not None:
                tracker.end_reason = self._end_reason
        self._last = (key, tracker)
        return tracker

    def feed(self, message: Any) -> list[Row]:
        rows = self.tracker_for(message.frame).feed(message)
        if rows:
            self._tell(rows)
        return rows

    def finish(self) -> list[Row]:
        rows: list[Row] = []
        for tracker in self.trackers.values():
            rows.extend(tracker.finish())
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

    def labelled(self) -> list[tuple[str | None, Session]]:
        """Every session with its name (None when there is only one), in first-seen order.

        A name is the file, with the interface when the file has several.
        """
        if len(self.trackers) <= 1:
            return [(None, self.session)]
        per_file: dict[str | None, int] = {}
        for file, _ in self.trackers:
            per_file[file] = per_file.get(file, 0) + 1
        out: list[tuple[str | None, Session]] = []
        for (file, interface), tracker in self.trackers.items():
            name = file or "input"
            if per_file[file] > 1 and interface is not None:
                name += f" interface {interface}"
            out.append((name, tracker.session))
        return out
