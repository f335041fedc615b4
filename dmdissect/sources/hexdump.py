"""Hex dumps pasted from logs and tools, streamed into one Frame per message.

Formats (the line grammar is in :mod:`dmdissect.sources.hexformats`):

* ``xxd`` (also ``-g1``, ``-e``, ``-a``), ``xxd -p``, ``xxd -i``;
* ``hexdump -C`` and ``hexdump`` (``*`` repeat lines, final bare offset),
  ``od -A x -t x1z`` with or without ``-v``, ``od`` with octal or decimal
  offsets and ``-x`` words;
* text2pcap's own input: an offset of 4 or more hex digits, one space, a
  tab or a colon, the bytes, and an optional ASCII column after one or more
  spaces (``0000 05 00 ...``, the man page's ``000000 00 e0 1e ...
  ........``, ``xxd -g1 | sed 's/://'``); such a dump must start at offset
  0, as a number before hex bytes may as well be a label;
* ``tcpdump -X`` / ``-xx`` (the summary line is skipped, its time kept; the
  second copy tcpdump prints of a packet of an unsupported link type is
  dropped), ``tshark -x``, Wireshark's "copy as hex dump";
* the kernel's ``print_hex_dump`` with DUMP_PREFIX_OFFSET, _ADDRESS or _NONE,
  groupsize 1/2/4/8, rowsize 16/32, with or without the ASCII column, inside
  any log prefix (dmesg, ``dmesg -T``, ``dmesg -r``, journalctl, syslog);
  another driver's lines printed between its rows do not cut it;
* plain hex strings, bytes joined by spaces, ``:``, ``-`` or commas (a
  trailing ``# ...`` or ``// ...`` comment is kept as the frame's comment), C
  arrays of ``0x07`` (with or without braces) and Python ``b'...'`` reprs.

Message boundaries: where lines carry offsets, offset 0 starts a message
(text2pcap's rule) and a final bare offset (hexdump, od) ends it.  Lines
without offsets join while the header's ``size`` (bytes 2-3) asks for more
bytes and no blank or foreign line comes between; otherwise each line, or
each ``{...}`` block of a C array, is a message.  Lines that carry a log
prefix (``hv_balloon:``) keep joining across foreign lines (up to
:data:`MAX_FOREIGN_LINES` in a row) while the size asks for more: other
drivers log between print_hex_dump's lines.  DUMP_PREFIX_ADDRESS lines join
the same way (hashed addresses do not follow each other).

Streaming: the input is read with ``read1`` (what a pipe holds now, at most
:data:`CHUNK`), never with a ``read(n)`` that waits for ``n`` bytes.  When
the input pauses (a read returns less than asked, and no partial line is
buffered), a pending message that is complete is handed out at once, so
``dmesg -w | dmdissect read -`` shows it when its last line arrives.
Complete means: its bytes reach the header's size and the dump has no
reason to go on.  Without offsets, no further row could join it anyway.
With offsets (and real addresses), further rows would be kept as trailing
bytes, which the dissection must see and report, so either the bytes equal
the size and the last row is short (tools print a short row only at the
end), or a blank or foreign line came after the last row.  So a message
whose last row is full waits for the next line.  A file is read in full
chunks and pauses only at its end, so it gives the same messages however
it is read; a pipe gives the same for any well-formed dump.

Group order (``hex_order``): ``"bytes"`` reads every multi-byte group in
memory order, as xxd and tcpdump print it; ``"le-words"`` reads each group
as a little-endian word printed most significant digit first, so its bytes
are reversed, as the kernel (groupsize 2/4/8), ``xxd -e``, ``hexdump`` and
``od -x`` print them.  ``None`` or ``"auto"`` decides per message: the tool's
fixed order if it has one, else the order in which the hex matches the ASCII
column, else the one under which the header's size equals the message
length, else the context (a log prefix or an address means the kernel, so
words; a bare xxd line means bytes) with a note on the frame.

Time: a dmesg stamp gives seconds since boot; ``dmesg -T`` dates and ISO
stamps give epoch seconds (dates without a zone are UTC); syslog and
``journalctl`` short dates (``Nov 27 01:09:11 host kernel: ...``) have no
year: they are taken as UTC in the current UTC year, or the year before when
that would put them more than two days in the future, and a dmesg stamp on
the same line wins over them; a line before the
dump in text2pcap's style (``I 12:00:03.123456``, ``O 2026-11-27
12:00:03.123456``) or starting with a timestamp (tcpdump's summary line)
gives its time when the dump lines have none; a time of day without a date
is seconds since midnight.  Direction: text2pcap's ``O`` (outbound from the
host) is host->guest and ``I`` (inbound to the host) is guest->host; words
such as ``host->guest``, ``guest -> host`` or ``guest to host`` on the line
before the dump, or in the first dump line's prefix or trailing comment, say
it too.

Limits: lines longer than 1 MiB are read in bounded chunks and skipped as
noise; a message stops at 65535 bytes plus slack (:data:`MAX_MESSAGE`) with
an error finding, and the rest of its dump is skipped.  Broken lines (odd
digit counts, offsets that jump) give findings and keep what can be read.
"""

