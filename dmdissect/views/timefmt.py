"""The time column of summary lines in tshark's ``-t`` formats.

``r`` seconds since the first message read (the default), ``d`` since the
previous message read, ``dd`` since the previous message shown, ``e`` epoch
seconds, ``a``/``ad`` local time (without/with the date), ``u``/``ud`` UTC.
Microseconds, as the captures hold them.

A dmesg stamp is seconds since boot, not a date: the clock formats (``a``,
``ad``, ``u``, ``ud``, ``e``) show it as seconds since boot unless
``--boot-time`` anchored it (:func:`anchored`); differences (``r``, ``d``,
``dd``) are the same either way.  A message without a time shows ``-``.
"""

from __future__ import annotations

import time as clock
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from dmdissect.sources.frame import Frame
from dmdissect.views.session import EPOCH_FROM

TIME_FORMATS = ("r", "d", "dd", "e", "a", "ad", "u", "ud")
_CLOCKS = {"a": (clock.localtime, "%H:%M:%S"), "ad": (clock.localtime, "%Y-%m-%d %H:%M:%S")}
_CLOCKS |= {"u": (clock.gmtime, "%H:%M:%S"), "ud": (clock.gmtime, "%Y-%m-%d %H:%M:%S")}


def _micros(value: float) -> tuple[int, int]:
    """Whole seconds and microseconds, rounded once (never ``.999999`` + 1 s apart)."""
    return divmod(round(value * 1_000_000), 1_000_000)


def _seconds(value: float) -> str:
    seconds, micros = _micros(value)
    if seconds < 0:
        return f"{value:.6f}"
    return f"{seconds}.{micros:06d}"


def since_boot(time: float) -> bool:
    """Whether a frame time is seconds since boot (a dmesg stamp) rather than epoch seconds."""
    return time < EPOCH_FROM


class TimeColumn:
    """Formats one message's time; ``seen`` must get every message read, in order.

    ``seen`` is a tap (it sees the messages a display filter hides, for ``r``
    and ``d``); ``text`` is asked for the messages shown, each right after it
    was seen.
    """

    def __init__(self, fmt: str = "r") -> None:
        if fmt not in TIME_FORMATS:
            raise ValueError(f"unknown time format {fmt!r}")
        self.fmt = fmt
        self.first: float | None = None
        self._previous: float | None = None
        self._before: float | None = None
        self._shown: float | None = None
        #: No tap feeds this column: :meth:`text` sees every message first (see :meth:`follow`).
        self._follows = False

    def follow(self) -> None:
        """Let :meth:`text` feed the column itself: for output that shows every message
        read (no display filter, no other tap), which spares each message a tap."""
        self._follows = True

    def feed(self, message: Any) -> None:
        time = message.frame.time
        if time is None:
            return
        if self.first is None:
            self.first = time
        self._before = self._previous if self._previous is not None else time
        self._previous = time

    def text(self, message: Any) -> str:
        time = message.frame.time
        if time is None:
            return "-"
        if self._follows:
            # feed(), in line
            if self.first is None:
                self.first = time
            self._before = self._previous if self._previous is not None else time
            self._previous = time
        fmt = self.fmt
        if fmt == "r":
            return f"{time - (self.first if self.first is not None else time):.6f}"
        if fmt == "d":
            return f"{time - (self._before if self._before is not None else time):.6f}"
        if fmt == "dd":
            shown, self._shown = self._shown, time
            return f"{time - (shown if shown is not None else time):.6f}"
        if fmt == "e" or since_boot(time):
            return _seconds(time)
        convert, pattern = _CLOCKS[fmt]
        seconds, micros = _micros(time)
        return clock.strftime(pattern, convert(seconds)) + f".{micros:06d}"


#: The latest boot time a date can show (9999-12-31T23:59:59Z): later seconds are no date.
LATEST_BOOT = 253402300799.0


def parse_boot_time(text: str) -> float:
    """``--boot-time``: an ISO 8601 time (local time when it names no zone) or epoch seconds.

    Only a time a date can show (1970 to 9999) is one: NaN, infinities and 1e308 would
    otherwise shift every guest time by nothing that can be printed.
    """
    try:
        seconds = float(text)
    except ValueError:
        try:
            seconds = datetime.fromisoformat(text).timestamp()
        except (ValueError, OverflowError, OSError):
            raise ValueError(
                f"--boot-time {text!r} is neither an ISO 8601 time (2026-01-01T08:00:00Z) "
                f"nor epoch seconds"
            ) from None
    if not 0.0 <= seconds <= LATEST_BOOT:
        raise ValueError(
            f"--boot-time {text!r} is no time between 1970-01-01 and 9999-12-31 "
            f"(epoch seconds 0 to {LATEST_BOOT:.0f})"
        )
    return seconds


def anchored(frames: Iterable[Frame], boot: float) -> Iterator[Frame]:
    """Frames whose seconds-since-boot times become epoch times, ``boot`` being the boot's."""
    for frame in frames:
        if frame.time is not None and since_boot(frame.time):
            frame.time += boot
        yield frame
