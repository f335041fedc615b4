"""Lines of a text log with bounded memory: numbered, decoded, bad ones marked.

Readers of logs need lines, not chunks; ``readline`` with a limit keeps a
line that never ends from filling memory (the rest of it is skipped in
pieces and the line comes out as a :class:`BadLine`, for the reader to
report).  A line holding NUL bytes (a torn write, the run of zeros a syslog
gets from an unclean shutdown) comes out as a :class:`BadLine` saying so,
then once more without its NULs when anything is left, so that a log line
glued to the zeros is still read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO, NamedTuple

from dmdissect import findings as ei
from dmdissect.findings import Finding
from dmdissect.sources.errors import InputError
from dmdissect.sources.frame import Frame
from dmdissect.sources.logs.witnesses import event_frame

#: Longest line kept whole; a longer one is reported, not read into memory.
MAX_LINE = 1 << 16


class BadLine(NamedTuple):
    """A line the reader cannot take as it is, with the finding that says why."""

    finding: Finding


def iter_lines(stream: BinaryIO, name: str) -> Iterator[tuple[int, str | BadLine]]:
    """``(line_number, text)`` from 1; text without its line end (LF or CRLF), or a BadLine."""
    number = 0
    readline = stream.readline
    try:
        while True:
            line = readline(MAX_LINE)
            if not line:
                return
            number += 1
            if len(line) == MAX_LINE and not line.endswith(b"\n"):
                while (more := readline(MAX_LINE)) and not more.endswith(b"\n"):
                    pass
                too_long = f"line longer than {MAX_LINE} bytes skipped"
                yield number, BadLine(ei.LOG_LINE_TOO_LONG(too_long))
                continue
            nuls = line.count(0)
            if nuls:
                left_out = f"{nuls} NUL byte{'s' if nuls > 1 else ''} left out of the line"
                yield number, BadLine(ei.LOG_LINE_NUL(left_out))
                line = line.replace(b"\0", b"")
                if not line.strip():
                    continue
            yield number, line.decode("utf-8", "replace").rstrip("\r\n")
    except (OSError, ValueError) as exc:
        raise InputError(f"{name}: cannot read the input: {exc}") from exc


def bad_line_frame(source: str, origin: str, side: Any, bad: BadLine) -> Frame:
    """The event frame that carries a bad line's finding, so that it is not lost."""
    return event_frame(source, origin, None, side, "unreadable", findings=[bad.finding])
