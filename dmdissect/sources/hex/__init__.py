"""Hex dumps pasted from logs and tools, streamed into one Frame per message.

Formats (one entry each in :mod:`dmdissect.sources.hex.formats`):

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
without offsets join while the header's ``size`` asks for more
bytes and no blank or foreign line comes between; otherwise each line, or
each ``{...}`` block of a C array, is a message.  Lines that carry a log
prefix (``hv_balloon:``) keep joining across foreign lines (up to
:data:`MAX_FOREIGN_LINES` in a row) while the size asks for more: other
drivers log between print_hex_dump's lines.  DUMP_PREFIX_ADDRESS lines join
the same way (hashed addresses do not follow each other).

Streaming: see :mod:`dmdissect.sources.hex.lines`; at each pause of live input a
complete pending message is handed out at once, so ``dmesg -w | dmdissect
read -`` shows it when its last line arrives.

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

The package, in reading order: :mod:`~dmdissect.sources.hex.lines` (text
lines and pauses), :mod:`~dmdissect.sources.hex.formats` (the table of line
structures and their parsers), :mod:`~dmdissect.sources.hex.framer` (rows
to messages), :mod:`~dmdissect.sources.hex.order` (group order),
:mod:`~dmdissect.sources.hex.timestamps` and
:mod:`~dmdissect.sources.hex.preamble` (time and direction).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from dmdissect.sources.frame import Frame
from dmdissect.sources.hex.columns import BYTES, LE_WORDS
from dmdissect.sources.hex.dumps import take_lines
from dmdissect.sources.hex.framer import MAX_FOREIGN_LINES, Framer
from dmdissect.sources.hex.lines import IDLE, PAUSE, Lines, read_texts
from dmdissect.sources.hex.sizes import MAX_MESSAGE

__all__ = ["AUTO", "HEX_ORDERS", "MAX_FOREIGN_LINES", "MAX_MESSAGE", "iter_hex_frames"]

#: Values of ``hex_order``; None means AUTO.
AUTO = "auto"
HEX_ORDERS = (AUTO, BYTES, LE_WORDS)


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
    framer = Framer(name, override)
    number = 0
    for text in read_texts(stream, name):
        if text is PAUSE:
            yield from framer.pause()
            continue
        if text is IDLE:
            yield from framer.idle()
            continue
        if type(text) is Lines:
            number = yield from take_lines(framer, number, text)
            continue
        number += 1
        yield from framer.feed(number, text)
    yield from framer.finish()
