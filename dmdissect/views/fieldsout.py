"""``-T fields -e FIELD -E OPTION``: chosen fields of each message, one line each, as tshark.

The options and their defaults are tshark's: tab between fields, no quotes,
no header, every occurrence of a repeated field joined by ``,``.  Values are
written as ``tshark -T fields`` writes them: integers in decimal (hex fields
as ``0x`` and the digits of their width), booleans ``1``/``0``, bytes as
plain hex, times as dates; times to the microsecond, dmdissect's precision.
Quoting uses the csv module, so a quote inside a value is doubled (RFC 4180)
and a value never escapes its quotes; an absent field is an empty column,
never quoted, as in tshark.  Control characters in text are escaped so they
never reach a terminal.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dmdissect.analysis.registry import BOOL, TIME, FieldDef, TimeReference, lookup
from dmdissect.views.output import Output, printable
from dmdissect.views.session import EPOCH_FROM

#: The ``-E`` options, as ``tshark -E`` lists them.
OPTION_HELP = (
    "bom=y|n  header=y|n  separator=/t|/s|<character>  occurrence=f|l|a  "
    "aggregator=,|/s|<character>  quote=d|s|n"
)


class FieldsOptionError(ValueError):
    """A bad ``-e`` or ``-E``; the message is tshark's."""


@dataclass
class FieldsFormat:
    """How ``-T fields`` lays out its lines (tshark's defaults)."""

    header: bool = False
    separator: str = "\t"
    quote: str = ""
    occurrence: str = "a"
    aggregator: str = ","
    bom: bool = False


_CHARACTERS = {"/t": "\t", "/s": " "}
_QUOTES = {"d": '"', "s": "'", "n": ""}
_YES_NO = {"y": True, "n": False, "Y": True, "N": False}


def parse_options(options: Iterable[str]) -> FieldsFormat:
    """``-E key=value`` options into a :class:`FieldsFormat`; a bad one raises."""
    fmt = FieldsFormat()
    for option in options:
        key, equals, value = option.partition("=")
        if not equals:
            raise _bad(option)
        if key in ("header", "bom") and value in _YES_NO:
            setattr(fmt, key, _YES_NO[value])
        elif key in ("separator", "aggregator") and value:
            setattr(fmt, key, _CHARACTERS.get(value, value[0]))
        elif key == "quote" and value in _QUOTES:
            fmt.quote = _QUOTES[value]
        elif key == "occurrence" and value in ("f", "l", "a"):
            fmt.occurrence = value
        else:
            raise _bad(option)
    return fmt


def _bad(option: str) -> FieldsOptionError:
    return FieldsOptionError(
        f'-E "{option}" is not a valid field output option=value pair ({OPTION_HELP})'
    )


def resolve_fields(names: Sequence[str]) -> list[FieldDef]:
    """The registry entry of each ``-e`` name; unknown names are listed together, as tshark."""
    fields = [lookup(name) for name in names]
    unknown = [name for name, field in zip(names, fields) if field is None]
    if unknown:
        raise FieldsOptionError(f"some fields aren't valid: {', '.join(unknown)}")
    if not fields:
        raise FieldsOptionError("-T fields was given, but no fields were given with -e")
    return [field for field in fields if field is not None]


def _date(time: float) -> str:
    """tshark's absolute time (``Jan  1, 2026 00:00:01.737193 UTC``); boot seconds as they are."""
    if time < EPOCH_FROM:
        return f"{time:.6f}"
    try:
        stamp = datetime.fromtimestamp(time, UTC)
    except (ValueError, OverflowError, OSError):
        return f"{time:.6f}"
    return f"{stamp:%b} {stamp.day:2d}, {stamp:%Y %H:%M:%S.%f} UTC"


def _formatter(field: FieldDef) -> Callable[[Any], str]:
    """A function from one value of ``field`` to its text."""
    protocol = field.protocol
    if field.kind == TIME:
        return _date
    if protocol is not None and protocol.base == "hex" and protocol.widths:
        digits = (max(protocol.widths) + 3) // 4
        return lambda v: f"0x{v:0{digits}x}" if isinstance(v, int) else _text(v)
    if field.kind == BOOL:
        return lambda v: "1" if v else "0"
    return _text


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6f}"
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, str):
        return printable(value).replace("\t", "\\t")
    return ""


class FieldsWriter:
    """Writes the lines of ``-T fields`` for a stream of messages."""

    def __init__(
        self,
        fields: Sequence[FieldDef],
        fmt: FieldsFormat,
        out: Output,
        reference: TimeReference,
        names: Sequence[str] | None = None,
    ) -> None:
        self.fields = list(fields)
        self.fmt = fmt
        self.out = out
        self.reference = reference
        self.names = list(names) if names is not None else [f.name for f in fields]
        self.formatters = [_formatter(field) for field in fields]
        self._buffer = io.StringIO()
        self._quoter = (
            csv.writer(self._buffer, quotechar=fmt.quote, quoting=csv.QUOTE_ALL, lineterminator="")
            if fmt.quote
            else None
        )

    def _quoted(self, text: str) -> str:
        if self._quoter is None or not text:
            return text
        buffer = self._buffer
        buffer.seek(0)
        buffer.truncate()
        self._quoter.writerow([text])
        return buffer.getvalue()

    def header(self) -> None:
        prefix = "\ufeff" if self.fmt.bom else ""
        if self.fmt.header:
            self.out.raw(prefix + self.fmt.separator.join(self.names) + "\n")
        elif prefix:
            self.out.raw(prefix)

    def line(self, message: Any) -> str:
        ref = self.reference
        occurrence = self.fmt.occurrence
        cells = []
        for field, show in zip(self.fields, self.formatters):
            values = field.get(message, ref)
            if not values:
                cells.append("")
                continue
            if occurrence == "f":
                values = values[:1]
            elif occurrence == "l":
                values = values[-1:]
            texts = [show(v) for v in values]
            cells.append(self._quoted(self.fmt.aggregator.join(texts)))
        return self.fmt.separator.join(cells)

    def write(self, messages: Iterable[Any]) -> int:
        self.header()
        count = 0
        raw = self.out.raw
        for message in messages:
            raw(self.line(message) + "\n")
            count += 1
        return count