from __future__ import annotations

import codecs
import io
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from dmdissect.findings import Finding, error, note, warning
from dmdissect.layers.header import plural
from dmdissect.sources import hexformats as hf
from dmdissect.sources.errors import InputError
from dmdissect.sources.frame import FROM_TEXT, UNKNOWN, Frame
from dmdissect.sources.hexformats import BYTES, LE_WORDS, Row

#: Values of ``hex_order``; None means AUTO.
AUTO = "auto"
HEX_ORDERS = (AUTO, BYTES, LE_WORDS)

#: Longest line read as a line; longer ones are consumed in chunks and skipped.
MAX_LINE = 1 << 20
#: Bytes read from the stream at a time.
CHUNK = 1 << 16
#: A u16 ``size`` cannot exceed 65535; the slack leaves room for a VMBus
#: descriptor and padding around a message.
MAX_MESSAGE = 65535 + 4096
HEADER_SIZE = 8
#: Foreign lines in a row that may come between two rows of a prefixed dump
#: without offsets (another driver logging between print_hex_dump's lines).
MAX_FOREIGN_LINES = 16
#: Widths at which dump tools wrap lines: kernel rows and ``xxd -p``.
KERNEL_ROWS = (16, 32)
XXD_PLAIN_ROW = 30


def looks_like_hex_text(head: bytes) -> bool:
    """Whether the first bytes of an input are a hex dump in a supported format.

    Binary data (any NUL byte: every Dynamic Memory header has one) is not;
    text is when reading it yields at least one message.  A last line cut
    by the end of ``head`` is left out unless it is the only one.
    """
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        head = head.decode("utf-16", "replace").encode("utf-8")
    elif b"\x00" in head:
        return False
    lines = head.split(b"\n")
    if not head.endswith(b"\n") and len(lines) > 1:
        lines = lines[:-1]
    assembler = _Assembler("<head>", None)
    for number, line in enumerate(lines, 1):
        if assembler.feed(number, _text(line)):
            return True
    return bool(assembler.finish())


def iter_hex_frames(stream: BinaryIO, name: str, hex_order: str | None = None) -> Iterator[Frame]:
    """One Frame per message of the hex dump text read from ``stream``.

    ``hex_order`` is None or ``"auto"`` (decide per message), ``"bytes"`` or
    ``"le-words"``: see the module documentation.  Raises ValueError for any
    other value at once, and InputError only when the stream cannot be read.
    """
    if hex_order is not None and hex_order not in HEX_ORDERS:
        raise ValueError(f"hex_order must be one of {', '.join(HEX_ORDERS)}, not {hex_order!r}")
    override = None if hex_order in (None, AUTO) else hex_order
    return _frames(stream, name, override)


def _frames(stream: BinaryIO, name: str, override: str | None) -> Iterator[Frame]:
    assembler = _Assembler(name, override)
    number = 0
    for text in _iter_lines(_utf8_chunks(_read_chunks(stream, name))):
        if text is PAUSE:
            yield from assembler.pause()
            continue
        number += 1
        yield from assembler.feed(number, text)
    yield from assembler.finish()


# --- reading lines with bounded memory -------------------------------------------------


class _Pause(str):
    """The marker :func:`_iter_lines` yields when the input has no more for now."""


#: Yielded between lines when the stream returned less than it was asked for:
#: the writer paused (a live log) or the input ends.  Files read in full
#: chunks pause only at their end, so they give the same messages whatever
#: their size; see :meth:`_Assembler.pause`.
PAUSE = _Pause("")


def _reader(stream: BinaryIO):
    """The call that returns what the stream has now, up to CHUNK, without waiting for more.

    ``read(CHUNK)`` on a buffered pipe blocks until 64 KiB or end of file, so
    a slow writer (``dmesg -w``, ``tail -f``) would see nothing for minutes:
    buffered binary streams are read with ``read1`` (at most one read of the
    pipe), text streams line by line with a bounded ``readline``; raw streams
    return short reads by themselves.
    """
    if isinstance(stream, io.TextIOBase):
        return lambda: stream.readline(CHUNK)
    read1 = getattr(stream, "read1", None)
    if callable(read1):
        return lambda: read1(CHUNK)
    return lambda: stream.read(CHUNK)


