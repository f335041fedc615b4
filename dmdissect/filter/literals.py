"""Literals of a display filter, read as the type of the field they are compared with.

A word such as ``07`` is the number 7 next to ``hdr.type`` and the byte 0x07
next to ``frame[0]``, as in Wireshark; every reader here raises
:class:`LiteralError` with Wireshark's wording when the text does not fit.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime


class LiteralError(ValueError):
    """The text cannot be a value of the wanted type (the message says why).

    ``offset`` is where in the literal's source the fault is (an escape).
    """

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.offset = offset


_INT = re.compile(r"(0[xX][0-9a-fA-F]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
_FLOAT = re.compile(r"[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?|\.[0-9]+([eE][-+]?[0-9]+)?")
_BYTES_SEPARATED = re.compile(r"[0-9a-fA-F]{1,2}([:.\-][0-9a-fA-F]{1,2})+")
_BYTES_PLAIN = re.compile(r"[0-9a-fA-F]+")
_ESCAPES = re.compile(r"\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.?)", re.S)
_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
#: Characters that stand for themselves after a backslash (C's, as Wireshark takes them).
_THEMSELVES = "\\\"'?"


def integer(text: str) -> int:
    """Decimal, ``0x`` hex, ``0b`` binary or ``0``-prefixed octal, as C and Wireshark read them."""
    if not _INT.fullmatch(text):
        raise LiteralError(f'"{text}" is not a valid number.')
    if text[:2] in ("0x", "0X"):
        return int(text, 16)
    if text[:2] in ("0b", "0B"):
        return int(text[2:], 2)
    if len(text) > 1 and text[0] == "0":
        return int(text, 8)
    return int(text)


def number(text: str) -> float | int:
    """An integer as :func:`integer` reads it, else a decimal fraction."""
    try:
        return integer(text)
    except LiteralError:
        pass
    if not _FLOAT.fullmatch(text):
        raise LiteralError(f'"{text}" is not a valid number.')
    return float(text)


def byte_string(text: str) -> bytes:
    """``07:00``, ``07-00``, ``07.00``, ``0700`` or a single byte ``7``/``07``/``0x07``.

    Digits without separators are read in pairs from the left, an odd last digit a byte
    of its own, as tshark 4.0 reads them (``010`` is ``01 00``, ``abc`` is ``ab 0c``).
    """
    if _BYTES_SEPARATED.fullmatch(text):
        return bytes(int(part, 16) for part in re.split(r"[:.\-]", text))
    if _BYTES_PLAIN.fullmatch(text):
        return bytes(int(text[i : i + 2], 16) for i in range(0, len(text), 2))
    if text[:2] in ("0x", "0X"):
        try:
            value = integer(text)
        except LiteralError:
            value = 256
        if value < 256:
            return bytes([value])
    raise LiteralError(f'"{text}" is not a valid byte string.')


def quoted(token: str) -> str:
    """The text of a quoted string: ``"..."`` with C escapes, ``r"..."`` as written.

    The escapes are C's, as Wireshark reads them: ``\\n`` and the other
    letters, ``\\\\`` ``\\"`` ``\\'``, ``\\xHH``, octal ``\\ooo`` and the universal
    characters ``\\uHHHH``/``\\UHHHHHHHH``; any other is an error.
    """
    if token.startswith("r"):
        return token[2:-1]
    return _unescaped(token[1:-1], 1)


def character(token: str) -> int:
    """The code of a character constant: ``'a'``, ``'\\n'``, ``'\\x07'``, ``'\\101'``."""
    text = _unescaped(token[1:-1], 1)
    if len(text) != 1:
        raise LiteralError(f"{token} is not a valid character constant.")
    return ord(text)


def _unescaped(body: str, offset: int) -> str:
    out: list[str] = []
    position = 0
    for match in _ESCAPES.finditer(body):
        out.append(body[position : match.start()])
        out.append(_unescape(match, offset + match.start()))
        position = match.end()
    out.append(body[position:])
    return "".join(out)


def _unescape(match: re.Match, offset: int) -> str:
    code = match.group(1)
    if not code:
        raise LiteralError("A backslash ends the string.", offset)
    if code[0] == "x":
        return chr(int(code[1:], 16))
    if code[0] in "uU" and len(code) > 1:
        point = int(code[1:], 16)
        if (point < 0xA0 and point not in (0x24, 0x40, 0x60)) or 0xD800 <= point <= 0xDFFF:
            raise LiteralError(f"\\{code} is not a valid universal character name", offset)
        if point > 0x10FFFF:
            raise LiteralError(f"\\{code} is not a valid universal character name", offset)
        return chr(point)
    if code[0] in "01234567":
        return chr(int(code, 8))
    if code in _SIMPLE:
        return _SIMPLE[code]
    if code in _THEMSELVES:
        return code
    raise LiteralError(f"\\{code} is not a valid character escape sequence", offset)


_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%b %d, %Y %H:%M:%S.%f",
    "%b %d, %Y %H:%M:%S",
    "%b %d, %Y",
)


def absolute_time(text: str) -> float:
    """Epoch seconds of a date (ISO 8601 or Wireshark's ``Jan  1, 2026 00:00:01``), in UTC.

    dmdissect shows times in UTC, so a date without a zone is UTC; ``Z`` or
    ``UTC`` may be given.  A number is taken as the time itself (epoch seconds,
    or seconds since boot for a dmesg dump).
    """
    try:
        return float(number(text))
    except LiteralError:
        pass
    stamp = re.sub(r"\s+", " ", text.strip())
    stamp = re.sub(r"\s*(UTC|Z)$", "", stamp)
    stamp = re.sub(r"(\.\d{6})\d+", r"\1", stamp)
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(stamp, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    raise LiteralError(f'"{text}" is not a valid absolute time. Example: "2026-01-01 00:00:01.5"')
