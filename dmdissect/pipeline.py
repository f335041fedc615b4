"""The stages in order: frames -> dissected messages -> transactions.

Every command that reads messages goes through here, so all of them see the
same findings and the same transaction links.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from dmdissect.analysis.dissect import dissect
from dmdissect.analysis.events import LogEvent
from dmdissect.analysis.message import Message
from dmdissect.analysis.records import LOOKAHEAD
from dmdissect.analysis.transactions import Series, Tracker, Transaction, annotate, stop_reason
from dmdissect.interrupt import Interrupted
from dmdissect.sources.frame import Frame

if TYPE_CHECKING:
    from dmdissect.analysis.health import HealthMonitor
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
