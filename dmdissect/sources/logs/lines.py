"""Lines of a text log with bounded memory: numbered, decoded, overlong ones marked.

Readers of logs need lines, not chunks; ``readline`` with a limit keeps a
line that never ends from filling memory (the rest of it is skipped in
pieces and the line comes out as None, for the reader to report).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from dmdissect.sources.errors import InputError

#: Longest line kept whole; a longer one is reported, not read into memory.
MAX_LINE = 1 << 16


def iter_lines(stream: BinaryIO, name: str) -> Iterator[tuple[int, str | None]]:
    """``(line_number, text)`` from 1; text without its line end (LF or CRLF), None if too long."""
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
                yield number, None
                continue
            yield number, line.decode("utf-8", "replace").rstrip("\r\n")
    except (OSError, ValueError) as exc:
        raise InputError(f"{name}: cannot read the input: {exc}") from exc
