"""Timestamps at the start of log lines and in the prefix of dump lines.

Shared by every reader of text logs: dmesg ``[  100.5]`` (seconds since
boot; ``dmesg -d`` adds the time since the line before), ``dmesg -T`` dates,
ISO dates, syslog and ``journalctl`` short dates, a bare time of day and
epoch seconds.  A time may have at most
:data:`MAX_DIGITS` digits before its point and as many after it: a stamp of
hundreds of digits is no time (it would not fit a float) and is left out, so
the line gets no time instead of a crash.
"""

from __future__ import annotations

import calendar
import functools
import re
import time

#: The most digits a count of seconds (or its fraction) may have: enough for
#: nanoseconds and for any boot or epoch time, few enough for a float.
MAX_DIGITS = 12

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_LEVEL = re.compile(r"^\s*<\d{1,3}>")
_DMESG = re.compile(r"\[\s*(\d+)\.(\d+)\]")
#: ``dmesg -d`` and ``journalctl -o short-delta``: the stamp and the time since the line
#: before, ``[  100.500000 <    0.000100>]``; the first number is the line's own time.
_DMESG_DELTA = re.compile(r"\[\s*(\d+)\.(\d+) <\s*\d+\.\d+>\]")
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


def _fraction(digits: str | None) -> float:
    return int(digits) / 10 ** len(digits) if digits else 0.0


def _civil(year: int, month: int, day: int, h: int, mi: int, s: int) -> int | None:
    """Epoch seconds of a UTC date and time, None when no calendar has it.

    ``calendar.timegm`` counts 41 December as 10 January: a day, hour or
    minute out of range is a garbled stamp, not another time.  A second of 60
    is a leap second.
    """
    if not 1 <= month <= 12 or h > 23 or mi > 59 or s > 60:
        return None
    try:
        if not 1 <= day <= calendar.monthrange(year, month)[1]:
            return None
        return calendar.timegm((year, month, day, h, mi, s, 0, 0, 0))
    except (ValueError, OverflowError):
        return None


def _iso_seconds(m: re.Match) -> float | None:
    """Epoch seconds of an ISO date; naive dates are taken as UTC."""
    base = _civil(
        int(m["year"]), int(m["mon"]), int(m["day"]), int(m["h"]), int(m["m"]), int(m["s"])
    )
    if base is None:
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
    found = _civil(int(m["year"]), month, int(m["day"]), int(m["h"]), int(m["m"]), int(m["s"]))
    return None if found is None else float(found)


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


def _epoch_seconds(m: re.Match) -> float:
    return int(m["sec"]) + _fraction(m["frac"])


def _dmesg_seconds(m: re.Match) -> float | None:
    if len(m[1]) > MAX_DIGITS or len(m[2]) > MAX_DIGITS:
        return None
    return int(m[1]) + _fraction(m[2])


def overlong_time(prefix: str) -> str | None:
    """A dmesg stamp in ``prefix`` with more digits than a time may have, for a finding."""
    for m in _DMESG.finditer(prefix):
        if _dmesg_seconds(m) is None:
            shown = m.group()
            return shown if len(shown) <= 40 else f"{shown[:36]}...]"
    return None


_LEADING = (
    (_ISO, _iso_seconds),
    (_DMESG_T, _dmesg_t_seconds),
    (_SYSLOG, _syslog_seconds),
    (_EPOCH, _epoch_seconds),
    (_TIME_OF_DAY, _time_of_day),
    (_DMESG, _dmesg_seconds),
    (_DMESG_DELTA, _dmesg_seconds),
)


#: The stamps that start with ``[``, in the same order.
_BRACKETED = tuple(p for p in _LEADING if p[0].pattern.startswith(r"\["))


def leading_time(text: str) -> tuple[float, int] | None:
    """A timestamp at the start of ``text`` (after a ``<level>``): seconds and where it ends.

    dmesg ``[  100.5]`` gives seconds since boot; ``dmesg -T`` and ISO dates
    give epoch seconds (naive dates are UTC); syslog and ``journalctl``
    short stamps (``Nov 27 01:09:11``) give epoch seconds in a guessed year
    (:func:`_syslog_seconds`); a bare ``12:00:03.123456`` gives seconds since
    midnight; ``1764205751.123`` is epoch seconds already.
    """
    found = _leading(text)
    return (found[0], found[1].end()) if found else None


