"""Rows that spell bytes as literals: Python ``b'...'`` reprs and C arrays of ``0x07``."""

from __future__ import annotations

import re

from dmdissect.sources.hex.columns import is_hex
from dmdissect.sources.hex.plain_rows import plain_row
from dmdissect.sources.hex.row import CARRAY, PYREPR, Problems, Row

# --- Python bytes reprs --------------------------------------------------------------

_BYTES_LITERAL_START = re.compile(r"(?<![\w'\"])[bB](['\"])")
#: The next literal after the one just read, past the spaces between them.
_NEXT_LITERAL = re.compile(r"\s*" + _BYTES_LITERAL_START.pattern)

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


def _read_bytes_literal(line: str, start: int, quote: str) -> tuple[bytes, int, Problems] | None:
    """Read one ``b'...'`` body from ``start`` (after the quote) like Python's tokenizer,
    without evaluating anything.  A literal the line cuts off is kept, with a
    problem, when it holds ``\\x`` escapes (a torn paste); otherwise it is
    prose (``it's b'cause``) and None."""
    out = bytearray()
    problems = Problems()
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
    problems.append("the bytes literal is cut off before its closing quote")
    return bytes(out), i, problems


def parse_pyrepr(line: str) -> Row | None:
    """``b'\\x07\\x00...'``, also literals side by side (implicit concatenation).

    A literal that is the ASCII column of hex groups before it on the line
    (``42 22 ... 22  B"...."``, the column rendering the groups) is no repr:
    the line is a dump row."""
    m = first = _BYTES_LITERAL_START.search(line)
    if first is None:
        return None
    data, problems = bytearray(), Problems()
    while m is not None:
        literal = _read_bytes_literal(line, m.end(), m.group(1))
        if literal is None:
            break
        data += literal[0]
        problems.extend(literal[2])
        m = _NEXT_LITERAL.match(line, literal[1])
    if not data:
        return None
    plain = plain_row(line)
    if plain is not None and plain.ascii is not None:
        return None  # an ASCII column that reads B"...": the line is a dump row
    return Row(PYREPR, raw=bytes(data), prefix=line[: first.start()], problems=problems.final())


# --- C arrays: 0x07, 0x00, ... --------------------------------------------------------


_C_TOKEN = re.compile(r"0[xX]([0-9a-fA-F]+)[uUlL]*")

_C_SEPARATOR = re.compile(r"^[\s,]*$")

#: A line that opens an array: ``unsigned char msg[] = {``, ``msg = bytes([``, ``{``.
_C_OPENER = re.compile(r"(?:[A-Za-z_][\w \t*\[\]]*=\s*(?:[A-Za-z_][\w.]*\s*\(\s*)?)?[{\[]")


def _strip_comments(line: str) -> str:
    """``line`` without its ``/* ... */`` and ``// ...`` comments, in one pass.

    An unclosed ``/*`` stays as text (and so the line is no array row).  Once
    a ``*/`` has been looked for in vain, none is looked for again, which
    keeps a line of many unclosed comments linear.
    """
    out = []
    pos = 0
    unclosed = False
    while (i := line.find("/", pos)) >= 0 and i + 1 < len(line):
        after = line[i + 1]
        if after == "/":
            out.append(line[pos:i])
            return "".join(out)
        if after == "*" and not unclosed:
            end = line.find("*/", i + 2)
            if end >= 0:
                out.append(line[pos:i])
                pos = end + 2
                continue
            unclosed = True
        out.append(line[pos : i + 1])
        pos = i + 1
    out.append(line[pos:])
    return "".join(out)


def _only_closers(body: str) -> bool:
    """Whether ``body`` is closing brackets then separators (``}``, ``]);``, ``},``):
    one or more of ``}])``, then any of ``;,)``."""
    if not body or body[0] not in "}])":
        return False
    last = max(body.rfind("}"), body.rfind("]"))
    return not body[: last + 1].strip("}])") and not body[last + 1 :].strip(";,)")


def _c_byte(digits: str) -> tuple[bytes, str | None]:
    if len(digits) <= 2:
        return bytes([int(digits, 16)]), None
    return b"", f"0x{digits} is not a byte; it is skipped"


def parse_carray(line: str) -> Row | None:
    """A line of ``0x..`` bytes, optionally opening or closing a ``{...}`` / ``[...]`` block."""
    body = _strip_comments(line).strip()
    first = _C_TOKEN.search(body)
    if first is None:
        opens = bool(_C_OPENER.fullmatch(body))
        closes = _only_closers(body)
        return Row(CARRAY, raw=b"", opens=opens, closes=closes) if opens or closes else None
    head = body[: first.start()]
    opens = bool(head) and head.rstrip()[-1:] in ("{", "[")
    if head.strip() and not opens:
        return None
    tokens = list(_C_TOKEN.finditer(body))
    out, problems, pos = bytearray(), Problems(), first.start()
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
    return Row(
        CARRAY,
        raw=bytes(out),
        opens=opens,
        closes=closes,
        problems=problems.final(),
        more=not closes and tail.endswith(","),
    )
