"""Rows that start with an offset: tcpdump, hexdump, od, tshark, Wireshark, text2pcap, xxd
and the kernel's print_hex_dump.

Each tool prints a fixed column structure (offset, hex groups, ASCII
column); the parsers read that structure instead of scanning for hex-looking
words, because the ASCII column of ``12I~`` or ``abcd`` bytes looks like hex
too.
"""

from __future__ import annotations

import re

from dmdissect.sources.hex.columns import BYTES, LE_WORDS, column_shows, is_hex
from dmdissect.sources.hex.groups import (
    MAX_CANDIDATES,
    MAX_ROW_TOKENS,
    PREFIX_SCAN,
    THREE_PLUS_SPACES,
    TWO_PLUS_SPACES,
    group_problems,
    parse_spaced_groups,
    wide_groups_are_bytes,
)
from dmdissect.sources.hex.row import COLON, TCPDUMP, TOOL, Row

# --- tcpdump -X / -xx ----------------------------------------------------------------

_TCPDUMP = re.compile(r"^\s*0x(?P<off>[0-9a-fA-F]{4,8}):\s+(?P<rest>\S.*)$")


def parse_tcpdump(line: str) -> Row | None:
    """``\\t0x0010:  9091 9293 ...  ascii``: 16-bit groups in byte order, always."""
    m = _TCPDUMP.match(line)
    if m is None:
        return None
    parsed = parse_spaced_groups(m.group("rest"))
    if parsed is None:
        return None
    tokens, ascii, problems = parsed
    return Row(
        TCPDUMP,
        tuple(tokens),
        offset_token=m.group("off"),
        ascii=ascii,
        order=BYTES,
        fixed=True,
        problems=problems.final(),
    )


# --- hexdump -C, hexdump, od, tshark -x, Wireshark copy, text2pcap's input -----------

_TOOL = re.compile(r"^\s*(?P<off>[0-9a-fA-F]{4,16})(?P<colon>:?)(?P<gap>[ \t]+)(?P<rest>\S.*)$")

BARE_OFFSET = re.compile(r"^\s*(?P<off>[0-9a-fA-F]{4,16})\s*$")


def _tool_columns(style: str, rest: str) -> tuple[list[str], str | None, tuple[str, ...]]:
    """Hex groups and ASCII column of a tool row, by the tool's own delimiters.

    The hex area never holds ``|`` or ``>``, so hexdump -C (``|..|``) and
    od -z (``>..<``) split at the first one; tshark and Wireshark put three or
    more spaces before theirs (their hex area may hold a double space).  Rows
    whose offset is followed by one space (od, hexdump, text2pcap's input)
    keep their groups single-spaced, so two spaces start the column, and
    failing that the column is told apart by its content; the hex tokens
    then taken as the column are returned too (see :attr:`Row.spare`).
    """
    mark = {"hexdump-C": "|", "od": ">"}.get(style)
    if mark is not None and mark in rest:
        start = rest.index(mark)
        column = rest[start + 1 :]
        closing = "|" if mark == "|" else "<"
        return rest[:start].split(), column[:-1] if column.endswith(closing) else column, ()
    if style in ("od", "single"):
        gap = TWO_PLUS_SPACES.search(rest)
        if gap is None:
            return _single_spaced_split(rest.split())
        return rest[: gap.start()].split(), rest[gap.end() :] or None, ()
    if mark is not None:
        return rest.split(), None, ()
    gap = THREE_PLUS_SPACES.search(rest)
    if gap is None:
        return rest.split(), None, ()
    return rest[: gap.start()].split(), rest[gap.end() :] or None, ()


def _single_spaced_split(tokens: list[str]) -> tuple[list[str], str | None, tuple[str, ...]]:
    """Groups and ASCII column of a row that puts one space before its column.

    text2pcap's documented example (``000000 00 e0 1e a7 ... ........``) does
    this.  The groups all have the width of the first; the column starts at
    the first token that breaks the run, or earlier where the tokens left
    render the groups before them (a column such as ``ab`` or ``12 34`` is
    made of hex digits too).  Groups taken as the column that way are also
    returned, so that the next offset can give them back.
    """
    width = len(tokens[0]) if tokens else 0
    count = 0
    while count < len(tokens) and len(tokens[count]) == width and is_hex(tokens[count]):
        count += 1
    if count == 0:
        return [], None, ()
    if len(tokens) <= MAX_ROW_TOKENS:
        for k in range(min(count, len(tokens) - 1), 0, -1):
            tail = " ".join(tokens[k:])
            if column_shows(tail, tokens[:k]):
                return tokens[:k], tail, tuple(tokens[k:]) if count == len(tokens) else ()
    return tokens[:count], " ".join(tokens[count:]) or None, ()


