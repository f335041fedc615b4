"""The one escaping function for text that came from the input.

Finding messages, packet comments, origins and file names can hold anything
a hostile or broken input puts there.  Before any of it reaches a terminal
(or a report), :func:`printable` shows as an escape every character that
could drive or deceive the reader: C0/C1 controls (``\\x1b[2J`` would clear
the screen), invisible formatting characters (U+202E RIGHT-TO-LEFT OVERRIDE
reverses what follows, U+2066..U+2069 isolates, U+200B zero width space, the
U+FEFF byte-order mark), line and paragraph separators, private-use
characters, and lone surrogates (a file name that is not valid UTF-8 arrives
with them and cannot even be encoded).  Tab stays.  :func:`json_safe` keeps
text as it is but for lone surrogates, which no JSON reader accepts.
"""

from __future__ import annotations

import unicodedata

#: Unicode categories shown escaped: controls, format, surrogates, private use,
#: line and paragraph separators.
_ESCAPED = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
_KEPT = frozenset("\t")


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}" if ch not in "\n\r" else repr(ch)[1:-1]
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str) -> str:
    """``text`` with every character that could act on a terminal shown as an escape."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(
        _escape(ch) if ch not in _KEPT and unicodedata.category(ch) in _ESCAPED else ch
        for ch in text
    )


def json_safe(text: str) -> str:
    """``text`` with lone surrogates written as ``\\udcXX`` escapes, so JSON stays valid."""
    if text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
