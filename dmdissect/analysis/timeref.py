"""What ``frame.time_relative`` and the relative time column count from.

Kept apart from the field registry, which needs the layers' Scapy side, so
that a plain ``read`` (which has a time reference but no filter) starts
without it.
"""

from __future__ import annotations

from typing import Any


class TimeReference:
    """The time ``frame.time_relative`` counts from: the first message's of the input."""

    __slots__ = ("time",)

    def __init__(self) -> None:
        self.time: float | None = None

    def see(self, message: Any) -> None:
        if self.time is None:
            self.time = message.frame.time
