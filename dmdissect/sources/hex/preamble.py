"""Time and direction that the text around a dump gives to its message.

text2pcap's convention is honoured: a line of just ``I`` or ``O`` before the
dump, optionally followed by a timestamp; ``O`` (outbound from the host) is
host->guest, ``I`` (inbound to the host) is guest->host.  Words such as
``host->guest`` or ``guest to host`` say it too.
"""

from __future__ import annotations

import functools
import re

from dmdissect.sources.hex.timestamps import leading_time
from dmdissect.vocabulary import Direction

_IO_PREAMBLE = re.compile(r"\s*(?P<dir>[IO])(?:\s|$)")
_DIRECTION_WORDS = re.compile(
    r"(?<![A-Za-z])(?P<a>host|guest)\s*(?:->|→|=>|\bto\b)\s*(?P<b>host|guest)(?![A-Za-z])",
    re.IGNORECASE,
)


def io_direction(letter: str) -> Direction:
    """text2pcap's ``I``/``O``: inbound to the host is guest->host, outbound host->guest."""
    return Direction.HOST_TO_GUEST if letter == "O" else Direction.GUEST_TO_HOST


def find_direction(text: str) -> Direction | None:
    """``host->guest``, ``guest -> host``, ``guest to host`` and the like, or None.

    A dmesg stamp holds no such words, so the rest of a stamped line (the same
    driver line again and again) is looked up in a cache.
    """
    if text.startswith("[") and (m := _STAMP.match(text)) is not None:
        text = text[m.end() :]
    return _cached_direction(text) if len(text) <= CACHED_LENGTH else _direction_in(text)


_STAMP = re.compile(r"\[ *\d{1,12}\.\d{1,12}\]")
#: Only short texts are cached, so the cache stays small whatever the lines.
CACHED_LENGTH = 256


def _direction_in(text: str) -> Direction | None:
    for m in _DIRECTION_WORDS.finditer(text):
        a, b = m["a"].lower(), m["b"].lower()
        if a != b:
            return Direction(f"{a}->{b}")
    return None


def parse_preamble(line: str) -> tuple[float | None, Direction | None]:
    """Time and direction that a line before a dump gives to it.

    text2pcap's ``I`` or ``O`` line, optionally followed by a timestamp;
    otherwise a timestamp at the start of the line (a log line, tcpdump's
    summary line) and direction words anywhere in it.
    """
    io = _io_line(line)
    if io is not None:
        return io
    stamp = leading_time(line)
    return (stamp[0] if stamp else None), find_direction(line)


def preamble_direction(line: str) -> Direction | None:
    """The direction of :func:`parse_preamble`, without reading the line's time.

    A line starting with ``[`` (a dmesg stamp) is no text2pcap ``I``/``O`` line.
    """
    if line.startswith("["):
        return find_direction(line)
    io = _io_line(line)
    return io[1] if io is not None else find_direction(line)


def _io_line(line: str) -> tuple[float | None, Direction] | None:
    """text2pcap's ``I`` or ``O`` line, alone or with a timestamp: its time and direction."""
    m = _IO_PREAMBLE.match(line)
    if m is None:
        return None
    rest = line[m.end() :].strip()
    stamp = leading_time(rest) if rest else None
    if not rest or (stamp is not None and not rest[stamp[1] :].strip()):
        return (stamp[0] if stamp else None), io_direction(m["dir"])
    return None


_cached_direction = functools.lru_cache(maxsize=256)(_direction_in)
