"""The state of the fast lane: one clean kernel dump read line by line with no parsing
beyond one regular expression (see :meth:`dmdissect.sources.hex.framer.Framer._fast`).

A ``dmesg`` log of ``print_hex_dump`` rows is nearly all such dumps, so this is
where the reader spends its time; the lines are kept so that the general
reader can take them over at the first surprise.
"""

from __future__ import annotations

from dataclasses import dataclass

from dmdissect.vocabulary import Direction


@dataclass(slots=True)
class Lane:
    """A dump in the lane: its key (the prefix after its dmesg stamp, the same on
    every row), first line, time and direction, the framer's state before it,
    its lines and its bytes so far."""

    key: str
    first: int
    time: float | None
    direction: Direction | None
    snapshot: tuple
    lines: list[tuple[int, str]]
    chunks: list[bytes]
    #: Bytes in ``chunks``.
    seen: int
