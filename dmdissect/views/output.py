"""Where views write: plain text in pipes, rich styling only on a terminal.

Pipes get exact, unwrapped lines written straight to the stream (fast, and
stable for scripts); a terminal gets colour unless ``NO_COLOR`` is set.  User
bytes are always passed as ``Text`` objects, never parsed as rich markup.
rich is loaded only when something is styled or goes to a terminal: a pipe
never pays for it, not even at start-up.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

from dmdissect.escape import printable as escape_printable
from dmdissect.views.outline import ASCII_GUIDES, UNICODE_GUIDES, Branch, to_rich, write_plain

if TYPE_CHECKING:
    from rich.console import Console

#: Width used off a terminal, so that nothing is wrapped or cropped.
PIPE_WIDTH = 1 << 16


#: The one escaping function for input text (see :mod:`dmdissect.escape`), for the views.
printable = escape_printable


def _console(**options: Any) -> Console:
    """A rich console that lets a closed pipe end the command quietly with status 0."""
    from rich.console import Console

    class PipeSafeConsole(Console):
        def on_broken_pipe(self) -> None:
            raise BrokenPipeError

    return PipeSafeConsole(**options)


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
        self.is_tty = is_tty
        #: Plain lines written straight to the stream: no styles, no width to fold at.
        self.plain = not self.styled and not is_tty
        encoding = (getattr(self.stream, "encoding", None) or "utf-8").lower()
        #: The tree guides this stream can show.
        self.guides = UNICODE_GUIDES if encoding.startswith("utf") else ASCII_GUIDES
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            self._console = _console(
                file=self.stream,
                force_terminal=self.styled,
                no_color=not self.styled,
                color_system="auto" if self.styled else None,
                highlight=False,
                markup=False,
                emoji=False,
                width=None if self.is_tty else PIPE_WIDTH,
                soft_wrap=not self.is_tty,
            )
        return self._console

    def line(self, text: str, style: str | None = None) -> None:
        if self.styled and style:
            from rich.text import Text

            self.console.print(Text(text, style=style), soft_wrap=True)
        else:
            self.stream.write(text + "\n")

    def render(self, renderable: Any) -> None:
        self.console.print(renderable)

    def tree(self, root: Branch) -> None:
        """A tree: written directly in a pipe, through rich where styles or a width matter."""
        if self.styled or self.is_tty:
            self.console.print(to_rich(root))
        else:
            write_plain(root, self.stream)

    def raw(self, text: str) -> None:
        self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()
