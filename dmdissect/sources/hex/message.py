"""The message being assembled: its rows so far and what the dump said about it.

Offsets are tracked (``seen``) even past the cap; rows are stored up to
:data:`MAX_MESSAGE` bytes.  A ``*`` line is kept as a :class:`Repeat` of the
row before it, expanded only when the message is assembled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dmdissect import findings as ei
from dmdissect.findings import Finding
from dmdissect.sources.hex.row import KERNEL_ROWS, Row
from dmdissect.sources.hex.sizes import MAX_MESSAGE
from dmdissect.vocabulary import Direction

#: The most findings the lines of one message give; the rest are counted.
MAX_LINE_FINDINGS = 16


@dataclass(slots=True)
class Repeat:
    """Bytes a ``*`` line stands for: ``row`` repeated to ``count`` bytes."""

    row: Row
    count: int

    @property
    def nbytes(self) -> int:
        return self.count


@dataclass(slots=True)
class PendingMessage:
    """The rows of one message so far, and what the dump said about it."""

    family: str
    key: str
    line: int
    offset_mode: bool
    context_order: str
    parts: list = field(default_factory=list)
    part_lines: list[int] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    unshown: int = 0
    base: int = 0
    seen: int = 0
    stored: int = 0
    last_line: int = 0
    time: float | None = None
    direction: Direction | None = None
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

    def flag(self, finding: Finding) -> None:
        """Note what is wrong on one line; past :data:`MAX_LINE_FINDINGS` only counted,
        so a dump broken on every line costs no more memory than a short one."""
        if len(self.findings) < MAX_LINE_FINDINGS:
            self.findings.append(finding)
        else:
            self.unshown += 1

    def line_findings(self) -> list[Finding]:
        """The findings of the dump's lines, with the count of those not kept."""
        if not self.unshown:
            return self.findings
        return self.findings + [
            ei.HEX_LINES_NOT_LISTED(
                f"{self.unshown} more problems on later lines of this dump are not listed "
                f"(the first {MAX_LINE_FINDINGS} are)"
            )
        ]

    def add(self, row: Row, line: int) -> None:
        """Append a row; past MAX_MESSAGE rows are only counted (offsets still track)."""
        self.last_line = line
        self.seen += row.nbytes
        self.gap_after = False
        if self.overflow_line is not None:
            return
        for problem in row.problems:
            self.flag(ei.HEX_LINE(f"line {line}: {problem}"))
        if row.nbytes == 0 and self.parts:
            return  # a line of only broken groups: its problems are all it gives
        self.nrows += 1
        self.row_width = max(self.row_width, self.last_nbytes)
        self.last_nbytes = row.nbytes
        self.parts.append(row)
        self.part_lines.append(line)
        self.stored += row.nbytes
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
            self.flag(
                ei.HEX_REPEAT_EMPTY(
                    f"line {star}: '*' is followed by offset {offset:#x}, which repeats nothing"
                )
            )
            return
        if count % source.nbytes:
            self.flag(
                ei.HEX_REPEAT_PARTIAL(
                    f"line {line}: {count} repeated bytes are not a whole number of "
                    f"{source.nbytes}-byte lines"
                )
            )
        self.seen = offset
        if self.overflow_line is not None:
            return
        kept = min(count, MAX_MESSAGE + 1 - self.stored)
        self.parts.append(Repeat(source, kept))
        self.part_lines.append(line)
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
            self.radix = self.radixes[0] if len(self.radixes) == 1 else self._guess_radix(token)
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

    def line_of(self, offset: int) -> int:
        """The line that holds the byte at ``offset`` of the assembled message."""
        pos = 0
        for part, line in zip(self.parts, self.part_lines):
            pos += part.nbytes
            if pos > offset:
                return line
        return self.last_line

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
