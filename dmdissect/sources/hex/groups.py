"""Hex groups separated by spaces, and where the ASCII column after them starts.

Shared by the parsers of every format that prints groups of hex digits: a
run of equal-width groups, single-spaced, then the ASCII column after two or
more spaces (or, when a paste collapsed the spaces, where the column renders
the groups before it).  Every search here looks at a bounded part of the
line (:data:`MAX_ROW_TOKENS`, :data:`PREFIX_SCAN`), so a line costs time
linear in its length.
"""

from __future__ import annotations

import re

from dmdissect.sources.hex.columns import BYTES, column_shows, is_hex
from dmdissect.sources.hex.row import Problems

TWO_PLUS_SPACES = re.compile(r"[ \t]{2,}")
_BYTE_GROUPS = re.compile(r"[0-9a-fA-F]{2}(?: [0-9a-fA-F]{2})*")
THREE_PLUS_SPACES = re.compile(r"[ \t]{3,}")

#: Rows are at most 32 bytes; longer ASCII columns are not searched for.
MAX_ROW_TOKENS = 64

#: How far into a line a log prefix may reach, and how many places to try:
#: bounds the work on long noise lines.
PREFIX_SCAN = 512
MAX_CANDIDATES = 8


def wide_groups_are_bytes(tokens: list[str]) -> dict:
    """Groups wider than a u64 are byte strings (``xxd -p``, ``xxd -g16``): no machine
    word is printed that wide, so their order is fixed."""
    if max(len(t) for t in tokens) > 16:
        return {"order": BYTES, "fixed": True}
    return {}


def group_problems(tokens: list[str]) -> Problems:
    """What is wrong with a row of groups: odd digit counts, groups of the wrong width."""
    problems = Problems()
    width = len(tokens[0])
    for i, token in enumerate(tokens):
        last = i == len(tokens) - 1
        if len(token) % 2:
            problems.append(f"odd number of hex digits in {token!r}; its last digit is dropped")
        elif (len(token) != width and not last) or len(token) > width:
            problems.append(f"group {token!r} is not {width} digits wide like the others")
    return problems


def _collapsed_split(tokens: list[str]) -> tuple[list[str], str | None]:
    """Split hex groups from an ASCII column that lost its double-space separator.

    Chat tools collapse runs of spaces; the ASCII column is then told apart
    by matching it against the rendering of the groups before it (in either
    group order), and failing that by where the hex groups stop.
    """
    count = 0
    while count < len(tokens) and is_hex(tokens[count]):
        count += 1
    if len(tokens) <= MAX_ROW_TOKENS:
        for k in range(min(count, len(tokens) - 1), 0, -1):
            tail = " ".join(tokens[k:])
            if column_shows(tail, tokens[:k]):
                return tokens[:k], tail
    return tokens[:count], " ".join(tokens[count:]) or None


def parse_spaced_groups(area: str) -> tuple[list[str], str | None, Problems] | None:
    """Groups separated by one space, ended by two or more spaces and an ASCII column.

    This is the xxd, kernel and tcpdump layout.  Returns the groups, the
    ASCII column (None if absent) and the problems, or None when the area
    holds no hex group at all.
    """
    gap = TWO_PLUS_SPACES.search(area)
    if gap is not None and _BYTE_GROUPS.fullmatch(area, 0, gap.start()):
        # single bytes (xxd -g1, the kernel's groupsize 1): nothing else to check
        return area[: gap.start()].split(" "), area[gap.end() :] or None, Problems()
    if gap is None:
        tokens = area.split()
        if not tokens:
            return None
        hex_tokens, ascii = _collapsed_split(tokens)
    else:
        hex_tokens = area[: gap.start()].split(" ")
        if not all(is_hex(t) for t in hex_tokens):
            return None
        ascii = _after_partial_group(hex_tokens, area, gap) or None
    if not hex_tokens or not all(is_hex(t) for t in hex_tokens):
        return None
    if max(len(t) for t in hex_tokens) > 32:
        return None
    return hex_tokens, ascii, group_problems(hex_tokens)


_PARTIAL_GROUP = re.compile(r"[0-9a-fA-F]+(?=[ \t]{2,}|$)")


def _after_partial_group(tokens: list[str], area: str, gap: re.Match) -> str:
    """The ASCII column, after taking in a right-aligned partial last group.

    ``xxd -e`` prints a short last word padded on the left (``04030201
    410605``): the spaces before it plus its digits make one group's width,
    and the ASCII column after it shows every byte.  A kernel ASCII column
    can start the same way (`` 4a  ...``), so the column must confirm it.
    """
    width = len(tokens[0])
    rest = area[gap.end() :]
    partial = _PARTIAL_GROUP.match(rest)
    if (
        partial is not None
        and width > 2
        and len(partial.group()) % 2 == 0
        and (gap.end() - gap.start() - 1) + len(partial.group()) == width
    ):
        column = rest[partial.end() :].lstrip(" \t")
        widened = tokens + [partial.group()]
        if column_shows(column, widened):
            tokens.append(partial.group())
            return column
    return rest
