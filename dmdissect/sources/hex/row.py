"""One parsed dump line: the unit between the line parsers and the framers."""

from __future__ import annotations

from dataclasses import dataclass, field

from dmdissect.sources.hex.columns import decode_tokens

# Row families: which column structure a line has (one entry each in
# :data:`dmdissect.sources.hex.formats.FORMATS`).
COLON = "colon"  # xxd, kernel print_hex_dump:  [prefix]XXXXXXXX: groups  ascii
TCPDUMP = "tcpdump"  # tcpdump -X / -xx:            \t0x0000:  0700 3800  ascii
TOOL = "tool"  # hexdump [-C], od, tshark -x, Wireshark:  offset  bytes  ascii
PLAIN = "plain"  # no offset: hex string, 07:00:..., kernel DUMP_PREFIX_NONE
CARRAY = "carray"  # 0x07, 0x00, ... with optional braces (xxd -i)
PYREPR = "pyrepr"  # b'\x07\x00...'
STAR = "star"  # '*': the previous line repeats up to the next offset


_BYTE_WIDTH = {2}


@dataclass(slots=True)
class Row:
    """One dump line: its hex groups and what surrounds them.

    ``tokens`` are the hex groups exactly as printed (their byte order is
    decided per message); ``raw`` holds the bytes of formats that spell bytes
    directly (C arrays, Python reprs).  ``order`` is the order the tool is
    known to use (None: it depends on the writer, decided from evidence) and
    ``fixed`` says that no evidence may change it.  ``problems`` are what is
    broken in the line; the readable bytes are kept regardless.  ``spare``
    holds hex groups that were read as the ASCII column because they render
    the groups before them; the next offset may show they were bytes after
    all (:meth:`take_spare`).  ``loose`` marks an offset that may as well be
    a label (text2pcap's one-space form: ``1234 07 00 ...``), which only an
    offset of 0 or the next offset of a dump confirms (the framer then reads
    the line as a labelled plain row instead).  ``more`` marks a row that says
    it goes on (a C array row ending with a comma).
    """

    family: str
    tokens: tuple[str, ...] = ()
    raw: bytes | None = None
    offset_token: str | None = None
    radixes: tuple[int, ...] = (16,)
    prefix: str = ""
    ascii: str | None = None
    order: str | None = None
    fixed: bool = False
    problems: tuple[str, ...] = ()
    opens: bool = False
    closes: bool = False
    bare: bool = False
    comment: str | None = None
    spare: tuple[str, ...] = ()
    loose: bool = False
    more: bool = False
    nbytes: int = field(init=False)
    multibyte: bool = field(init=False)
    single: bool = field(init=False)

    def __post_init__(self) -> None:
        self._count()

    def _count(self) -> None:
        """``nbytes``, and ``multibyte``: whether group order matters for this row
        (some group is wider than a byte)."""
        tokens = self.tokens
        widths = set(map(len, tokens))
        self.multibyte = max(widths, default=0) > 3
        self.single = widths == _BYTE_WIDTH
        if self.raw is not None:
            self.nbytes = len(self.raw)
        elif self.single:
            self.nbytes = len(tokens)
        else:
            self.nbytes = sum(len(t) >> 1 for t in tokens)

    def data(self, order: str) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.single:
            return bytes.fromhex("".join(self.tokens))
        return decode_tokens(self.tokens, order)

    @property
    def spare_bytes(self) -> int:
        return sum(len(t) // 2 for t in self.spare)

    def take_spare(self) -> None:
        """Read the spare groups as bytes: the offset after this row counted them."""
        self.tokens += self.spare
        self.spare, self.ascii = (), None
        self._count()


#: The most problems one line reports; a line of a million broken groups says so a
#: few times and counts the rest.
MAX_LINE_PROBLEMS = 8


class Problems:
    """What is wrong in one line, at most :data:`MAX_LINE_PROBLEMS` of them; the
    rest are only counted, so that a long broken line costs no more memory than
    a short one.  Not a list, so that no list method can add past the cap."""

    __slots__ = ("kept", "more")

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.more = 0

    def append(self, text: str) -> None:
        if len(self.kept) < MAX_LINE_PROBLEMS:
            self.kept.append(text)
        else:
            self.more += 1

    def extend(self, other: Problems) -> None:
        for text in other.kept:
            self.append(text)
        self.more += other.more

    def __len__(self) -> int:
        return len(self.kept) + self.more

    def final(self) -> tuple[str, ...]:
        """The problems as a Row holds them, the count of the rest last."""
        rest = (f"{self.more} more problems on this line",) if self.more else ()
        return tuple(self.kept) + rest


#: Widths at which dump tools wrap lines: kernel rows and ``xxd -p``.
KERNEL_ROWS = (16, 32)
XXD_PLAIN_ROW = 30
