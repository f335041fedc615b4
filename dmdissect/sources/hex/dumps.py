"""Whole kernel dumps taken at once: one match and one comparison per message, not per line.

A dmesg log of ``print_hex_dump`` rows (groupsize 1, rowsize 16, offsets) is
nearly all such dumps, each a direction line and a few rows.  Read line by
line, every row costs a regular expression, a decoding and a column check in
Python.  Here the lines of a chunk are looked at together: one expression
finds a dump's first row (and the direction line before it), the header in
that row says how many rows the message takes, and those rows are checked
in one go by writing them again, exactly as the kernel prints them, from
the bytes their hex spells (:func:`dump_at`); only text that comes out
character for character the same is taken, and the framer takes it the way
its fast lane takes the same rows one by one
(:meth:`~dmdissect.sources.hex.framer.Framer.take_dump`).  Anything else (a
column that disagrees, a row of another width, stamps of another width, a
message cut by the end of the chunk) is left to the line reader, so this
changes speed, never results; the tests read every input both ways.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Sequence
from functools import cache
from typing import Any

from dmdissect.sources.frame import Frame
from dmdissect.sources.hex.columns import render_ascii
from dmdissect.sources.hex.formats import KERNEL_NOISE, STAMP
from dmdissect.sources.hex.framer import Framer
from dmdissect.sources.hex.preamble import find_direction
from dmdissect.sources.hex.sizes import MAX_MESSAGE, SIZE_END, header_size

#: Bytes of one kernel row (rowsize 16) and the text of a full row after its prefix:
#: ``00000010: `` then 16 bytes as ``xx `` less the last space, two spaces, 16 characters.
ROW = 16
_OFFSET = len("00000000: ")
_HEX = 3 * ROW - 1
_FULL = _OFFSET + _HEX + 2 + ROW

#: A direction line (what :data:`~dmdissect.sources.hex.formats.KERNEL_NOISE` knows), then
#: the prefix of a row at offset 0: its stamp (group 2) and the driver's name (group 3).
_HEAD = re.compile(
    rf"(?:({KERNEL_NOISE})\n)?({STAMP})( [A-Za-z_][\w.-]{{0,40}}: )00000000: [0-9a-f]{{2}} "
)

#: ``00000000: `` ... for every row a message may have.
_OFFSETS = [f"{offset:08x}: " for offset in range(0, MAX_MESSAGE + ROW, ROW)]
#: Messages of at most this many rows are checked by a function made for their shape.
COMPILED_ROWS = 64

#: ``check(text, at, step, prefixes)``: the bytes of the dump whose first hex digit is
#: at ``at`` and whose rows are ``step`` apart, their ASCII column, and the text the
#: kernel prints for them under ``prefixes`` (one per row).
Check = Callable[[str, int, int, Sequence[str]], tuple[bytes, str, str]]


@cache
def _check(rows: int, last: int) -> Check:
    """The :data:`Check` of dumps of ``rows`` rows, the last holding ``last`` bytes: one
    expression gathers the hex, one f-string writes the rows (no loop, no list)."""
    hex_areas = " + ".join(
        f"text[at + {row} * step : at + {row} * step + {_HEX if row < rows - 1 else 3 * last - 1}]"
        for row in range(rows)
    )
    lines = [
        f"{{prefixes[{row}]}}{_OFFSETS[row]}{{hexed[{3 * ROW * row}:{3 * ROW * row + _HEX}]}}  "
        f"{{shown[{ROW * row}:{ROW * row + ROW}]}}"
        for row in range(rows - 1)
    ]
    final = rows - 1
    lines.append(
        f"{{prefixes[{final}]}}{_OFFSETS[final]}{{hexed[{3 * ROW * final}:]:<{_HEX + 2}}}"
        f"{{shown[{ROW * final}:]}}"
    )
    source = (
        "def check(text, at, step, prefixes):\n"
        f"    data = fromhex({hex_areas})\n"
        "    hexed = data.hex(' ')\n"
        "    shown = render_ascii(data)\n"
        f"    return data, shown, f{chr(10).join(lines)!r}\n"
    )
    namespace: dict[str, Any] = {"fromhex": bytes.fromhex, "render_ascii": render_ascii}
    exec(compile(source, f"<kernel dump of {rows} rows>", "exec"), namespace)
    return namespace["check"]


def _check_any(text: str, at: int, step: int, prefixes: Sequence[str]) -> tuple[bytes, str, str]:
    """:data:`Check` of a dump of any number of rows, row by row."""
    rows = len(prefixes)
    data = bytes.fromhex(
        "".join([text[at + row * step : at + row * step + _HEX] for row in range(rows)])
    )
    hexed = data.hex(" ")
    shown = render_ascii(data)
    written = [
        f"{prefixes[row]}{_OFFSETS[row]}{hexed[3 * ROW * row : 3 * ROW * row + _HEX]}  "
        f"{shown[ROW * row : ROW * row + ROW]}"
        for row in range(rows - 1)
    ]
    final = rows - 1
    written.append(
        f"{prefixes[final]}{_OFFSETS[final]}"
        f"{hexed[3 * ROW * final :]:<{_HEX + 2}}{shown[ROW * final :]}"
    )
    return data, shown, "\n".join(written)


def dump_at(text: str, match: re.Match) -> tuple[bytes, int, int] | None:
    """The message whose dump starts at ``match`` (of :data:`_HEAD`): its bytes, where its
    text ends and how many rows it has; None unless every row is exactly what the
    kernel prints for those bytes under the stamps the rows carry.

    The rows are as many as the header's size asks for; a dump with more rows is
    still right to take in part, as the lane goes on with the rows after it.
    """
    start = match.start(2)
    prefix = match[2] + match[3]
    width = len(prefix)
    at = start + width + _OFFSET
    try:
        size = header_size(bytes.fromhex(text[at : at + 3 * SIZE_END]))
    except ValueError:
        return None
    if not 0 < size <= MAX_MESSAGE:
        return None
    rows, last = divmod(size, ROW)
    if last:
        rows += 1
    else:
        last = ROW
    step = width + _FULL + 1
    end = start + (rows - 1) * step + width + _OFFSET + _HEX + 2 + last
    if end > len(text) or (end < len(text) and text[end] != "\n"):
        return None
    final = start + (rows - 1) * step + len(match[2])
    if not text.startswith(match[3] + _OFFSETS[rows - 1], final):
        return None  # no row of this dump where its last should be: no work for a lying size
    check = _check(rows, last) if rows <= COMPILED_ROWS else _check_any
    try:
        data, shown, written = check(text, at, step, [prefix] * rows)
        if not text.startswith(written, start) or len(written) != end - start:
            # the rows' stamps differ (a kernel stamps each line): read them from the rows
            stamps = [text[row : row + len(match[2])] for row in range(start, end, step)]
            if not _one_stamp_each(stamps):
                return None
            tail = match[3]
            data, shown, written = check(text, at, step, [stamp + tail for stamp in stamps])
            if not text.startswith(written, start) or len(written) != end - start:
                return None
    except ValueError:
        return None
    if " " in shown[::ROW] or " " in shown[ROW - 1 :: ROW] or shown[-1] == " ":
        # a column starting or ending with a space: the line reader reads its row
        # otherwise (the line's end is stripped), so it decides
        return None
    return data, end, rows


_STAMPS = re.compile(rf"(?:{STAMP})+")


def _one_stamp_each(stamps: list[str]) -> bool:
    """Whether each text (all of one width) is one dmesg stamp: each starts with the only
    ``[`` in it, and together they read as stamps one after the other."""
    joined = "".join(stamps)
    return (
        joined.count("[") == len(stamps)
        and joined[:: len(stamps[0])] == "[" * len(stamps)
        and _STAMPS.fullmatch(joined) is not None
    )


def take_lines(framer: Framer, number: int, text: str) -> Generator[Frame, None, int]:
    """The messages of ``text`` (whole lines joined by newlines, the first numbered
    ``number + 1``); returns the number of its last line."""
    pos = 0
    size = len(text)
    head = _HEAD.match
    while pos <= size:
        found = head(text, pos)
        if found is not None and (dump := dump_at(text, found)) is not None:
            data, end, rows = dump
            noise = found[1]
            said = None
            if noise is not None:
                number += 1
                yield from framer.noise_line(number, noise)
                # the words after its stamp (whose "]" is the line's first): what the
                # direction of the line is read from (find_direction cuts the stamp)
                said = find_direction(noise[noise.index("]") + 1 :])
            rows_text = text[found.start(2) : end]
            if framer.take_dump(number + 1, found[2], found[3], data, rows_text, said):
                number += rows
                pos = end + 1
                yield from framer.out
                continue
            pos = found.start(2)
        cut = text.find("\n", pos)
        if cut < 0:
            cut = size
        number += 1
        yield from framer.feed(number, text[pos:cut].rstrip("\r"))
        pos = cut + 1
    return number
