"""Display filters on timeline rows: a row is shown when any of its messages matches."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

from dmdissect.analysis.events import LogEvent
from dmdissect.analysis.message import Message
from dmdissect.analysis.records import LOOKAHEAD, Link, Series, Transaction
from dmdissect.filter.compiler import Filter


class RowFilter:
    """Which timeline rows have a message the display filter matches.

    A message of a transaction is tested when its row is about to be shown
    (the transaction is closed then), so fields such as
    ``transaction.final_frame`` have the values ``read -Y`` sees; a message
    of a status or other series is tested at once.  Once one message of a
    row matches, the rest need no test.  At most
    :data:`~dmdissect.analysis.records.LOOKAHEAD` messages of one row wait;
    past that the oldest is tested as it is ("end not yet known", as ``read``
    labels it).
    """

    def __init__(self, keep: Filter) -> None:
        self.keep = keep
        self.pending: dict[int, deque[Message | LogEvent]] = {}
        self.matched: set[int] = set()

    def see(self, message: Message | LogEvent) -> None:
        self.keep.see(message)
        link = message.transaction
        row = link.transaction if isinstance(link, Link) else getattr(link, "series", None)
        key = id(row)
        if key in self.matched:
            return
        if not isinstance(link, Link):
            self._test(key, message)
            return
        waiting = self.pending.setdefault(key, deque())
        waiting.append(message)
        if len(waiting) > LOOKAHEAD:
            self._test(key, waiting.popleft())

    def _test(self, key: int, message: Message | LogEvent) -> None:
        if self.keep(message):
            self.matched.add(key)

    def shown(self, rows: Iterable[Transaction | Series]) -> Iterator[Transaction | Series]:
        """The rows of ``rows`` (final ones) that have a matching message."""
        for row in rows:
            key = id(row)
            for message in self.pending.pop(key, ()):
                if key in self.matched:
                    break
                self._test(key, message)
            if key in self.matched:
                self.matched.discard(key)
                yield row
