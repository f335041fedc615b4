"""From parsed rows to messages: where each message starts and ends.

The framing of each format (:data:`dmdissect.sources.hex.formats.FORMATS`)
decides: with offsets, offset 0 starts a message and a final bare offset
ends it; a ``*`` repeats the row before it up to the next offset; without
offsets, rows join while the header's ``size`` asks for more bytes and no
blank or foreign line comes between, and a ``{...}`` block is one message.
Lines that carry a log prefix (``hv_balloon:``) keep joining across foreign
lines (up to :data:`MAX_FOREIGN_LINES` in a row) while the size asks for
more: other drivers log between print_hex_dump's lines.  DUMP_PREFIX_ADDRESS
lines join the same way (hashed addresses do not follow each other).

At a pause of live input, a pending message that is complete is handed out
at once (:meth:`Framer.pause`); one that only might go on (a full last row
with offsets) once the input stays quiet (:meth:`Framer.idle`).
"""

from __future__ import annotations

import re

from dmdissect import findings as ei
from dmdissect.findings import Finding
from dmdissect.sources.frame import Frame
from dmdissect.sources.hex import formats
from dmdissect.sources.hex.columns import BYTES, LE_WORDS, ascii_matches, is_hex, render_ascii
from dmdissect.sources.hex.formats import BRACES, FRAMING, OFFSETS, REPEAT, SIZE
from dmdissect.sources.hex.lane import Lane
from dmdissect.sources.hex.message import PendingMessage
from dmdissect.sources.hex.order import OrderChoice, choose_order, row_slices
from dmdissect.sources.hex.preamble import find_direction, parse_preamble, preamble_direction
from dmdissect.sources.hex.row import (
    COLON,
    KERNEL_ROWS,
    PLAIN,
    TCPDUMP,
    TOOL,
    XXD_PLAIN_ROW,
    Row,
)
from dmdissect.sources.hex.sizes import (
    HEADER_SIZE,
    MAX_MESSAGE,
    SIZE_END,
    header_size,
    split_records,
)
from dmdissect.sources.hex.timestamps import (
    MAX_DIGITS,
    leading_time,
    overlong_time,
    prefix_time,
    stamped_time,
    without_times,
)
from dmdissect.sources.hex.tshark_tree import TsharkTree
from dmdissect.views.english import plural
from dmdissect.vocabulary import Direction, DirectionSource

#: Foreign lines in a row that may come between two rows of a prefixed dump
#: without offsets (another driver logging between print_hex_dump's lines).
MAX_FOREIGN_LINES = 16


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


_ZERO_OFFSET = "00000000"
_IO_LETTERS = ("I", "O", " ", "\t")
_SAME_LINE_IO = re.compile(r"\s*[IO]\s+")

#: Widths of pasted rows of spaced bytes without a prefix (blocks of 8 or 16 bytes).
PASTE_ROWS = (8, *KERNEL_ROWS)


