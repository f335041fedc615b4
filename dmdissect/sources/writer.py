"""Frames out as a capture file: pcapng (default) or classic pcap, streamed.

Written with ``struct`` because scapy.utils' pcapng writer cannot write
``if_tsresol``, so it has no nanosecond files.

pcapng layout: one Section Header Block (little-endian, ``shb_userappl``
naming dmdissect), one Interface Description Block with LINKTYPE_USER0 (147)
and ``if_tsresol`` 6 or 9 (one more before the first frame of each further input
file or capture interface), then one Enhanced Packet Block a frame carrying:

* ``epb_flags`` with the direction, when known: inbound (01) for
  ``guest->host``, outbound (10) for ``host->guest``, the mapping
  :mod:`dmdissect.sources.capture` reads back;
* the frame's own comment as an ``opt_comment``, as it was;
* one marker comment (:mod:`dmdissect.sources.markers`) holding where the bytes
  came from (``origin=dmesg.txt:17``), each finding the source made (a broken
  hex line) and whatever the caller adds (``convert`` adds what the
  transaction tracker knows, for the Wireshark plugin).

The reader turns the marker back into origin and source findings.  Classic
pcap has no place for any of this; it gets the bytes and times only.

Times: a frame without one gets a synthetic time, 1 microsecond after the
frame written before it (0.0, the epoch, for a first frame), so that times
never go backwards and packet order survives tools that sort by time.  Times
are written as the integer tick nearest to the float's exact value; a time
the output cannot hold (negative, infinite, past 2^64 ticks in pcapng, past
2106 in pcap) is an error (:class:`TimeRangeError`), never a silent wrap.
Comments are cut to what a pcapng option holds (65535 bytes), with a finding
saying so, and a source name that is not UTF-8 is written escaped.
A frame longer than the snap length (262144) is cut to it, its full length
kept as the original length.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import BinaryIO

from dmdissect import __version__
from dmdissect.escape import json_safe
from dmdissect.findings import CAPTURE_COMMENT_CUT, CAPTURE_MARKER_CUT, Finding
from dmdissect.sources import markers
from dmdissect.sources.capture import (
    BLOCK_EPB,
    BLOCK_IDB,
    BLOCK_OVERHEAD,
    BLOCK_SHB,
    BYTE_ORDER_MAGIC,
    FLAG_DIRECTIONS,
    IF_TSRESOL,
    LINKTYPE_USER0,
    MAX_PACKET,
    OPT_COMMENT,
    OPT_ENDOFOPT,
    OPT_FLAGS,
    PCAP_MAGIC_NS,
    PCAP_MAGIC_US,
    PCAP_VERSION,
    PCAPNG_VERSION,
    SHB_USERAPPL,
    SOURCE_FINDING,
)
from dmdissect.sources.frame import Frame
from dmdissect.sources.output import OutputError

#: What the written files claim as their snap length: what the reader accepts.
SNAPLEN = MAX_PACKET
OUTPUTS = ("pcapng", "pcap")
RESOLUTIONS = {"us": 6, "ns": 9}
_FLAGS = {direction: bits for bits, direction in FLAG_DIRECTIONS.items()}


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


#: The largest u32: pcap's seconds, each half of pcapng's 64-bit time.
U32_MAX = 0xFFFFFFFF
#: The longest value a pcapng option can hold (its length is a u16).
MAX_OPTION = 0xFFFF


def _option(code: int, value: bytes) -> bytes:
    if len(value) > MAX_OPTION:
        raise ValueError(f"pcapng option {code} of {len(value)} bytes")  # callers fit them first
    return struct.pack("<HH", code, len(value)) + _pad(value)


def _utf8(text: str) -> bytes:
    """UTF-8, with a lone surrogate (a file name that is not UTF-8) written as an escape."""
    return text.encode("utf-8", "backslashreplace")


def _cut_utf8(data: bytes, size: int) -> bytes:
    """The first ``size`` bytes at most, not splitting a UTF-8 character."""
    return data[:size].decode("utf-8", "ignore").encode("utf-8")


def _block(kind: int, body: bytes, options: bytes = b"") -> bytes:
    body = _pad(body) + (options + _option(OPT_ENDOFOPT, b"") if options else b"")
    length = BLOCK_OVERHEAD + len(body)
    return struct.pack("<II", kind, length) + body + struct.pack("<I", length)


class TimeRangeError(OutputError):
    """A time the output cannot hold: an error, never a silent wrap or clamp."""


def _ticks(time: float, exponent: int) -> int:
    """The integer number of 10^-exponent seconds nearest to ``time``, exactly."""
    if not math.isfinite(time) or time < 0:
        raise TimeRangeError(f"time {time} cannot be written (no negative or infinite times)")
    value = Decimal(time).scaleb(exponent)
    return int(value.to_integral_value(rounding=ROUND_HALF_EVEN))


def _resolution_name(exponent: int) -> str:
    return "microsecond" if exponent == 6 else "nanosecond"


class _Clock:
    """Ticks of real times where frames have them, synthetic ones where they do not.

    Counted in integer ticks so that a synthetic step is exactly 1 microsecond
    at either resolution.
    """

    def __init__(self, exponent: int) -> None:
        self.exponent = exponent
        self.step = 10 ** (exponent - 6)
        self.last: int | None = None

    def ticks_of(self, frame: Frame) -> int:
        if frame.time is not None:
            try:
                self.last = _ticks(frame.time, self.exponent)
            except TimeRangeError as exc:
                raise TimeRangeError(f"frame {frame.index}: {exc}") from None
        else:
            self.last = 0 if self.last is None else self.last + self.step
        return self.last


def finding_item(key: str, finding: Finding) -> tuple[str, str]:
    """A finding as a marker item: ``severity id message``."""
    return key, f"{finding.severity} {finding.id} {finding.message}"


def _comments(frame: Frame, items: Sequence[tuple[str, str]]) -> list[bytes]:
    """The comment options' values, each made to fit an option (65535 bytes).

    A longer user comment (several joined, or one huge) is cut at a character
    boundary; marker items that do not fit are left out.  Either way a finding
    in the marker says what was cut, so converting never hides it.
    """
    out: list[bytes] = []
    notes: list[Finding] = []
    if frame.comment:
        text = _utf8(frame.comment)
        if len(text) > MAX_OPTION:
            notes.append(
                CAPTURE_COMMENT_CUT(
                    f"comment of {len(text)} bytes cut to the {MAX_OPTION} a pcapng option holds"
                )
            )
            text = _cut_utf8(text, MAX_OPTION)
        out.append(text)
    own = [("origin", frame.origin)] if frame.origin else []
    own += [finding_item(SOURCE_FINDING, finding) for finding in [*frame.findings, *notes]]
    # A source name that is not UTF-8 (lone surrogates) is written escaped.
    chosen = [(key, json_safe(value)) for key, value in [*own, *items]]
    if not chosen:
        return out
    data = frame.data[:SNAPLEN]
    marker = _utf8(markers.encode(data, chosen))
    dropped = 0
    while len(marker) > MAX_OPTION and chosen:
        chosen.pop()
        dropped += 1
        note_item = finding_item(
            SOURCE_FINDING,
            CAPTURE_MARKER_CUT(f"{dropped} marker items left out: more than a pcapng option holds"),
        )
        marker = _utf8(markers.encode(data, [*chosen, note_item]))
    if len(marker) > MAX_OPTION:
        marker = _utf8(markers.encode(data, [note_item]))
    out.append(marker)
    return out


def _pcapng_header(exponent: int) -> bytes:
    shb = _block(
        BLOCK_SHB,
        struct.pack("<IHHq", BYTE_ORDER_MAGIC, *PCAPNG_VERSION, -1),
        _option(SHB_USERAPPL, f"dmdissect {__version__}".encode()),
    )
    return shb + _idb(exponent)


def _idb(exponent: int) -> bytes:
    return _block(
        BLOCK_IDB,
        struct.pack("<HHI", LINKTYPE_USER0, 0, SNAPLEN),
        _option(IF_TSRESOL, bytes([exponent])),
    )


def _epb(
    frame: Frame,
    items: Sequence[tuple[str, str]],
    ticks: int,
    exponent: int,
    interface: int = 0,
) -> bytes:
    options = b"".join(_option(OPT_COMMENT, value) for value in _comments(frame, items))
    if frame.direction is not None:
        options += _option(OPT_FLAGS, struct.pack("<I", _FLAGS[frame.direction]))
    if ticks >> 64:
        raise TimeRangeError(
            f"frame {frame.index}: time {frame.time} s is beyond what pcapng holds at "
            f"{_resolution_name(exponent)} resolution (2^64 ticks)"
        )
    data = frame.data[:SNAPLEN]
    body = (
        struct.pack(
            "<IIIII",
            interface,
            ticks >> 32 & U32_MAX,
            ticks & U32_MAX,
            len(data),
            len(frame.data),
        )
        + data
    )
    return _block(BLOCK_EPB, body, options)


def _pcap_record(frame: Frame, ticks: int, exponent: int) -> bytes:
    """A pcap record: pcap has no comments, so a frame's marker items are not written."""
    sec, frac = divmod(ticks, 10**exponent)
    if sec > U32_MAX:
        raise TimeRangeError(
            f"frame {frame.index}: time {frame.time} s is beyond what pcap holds "
            f"(seconds up to {U32_MAX}, in 2106); --to pcapng holds it"
        )
    data = frame.data[:SNAPLEN]
    return struct.pack("<IIII", sec, frac, len(data), len(frame.data)) + data


