"""The table of hex dump formats: one entry per line structure, tried in order.

Each entry names the tools that print the structure, carries the parser that
turns one text line into a :class:`Row` (or None: the line is not such a
row), and says how the format frames messages:

* ``OFFSETS``: every row carries its offset; offset 0 starts a message
  (text2pcap's rule) and a bare final offset (hexdump, od) ends it;
* ``REPEAT``: hexdump's ``*``, the previous row repeated up to the next offset;
* ``BRACES``: a ``{ ... }`` block is one message (C arrays), a line outside
  braces frames like ``SIZE``;
* ``SIZE``: no offsets; rows join while the header's ``size`` asks for more
  bytes and nothing but the dump comes between (one line or one block of
  lines is one message).

Adding a format means adding its parser and one entry here, with its test;
the framers (:mod:`dmdissect.sources.hex.framer`) only look at the framing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from dmdissect.sources.hex import literal_rows, offset_rows, plain_rows
from dmdissect.sources.hex.row import CARRAY, COLON, PLAIN, PYREPR, STAR, TCPDUMP, TOOL, Row

OFFSETS = "offsets"
REPEAT = "repeat"
BRACES = "braces"
SIZE = "size"


@dataclass(frozen=True)
class Format:
    """One line structure: its family name, the tools that print it, its parser and
    its framing."""

    family: str
    tools: str
    parse: Callable[[str], Row | None]
    framing: str


def _parse_star(line: str) -> Row | None:
    return Row(STAR) if line.strip() == "*" else None


FORMATS = (
    Format(STAR, "hexdump, od: '*' repeats the row before it", _parse_star, REPEAT),
    Format(TCPDUMP, "tcpdump -X, tcpdump -xx", offset_rows.parse_tcpdump, OFFSETS),
    Format(
        TOOL,
        "hexdump -C, hexdump, od, tshark -x, Wireshark's copy as hex dump, text2pcap input",
        offset_rows.parse_tool,
        OFFSETS,
    ),
    Format(COLON, "xxd, the kernel's print_hex_dump", offset_rows.parse_colon, OFFSETS),
    Format(PYREPR, "Python bytes reprs b'...'", literal_rows.parse_pyrepr, SIZE),
    Format(CARRAY, "C arrays of 0x.. (xxd -i)", literal_rows.parse_carray, BRACES),
    Format(PLAIN, "hex strings, xxd -p, 07:00:.., DUMP_PREFIX_NONE", plain_rows.parse_plain, SIZE),
)
#: How each family frames messages.
FRAMING = {f.family: f.framing for f in FORMATS}

_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    """Remove colour escapes (``dmesg --color=always``) so they do not hide the columns."""
    return _ANSI_ESCAPE.sub("", text) if "\x1b" in text else text


#: A dmesg stamp, ``[  100.500000]``, with at most as many digits as a time may have.
STAMP = r"\[ {0,12}[0-9]{1,12}\.[0-9]{1,12}\]"
#: The commonest row by far: the kernel's print_hex_dump, groupsize 1, under a dmesg
#: stamp and a driver name (or ``xxd -g1``).  One expression reads it into the very
#: Row the table's parsers give (the tests compare the two on generated lines).
_KERNEL_ROW = re.compile(
    rf"({STAMP} [A-Za-z_][\w.-]{{0,40}}: |)([0-9a-f]{{8}}): "
    r"((?:[0-9a-f]{2} ){0,31}[0-9a-f]{2}) {2,}([^ \t].*)"
)
#: The line a driver logs before each dump (``hv_balloon: guest->host``): every
#: parser rejects it, so it is known noise without asking them.
KERNEL_NOISE = rf"{STAMP} [A-Za-z_]\w{{0,40}}: (?:guest->host|host->guest)"
_KERNEL_NOISE = re.compile(KERNEL_NOISE)


def kernel_row(text: str) -> re.Match | None:
    """``text`` as the kernel's groupsize-1 row: prefix, offset, groups and column."""
    if "\x1b" in text:
        return None
    return _KERNEL_ROW.fullmatch(text.rstrip())


def is_known_noise(text: str) -> bool:
    """Whether ``text`` is a line every parser rejects, told by one expression."""
    return _KERNEL_NOISE.fullmatch(text) is not None


def parse_line(text: str) -> Row | None:
    """The dump row ``text`` holds, or None when it is noise or blank."""
    line = strip_ansi(text).rstrip()
    if (m := _KERNEL_ROW.fullmatch(line)) is not None:
        prefix, offset, groups, column = m.groups()
        return Row(
            COLON, tuple(groups.split(" ")), offset_token=offset, prefix=prefix, ascii=column
        )
    return parse_by_table(line)


def parse_by_table(line: str) -> Row | None:
    """``line`` (without colour escapes and trailing spaces) read by the table's parsers."""
    if not line.strip():
        return None
    for entry in FORMATS:
        row = entry.parse(line)
        if row is not None:
            return row
    return None


def parse_labelled(text: str) -> Row | None:
    """``text`` read as a plain row (a label, then hex), for a loose tool row whose
    offset did not fit a dump."""
    return plain_rows.parse_plain(strip_ansi(text).rstrip())
