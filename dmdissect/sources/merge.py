"""Several inputs read as one: merged by time like mergecap, or one after the other.

Each input is read by its own reader, as it would be alone, and keeps its
name on every frame (``frame.file``), so findings, origins and sessions stay
apart.  The merge streams (:func:`heapq.merge` holds one frame per input), so
memory stays flat however long the inputs.  As in mergecap, each input is
taken to be in time order already: the merge picks the earliest of the
inputs' next frames.  A frame without a time keeps its place behind the
frame before it in its own input; on equal times the input named last goes
first, as mergecap 4 orders them.  A guest's line whose clock counts coarsely
(``Frame.time_step``: a journal's whole seconds) is merged at the end of its
step, since everything the guest logs reacts to what the host sent: a host
request at 10:01:00.3 comes before the guest's ``10:01:00`` line that ignores
it.  Its time stays what the line says.  Frames are numbered 1.. in the merged order.
Logs on the guest's clock (seconds since its boot) are first aligned to the
host's (:func:`merged_aligned`).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence

from dmdissect.sources.frame import Frame

_NEVER = float("-inf")


def _keyed(frames: Iterable[Frame], position: int) -> Iterator[tuple[float, int, int, int, Frame]]:
    """(time to merge by, exact after coarse, minus the input's position, sequence, frame)."""
    last = _NEVER
    exact = 1
    for sequence, frame in enumerate(frames):
        if frame.time is not None:
            step = frame.time_step
            last = frame.time if step is None else frame.time + step
            exact = step is None
        yield last, exact, -position, sequence, frame


def merged(inputs: Sequence[Iterable[Frame]], concat: bool = False) -> Iterator[Frame]:
    """The frames of every input, by time (``concat``: in input order), renumbered 1..."""
    if concat:
        ordered: Iterator[Frame] = itertools.chain.from_iterable(inputs)
    else:
        streams = [_keyed(frames, position) for position, frames in enumerate(inputs)]
        ordered = (entry[4] for entry in heapq.merge(*streams))
    for number, frame in enumerate(ordered, 1):
        frame.index = number
        yield frame


def merged_aligned(
    inputs: list[Iterator[Frame]],
    names: list[str],
    on_alignment: Callable[[str | None], None] | None = None,
) -> Iterator[Frame]:
    """:func:`merged`, the guest's clock first put on the host's (:mod:`dmdissect.sources.align`).

    ``on_alignment`` hears how the clocks were matched before the first frame
    comes out; guest and host clocks that could not be matched follow each
    other in the order given.
    """
    from dmdissect.sources.align import aligned

    alignment = aligned(inputs, names)
    if on_alignment is not None:
        on_alignment(alignment.text)
    yield from merged(alignment.streams, concat=alignment.unmatched)
