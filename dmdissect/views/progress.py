"""A progress bar on stderr for long reads, shown only where someone is watching.

It appears when stderr is a terminal and stdout is not (output going to a
file or a pipe, so the user would otherwise stare at nothing), and only once
reading has taken more than a second; it is transient, gone when done.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

#: Seconds of reading before the bar appears.
DELAY = 1.0


def _isatty(stream: TextIO | None) -> bool:
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


class InputProgress:
    """Callable given to ``open_frames``; use as a context manager to remove the bar."""

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        if enabled is None:
            enabled = _isatty(self.stream) and not _isatty(sys.stdout)
        self.enabled = enabled
        self.started = time.monotonic()
        #: The bar and its task, once shown.
        self.bar: tuple[Progress, TaskID] | None = None

    def __call__(self, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            if time.monotonic() - self.started < DELAY:
                return
            self.bar = self._open(total)
        bar, task = self.bar
        bar.update(task, completed=done)

    def _open(self, total: int | None) -> tuple[Progress, TaskID]:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        console = Console(file=self.stream, force_terminal=True, highlight=False, markup=False)
        bar = Progress(
            TextColumn("reading"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        bar.start()
        return bar, bar.add_task("reading", total=total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar[0].stop()
            self.bar = None

    def __enter__(self) -> InputProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