def _tool_style(digits: int, gap: str) -> str | None:
    """Which tool printed an offset of ``digits`` digits followed by ``gap``.

    od: 6 (-A x) or 7 (-A o, -A d) digits and one space; hexdump: 7 digits
    and one space; hexdump -C: 8 digits and two spaces; tshark -x: 4 digits
    and two spaces; Wireshark "copy as hex dump": 4 digits and three spaces.
    Any other offset followed by one space or a tab is text2pcap's own input
    form (``0000 05 00 ...``, ``xxd -g1 | sed 's/://'``): "single".
    """
    if gap == " " and digits in (6, 7):
        return "od"
    if gap in (" ", "\t"):
        return "single"
    if "\t" in gap:
        return None
    if digits == 8:
        return "hexdump-C"
    if digits in (4, 5):
        return "tshark"
    return None


def _column_excludes_offset(offset: str, tokens: list[str], ascii: str | None) -> bool:
    """Whether a first group as wide as the others is an offset (``xxd -g4 | sed
    's/://'``) rather than data (kernel DUMP_PREFIX_NONE, groupsize 4).

    Only the ASCII column can tell: it renders the groups after the offset,
    and not the offset with them.
    """
    if ascii is None:
        return False
    return column_shows(ascii, tokens) and not column_shows(ascii, [offset] + tokens)


def _tool_order(style: str, width: int) -> str | None:
    """The group order a tool row is printed in: bytes for single bytes; od and
    hexdump print words little-endian; offsets with one space before xxd-style
    groups (``xxd | sed 's/://'``) are decided from evidence (None)."""
    if width == 2:
        return BYTES
    return LE_WORDS if style == "od" else None


def parse_tool(line: str) -> Row | None:
    m = _TOOL.match(line)
    if m is None:
        return None
    digits, gap = len(m.group("off")), m.group("gap")
    if m.group("colon"):
        # text2pcap also takes ``0000: 05 00 ...``; 8 or 16 digits and a colon
        # are xxd's and the kernel's layout, read by parse_colon.
        style = None if digits in (8, 16) else "single"
    else:
        style = _tool_style(digits, gap)
    if style is None:
        return None
    tokens, ascii, spare = _tool_columns(style, m.group("rest"))
    if not tokens or not all(is_hex(t) for t in tokens):
        return None
    width = len(tokens[0])
    if width not in (2, 4, 8, 16) or (style not in ("od", "single") and width != 2):
        return None
    if (
        style == "single"
        and width == digits
        and not _column_excludes_offset(m.group("off"), tokens, ascii)
    ):
        return None
    radixes = (16, 8, 10) if digits == 7 else (16,)
    return Row(
        TOOL,
        tuple(tokens),
        offset_token=m.group("off"),
        radixes=radixes,
        ascii=ascii,
        order=_tool_order(style, width),
        spare=spare,
        loose=style == "single",
        problems=group_problems(tokens).final(),
    )


# --- xxd and the kernel's print_hex_dump (offset or address, then a colon) ----------

_COLON = re.compile(r"(?<!\w)(?P<off>[0-9a-fA-F]{16}|[0-9a-fA-F]{8}|\(____ptrval____\)): ")


def parse_colon(line: str) -> Row | None:
    """``00000010: 9091 ...  ascii`` with any log prefix before the offset."""
    for count, m in enumerate(_COLON.finditer(line)):
        if count == MAX_CANDIDATES or m.start() > PREFIX_SCAN:
            break
        parsed = parse_spaced_groups(line[m.end() :].lstrip())
        if parsed is None:
            continue
        tokens, ascii, problems = parsed
        return Row(
            COLON,
            tuple(tokens),
            offset_token=m.group("off"),
            prefix=line[: m.start()],
            ascii=ascii,
            problems=problems.final(),
            **wide_groups_are_bytes(tokens),
        )
    return None