class Framer:
    """Turns parsed lines into messages: boundaries, times, directions, findings."""

    def __init__(self, name: str, override: str | None) -> None:
        self.name = name
        self.override = override
        self.pending: PendingMessage | None = None
        self.index = 0
        self.preamble: str | None = None
        self.blank_gap = False
        self.noise_gap = False
        self.last_tcpdump: bytes | None = None
        self.foreign = 0
        self.tree = TsharkTree()
        self.lane: Lane | None = None
        self.out: list[Frame] = []

    def feed(self, number: int, text: str | None) -> list[Frame]:
        """Take one line (None: an overlong line); return the messages it completed."""
        self.out = []
        if text is not None and self.use_lane and self._fast(number, text):
            return self.out
        if self.lane is not None:
            self._replay()
        self._take(number, text)
        return self.out

    # the fast lane: clean kernel dumps, read with no Row and no PendingMessage

    #: Whether clean kernel dumps take the fast lane (the tests compare both ways).
    use_lane = True

    def _fast(self, number: int, text: str) -> bool:
        """Whether the fast lane took ``text``: a row of a clean groupsize-1 kernel dump
        (or ``xxd -g1``) or the direction line between such dumps.

        The lane keeps the lines of its message; anything it does not expect
        (a jump, another prefix, a column that disagrees, a pause) hands them
        back to the general reader (:meth:`_replay`), which reads them as if
        the lane had never been, so the lane changes speed, never results.
        """
        lane = self.lane
        m = formats.kernel_row(text)
        if m is None:
            if lane is None or not formats.is_known_noise(text):
                return False
            lane.lines.append((number, text))
            self.noise_gap = True
            self.preamble = text
            return True
        prefix, offset, groups, column = m.groups()
        data = bytes.fromhex(groups)
        if render_ascii(data) != column:
            return False
        # every prefix here is a dmesg stamp and the same rest, or nothing
        tail = prefix[prefix.find("]") + 1 :]
        if offset != _ZERO_OFFSET:
            if (
                lane is None
                or tail != lane.key
                or int(offset, 16) != lane.seen
                or lane.seen + len(data) > MAX_MESSAGE
            ):
                return False
            lane.lines.append((number, text))
            lane.chunks.append(data)
            lane.seen += len(data)
        else:
            if self.tree.open:
                return False
            if lane is not None and not self._emit():
                return False
            self._flush()
            snapshot = (self.preamble, self.blank_gap, self.noise_gap, self.foreign)
            time, direction, stamp = self._when_and_where(prefix, None, number, True)
            if stamp is not None:
                return False
            self.lane = Lane(
                tail, number, time, direction, snapshot, [(number, text)], [data], len(data)
            )
        self.preamble = None
        self.blank_gap = self.noise_gap = False
        self.foreign = 0
        return True

    def _emit(self) -> bool:
        """Hand out the lane's message, as the general reader would; False (and the
        lines replayed) when it is several messages to split."""
        lane = self.lane
        assert lane is not None, "called with a lane open"
        data = b"".join(lane.chunks)
        if split_records(data) is not None:
            self._replay()
            return False
        self._hand_out(lane, data)
        return True

    def _hand_out(self, lane: Lane, data: bytes) -> None:
        self.lane = None
        self.last_tcpdump = None
        self.out.append(self._frame_of(data, lane.first, [], lane.time, lane.direction))

    def _replay(self) -> None:
        """Give the lane's lines to the general reader, from the state before them
        (an entry of :meth:`take_dump` holds several lines)."""
        lane, self.lane = self.lane, None
        assert lane is not None, "called with a lane open"
        self.preamble, self.blank_gap, self.noise_gap, self.foreign = lane.snapshot
        for number, text in lane.lines:
            if "\n" in text:
                for offset, line in enumerate(text.split("\n")):
                    self._take(number + offset, line)
            else:
                self._take(number, text)

    # whole dumps (see dmdissect.sources.hex.dumps)

    def noise_line(self, number: int, text: str) -> list[Frame]:
        """:meth:`feed` of a direction line before a kernel dump (known noise, no row),
        without asking the row expression first."""
        self.out = []
        lane = self.lane
        if self.use_lane and lane is not None:
            lane.lines.append((number, text))
            self.noise_gap = True
            self.preamble = text
        else:
            self._take(number, text)
        return self.out

    def take_dump(
        self,
        number: int,
        stamp: str,
        tail: str,
        data: bytes,
        rows: str,
        said: Direction | None = None,
    ) -> bool:
        """Take every row of one kernel dump at once, as :meth:`_fast` takes them one by one.

        ``rows`` are its lines (the first numbered ``number``), whose prefix
        (a dmesg ``stamp`` and the ``tail`` after it), offsets, hex and columns
        the caller checked are exactly the kernel's for ``data``.  ``said`` is
        the direction the line before (the kernel's direction line just given to
        :meth:`noise_line`) names, when the caller read it, else None.  False,
        with nothing changed, where the lane would not take them all; the
        caller then feeds them line by line.  The frames handed out (the
        message before) are in :attr:`out`.
        """
        self.out = []
        if not self.use_lane or self.tree.open or self.pending is not None:
            return False
        lane = self.lane
        before = b""
        if lane is not None:
            before = b"".join(lane.chunks)
            if split_records(before) is not None:
                return False
        time = stamped_time(stamp, tail)
        if time is None:
            return False  # the line before or an overlong stamp may say more: the rows decide
        # As _when_and_where: the row's own words first (its stamp has none), then the
        # line before it (a tshark tree is not open).
        direction = find_direction(tail) or said
        if direction is None and self.preamble:
            direction = preamble_direction(formats.strip_ansi(self.preamble))
        if lane is not None:
            self._hand_out(lane, before)
        snapshot = (self.preamble, self.blank_gap, self.noise_gap, self.foreign)
        self.lane = Lane(
            tail, number, time, direction, snapshot, [(number, rows)], [data], len(data)
        )
        self.preamble = None
        self.blank_gap = self.noise_gap = False
        self.foreign = 0
        return True

    # the general reader

    def _take(self, number: int, text: str | None) -> None:
        if text is None:
            self._noise(None)
        elif not text.strip():
            self._blank()
        elif formats.is_known_noise(text):
            self._noise(text)
        else:
            row = formats.parse_line(text)
            if text[:1] in _IO_LETTERS and (same := self._same_line_io(text)) is not None:
                self.preamble, text = same
                row = formats.parse_line(text)
            if row is None or (self.tree.open and FRAMING[row.family] in (SIZE, BRACES)):
                self._noise(text)
            else:
                self._row(row, number, text)

    @staticmethod
    def _same_line_io(text: str) -> tuple[str, str] | None:
        """text2pcap's direction on the dump's first line (``I 0000 05 00 ...``,
        ``O 2026-11-27 12:00:03.5 000000 ...``): the direction and time, and the row.

        Only a row with an offset of 0 after the letter counts, as text2pcap
        reads it: the letter starts a packet.
        """
        m = _SAME_LINE_IO.match(text)
        if m is None:
            return None
        rest = text[m.end() :]
        stamp = leading_time(rest)
        body = rest[stamp[1] :].lstrip() if stamp else rest
        row = formats.parse_line(body)
        if row is None or FRAMING[row.family] != OFFSETS or not _zero(row.offset_token or "1"):
            return None
        return text[: len(text) - len(body)], body

    def pause(self) -> list[Frame]:
        """The input has nothing more for now: hand out the pending message if it is
        complete (see :meth:`_is_complete`), so that live input shows it at once."""
        self.out = []
        if self.lane is not None:
            self._replay()
        if self.pending is not None and self._is_complete(self.pending):
            self._flush()
        return self.out

    def idle(self) -> list[Frame]:
        """Live input stayed quiet after a pause: hand out a message whose size is reached
        even if its full last row might have been followed by more (the writer is done)."""
        self.out = []
        if self.lane is not None:
            self._replay()
        p = self.pending
        if p is not None and not p.brace and not p.closed and self._size_reached(p):
            self._flush()
        return self.out

    def finish(self) -> list[Frame]:
        self.out = []
        if self.lane is not None and not self._emit():
            self._flush()
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
        if text is not None:
            self.tree.watch(text)
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
        framing = FRAMING[row.family]
        if framing == REPEAT:
            accepted = self._star(number)
        elif framing == OFFSETS:
            accepted = self._offset_row(row, number)
        elif row.bare and self._is_end_offset(row):
            accepted = self._end_offset(row, number)
        else:
            accepted = self._free_row(row, number)
        if not accepted and row.loose:
            plain = formats.parse_labelled(text)
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
        key = without_times(row.prefix)
        p = self.pending
        same = (
            p is not None
            and p.offset_mode
            and not p.closed
            and p.family == row.family
            and p.key == key
        )
        token = row.offset_token or ""
        if row.family == COLON:
            value = int(token, 16) if is_hex(token) else None
            if value is None or (len(token) == 16 and not _zero(token)) or value > MAX_MESSAGE:
                if not (same and p is not None and value is not None and value == p.seen):
                    return self._free_row(row, number, address=value, key=key)
        if _zero(token):
            self._start(row, number, key, offset_mode=True)
            return True
        if same and p is not None:
            self._continue(p, row, p.offset_value(token), number)
            return True
        if row.loose or row.nbytes < HEADER_SIZE or _least_offset(token, row.radixes) > MAX_MESSAGE:
            return False  # not a dump that lost its first lines
        started = self._start(row, number, key, offset_mode=True)
        value = started.offset_value(token)
        started.findings.insert(
            0,
            ei.HEX_STARTS_LATE(
                f"line {number}: the dump starts at offset {value:#x}: the first {value} bytes, "
                "with the header, are missing"
            ),
        )
        started.base = value
        started.seen = value + row.nbytes
        return True

    def _continue(self, p: PendingMessage, row: Row, value: int, number: int) -> None:
        p.take_spare(value)
        if p.star_line is not None:
            p.fill_to(value, number)
        elif value > p.seen:
            p.flag(
                ei.HEX_OFFSET_GAP(
                    f"line {number}: the offset jumps from {p.seen:#x} to {value:#x}: "
                    f"{plural(value - p.seen, 'byte')} {'is' if value - p.seen == 1 else 'are'} "
                    "missing"
                )
            )
        elif value < p.seen:
            p.flag(
                ei.HEX_OFFSET_BACKWARDS(
                    f"line {number}: the offset goes back from {p.seen:#x} to {value:#x}"
                )
            )
        p.seen = value
        p.add(row, number)

    def _is_end_offset(self, row: Row) -> bool:
        p = self.pending
        return (
            p is not None
            and p.offset_mode
            and p.family == TOOL
            and not p.closed
            and len(row.offset_token or "") == p.offset_digits
        )

    def _end_offset(self, row: Row, number: int) -> bool:
        """hexdump's and od's last line: the length of what they dumped."""
        p = self.pending
        assert p is not None, "_is_end_offset holds"
        value = p.offset_value(row.offset_token or "")
        p.take_spare(value)
        if p.star_line is not None:
            p.fill_to(value, number)
        elif value > p.seen:
            p.flag(
                ei.HEX_ENDS_SHORT(
                    f"line {number}: the dump ends at offset {value:#x} but only {p.seen} "
                    "bytes were printed"
                )
            )
        elif value < p.seen:
            word = max(len(t) // 2 for r in p.rows for t in r.tokens)
            if p.seen - value >= word:
                p.flag(
                    ei.HEX_ENDS_EARLY(
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
        key = without_times(row.prefix) if key is None else key
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
        if FRAMING[row.family] == BRACES and row.nbytes == 0:
            if row.opens:
                self._start(row, number, key, offset_mode=False).brace = True
            return row.opens
        if not (row.opens and not row.closes) and not self._alone_ok(row, key):
            return False
        started = self._start(row, number, key, offset_mode=False)
        started.next_address = None if address is None else address + row.nbytes
        started.brace = row.opens and not row.closes
        if row.closes:
            self._flush()
        return True

    def _joins(self, p: PendingMessage, row: Row, key: str, address: int | None) -> bool:
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
        if row.nbytes > p.last_nbytes:
            return False  # rows after the first are never wider
        size = self._size(p)
        if size is not None and size >= HEADER_SIZE:
            return (p.stored < size and self._wrapped(p)) or self._xxd_p_goes_on(p, size)
        return self._wrapped(p)

    def _wrapped(self, p: PendingMessage) -> bool:
        """Whether the last row is a full row of its tool, so the dump may go on.

        A tool wraps its lines at a fixed width and prints a shorter row only
        at the end; a line that is not a full row cannot be continued,
        whatever the header's size asks for (a lying ``size`` 65535 must not
        swallow the messages after it).
        """
        last = p.last_row
        return last is not None and (last.more or last.nbytes in self._wrap_widths(p, last))

    def _xxd_p_goes_on(self, p: PendingMessage, size: int) -> bool:
        """xxd -p wraps at 30 bytes whatever the header says: a full 30-byte line
        past the header's size still takes the next (a lying header stays whole)."""
        last = p.last_row
        return (
            p.stored > size
            and p.family == PLAIN
            and last is not None
            and last.nbytes == XXD_PLAIN_ROW
            and self._wrapped(p)
        )

    def _wants_more(self, p: PendingMessage) -> bool:
        """Whether the header's size asks for bytes the message does not have yet."""
        size = self._size(p)
        return (
            p.overflow_line is None
            and size is not None
            and size >= HEADER_SIZE
            and p.stored < size
            and self._wrapped(p)
        )

    def _size_reached(self, p: PendingMessage) -> bool:
        """Whether the message holds the bytes its header's size counts (and nothing
        it still waits for: a ``*`` to expand, a header cut off at the start)."""
        if p.base or p.star_line is not None or p.overflow_line is not None:
            return False
        size = self._size(p)
        return size is not None and size >= HEADER_SIZE and p.stored >= size

    def _is_complete(self, p: PendingMessage) -> bool:
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
        size = self._size(p)
        assert size is not None, "_size_reached holds"
        if p.offset_mode or (p.next_address is not None and p.addresses_follow is not False):
            return p.gap_after or (p.stored == size and p.ends_short())
        return not self._xxd_p_goes_on(p, size)

    @staticmethod
    def _wrap_widths(p: PendingMessage, last: Row) -> tuple[int, ...]:
        """Row widths that mean "the line was wrapped, more follows" for this message."""
        if p.family == COLON or last.ascii is not None or p.key:
            return KERNEL_ROWS
        if p.family == PLAIN and len(last.tokens) == 1:
            return (XXD_PLAIN_ROW, *KERNEL_ROWS)
        if p.family == PLAIN:
            return PASTE_ROWS
        return ()

    def _size(self, p: PendingMessage) -> int | None:
        """The header's size field as far as it can be told from the first rows.

        Read under the tentative group order.  One exception: a message that
        so far is a single hex string of at most 16 digits (a labelled 8-byte
        message, or the kernel's one 8-byte group) ends when either reading
        says it is complete, as nothing else tells bytes from a word there.
        """
        if p.stored < SIZE_END:
            return None
        if p.size is None:
            choice = choose_order(p, self.override, final=False)
            sizes = {o: header_size(p.assemble(o)) for o in (BYTES, LE_WORDS)}
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
        if row.family != PLAIN or row.ascii is not None or not key:
            return True
        if find_direction(row.prefix):
            return True
        chosen = self.override or row.order
        orders = [chosen] if chosen else [BYTES, LE_WORDS]
        for order in orders:
            size = header_size(row.data(order))
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

    def _start(self, row: Row, number: int, key: str, offset_mode: bool) -> PendingMessage:
        self._flush()
        address_mode = row.family == COLON and not offset_mode
        message = PendingMessage(
            row.family,
            key,
            number,
            offset_mode,
            self._context_order(row, address_mode),
            radixes=row.radixes,
            offset_digits=len(row.offset_token or ""),
            after_noise=self.noise_gap,
        )
        message.time, message.direction, stamp = self._when_and_where(
            row.prefix, row.comment, number, offset_mode
        )
        if stamp is not None:
            message.flag(stamp)
        message.comment = row.comment
        self.pending = message
        message.add(row, number)
        return message

    def _when_and_where(
        self, prefix: str, comment: str | None, number: int, offset_mode: bool
    ) -> tuple[float | None, Direction | None, Finding | None]:
        """The time and direction of a message starting with a row of ``prefix`` and
        ``comment``, and a finding when the prefix's timestamp has too many digits to
        be a time."""
        preamble = formats.strip_ansi(self.preamble) if self.preamble else None
        found = prefix_time(prefix) if prefix else None
        stamp = None
        if found is None and prefix and (shown := overlong_time(prefix)):
            stamp = ei.HEX_TIMESTAMP_DIGITS(
                f"line {number}: the timestamp {shown} has more digits than a time may "
                f"have ({MAX_DIGITS}); the message has no time from it"
            )
        tree_time, tree_direction = self.tree.close() if offset_mode else (None, None)
        # The line before the dump is read only for what the dump's own line lacks.
        if found is None:
            time = parse_preamble(preamble)[0] if preamble else None
            found = time if time is not None else tree_time
        direction = find_direction(prefix) or (find_direction(comment) if comment else None)
        if direction is None:
            direction = (preamble_direction(preamble) if preamble else None) or tree_direction
        return found, direction, stamp

    def _flush(self) -> None:
        p, self.pending = self.pending, None
        if p is None:
            return
        self.out.extend(self._finish(p))

    def _spare_by_size(self, p: PendingMessage) -> None:
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

    def _finish(self, p: PendingMessage) -> list[Frame]:
        self._spare_by_size(p)
        findings = p.line_findings()
        whole = not findings and not p.base and not p.brace
        if p.star_line is not None:
            findings.append(
                ei.HEX_REPEAT_UNENDED(
                    f"line {p.star_line}: '*' is not followed by an offset: the repeated bytes "
                    "are missing"
                )
            )
        choice = choose_order(p, self.override, final=True)
        full = p.assemble(choice.order)
        data = full[:MAX_MESSAGE]
        if len(full) > MAX_MESSAGE or p.overflow_line is not None:
            findings.append(
                ei.HEX_TOO_LONG(
                    f"line {p.overflow_line}: the dump goes on past {MAX_MESSAGE} bytes, more than "
                    f"any message can hold: the message is cut there and lines up to "
                    f"{p.last_line} are skipped"
                )
            )
        if not data:
            return []
        whole = whole and not findings
        findings.extend(self._order_findings(p, choice, data))
        findings.extend(_ascii_findings(p, full))
        if self._duplicate(p, data):
            return []
        pieces = split_records(data) if whole else None
        if pieces is None:
            return [self._frame(p, data, p.line, findings, p.direction)]
        frames = []
        for number, (start, piece) in enumerate(pieces, 1):
            split = ei.HEX_SPLIT_BY_SIZE(
                f"message {number} of {len(pieces)} in the dump starting at line "
                f"{p.line}, split by their header's size as raw input is"
            )
            first = number == 1
            frames.append(
                self._frame(
                    p,
                    piece,
                    p.line_of(start),
                    [*findings, split] if first else [split],
                    p.direction if first else None,
                )
            )
        return frames

    def _frame(
        self,
        p: PendingMessage,
        data: bytes,
        line: int,
        findings: list[Finding],
        direction: Direction | None,
    ) -> Frame:
        return self._frame_of(data, line, findings, p.time, direction, p.comment)

    def _frame_of(
        self,
        data: bytes,
        line: int,
        findings: list[Finding],
        time: float | None,
        direction: Direction | None,
        comment: str | None = None,
    ) -> Frame:
        self.index += 1
        return Frame(
            self.index,
            data,
            time=time,
            direction=direction,
            direction_source=DirectionSource.TEXT if direction else DirectionSource.UNKNOWN,
            origin=f"{self.name}:{line}",
            comment=comment,
            findings=findings,
        )

    def _order_findings(self, p: PendingMessage, choice: OrderChoice, data: bytes) -> list[Finding]:
        found = []
        if choice.conflict:
            found.append(
                ei.HEX_ORDER_CONFLICT(
                    "the ASCII column matches the hex read as bytes on some lines and as "
                    f"little-endian words on others; read as {choice.order}"
                )
            )
        if choice.how == "default":
            other = LE_WORDS if choice.order == BYTES else BYTES
            if p.assemble(other)[: len(data)] != data:
                found.append(
                    ei.HEX_ORDER_ASSUMED(
                        f"multi-byte hex groups read as {choice.order}: no ASCII column or header "
                        f"settles their order; pass hex_order={other!r} if that is wrong"
                    )
                )
        return found

    def _duplicate(self, p: PendingMessage, data: bytes) -> bool:
        """tcpdump prints a packet of an unsupported link type twice, back to back."""
        if p.family != TCPDUMP:
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


def _ascii_findings(message: PendingMessage, data: bytes) -> list[Finding]:
    """A note when the ASCII column shows other bytes than the hex (a hand-edited dump);
    lines already reported as broken are not counted again."""
    bad = sum(
        1
        for row, chunk in row_slices(message, data)
        if row.ascii is not None
        and row.ascii.strip()
        and chunk
        and not row.problems
        and not ascii_matches(row.ascii, chunk)
    )
    if not bad:
        return []
    return [
        ei.HEX_ASCII_MISMATCH(
            f"the ASCII column disagrees with the hex on {plural(bad, 'line')}; "
            "the hex is what counts"
        )
    ]
