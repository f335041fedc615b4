"""The line grammar of hex dumps: one text line in, one parsed :class:`Row` out.

Each dump tool prints a fixed column structure (offset, hex groups, ASCII
column); the parsers here read that structure instead of scanning for
hex-looking words, because the ASCII column of ``12I~`` or ``abcd`` bytes looks
like hex too.  A line that fits no format is noise (``None``).  Deciding where
messages start and end, and which way multi-byte groups are ordered, is the
job of :mod:`dmdissect.sources.hexdump`, which sees many lines.

Timestamps and direction words found around a dump are parsed here as well,
so that all knowledge of log line shapes lives in one place.
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass, field

from dmdissect.sources.frame import GUEST_TO_HOST, HOST_TO_GUEST

#: Multi-byte groups are printed in memory order (xxd, tcpdump).
BYTES = "bytes"
#: Each multi-byte group is a little-endian word printed most significant
#: digit first, so its bytes read reversed (kernel print_hex_dump with
#: groupsize 2/4/8, ``xxd -e``, ``hexdump``, ``od -x``).
LE_WORDS = "le-words"

# Row families: which column structure a line has.
COLON = "colon"  # xxd, kernel print_hex_dump:  [prefix]XXXXXXXX: groups  ascii
TCPDUMP = "tcpdump"  # tcpdump -X / -xx:            \t0x0000:  0700 3800  ascii
TOOL = "tool"  # hexdump [-C], od, tshark -x, Wireshark:  offset  bytes  ascii
PLAIN = "plain"  # no offset: hex string, 07:00:..., kernel DUMP_PREFIX_NONE
CARRAY = "carray"  # 0x07, 0x00, ... with optional braces (xxd -i)
PYREPR = "pyrepr"  # b'\x07\x00...'
STAR = "star"  # '*': the previous line repeats up to the next offset

_HEX_RUN = re.compile(r"[0-9a-fA-F]+")
_TWO_PLUS_SPACES = re.compile(r"[ \t]{2,}")
_THREE_PLUS_SPACES = re.compile(r"[ \t]{3,}")
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def is_hex(token: str) -> bool:
    """Whether ``token`` is a non-empty run of hex digits (``str.isalnum`` is too lax)."""
    return _HEX_RUN.fullmatch(token) is not None


def render_ascii(data: bytes) -> str:
    """The ASCII column as xxd, hexdump -C, od -z, tshark and the kernel print it:
    printable ASCII (0x20-0x7e, space included) as is, else ``.``."""
    return "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in data)


def render_graphic(data: bytes) -> str:
    """The ASCII column as tcpdump -X prints it: only graphic characters (0x21-0x7e)
    as themselves, so a space byte shows as ``.`` too."""
    return "".join(chr(b) if 0x20 < b < 0x7F else "." for b in data)


def decode_tokens(tokens: tuple[str, ...] | list[str], order: str) -> bytes:
    """The bytes of hex groups read in ``order``; an odd trailing digit is dropped."""
    out = bytearray()
    for token in tokens:
        chunk = bytes.fromhex(token[: len(token) & ~1])
        out += chunk[::-1] if order == LE_WORDS else chunk
    return bytes(out)


def strip_ansi(text: str) -> str:
    """Remove colour escapes (``dmesg --color=always``) so they do not hide the columns."""
    return _ANSI_ESCAPE.sub("", text) if "\x1b" in text else text


@dataclass(slots=True)
class Row:
    """One dump line: its hex groups and what surrounds them.

    ``tokens`` are the hex groups exactly as printed (their byte order is
    decided per message); ``raw`` holds the bytes of formats that spell bytes
    directly (C arrays, Python reprs).  ``order`` is the order the tool is
    known to use (None: it depends on the writer, decided from evidence) and
    ``fixed`` says that no evidence may change it.  ``problems`` are what is
    broken in the line; the readable bytes are kept regardless.  ``spare``
    holds hex groups that were read as the ASCII column because they render
    the groups before them; the next offset may show they were bytes after
    all (:meth:`take_spare`).  ``loose`` marks an offset that may as well be
    a label (text2pcap's one-space form: ``1234 07 00 ...``), which only an
    offset of 0 or the next offset of a dump confirms (:func:`parse_plain_line`
    reads the line the other way).
    """

    family: str
    tokens: tuple[str, ...] = ()
    raw: bytes | None = None
    offset_token: str | None = None
    radixes: tuple[int, ...] = (16,)
    prefix: str = ""
    ascii: str | None = None
    order: str | None = None
    fixed: bool = False
    problems: tuple[str, ...] = ()
    opens: bool = False
    closes: bool = False
    bare: bool = False
    comment: str | None = None
    spare: tuple[str, ...] = ()
    loose: bool = False
    nbytes: int = field(init=False)

    def __post_init__(self) -> None:
        self.nbytes = (
            len(self.raw) if self.raw is not None else sum(len(t) // 2 for t in self.tokens)
        )

    @property
    def multibyte(self) -> bool:
        """Whether group order matters for this row (some group is wider than a byte)."""
        return any(len(t) > 3 for t in self.tokens)

    def data(self, order: str) -> bytes:
        return self.raw if self.raw is not None else decode_tokens(self.tokens, order)

    @property
    def spare_bytes(self) -> int:
        return sum(len(t) // 2 for t in self.spare)

    def take_spare(self) -> None:
        """Read the spare groups as bytes: the offset after this row counted them."""
        self.tokens += self.spare
        self.nbytes += self.spare_bytes
        self.spare, self.ascii = (), None


def parse_line(text: str) -> Row | None:
    """The dump row ``text`` holds, or None when it is noise or blank."""
    line = strip_ansi(text).rstrip()
    if not line.strip():
        return None
    for parser in _PARSERS:
        row = parser(line)
        if row is not None:
            return row
    return None


def _parse_star(line: str) -> Row | None:
    return Row(STAR) if line.strip() == "*" else None


# --- groups separated by single spaces, then two or more spaces and ASCII -----------


def _wide_groups_are_bytes(tokens: list[str]) -> dict:
    """Groups wider than a u64 are byte strings (``xxd -p``, ``xxd -g16``): no machine
    word is printed that wide, so their order is fixed."""
    if max(len(t) for t in tokens) > 16:
        return {"order": BYTES, "fixed": True}
    return {}


def _group_problems(tokens: list[str]) -> list[str]:
    """What is wrong with a row of groups: odd digit counts, groups of the wrong width."""
    problems = []
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
    if len(tokens) <= _MAX_ROW_TOKENS:
        for k in range(min(count, len(tokens) - 1), 0, -1):
            tail = " ".join(tokens[k:])
            if any(ascii_matches(tail, decode_tokens(tokens[:k], o)) for o in (BYTES, LE_WORDS)):
                return tokens[:k], tail
    return tokens[:count], " ".join(tokens[count:]) or None


def parse_spaced_groups(area: str) -> tuple[list[str], str | None, list[str]] | None:
    """Groups separated by one space, ended by two or more spaces and an ASCII column.

    This is the xxd, kernel and tcpdump layout.  Returns the groups, the
    ASCII column (None if absent) and the problems, or None when the area
    holds no hex group at all.
    """
    gap = _TWO_PLUS_SPACES.search(area)
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
    return hex_tokens, ascii, _group_problems(hex_tokens)


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
        if any(ascii_matches(column, decode_tokens(widened, o)) for o in (BYTES, LE_WORDS)):
            tokens.append(partial.group())
            return column
    return rest


def ascii_matches(column: str, data: bytes) -> bool:
    """Whether an ASCII column shows ``data``, ignoring spacing that tools pad or pastes lose.

    Tools differ on the space byte only: xxd, hexdump -C, od -z, tshark and
    the kernel print it as a space, tcpdump as ``.`` (it prints graphic
    characters only).  A row does not always say which tool printed it (a
    tcpdump block pasted without its tab, hand-made layouts), so a column
    matches when it is either rendering.
    """
    shown = "".join(column.split())
    if not shown:
        return False
    return shown in ("".join(render_ascii(data).split()), render_graphic(data))


# --- tcpdump -X / -xx ----------------------------------------------------------------

_TCPDUMP = re.compile(r"^\s*0x(?P<off>[0-9a-fA-F]{4,8}):\s+(?P<rest>\S.*)$")


def _parse_tcpdump(line: str) -> Row | None:
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
        problems=tuple(problems),
    )


# --- hexdump -C, hexdump, od, tshark -x, Wireshark copy ------------------------------

_TOOL = re.compile(r"^\s*(?P<off>[0-9a-fA-F]{4,16})(?P<colon>:?)(?P<gap>[ \t]+)(?P<rest>\S.*)$")
_BARE_OFFSET = re.compile(r"^\s*(?P<off>[0-9a-fA-F]{4,16})\s*$")


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
        gap = _TWO_PLUS_SPACES.search(rest)
        if gap is None:
            return _single_spaced_split(rest.split())
        return rest[: gap.start()].split(), rest[gap.end() :] or None, ()
    if mark is not None:
        return rest.split(), None, ()
    gap = _THREE_PLUS_SPACES.search(rest)
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
    if len(tokens) <= _MAX_ROW_TOKENS:
        for k in range(min(count, len(tokens) - 1), 0, -1):
            tail = " ".join(tokens[k:])
            if any(ascii_matches(tail, decode_tokens(tokens[:k], o)) for o in (BYTES, LE_WORDS)):
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

    def shows(groups: list[str]) -> bool:
        return any(ascii_matches(ascii, decode_tokens(groups, o)) for o in (BYTES, LE_WORDS))

    return shows(tokens) and not shows([offset] + tokens)


def _tool_order(style: str, width: int) -> str | None:
    """The group order a tool row is printed in: bytes for single bytes; od and
    hexdump print words little-endian; offsets with one space before xxd-style
    groups (``xxd | sed 's/://'``) are decided from evidence (None)."""
    if width == 2:
        return BYTES
    return LE_WORDS if style == "od" else None


def _parse_tool(line: str) -> Row | None:
    m = _TOOL.match(line)
    if m is None:
        return None
    digits, gap = len(m.group("off")), m.group("gap")
    if m.group("colon"):
        # text2pcap also takes ``0000: 05 00 ...``; 8 or 16 digits and a colon
        # are xxd's and the kernel's layout, read by _parse_colon.
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
        problems=tuple(_group_problems(tokens)),
    )


# --- xxd and the kernel's print_hex_dump (offset or address, then a colon) ----------

#: How far into a line a log prefix may reach, and how many places to try:
#: bounds the work on long noise lines.
_PREFIX_SCAN = 512
_MAX_CANDIDATES = 8
#: Rows are at most 32 bytes; longer ASCII columns are not searched for.
_MAX_ROW_TOKENS = 64

_COLON = re.compile(r"(?<!\w)(?P<off>[0-9a-fA-F]{16}|[0-9a-fA-F]{8}|\(____ptrval____\)): ")


def _parse_colon(line: str) -> Row | None:
    """``00000010: 9091 ...  ascii`` with any log prefix before the offset."""
    for count, m in enumerate(_COLON.finditer(line)):
        if count == _MAX_CANDIDATES or m.start() > _PREFIX_SCAN:
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
            problems=tuple(problems),
            **_wide_groups_are_bytes(tokens),
        )
    return None


# --- Python bytes reprs --------------------------------------------------------------

_BYTES_LITERAL_START = re.compile(r"(?<![\w'\"])[bB](['\"])")
_SIMPLE_ESCAPES = {
    "\\": 0x5C,
    "'": 0x27,
    '"': 0x22,
    "a": 7,
    "b": 8,
    "f": 12,
    "n": 10,
    "r": 13,
    "t": 9,
    "v": 11,
}


def _read_escape(body: str, i: int) -> tuple[bytes, int, str | None]:
    """Decode the escape at ``body[i] == '\\'``: bytes, next index, problem or None."""
    if i + 1 >= len(body):
        return b"\\", i + 1, None
    ch = body[i + 1]
    if ch in _SIMPLE_ESCAPES:
        return bytes([_SIMPLE_ESCAPES[ch]]), i + 2, None
    if ch == "x":
        digits = body[i + 2 : i + 4]
        if len(digits) == 2 and is_hex(digits):
            return bytes([int(digits, 16)]), i + 4, None
        return b"", i + 2, f"broken escape {body[i : i + 4]!r}"
    if ch in "01234567":
        j = i + 1
        while j < len(body) and j < i + 4 and body[j] in "01234567":
            j += 1
        return bytes([int(body[i + 1 : j], 8) & 0xFF]), j, None
    return b"\\" + ch.encode("latin-1", "replace"), i + 2, None


def _read_bytes_literal(line: str, start: int, quote: str) -> tuple[bytes, int, list[str]] | None:
    """Read one ``b'...'`` body from ``start`` (after the quote) like Python's tokenizer,
    without evaluating anything.  A literal the line cuts off is kept, with a
    problem, when it holds ``\\x`` escapes (a torn paste); otherwise it is
    prose (``it's b'cause``) and None."""
    out = bytearray()
    problems: list[str] = []
    escapes = 0
    i = start
    while i < len(line):
        ch = line[i]
        if ch == quote:
            return bytes(out), i + 1, problems
        if ch == "\\":
            escapes += line.startswith("\\x", i)
            chunk, i, problem = _read_escape(line, i)
            out += chunk
            if problem:
                problems.append(problem)
            continue
        if ord(ch) > 0x7E or ord(ch) < 0x20:
            problems.append(f"non-ASCII character {ch!r} in a bytes literal is skipped")
        else:
            out.append(ord(ch))
        i += 1
    if not escapes:
        return None
    return bytes(out), i, problems + ["the bytes literal is cut off before its closing quote"]


def _parse_pyrepr(line: str) -> Row | None:
    """``b'\\x07\\x00...'``, also literals side by side (implicit concatenation).

    A literal that is the ASCII column of hex groups before it on the line
    (``42 22 ... 22  B"...."``, the column rendering the groups) is no repr:
    the line is a dump row."""
    m = _BYTES_LITERAL_START.search(line)
    if m is None:
        return None
    data, problems = b"", []
    while m is not None:
        literal = _read_bytes_literal(line, m.end(), m.group(1))
        if literal is None:
            break
        data += literal[0]
        problems += literal[2]
        end = literal[1]
        m = _BYTES_LITERAL_START.match(line, end + len(line[end:]) - len(line[end:].lstrip()))
    if not data:
        return None
    first = _BYTES_LITERAL_START.search(line)
    plain = _plain_row(line)
    if plain is not None and plain.ascii is not None:
        return None  # an ASCII column that reads B"...": the line is a dump row
    return Row(PYREPR, raw=data, prefix=line[: first.start()], problems=tuple(problems))


# --- C arrays: 0x07, 0x00, ... --------------------------------------------------------

_C_COMMENT = re.compile(r"/\*.*?\*/|//.*$")
_C_TOKEN = re.compile(r"0[xX]([0-9a-fA-F]+)[uUlL]*")
_C_SEPARATOR = re.compile(r"^[\s,]*$")
#: A line that opens an array: ``unsigned char msg[] = {``, ``msg = bytes([``, ``{``.
_C_OPENER = re.compile(r"(?:[A-Za-z_][\w \t*\[\]]*=\s*(?:[A-Za-z_][\w.]*\s*\(\s*)?)?[{\[]")


def _c_byte(digits: str) -> tuple[bytes, str | None]:
    if len(digits) <= 2:
        return bytes([int(digits, 16)]), None
    return b"", f"0x{digits} is not a byte; it is skipped"


def _parse_carray(line: str) -> Row | None:
    """A line of ``0x..`` bytes, optionally opening or closing a ``{...}`` / ``[...]`` block."""
    body = _C_COMMENT.sub("", line).strip()
    first = _C_TOKEN.search(body)
    if first is None:
        opens = bool(_C_OPENER.fullmatch(body))
        closes = bool(re.fullmatch(r"[}\])]+[;,)]*", body))
        return Row(CARRAY, raw=b"", opens=opens, closes=closes) if opens or closes else None
    head = body[: first.start()]
    opens = bool(head) and head.rstrip()[-1:] in ("{", "[")
    if head.strip() and not opens:
        return None
    tokens = list(_C_TOKEN.finditer(body))
    out, problems, pos = bytearray(), [], first.start()
    for m in tokens:
        if not _C_SEPARATOR.match(body[pos : m.start()]):
            return None
        chunk, problem = _c_byte(m.group(1))
        out += chunk
        if problem:
            problems.append(problem)
        pos = m.end()
    tail = body[pos:].strip()
    closes = bool(re.match(r"^,?\s*[}\]]", tail))
    if not re.fullmatch(r"[\s,;)}\]]*", tail):
        return None
    return Row(CARRAY, raw=bytes(out), opens=opens, closes=closes, problems=tuple(problems))


# --- plain hex with an optional label before it ----------------------------------------

_SEPARATED = re.compile(
    r"^[0-9a-fA-F]{1,2}(?P<sep>[:\-,]|, )[0-9a-fA-F]{1,2}((?P=sep)[0-9a-fA-F]{1,2})*$"
)
_PLAIN_START = re.compile(r"(?:^|(?<=[\s:=]))(?=[0-9a-fA-F])")


def _odd_problems(tokens: list[str], width: int) -> list[str] | None:
    """Problems of a separated row, or None when a group is too wide to be a byte group.

    A group one digit short is a broken line (kept, with a finding); any
    other width mismatch means the text is not a dump.
    """
    problems = []
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
    if len(area) - start > 4 * _MAX_ROW_TOKENS or len(tokens) > _MAX_ROW_TOKENS:
        return False
    column = area[start:]
    return any(ascii_matches(column, decode_tokens(tokens, o)) for o in (BYTES, LE_WORDS))


def _plain_groups(area: str) -> tuple[list[str], str | None] | None:
    """Whitespace-separated groups with an optional ASCII column that must match them.

    After a double space, text that renders the bytes so far is the ASCII
    column (kernel DUMP_PREFIX_NONE); more hex groups are only spacing; any
    other text means the line is not a dump.
    """
    tokens: list[str] = []
    start = 0
    for gap in _TWO_PLUS_SPACES.finditer(area + "  "):
        if tokens and _column_matches(area, start, tokens):
            return tokens, area[start:]
        chunk = area[start : gap.start()].split(" ")
        if not all(is_hex(t) for t in chunk):
            return None
        tokens += chunk
        start = gap.end()
    return tokens, None


def _plain_area(area: str) -> tuple[list[str], str | None, list[str]] | None:
    """Hex groups of a plain line (no offset), or None if ``area`` is not only that.

    Accepted: one hex string; bytes joined by ``:``, ``-``, ``,`` or ``, ``;
    groups of equal width separated by spaces, optionally followed by an
    ASCII column that matches them.
    """
    if is_hex(area):
        problems = []
        if len(area) % 2:
            problems.append(f"odd number of hex digits ({len(area)}); the last digit is dropped")
        return [area], None, problems
    m = _SEPARATED.match(area)
    if m is not None:
        tokens = [t.strip() for t in area.split(m.group("sep").strip())]
        problems = _odd_problems(tokens, 2)
        return (tokens, None, problems) if problems is not None else None
    parsed = _plain_groups(area)
    if parsed is None:
        return None
    tokens, ascii = parsed
    width = max(len(tokens[0]), 2)
    if width not in (2, 4, 8, 16):
        return None
    problems = _odd_problems(tokens, width)
    return (tokens, ascii, problems) if problems is not None else None


_TRAILING_COMMENT = re.compile(r"\s(?:#|//)\s*(?P<text>.*)$")


def _parse_plain(line: str) -> Row | None:
    """A plain hex line, also with a trailing ``# ...`` or ``// ...`` comment,
    which is kept (people annotate pasted bytes that way)."""
    row = _plain_row(line)
    if row is None:
        comment = _TRAILING_COMMENT.search(line)
        if comment is not None:
            row = _plain_row(line[: comment.start()])
            if row is not None:
                row.comment = comment["text"].strip() or None
    return row


def _plain_row(line: str) -> Row | None:
    """The leftmost place from which the rest of the line is only hex (plus ASCII).

    Only places after whitespace, ``:`` or ``=`` near the start of the line
    are tried: a log prefix is short, and this bounds the work on long lines.
    """
    for count, m in enumerate(_PLAIN_START.finditer(line)):
        if count == _MAX_CANDIDATES or m.start() > _PREFIX_SCAN:
            break
        parsed = _plain_area(line[m.start() :].strip())
        if parsed is None:
            continue
        tokens, ascii, problems = parsed
        bare = len(tokens) == 1 and ascii is None and bool(_BARE_OFFSET.match(line))
        return Row(
            PLAIN,
            tuple(tokens),
            prefix=line[: m.start()],
            ascii=ascii,
            offset_token=tokens[0] if bare else None,
            problems=tuple(problems),
            bare=bare,
            **_wide_groups_are_bytes(tokens),
        )
    return None


def parse_plain_line(text: str) -> Row | None:
    """``text`` read as a plain row (a label, then hex), for a loose tool row whose
    offset did not fit a dump."""
    return _parse_plain(strip_ansi(text).rstrip())


_PARSERS = (
    _parse_star,
    _parse_tcpdump,
    _parse_tool,
    _parse_colon,
    _parse_pyrepr,
    _parse_carray,
    _parse_plain,
)


# --- timestamps and directions ----------------------------------------------------------

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_LEVEL = re.compile(r"^\s*<\d{1,3}>")
_DMESG = re.compile(r"\[\s*(\d+)\.(\d+)\]")
_DMESG_T = re.compile(
    r"\[(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?P<mon>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) "
    r"(?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d) (?P<year>\d{4})\]"
)
_ISO = re.compile(
    r"(?P<year>\d{4})-(?P<mon>\d\d)-(?P<day>\d\d)[T ](?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d)"
    r"(?:[.,](?P<frac>\d{1,9}))?(?P<tz>Z|[+-]\d\d:?\d\d)?(?!\d)"
)
_SYSLOG = re.compile(
    r"(?P<mon>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d)"
    r"(?:\.(?P<frac>\d{1,9}))?(?![\d:])"
)
_TIME_OF_DAY = re.compile(r"(?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d)(?:[.,](?P<frac>\d{1,9}))?(?![\d:])")
_EPOCH = re.compile(r"(?P<sec>\d{9,10})\.(?P<frac>\d{1,9})(?![\d.])")
_IO_PREAMBLE = re.compile(r"^\s*(?P<dir>[IO])(?:\s+(?P<rest>.*?))?\s*$")
_DIRECTION_WORDS = re.compile(
    r"(?<![A-Za-z])(?P<a>host|guest)\s*(?:->|→|=>|\bto\b)\s*(?P<b>host|guest)(?![A-Za-z])",
    re.IGNORECASE,
)


def _fraction(digits: str | None) -> float:
    return int(digits) / 10 ** len(digits) if digits else 0.0


def _iso_seconds(m: re.Match) -> float | None:
    """Epoch seconds of an ISO date; naive dates are taken as UTC."""
    try:
        base = calendar.timegm(
            (
                int(m["year"]),
                int(m["mon"]),
                int(m["day"]),
                int(m["h"]),
                int(m["m"]),
                int(m["s"]),
                0,
                0,
                0,
            )
        )
    except (ValueError, OverflowError):
        return None
    tz = m["tz"]
    if tz and tz != "Z":
        sign = -1 if tz[0] == "+" else 1
        digits = tz[1:].replace(":", "")
        base += sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return base + _fraction(m["frac"])


def _dmesg_t_seconds(m: re.Match) -> float | None:
    month = _MONTHS.get(m["mon"])
    if month is None:
        return None
    try:
        return float(
            calendar.timegm(
                (
                    int(m["year"]),
                    month,
                    int(m["day"]),
                    int(m["h"]),
                    int(m["m"]),
                    int(m["s"]),
                    0,
                    0,
                    0,
                )
            )
        )
    except (ValueError, OverflowError):
        return None


#: The clock that dates syslog stamps, which carry no year (tests replace it).
_now = time.time
#: How far in the future a syslog date may lie before it is taken as last
#: year's: clocks of the logging and the reading machine may differ a little.
_SYSLOG_FUTURE_SLACK = 2 * 86400


def _syslog_seconds(m: re.Match) -> float | None:
    """Epoch seconds of a syslog or ``journalctl`` short stamp (``Nov 27 01:09:11``).

    Such stamps have no year and no zone.  They are read as UTC in the
    current UTC year, or in the year before when that would put them more
    than two days in the future (a December log read in January).
    """
    month = _MONTHS.get(m["mon"])
    if month is None:
        return None
    day, h, mi, s = int(m["day"]), int(m["h"]), int(m["m"]), int(m["s"])
    if h > 23 or mi > 59 or s > 60 or not 1 <= day <= 31:
        return None
    now = _now()
    year = time.gmtime(now).tm_year
    for candidate in (year, year - 1):
        if day > calendar.monthrange(candidate, month)[1]:
            continue
        seconds = calendar.timegm((candidate, month, day, h, mi, s, 0, 0, 0)) + _fraction(m["frac"])
        if seconds <= now + _SYSLOG_FUTURE_SLACK:
            return seconds
    return None


def _time_of_day(m: re.Match) -> float | None:
    h, mi, s = int(m["h"]), int(m["m"]), int(m["s"])
    if h > 23 or mi > 59 or s > 60:
        return None
    return h * 3600 + mi * 60 + s + _fraction(m["frac"])


def leading_time(text: str) -> tuple[float, int] | None:
    """A timestamp at the start of ``text`` (after a ``<level>``): seconds and where it ends.

    dmesg ``[  100.5]`` gives seconds since boot; ``dmesg -T`` and ISO dates
    give epoch seconds (naive dates are UTC); syslog and ``journalctl``
    short stamps (``Nov 27 01:09:11``) give epoch seconds in a guessed year
    (:func:`_syslog_seconds`); a bare ``12:00:03.123456`` gives seconds since
    midnight; ``1764205751.123`` is epoch seconds already.
    """
    level = _LEVEL.match(text)
    pos = level.end() if level else 0
    pos += len(text[pos:]) - len(text[pos:].lstrip())
    for pattern, convert in (
        (_ISO, _iso_seconds),
        (_DMESG_T, _dmesg_t_seconds),
        (_SYSLOG, _syslog_seconds),
        (_EPOCH, lambda m: int(m["sec"]) + _fraction(m["frac"])),
        (_TIME_OF_DAY, _time_of_day),
        (_DMESG, lambda m: int(m[1]) + _fraction(m[2])),
    ):
        m = pattern.match(text, pos)
        if m is not None:
            seconds = convert(m)
            if seconds is not None:
                return seconds, m.end()
    return None


def prefix_time(prefix: str) -> float | None:
    """The time of a dump line from the log prefix before it.

    A dated stamp (ISO, ``dmesg -T``) wins over a seconds-since-boot stamp
    in the same prefix (a journal line carrying both), because the Frame
    contract prefers epoch time when the log has it.  A syslog short date
    (``Nov 27 01:09:11 host kernel: ``) has no year, which is guessed, so an
    exact dmesg stamp after it on the line wins over it; alone it gives the
    time.  A syslog date, a time of day or epoch seconds count only at the
    start of the line.
    """
    for pattern, convert in (
        (_DMESG_T, _dmesg_t_seconds),
        (_ISO, _iso_seconds),
        (_DMESG, lambda m: int(m[1]) + _fraction(m[2])),
    ):
        m = pattern.search(prefix)
        if m is not None:
            seconds = convert(m)
            if seconds is not None:
                return seconds
    found = leading_time(prefix)
    return found[0] if found else None


def find_direction(text: str) -> str | None:
    """``host->guest``, ``guest -> host``, ``guest to host`` and the like, or None."""
    for m in _DIRECTION_WORDS.finditer(text):
        a, b = m["a"].lower(), m["b"].lower()
        if a != b:
            return f"{a}->{b}"
    return None


def parse_preamble(text: str) -> tuple[float | None, str | None]:
    """Time and direction that a line before a dump gives to it.

    text2pcap's convention: a line of just ``I`` or ``O``, optionally followed
    by a timestamp.  ``O`` (outbound from the host) is host->guest, ``I``
    (inbound to the host) is guest->host.  Otherwise a timestamp at the start
    of the line (a log line, tcpdump's summary line) and direction words
    anywhere in it.
    """
    line = strip_ansi(text)
    m = _IO_PREAMBLE.match(line)
    if m is not None:
        rest = m["rest"] or ""
        stamp = leading_time(rest) if rest else None
        if not rest or (stamp is not None and not rest[stamp[1] :].strip()):
            direction = HOST_TO_GUEST if m["dir"] == "O" else GUEST_TO_HOST
            return (stamp[0] if stamp else None), direction
    stamp = leading_time(line)
    return (stamp[0] if stamp else None), find_direction(line)


_KEY_STAMPS = (
    _DMESG_T,
    _ISO,
    _DMESG,
    _LEVEL,
    re.compile(r"^\s*[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d(?:\.\d+)?"),
)


def prefix_key(prefix: str) -> str:
    """A dump line's prefix without its timestamps: lines of one dump share it."""
    key = prefix
    for pattern in _KEY_STAMPS:
        key = pattern.sub("", key)
    return " ".join(key.split())
