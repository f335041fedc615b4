"""Where views write: plain text in pipes, rich styling only on a terminal.

Pipes get exact, unwrapped lines written straight to the stream (fast, and
stable for scripts); a terminal gets colour unless ``NO_COLOR`` is set.  User
bytes are always passed as ``Text`` objects, never parsed as rich markup.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from rich.console import Console, RenderableType
from rich.text import Text

#: Width used off a terminal, so that nothing is wrapped or cropped.
PIPE_WIDTH = 1 << 16


#: C0 and C1 control characters but tab; what a hostile comment could use to drive a terminal.
_CONTROLS = dict.fromkeys([*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F, *range(0x80, 0xA0)])


def printable(text: str) -> str:
    """User text with control characters shown as escapes, never sent to the terminal.

    Wireshark does the same with packet comments: ``\\n`` stays visible,
    ``\\x1b[2J`` cannot clear the screen.
    """
    if text.isprintable():
        return text
    return "".join(repr(ch)[1:-1] if ord(ch) in _CONTROLS else ch for ch in text)


class _PipeSafeConsole(Console):
    """A rich console that lets a closed pipe end the command quietly with status 0."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError


class Output:
    """A text sink that knows whether styling is wanted."""

    def __init__(self, stream: TextIO | None = None, color: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        if hasattr(self.stream, "reconfigure"):
            # A terminal or pipe whose encoding cannot show a character gets an escape.
            self.stream.reconfigure(errors="backslashreplace")
        is_tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.styled = is_tty if color is None else color
        if os.environ.get("NO_COLOR"):
            self.styled = False
        self.console = _PipeSafeConsole(
            file=self.stream,
            force_terminal=self.styled,
            no_color=not self.styled,
            color_system="auto" if self.styled else None,
            highlight=False,
            markup=False,
            emoji=False,
            width=None if is_tty else PIPE_WIDTH,
            soft_wrap=not is_tty,
        )

    def line(self, text: str, style: str | None = None) -> None:
        if self.styled and style:
            self.console.print(Text(text, style=style), soft_wrap=True)
        else:
            self.stream.write(text + "\n")

    def render(self, renderable: RenderableType) -> None:
        self.console.print(renderable)

    def raw(self, text: str) -> None:
        self.stream.write(text)