def write_frames(
    frames: Iterable[Frame], out: BinaryIO, to: str = "pcapng", resolution: str = "us"
) -> int:
    """Write ``frames`` to ``out`` as ``to`` (pcapng or pcap); the number written.

    ``resolution`` is ``us`` or ``ns``: the time unit of the file.  Frames are
    written as they come, so a long input never sits in memory.
    """
    return write_annotated(((frame, ()) for frame in frames), out, to, resolution)


def write_annotated(
    records: Iterable[tuple[Frame, Sequence[tuple[str, str]]]],
    out: BinaryIO,
    to: str = "pcapng",
    resolution: str = "us",
) -> int:
    """:func:`write_frames` for (frame, marker items) pairs: the items join the marker."""
    writer = CaptureWriter(out, to, resolution)
    for frame, items in records:
        writer.write(frame, items)
    writer.flush()
    return writer.count


class CaptureWriter:
    """A capture being written frame by frame: the header at once, a record per :meth:`write`.

    For writers that see frames one at a time among other work (``read -w``
    writes the messages it shows); :func:`write_annotated` is the loop over it.
    """

    def __init__(self, out: BinaryIO, to: str = "pcapng", resolution: str = "us") -> None:
        if to not in OUTPUTS:
            raise ValueError(f"unknown output format {to!r}; expected pcapng or pcap")
        self.out = out
        self.pcapng = to == "pcapng"
        self.exponent = RESOLUTIONS[resolution]
        if self.pcapng:
            out.write(_pcapng_header(self.exponent))
        else:
            magic = PCAP_MAGIC_US if self.exponent == 6 else PCAP_MAGIC_NS
            out.write(struct.pack("<IHHiIII", magic, *PCAP_VERSION, 0, 0, SNAPLEN, LINKTYPE_USER0))
        self._clock = _Clock(self.exponent)
        self._interfaces: dict[tuple[str | None, int | None], int] = {}
        self.count = 0

    def write(self, frame: Frame, items: Sequence[tuple[str, str]] = ()) -> None:
        ticks = self._clock.ticks_of(frame)
        if self.pcapng:
            interface = self._interface(frame)
            self.out.write(_epb(frame, items, ticks, self.exponent, interface))
        else:
            self.out.write(_pcap_record(frame, ticks, self.exponent))
        self.count += 1

    def _interface(self, frame: Frame) -> int:
        """The output interface of the frame's (file, interface): a new IDB for each new one.

        Frames of two inputs, or of two interfaces of one pcapng file, stay on
        two interfaces, so that reading the output back keeps them two sessions.
        """
        key = (frame.file, frame.interface)
        number = self._interfaces.get(key)
        if number is None:
            number = len(self._interfaces)
            if number:
                self.out.write(_idb(self.exponent))
            self._interfaces[key] = number
        return number

    def flush(self) -> None:
        self.out.flush()
