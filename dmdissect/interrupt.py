"""Ctrl-C and SIGTERM while reading: stop reading, show everything read, exit 130 / 143.

A signal must not lose what is held (messages waiting for their transaction
to end, timeline rows, the JSON array's end), so it never unwinds the views:
it is raised only *inside* the chain of frame generators, where the pipeline
catches it like an input error, finishes the tracker and hands out what it
held.  While a source is blocked in a read (a quiet pipe) the handler raises
at once, from inside that read; at any other moment it only records the
signal, and :func:`interruptible` raises it before the next frame.
"""

from __future__ import annotations

import signal
from collections.abc import Iterable, Iterator

#: The signals handled, and the exit status of each (128 + number, as shells report).
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """Reading stopped by a signal; ``status`` is the exit status to end with."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.status = 128 + signum


class _State:
    reading = False
    pending: int | None = None


_state = _State()


def _handler(signum: int, _frame: object) -> None:
    if _state.reading:
        _state.reading = False
        raise Interrupted(signum)
    _state.pending = signum


def install() -> None:
    """Route SIGINT and SIGTERM through :func:`interruptible` (main thread only)."""
    _state.reading = False
    _state.pending = None
    for signum in SIGNALS:
        try:
            signal.signal(signum, _handler)
        except (ValueError, OSError):
            return


def _take_pending() -> int | None:
    """The signal that arrived while nothing was being read, cleared (None: none did)."""
    signum, _state.pending = _state.pending, None
    return signum


def interruptible(frames: Iterable) -> Iterator:
    """``frames`` passed through; a signal arriving meanwhile ends them with Interrupted.

    "Reading" is the time spent inside this generator (and the sources it
    drives) between two frames; it is marked once per frame, not around a
    call per frame, since every message of a capture passes here.
    """
    state = _state
    try:
        signum = _take_pending()
        if signum is not None:
            raise Interrupted(signum)
        state.reading = True
        for frame in frames:
            state.reading = False
            yield frame
            if state.pending is not None:
                signum, state.pending = state.pending, None
                raise Interrupted(signum)
            state.reading = True
    finally:
        state.reading = False
