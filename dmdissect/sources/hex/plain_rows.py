"""Rows without an offset: a hex string, bytes joined by spaces, ``:``, ``-`` or commas,
the kernel's DUMP_PREFIX_NONE rows, with an optional label or log prefix before them.
"""

from __future__ import annotations

import re

from dmdissect.sources.hex.columns import column_shows, is_hex
from dmdissect.sources.hex.groups import (
    MAX_CANDIDATES,
    MAX_ROW_TOKENS,
    PREFIX_SCAN,
    TWO_PLUS_SPACES,
    wide_groups_are_bytes,
)
from dmdissect.sources.hex.offset_rows import BARE_OFFSET
from dmdissect.sources.hex.row import PLAIN, Problems, Row

_SEPARATED = re.compile(
    r"^[0-9a-fA-F]{1,2}(?P<sep>[:\-,]|, )[0-9a-fA-F]{1,2}((?P=sep)[0-9a-fA-F]{1,2})*$"
)

_PLAIN_START = re.compile(r"(?:^|(?<=[\s:=]))(?=[0-9a-fA-F])")


def _odd_problems(tokens: list[str], width: int) -> Problems | None:
    """Problems of a separated row, or None when a group is too wide to be a byte group.

    A group one digit short is a broken line (kept, with a finding); any
    other width mismatch means the text is not a dump.
    """
    problems = Problems()
    for i, token in enumerate(tokens):
        if len(token) == width or (
            i == len(tokens) - 1 and len(token) < width and len(token) % 2 == 0
        ):
            continue
        if len(token) == width - 1:
            problems.append(f"odd number of hex digits in {token!r}; its last digit is dropped")
            continue
        return None
    return problems


def _column_matches(area: str, start: int, tokens: list[str]) -> bool:
    """Whether ``area[start:]`` is the ASCII rendering of ``tokens`` in either group order.

    Only a tail short enough to be one row's column is looked at, so that a
    long line of spaced groups costs linear time.
    """
    if len(area) - start > 4 * MAX_ROW_TOKENS or len(tokens) > MAX_ROW_TOKENS:
        return False
    column = area[start:]
    return column_shows(column, tokens)


def _plain_groups(area: str) -> tuple[list[str], str | None] | None:
    """Whitespace-separated groups with an optional ASCII column that must match them.

    After a double space, text that renders the bytes so far is the ASCII
    column (kernel DUMP_PREFIX_NONE); more hex groups are only spacing; any
    other text means the line is not a dump.
    """
    tokens: list[str] = []
    start = 0
    for gap in TWO_PLUS_SPACES.finditer(area + "  "):
        if tokens and _column_matches(area, start, tokens):
            return tokens, area[start:]
        chunk = area[start : gap.start()].split(" ")
        if not all(is_hex(t) for t in chunk):
            return None
        tokens += chunk
        start = gap.end()
    return tokens, None


def _plain_area(area: str) -> tuple[list[str], str | None, Problems] | None:
    """Hex groups of a plain line (no offset), or None if ``area`` is not only that.

    Accepted: one hex string; bytes joined by ``:``, ``-``, ``,`` or ``, ``;
    groups of equal width separated by spaces, optionally followed by an
    ASCII column that matches them.
    """
    if is_hex(area):
        problems = Problems()
        if len(area) % 2:
            problems.append(f"odd number of hex digits ({len(area)}); the last digit is dropped")
        return [area], None, problems
    m = _SEPARATED.match(area)
    if m is not None:
        tokens = [t.strip() for t in area.split(m.group("sep").strip())]
        odd = _odd_problems(tokens, 2)
        return (tokens, None, odd) if odd is not None else None
    parsed = _plain_groups(area)
    if parsed is None:
        return None
    tokens, ascii = parsed
    width = max(len(tokens[0]), 2)
    if width not in (2, 4, 8, 16):
        return None
    odd = _odd_problems(tokens, width)
    return (tokens, ascii, odd) if odd is not None else None


_TRAILING_COMMENT = re.compile(r"\s(?:#|//)\s*(?P<text>.*)$")


def parse_plain(line: str) -> Row | None:
    """A plain hex line, also with a trailing ``# ...`` or ``// ...`` comment,
    which is kept (people annotate pasted bytes that way)."""
    row = plain_row(line)
    if row is None:
        comment = _TRAILING_COMMENT.search(line)
        if comment is not None:
            row = plain_row(line[: comment.start()])
            if row is not None:
                row.comment = comment["text"].strip() or None
    return row


def plain_row(line: str) -> Row | None:
    """The leftmost place from which the rest of the line is only hex (plus ASCII).

    Only places after whitespace, ``:`` or ``=`` near the start of the line
    are tried: a log prefix is short, and this bounds the work on long lines.
    """
    for count, m in enumerate(_PLAIN_START.finditer(line)):
        if count == MAX_CANDIDATES or m.start() > PREFIX_SCAN:
            break
        parsed = _plain_area(line[m.start() :].strip())
        if parsed is None:
            continue
        tokens, ascii, problems = parsed
        bare = len(tokens) == 1 and ascii is None and bool(BARE_OFFSET.match(line))
        return Row(
            PLAIN,
            tuple(tokens),
            prefix=line[: m.start()],
            ascii=ascii,
            offset_token=tokens[0] if bare else None,
            problems=problems.final(),
            bare=bare,
            **wide_groups_are_bytes(tokens),
        )
    return None