def _leading(text: str) -> tuple[float, re.Match] | None:
    level = _LEVEL.match(text)
    pos = level.end() if level else 0
    pos += len(text[pos:]) - len(text[pos:].lstrip())
    for pattern, convert in _BRACKETED if text.startswith("[", pos) else _LEADING:
        m = pattern.match(text, pos)
        if m is not None:
            seconds = convert(m)
            if seconds is not None:
                return seconds, m
    return None


def _step(m: re.Match) -> float:
    """How finely a matched stamp counts: one unit of its last digit (whole seconds: 1)."""
    digits = m[2] if m.re is _DMESG or m.re is _DMESG_DELTA else m.groupdict().get("frac")
    return 10.0 ** -len(digits) if digits else 1.0


_IN_PREFIX = (
    (_DMESG_T, _dmesg_t_seconds),
    (_ISO, _iso_seconds),
    (_DMESG, _dmesg_seconds),
    (_DMESG_DELTA, _dmesg_seconds),
)


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
    found = _prefix_stamp(prefix)
    return found[0] if found else None


def prefix_stamp(prefix: str) -> tuple[float, float] | None:
    """:func:`prefix_time` and how finely that stamp counts (its step, in seconds).

    A journal's ``Nov 27 01:09:11`` and a ``dmesg -T`` date count whole
    seconds (step 1), ``[  100.500000]`` microseconds: what the line records
    happened somewhere in ``[time, time + step)``.
    """
    found = _prefix_stamp(prefix)
    return (found[0], _step(found[1])) if found else None


def stamped_time(stamp: str, rest: str) -> float | None:
    """:func:`prefix_time` of ``stamp + rest``, where ``stamp`` is a dmesg stamp of at most
    :data:`MAX_DIGITS` digits a side (``[  100.500000]``, as a dump's rows carry it).

    When ``rest`` (the same on every row: the driver's name) holds no date that would
    win over the stamp, the stamp's seconds are read directly, as
    :func:`_dmesg_seconds` reads them; the rest is asked once per distinct text.
    """
    if _holds_no_date(rest):
        seconds, _, fraction = stamp[1:-1].lstrip(" ").partition(".")
        return int(seconds) + int(fraction) / 10 ** len(fraction)
    return prefix_time(stamp + rest)


@functools.lru_cache(maxsize=256)
def _holds_no_date(rest: str) -> bool:
    """What :func:`_prefix_stamp` asks of the text after a dmesg stamp."""
    return not _DMESG_T.search(rest) and not _ISO.search(rest)


def _prefix_stamp(prefix: str) -> tuple[float, re.Match] | None:
    if prefix.startswith("[") and (m := _DMESG.match(prefix)) is not None:
        if not _DMESG_T.search(prefix, m.end()) and not _ISO.search(prefix, m.end()):
            seconds = _dmesg_seconds(m)
            return None if seconds is None else (seconds, m)
    for pattern, convert in _IN_PREFIX:
        m = pattern.search(prefix)
        if m is not None:
            found = convert(m)
            if found is not None:
                return found, m
    return _leading(prefix)


_STAMPS = (
    _DMESG_T,
    _ISO,
    _DMESG,
    _DMESG_DELTA,
    _LEVEL,
    re.compile(r"^\s*[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d(?:\.\d+)?"),
)


def without_times(prefix: str) -> str:
    """A line prefix without its timestamps and log level, spacing normalised: the
    lines of one dump share it whatever their times.

    The usual prefix is a dmesg stamp and a driver name; the stamp is cut
    first and the rest, the same on every line, looked up in a cache.
    """
    if prefix.startswith("[") and (m := _DMESG.match(prefix)) is not None:
        prefix = prefix[m.end() :]
    return _cached_without_times(prefix) if len(prefix) <= 256 else _without_times(prefix)


def _without_times(prefix: str) -> str:
    for pattern in _STAMPS:
        prefix = pattern.sub("", prefix)
    return " ".join(prefix.split())


#: Only short prefixes are cached, so the cache stays small whatever the lines.
_cached_without_times = functools.lru_cache(maxsize=256)(_without_times)
