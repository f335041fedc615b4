"""Structure-aware inputs for the hex reader: long lines of each format's special
characters, digit counts around every limit, and real dumps broken by them.

Random byte strings rarely hit what breaks a line parser: a regular
expression that backtracks on a thousand ``/*``, a timestamp of three hundred
digits, an offset one digit too wide.  These generators build such lines
from the characters each format gives a meaning to.  They draw from a
:class:`random.Random`, so hypothesis (``st.randoms()``) and atheris (a
Random seeded from the fuzzer's bytes, ``fuzz/fuzz_hex.py``) drive the same
code through :func:`fuzz.harness.exercise`.
"""

from __future__ import annotations

import random

#: What each format gives a meaning to, as the pieces a line is made of.
SPECIALS: dict[str, tuple[str, ...]] = {
    "xxd": ("00000000: ", "00000010: ", "0700 ", "3800", "  ", ".", ":"),
    "hexdump -C": ("00000000  ", "|", "*", "07 ", "  ", "00000038"),
    "od": ("000000 ", "0000020 ", ">", "<", "07 ", "0000070"),
    "tcpdump": ("\t0x0000:  ", "0x0010:", "0700 ", "  ", "."),
    "tshark": ("0000  ", "0010   ", "07 ", "   ", "Frame 1: 8 bytes on wire", "    Data: "),
    "kernel": ("[", "]", " ", ".", "hv_balloon: ", "<7>", "(____ptrval____): ", "ffff"),
    "times": ("Nov 27 ", "[Fri Nov 27 01:09:11 2026] ", "2026-11-27T", "12:00:03", ".", ":"),
    "text2pcap": ("I ", "O ", "I", "O", " ", "0000 ", "000000 "),
    "C array": ("0x", "0X07", "{", "}", "[", "]", "(", ")", "/*", "*/", "//", ",", ";", "="),
    "Python repr": ("b'", 'B"', "\\x", "\\", "'", '"', "\\x0", "\\377"),
    "plain": (":", "-", ", ", "#", "//", " ", "07", "0", "ab"),
}
#: Digit counts that sit at or across a limit of some parser.
DIGIT_COUNTS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 17, 32, 33, 300)


def digits(rnd: random.Random, count: int | None = None) -> str:
    """A run of decimal or hex digits of a count around some limit."""
    count = rnd.choice(DIGIT_COUNTS) if count is None else count
    alphabet = "0123456789" if rnd.random() < 0.5 else "0123456789abcdef"
    return "".join(rnd.choice(alphabet) for _ in range(count))


def stamp(rnd: random.Random) -> str:
    """A log timestamp whose digit counts may be far beyond any real one."""
    seconds, fraction = digits(rnd, rnd.choice(DIGIT_COUNTS)), digits(rnd, rnd.choice((6, 9, 13)))
    return rnd.choice(
        (
            f"[{seconds}.{fraction}] ",
            f"<7>[ {seconds}.{fraction}] ",
            f"{seconds}.{fraction} ",
            f"Nov 27 {digits(rnd, 2)}:{digits(rnd, 2)}:{digits(rnd, 2)}.{fraction} ",
        )
    )


def long_line(rnd: random.Random, length: int, format_name: str | None = None) -> str:
    """A line of about ``length`` characters made of one format's special pieces."""
    name = format_name or rnd.choice(sorted(SPECIALS))
    pieces = SPECIALS[name]
    if rnd.random() < 0.5:
        piece = rnd.choice(pieces)
        return piece * max(1, length // len(piece)) + rnd.choice(("", "x", "y", " "))
    out: list[str] = []
    size = 0
    while size < length:
        piece = rnd.choice(pieces) if rnd.random() < 0.8 else digits(rnd)
        out.append(piece)
        size += len(piece)
    return "".join(out)


def dump_line(rnd: random.Random, data: bytes, offset: int = 0) -> str:
    """One row of a real-looking dump of ``data`` in a random layout."""
    hex_bytes = " ".join(f"{b:02x}" for b in data)
    column = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in data)
    return rnd.choice(
        (
            f"{stamp(rnd)}hv_balloon: {offset:08x}: {hex_bytes}  {column}",
            f"{offset:08x}  {hex_bytes}  |{column}|",
            f"{offset:04x}  {hex_bytes}   {column}",
            f"\t0x{offset:04x}:  {data.hex()}",
            data.hex(),
            ", ".join(f"0x{b:02x}" for b in data),
        )
    )


def document(rnd: random.Random, max_length: int = 20000) -> bytes:
    """A hex input of real rows, long special lines and lying headers, mixed."""
    lines = []
    for _ in range(rnd.randrange(1, 12)):
        kind = rnd.random()
        if kind < 0.4:
            size = rnd.choice((8, 16, 24, 0xFFFF, rnd.randrange(0x10000)))
            head = rnd.randrange(16).to_bytes(2, "little") + size.to_bytes(2, "little")
            data = head + rnd.randbytes(rnd.randrange(4, 40))
            for offset in range(0, len(data), 16):
                lines.append(dump_line(rnd, data[offset : offset + 16], offset))
        elif kind < 0.8:
            lines.append(long_line(rnd, rnd.randrange(1, max_length)))
        else:
            lines.append(rnd.choice(("", "*", "I", "O", stamp(rnd) + "hv_balloon: guest->host")))
    return ("\n".join(lines) + rnd.choice(("", "\n"))).encode("utf-8", "surrogatepass")