def _read_chunks(stream: BinaryIO, name: str) -> Iterator[bytes]:
    """The stream in chunks of at most CHUNK bytes, as soon as they arrive; a text
    stream is encoded back.  An empty chunk follows every short read: the
    input has nothing more for now."""
    read = _reader(stream)
    while True:
        try:
            chunk = read()
        except (OSError, ValueError) as exc:
            raise InputError(f"{name}: cannot read the input: {exc}") from exc
        if not chunk:
            return
        short = len(chunk) < CHUNK
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8", "replace")
        yield chunk
        if short:
            yield b""


def _utf8_chunks(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """UTF-8 chunks: a UTF-16 input (PowerShell's ``>`` writes one) is re-encoded and
    a byte-order mark dropped, judged on at least the first four bytes.  Empty
    chunks (pauses) pass through; no other empty chunk is made."""
    first = b""
    for chunk in chunks:
        first += chunk
        if len(first) >= 4:
            break
    if first[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        decoder = codecs.getincrementaldecoder("utf-16")("replace")
        yield decoder.decode(first).encode("utf-8")
        for chunk in chunks:
            text = decoder.decode(chunk)
            if text or not chunk:
                yield text.encode("utf-8")
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail.encode("utf-8")
        return
    first = first[3:] if first.startswith(codecs.BOM_UTF8) else first
    if first:
        yield first
    yield from chunks


def _text(line: bytes | bytearray) -> str:
    return bytes(line).decode("utf-8", "replace").rstrip("\r")


def _iter_lines(chunks: Iterable[bytes]) -> Iterator[str | None]:
    """Lines as text; None stands for a line longer than MAX_LINE, which is
    consumed chunk by chunk and never held whole; an empty chunk (a pause in
    the input) comes out as :data:`PAUSE` when no partial line is buffered
    (the line being written may still belong to the message)."""
    buf = bytearray()
    skipping = False
    for chunk in chunks:
        if not chunk:
            if not buf and not skipping:
                yield PAUSE
            continue
        scan = len(buf)
        buf += chunk
        start = 0
        while (end := buf.find(b"\n", max(start, scan))) >= 0:
            yield None if skipping else _text(buf[start:end])
            skipping = False
            start = end + 1
        del buf[:start]
        if len(buf) > MAX_LINE:
            buf.clear()
            skipping = True
    if skipping:
        yield None
    elif buf:
        yield _text(buf)


# --- one message being assembled ---------------------------------------------------------


@dataclass(slots=True)
class _Repeat:
    """Bytes a ``*`` line stands for: ``row`` repeated to ``count`` bytes."""

    row: Row
    count: int

    @property
    def nbytes(self) -> int:
        return self.count


@dataclass(slots=True)
class _Message:
    """The rows of one message so far, and what the dump said about it."""

    family: str
    key: str
    line: int
    offset_mode: bool
    context_order: str
    parts: list = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    base: int = 0
    seen: int = 0
    stored: int = 0
    last_line: int = 0
    time: float | None = None
    direction: str | None = None
    radixes: tuple[int, ...] = (16,)
    radix: int | None = None
    offset_digits: int = 0
    star_line: int | None = None
    trim: int | None = None
    closed: bool = False
    brace: bool = False
    next_address: int | None = None
    overflow_line: int | None = None
    after_noise: bool = False
    comment: str | None = None
    size: tuple[int, dict[str, int] | None] | None = None
    addresses_follow: bool | None = None
    gap_after: bool = False
    nrows: int = 0
    row_width: int = 0
    last_nbytes: int = 0

    @property
    def rows(self) -> list[Row]:
        return [p for p in self.parts if isinstance(p, Row)]

    @property
    def last_row(self) -> Row | None:
        for part in reversed(self.parts):
            if isinstance(part, Row):
                return part
        return None

    def add(self, row: Row, line: int) -> None:
        """Append a row; past MAX_MESSAGE rows are only counted (offsets still track)."""
        self.last_line = line
        self.seen += row.nbytes
        self.gap_after = False
        if self.overflow_line is not None:
            return
        self.nrows += 1
        self.row_width = max(self.row_width, self.last_nbytes)
        self.last_nbytes = row.nbytes
        self.parts.append(row)
        self.stored += row.nbytes
        self.findings.extend(warning(f"line {line}: {p}") for p in row.problems)
        if self.stored > MAX_MESSAGE:
            self.overflow_line = line

    def ends_short(self) -> bool:
        """Whether the last row is shorter than a full row, so the tool's dump ended there.

        Tools print full rows until the last; the rows before the last give
        the width, and a lone row is full at the usual 16 or 32 bytes.  A row
        whose ASCII column may hold bytes (:attr:`Row.spare`) waits for the
        offset after it.
        """
        last = self.parts[-1] if self.parts else None
        if not isinstance(last, Row) or last.spare:
            return False
        if self.nrows == 1:
            return self.last_nbytes not in KERNEL_ROWS
        return self.last_nbytes < self.row_width

    def take_spare(self, offset: int) -> None:
        """Read the last row's spare groups as bytes when ``offset`` counts them.

        A single-spaced row's ASCII column was told apart by rendering the
        groups before it; the next offset is the better witness (text2pcap
        trusts offsets the same way).
        """
        last = self.parts[-1] if self.parts else None
        if (
            isinstance(last, Row)
            and last.spare
            and self.star_line is None
            and offset == self.seen + last.spare_bytes
        ):
            extra = last.spare_bytes
            last.take_spare()
            self.seen += extra
            self.stored += extra
            self.last_nbytes = last.nbytes

    def fill_to(self, offset: int, line: int) -> None:
        """Expand a pending ``*``: the last row repeats up to ``offset``."""
        star, self.star_line = self.star_line, None
        source = self.last_row
        count = offset - self.seen
        if source is None or source.nbytes == 0 or count <= 0:
            self.findings.append(
                warning(
                    f"line {star}: '*' is followed by offset {offset:#x}, which repeats nothing"
                )
            )
            return
        if count % source.nbytes:
            self.findings.append(
                warning(
                    f"line {line}: {count} repeated bytes are not a whole number of "
                    f"{source.nbytes}-byte lines"
                )
            )
        self.seen = offset
        if self.overflow_line is not None:
            return
        kept = min(count, MAX_MESSAGE + 1 - self.stored)
        self.parts.append(_Repeat(source, kept))
        self.stored += kept
        if self.stored > MAX_MESSAGE:
            self.overflow_line = line

    def offset_value(self, token: str) -> int:
        """An offset in the dump's radix, chosen at its first non-zero offset.

        hexdump prints 7 hex digits, od 7 octal (default) or decimal (-A d)
        ones: the radix under which the offset lands where the bytes so far
        end (or where a ``*`` could reach) is the dump's.
        """
        if not token.strip("0"):
            return 0
        if self.radix is None:
            self.radix = self._guess_radix(token)
        try:
            return int(token, self.radix)
        except ValueError:
            return int(token, 16)

    def _guess_radix(self, token: str) -> int:
        values = {}
        for radix in self.radixes:
            try:
                values[radix] = int(token, radix)
            except ValueError:
                continue
        word = max((len(t) // 2 for r in self.rows for t in r.tokens), default=1)
        last = self.last_row
        ends = (self.seen, self.seen + (last.spare_bytes if last is not None else 0))
        for radix, value in values.items():
            if value in ends or (self.star_line is not None and value > self.seen):
                return radix
        padded = [(self.seen - v, r) for r, v in values.items() if 0 <= self.seen - v < word]
        return min(padded)[1] if padded else 16

    def assemble(self, order: str) -> bytes:
        out = bytearray()
        for part in self.parts:
            if isinstance(part, Row):
                out += part.data(order)
            else:
                unit = part.row.data(order)
                out += (unit * (part.count // len(unit) + 1))[: part.count]
        if self.trim is not None:
            del out[max(self.trim - self.base, 0) :]
        return bytes(out)


# --- group order -------------------------------------------------------------------------


@dataclass(slots=True)
class _OrderChoice:
    order: str
    how: str
    conflict: bool = False


def _row_slices(message: _Message, data: bytes) -> Iterator[tuple[Row, bytes]]:
    """Each row with its bytes in the assembled message (so a last row whose word
    padding the final offset trimmed is compared without the padding)."""
    pos = 0
    for part in message.parts:
        if isinstance(part, Row):
            yield part, data[pos : pos + part.nbytes]
        pos += part.nbytes


def _ascii_votes(message: _Message) -> dict[str, int]:
    """How many rows' ASCII column matches each group order (rows that tell them apart)."""
    votes = {BYTES: 0, LE_WORDS: 0}
    if not any(r.ascii is not None and r.multibyte for r in message.rows):
        return votes
    as_bytes = _row_slices(message, message.assemble(BYTES))
    as_words = _row_slices(message, message.assemble(LE_WORDS))
    for (row, data_b), (_, data_w) in zip(as_bytes, as_words):
        if row.ascii is None or not row.multibyte:
            continue
        match_b = hf.ascii_matches(row.ascii, data_b)
        match_w = hf.ascii_matches(row.ascii, data_w)
        if match_b != match_w:
            votes[BYTES if match_b else LE_WORDS] += 1
    return votes


def _header_fits(data: bytes) -> bool:
    return len(data) >= HEADER_SIZE and struct.unpack_from("<H", data, 2)[0] == len(data)


def _choose_order(message: _Message, override: str | None, final: bool) -> _OrderChoice:
    """How to read the message's multi-byte groups (see the module documentation)."""
    rows = message.rows
    if not any(r.multibyte for r in rows):
        return _OrderChoice(BYTES, "irrelevant")
    if override is not None:
        return _OrderChoice(override, "override")
    for row in rows:
        if row.fixed and row.order is not None:
            return _OrderChoice(row.order, "format")
    votes = _ascii_votes(message)
    if votes[BYTES] != votes[LE_WORDS]:
        winner = BYTES if votes[BYTES] > votes[LE_WORDS] else LE_WORDS
        return _OrderChoice(winner, "ascii", conflict=min(votes.values()) > 0)
    if final:
        fits = {o: _header_fits(message.assemble(o)) for o in (BYTES, LE_WORDS)}
        if fits[BYTES] != fits[LE_WORDS]:
            return _OrderChoice(BYTES if fits[BYTES] else LE_WORDS, "header")
    known = next((r.order for r in rows if r.order is not None), None)
    if known is not None:
        return _OrderChoice(known, "format")
    return _OrderChoice(message.context_order, "default")


# --- the assembler -----------------------------------------------------------------------


def _zero(token: str) -> bool:
    return not token.strip("0")


def _least_offset(token: str, radixes: tuple[int, ...]) -> int:
    """The smallest value an offset may have in any radix its tool may use: a dump
    cannot start inside a message beyond the largest message (a number at the
    start of a log line followed by hex bytes is not such a dump)."""
    values = []
    for radix in radixes:
        try:
            values.append(int(token, radix))
        except ValueError:
            continue
    return min(values, default=0)


class _Assembler:
    """Turns parsed lines into messages: boundaries, times, directions, findings."""

    def __init__(self, name: str, override: str | None) -> None:
        self.name = name
        self.override = override
        self.pending: _Message | None = None
        self.index = 0
        self.preamble: str | None = None
        self.blank_gap = False
        self.noise_gap = False
        self.last_tcpdump: bytes | None = None
        self.foreign = 0
        self.out: list[Frame] = []

    def feed(self, number: int, text: str | None) -> list[Frame]:
        """Take one line (None: an overlong line); return the messages it completed."""
        self.out = []
        if text is None:
            self._noise(None)
        elif not text.strip():
            self._blank()
        else:
            row = hf.parse_line(text)
            if row is None:
                self._noise(text)
            else:
                self._row(row, number, text)
        return self.out

    def pause(self) -> list[Frame]:
        """The input has nothing more for now: hand out the pending message if it is
        complete (see :meth:`_is_complete`), so that live input shows it at once."""
        self.out = []
        if self.pending is not None and self._is_complete(self.pending):
            self._flush()
        return self.out

    def finish(self) -> list[Frame]:
        self.out = []
        self._flush()
        return self.out

    # line kinds

    def _blank(self) -> None:
        """A blank line ends a message without offsets (one block, one message); one
        with offsets goes on at the next offset, but may end at a pause (tshark -x
        ends each packet with a blank line)."""
        self.blank_gap = True
        p = self.pending
        if p is None or p.brace:
            return
        if p.offset_mode:
            p.gap_after = True
        else:
            self._flush()

    def _noise(self, text: str | None) -> None:
        """A line that is no dump row: a foreign log line, a summary line, prose.

        With offsets the message goes on at the next offset (the offsets keep
        interleaved rows in place), but may end at a pause.  Without offsets
        it ends the message, unless the message's rows carry a log prefix and
        its header's size asks for more: another driver's line printed
        between two rows of print_hex_dump must not cut the dump (up to
        MAX_FOREIGN_LINES in a row, so that a dump whose last lines were lost
        does not swallow the next dump of the same driver much later).
        """
        p = self.pending
        if p is not None and p.brace:
            return
        self.noise_gap = True
        self.preamble = text
        if p is None:
            return
        if p.offset_mode:
            p.gap_after = True
            return
        self.foreign += 1
        if not (p.key and self.foreign <= MAX_FOREIGN_LINES and self._wants_more(p)):
            self._flush()

    def _row(self, row: Row, number: int, text: str) -> None:
        if row.family == hf.STAR:
            accepted = self._star(number)
        elif row.family in (hf.COLON, hf.TCPDUMP, hf.TOOL):
            accepted = self._offset_row(row, number)
        elif row.bare and self._is_end_offset(row):
            accepted = self._end_offset(row, number)
        else:
            accepted = self._free_row(row, number)
        if not accepted and row.loose:
            plain = hf.parse_plain_line(text)
            accepted = plain is not None and self._free_row(plain, number)
        if not accepted:
            self._noise(text)
            return
        self.preamble = None
        self.blank_gap = self.noise_gap = False
        self.foreign = 0

    # offset formats

    def _star(self, number: int) -> bool:
        p = self.pending
        if p is None or not p.offset_mode or p.closed:
            return False
        p.star_line = number
        p.last_line = number
        return True

    def _offset_row(self, row: Row, number: int) -> bool:
        key = hf.prefix_key(row.prefix)
        p = self.pending
        same = (
            p is not None
            and p.offset_mode
            and not p.closed
            and p.family == row.family
            and p.key == key
        )
        token = row.offset_token or ""
        if row.family == hf.COLON:
            value = int(token, 16) if hf.is_hex(token) else None
            if value is None or (len(token) == 16 and not _zero(token)) or value > MAX_MESSAGE:
                if not (same and value is not None and value == p.seen):
                    return self._free_row(row, number, address=value, key=key)
        if _zero(token):
            self._start(row, number, key, offset_mode=True)
            return True
        if same:
            self._continue(p, row, p.offset_value(token), number)
            return True
        if row.loose or row.nbytes < HEADER_SIZE or _least_offset(token, row.radixes) > MAX_MESSAGE:
            return False  # not a dump that lost its first lines
        self._start(row, number, key, offset_mode=True)
        started = self.pending
        value = started.offset_value(token)
        started.findings.insert(
            0,
            error(
                f"line {number}: the dump starts at offset {value:#x}: the first {value} bytes, "
                "with the header, are missing"
            ),
        )
        started.base = value
        started.seen = value + row.nbytes
        return True

    def _continue(self, p: _Message, row: Row, value: int, number: int) -> None:
        p.take_spare(value)
        if p.star_line is not None:
            p.fill_to(value, number)
        elif value > p.seen:
            p.findings.append(
                error(
                    f"line {number}: the offset jumps from {p.seen:#x} to {value:#x}: "
                    f"{plural(value - p.seen, 'byte')} {'is' if value - p.seen == 1 else 'are'} "
                    "missing"
                )
            )
        elif value < p.seen:
            p.findings.append(
                warning(f"line {number}: the offset goes back from {p.seen:#x} to {value:#x}")
            )
        p.seen = value
        p.add(row, number)

    def _is_end_offset(self, row: Row) -> bool:
        p = self.pending
        return (
            p is not None
            and p.offset_mode
            and p.family == hf.TOOL
            and not p.closed
            and len(row.offset_token or "") == p.offset_digits
        )

    def _end_offset(self, row: Row, number: int) -> bool:
        """hexdump's and od's last line: the length of what they dumped."""
        p = self.pending
        value = p.offset_value(row.offset_token)
        p.take_spare(value)
        if p.star_line is not None:
            p.fill_to(value, number)
        elif value > p.seen:
            p.findings.append(
                error(
                    f"line {number}: the dump ends at offset {value:#x} but only {p.seen} "
                    "bytes were printed"
                )
            )
        elif value < p.seen:
            word = max(len(t) // 2 for r in p.rows for t in r.tokens)
            if p.seen - value >= word:
                p.findings.append(
                    warning(
                        f"line {number}: the dump ends at offset {value:#x} but {p.seen} bytes "
                        "were printed; the extra bytes are dropped"
                    )
                )
            p.trim = value
        p.last_line = number
        p.closed = True
        self._flush()
        return True

    # formats without offsets

    def _free_row(
        self, row: Row, number: int, address: int | None = None, key: str | None = None
    ) -> bool:
        key = hf.prefix_key(row.prefix) if key is None else key
        p = self.pending
        if p is not None and self._joins(p, row, key, address):
            if address is not None:
                p.addresses_follow = address == p.next_address
            p.add(row, number)
            p.next_address = None if address is None else address + row.nbytes
            if row.closes:
                p.closed = True
                self._flush()
            return True
        if row.family == hf.CARRAY and row.nbytes == 0:
            if row.opens:
                self._start(row, number, key, offset_mode=False)
                self.pending.brace = True
            return row.opens
        if not (row.opens and not row.closes) and not self._alone_ok(row, key):
            return False
        self._start(row, number, key, offset_mode=False)
        self.pending.next_address = None if address is None else address + row.nbytes
        self.pending.brace = row.opens and not row.closes
        if row.closes:
            self._flush()
        return True

    def _joins(self, p: _Message, row: Row, key: str, address: int | None) -> bool:
        """Whether a row without offset continues the pending message."""
        if p.closed or p.offset_mode or p.family != row.family or p.key != key:
            return False
        if p.brace:
            return True
        if self.blank_gap or (self.noise_gap and not self._wants_more(p)):
            return False
        if p.overflow_line is not None:
            return True
        if address is not None and address == p.next_address:
            return True
        size = self._size(p)
        if size is not None and size >= HEADER_SIZE:
            return p.stored < size or self._xxd_p_goes_on(p, size)
        return self._wrapped(p)

    def _wrapped(self, p: _Message) -> bool:
        """Whether the last row has a width at which its tool wraps lines."""
        last = p.last_row
        return last is not None and last.nbytes in self._wrap_widths(p, last)

    def _xxd_p_goes_on(self, p: _Message, size: int) -> bool:
        """xxd -p wraps at 30 bytes whatever the header says: a full 30-byte line
        past the header's size still takes the next (a lying header stays whole)."""
        last = p.last_row
        return (
            p.stored > size
            and p.family == hf.PLAIN
            and last is not None
            and last.nbytes == XXD_PLAIN_ROW
            and self._wrapped(p)
        )

    def _wants_more(self, p: _Message) -> bool:
        """Whether the header's size asks for bytes the message does not have yet."""
        size = self._size(p)
        return (
            p.overflow_line is None and size is not None and size >= HEADER_SIZE and p.stored < size
        )

    def _size_reached(self, p: _Message) -> bool:
        """Whether the message holds the bytes its header's size counts (and nothing
        it still waits for: a ``*`` to expand, a header cut off at the start)."""
        if p.base or p.star_line is not None or p.overflow_line is not None:
            return False
        size = self._size(p)
        return size is not None and size >= HEADER_SIZE and p.stored >= size

    def _is_complete(self, p: _Message) -> bool:
        """Whether the message can be handed out now, before the next line arrives.

        Live input (``dmesg -w``, ``tail -f``) must show a message when its
        last line arrives.  The rule: the header's size is reached and the
        dump has no reason to go on.  Without offsets, that is when no further
        row could join the message anyway (see :meth:`_joins`), so the result
        is the same as waiting.  With offsets (and real addresses), more rows
        would still be taken, as trailing bytes the header does not count, and
        those must stay in the message so that its dissection reports them;
        so the bytes must equal the size exactly and the last row must be
        short (a tool prints a short row only at the end), or a blank or
        foreign line must have come after the last row.  Otherwise (a full
        last row, more bytes than the size) the message waits for the next
        dump, a blank or foreign line, or the end of the input.  An open C
        array brace waits for its closing brace.
        """
        if p.closed or p.brace or not self._size_reached(p):
            return False
        if p.offset_mode or (p.next_address is not None and p.addresses_follow is not False):
            return p.gap_after or (p.stored == self._size(p) and p.ends_short())
        return not self._xxd_p_goes_on(p, self._size(p))

    @staticmethod
    def _wrap_widths(p: _Message, last: Row) -> tuple[int, ...]:
        """Row widths that mean "the line was wrapped, more follows" for this message."""
        if p.family == hf.COLON or last.ascii is not None or p.key:
            return KERNEL_ROWS
        if p.family == hf.PLAIN and len(last.tokens) == 1:
            return (XXD_PLAIN_ROW,)
        return ()

    def _size(self, p: _Message) -> int | None:
        """The header's size field as far as it can be told from the first rows.

        Read under the tentative group order.  One exception: a message that
        so far is a single hex string of at most 16 digits (a labelled 8-byte
        message, or the kernel's one 8-byte group) ends when either reading
        says it is complete, as nothing else tells bytes from a word there.
        """
        if p.stored < 4:
            return None
        if p.size is None:
            choice = _choose_order(p, self.override, final=False)
            sizes = {
                o: struct.unpack_from("<H", p.assemble(o)[:4], 2)[0] for o in (BYTES, LE_WORDS)
            }
            lone = len(p.parts) == 1 and len(p.parts[0].tokens) == 1
            p.size = (sizes[choice.order], sizes if choice.how == "default" and lone else None)
        size, alternatives = p.size
        if alternatives is not None and len(p.parts) == 1 and p.stored in alternatives.values():
            return p.stored
        return size

    def _alone_ok(self, row: Row, key: str) -> bool:
        """Whether a row without offset may start a message by itself.

        It must hold a header's worth of bytes; with a log prefix before it
        and no ASCII column to vouch for it, its header must also fit (size
        equals the line's bytes, or exceeds them on a full-width line) or the
        prefix must name a direction, so that hex words in log text stay noise.
        """
        n = row.nbytes
        if n < HEADER_SIZE or _is_ruler(row):
            return False
        if row.family != hf.PLAIN or row.ascii is not None or not key:
            return True
        if hf.find_direction(row.prefix):
            return True
        orders = [self.override or row.order] if self.override or row.order else [BYTES, LE_WORDS]
        for order in orders:
            size = struct.unpack_from("<H", row.data(order), 2)[0]
            if size == n or (size > n and n in KERNEL_ROWS + (XXD_PLAIN_ROW,)):
                return True
        return False

    # starting and finishing messages

    @staticmethod
    def _context_order(row: Row, address_mode: bool) -> str:
        """Default group order when nothing else tells: a log prefix or an address
        means the kernel (words), a bare line means xxd (bytes)."""
        if row.order is not None:
            return row.order
        return LE_WORDS if row.prefix.strip() or address_mode else BYTES

    def _start(self, row: Row, number: int, key: str, offset_mode: bool) -> None:
        self._flush()
        address_mode = row.family == hf.COLON and not offset_mode
        message = _Message(
            row.family,
            key,
            number,
            offset_mode,
            self._context_order(row, address_mode),
            radixes=row.radixes,
            offset_digits=len(row.offset_token or ""),
            after_noise=self.noise_gap,
        )
        time, direction = hf.parse_preamble(self.preamble) if self.preamble else (None, None)
        message.time = hf.prefix_time(row.prefix) if row.prefix else None
        if message.time is None:
            message.time = time
        message.direction = (
            hf.find_direction(row.prefix) or hf.find_direction(row.comment or "") or direction
        )
        message.comment = row.comment
        self.pending = message
        message.add(row, number)

    def _flush(self) -> None:
        p, self.pending = self.pending, None
        if p is None:
            return
        frame = self._finish(p)
        if frame is not None:
            self.out.append(frame)

    def _spare_by_size(self, p: _Message) -> None:
        """Spare groups of the last row are bytes when no offset followed the row
        (the dump ended with it) and the header's size counts them."""
        last = p.parts[-1] if p.parts else None
        if (
            isinstance(last, Row)
            and last.spare
            and not p.closed
            and not p.base
            and p.overflow_line is None
            and self._size(p) == p.stored + last.spare_bytes
        ):
            p.take_spare(p.seen + last.spare_bytes)

    def _finish(self, p: _Message) -> Frame | None:
        self._spare_by_size(p)
        if p.star_line is not None:
            p.findings.append(
                warning(
                    f"line {p.star_line}: '*' is not followed by an offset: the repeated bytes "
                    "are missing"
                )
            )
        choice = _choose_order(p, self.override, final=True)
        full = p.assemble(choice.order)
        data = full[:MAX_MESSAGE]
        if len(full) > MAX_MESSAGE or p.overflow_line is not None:
            p.findings.append(
                error(
                    f"line {p.overflow_line}: the dump goes on past {MAX_MESSAGE} bytes, more than "
                    f"any message can hold: the message is cut there and lines up to "
                    f"{p.last_line} are skipped"
                )
            )
        if not data:
            return None
        p.findings.extend(self._order_findings(p, choice, data))
        p.findings.extend(_ascii_findings(p, full))
        if self._duplicate(p, data):
            return None
        self.index += 1
        return Frame(
            self.index,
            data,
            time=p.time,
            direction=p.direction,
            direction_source=FROM_TEXT if p.direction else UNKNOWN,
            origin=f"{self.name}:{p.line}",
            comment=p.comment,
            findings=p.findings,
        )

    def _order_findings(self, p: _Message, choice: _OrderChoice, data: bytes) -> list[Finding]:
        found = []
        if choice.conflict:
            found.append(
                warning(
                    "the ASCII column matches the hex read as bytes on some lines and as "
                    f"little-endian words on others; read as {choice.order}"
                )
            )
        if choice.how == "default":
            other = LE_WORDS if choice.order == BYTES else BYTES
            if p.assemble(other)[: len(data)] != data:
                found.append(
                    note(
                        f"multi-byte hex groups read as {choice.order}: no ASCII column or header "
                        f"settles their order; pass hex_order={other!r} if that is wrong"
                    )
                )
        return found

    def _duplicate(self, p: _Message, data: bytes) -> bool:
        """tcpdump prints a packet of an unsupported link type twice, back to back."""
        if p.family != hf.TCPDUMP:
            self.last_tcpdump = None
            return False
        twin = not p.after_noise and data == self.last_tcpdump
        self.last_tcpdump = None if twin else data
        return twin


def _is_ruler(row: Row) -> bool:
    """A column ruler (``00 01 02 ... 0F``, Format-Hex's header) is not a message."""
    return (
        len(row.tokens) in KERNEL_ROWS
        and all(len(t) == 2 for t in row.tokens)
        and row.data(BYTES) == bytes(range(len(row.tokens)))
    )


def _ascii_findings(message: _Message, data: bytes) -> list[Finding]:
    """A note when the ASCII column shows other bytes than the hex (a hand-edited dump);
    lines already reported as broken are not counted again."""
    bad = sum(
        1
        for row, chunk in _row_slices(message, data)
        if row.ascii is not None
        and row.ascii.strip()
        and chunk
        and not row.problems
        and not hf.ascii_matches(row.ascii, chunk)
    )
    if not bad:
        return []
    return [
        note(f"the ASCII column disagrees with the hex on {bad} line(s); the hex is what counts")
    ]
