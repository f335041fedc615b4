"""``tshark -V -x`` piped in: the packet tree before each hex dump.

The tree repeats the packet's bytes on its ``Data:`` lines (cut short with
``…`` when long); only the ``-x`` dump after the tree is the message, so
while a tree is open, rows without offsets are tree text, not messages.  The
tree also says when the packet was captured and which way it went, which the
dump after it takes (pcapng's inbound is guest->host, outbound host->guest,
as for captures).
"""

from __future__ import annotations

import re

from dmdissect.sources.hex.preamble import io_direction
from dmdissect.sources.hex.timestamps import MAX_DIGITS
from dmdissect.vocabulary import Direction

_FRAME = re.compile(r"Frame \d{1,20}: \d{1,20} bytes on wire")
_EPOCH = re.compile(rf"\s+Epoch (?:Arrival )?Time: (\d{{1,{MAX_DIGITS}}}\.\d{{1,9}}) seconds")
_DIRECTION = re.compile(r"\s+[.01 ]{1,80}= Direction: (In|Out)bound")


class TsharkTree:
    """What the tree of the packet being read said, while it is open."""

    __slots__ = ("open", "time", "direction")

    def __init__(self) -> None:
        self.open = False
        self.time: float | None = None
        self.direction: Direction | None = None

    def watch(self, line: str) -> None:
        """Take a line that is no dump row: a ``Frame N:`` line opens a tree."""
        if _FRAME.match(line):
            self.open, self.time, self.direction = True, None, None
        elif self.open:
            if (m := _EPOCH.match(line)) is not None:
                self.time = float(m[1])
            elif (m := _DIRECTION.match(line)) is not None:
                self.direction = io_direction("I" if m[1] == "In" else "O")

    def close(self) -> tuple[float | None, Direction | None]:
        """The dump after the tree starts: its time and direction, once."""
        if not self.open:
            return None, None
        self.open = False
        return self.time, self.direction
