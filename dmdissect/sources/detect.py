"""Which reader fits an input, told from its first bytes, never from its name.

Captures announce themselves with magic numbers.  Text goes to the hex
reader: every Dynamic Memory header holds a zero byte, and raw messages are
full of them and of control characters, so text (even with a stray zero
byte) cannot be raw messages.  Binary input that is no
capture is taken for raw messages only when it starts like them (a known
type and a sane size, followed by another such header or the end); anything
else is not detected at all.  No Dynamic Memory message can be mistaken for a
capture: the magics read as message types 0xb2a1, 0xc3d4, 0x3c4d, 0xd0a and so
on, none of which exists.
"""

from __future__ import annotations

from dmdissect.layers.numbers import MESSAGE_TYPES
from dmdissect.layers.sizes import looks_like_descriptor
from dmdissect.layers.tables import DESCRIPTOR_SIZE, HEADER_SIZE, HEADER_STRUCT
from dmdissect.sources.capture import PCAP_MAGICS, PCAPNG_BOM, PCAPNG_SHB

#: How many leading bytes :func:`detect_format` wants to see.
HEAD_SIZE = 65536

#: Byte-order marks of UTF-16 text, which is full of zero bytes yet still text.
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


#: C0 controls that text logs do not hold (tab, newlines, form feed and ESC they do).
_BINARY_CONTROLS = bytes(b for b in range(0x20) if b not in b"\0\t\n\v\f\r\x1b") + b"\x7f"


def is_text(head: bytes) -> bool:
    """Whether ``head`` is text: UTF-16 with its mark, or bytes that are not messages
    back to back and, once their zero bytes are left out, hold no control that only
    binary data holds.

    A log may carry NULs (a torn write, a syslog after an unclean shutdown,
    a driver printing a buffer as a string); that does not make it binary,
    and the log readers report each such line.  Raw messages are full of zero
    bytes (every header holds one) and of control characters, so they do not pass.
    """
    if head.startswith(UTF16_BOMS):
        return True
    if not head.count(0):
        return True
    if looks_like_raw(head):
        return False
    text = head.replace(b"\0", b"")
    return bool(text) and len(text.translate(None, _BINARY_CONTROLS)) == len(text)


def decided(head: bytes) -> bool:
    """Whether ``head`` is enough to choose a reader, so a pipe need not be read further.

    A live pipe (``dmesg -w``) must not wait for 64 KiB: a capture magic, a
    first text line or a first binary header is enough.
    """
    if len(head) >= 4 and (head[:4] in PCAP_MAGICS or head[:4] == PCAPNG_SHB):
        return len(head) >= 12 or head[:4] in PCAP_MAGICS
    if is_text(head):
        return b"\n" in head
    return len(head) >= DESCRIPTOR_SIZE + HEADER_SIZE


def _plausible_header(data: bytes, offset: int) -> int | None:
    """The size of a believable message header at ``offset``, or None."""
    if len(data) < offset + HEADER_SIZE:
        return None
    msg_type, size, _ = HEADER_STRUCT.unpack_from(data, offset)
    return size if msg_type in MESSAGE_TYPES and size >= HEADER_SIZE else None


def looks_like_raw(head: bytes) -> bool:
    """Messages back to back: a sane header, then another one or the end of the head."""
    if looks_like_descriptor(head):
        return True
    size = _plausible_header(head, 0)
    if size is None:
        return False
    return len(head) <= size or _plausible_header(head, size) is not None


def detect_format(head: bytes) -> str | None:
    """``pcap``, ``pcapng``, a log format, ``hex`` or ``raw`` for an input starting with
    ``head``; None when it is none of them.  Text is a log when a line of the head is
    one of the lines that log format prints (:func:`~dmdissect.sources.logs.detect_log`),
    else a hex dump; binary data that holds such a line (a log with control
    characters in it) is that log too.

    A pcapng file needs its section header type and, when the head is long
    enough to show it, a valid byte-order magic; a head cut before the magic
    still counts as pcapng, so that the reader can say it is truncated.
    """
    if head[:4] in PCAP_MAGICS:
        return "pcap"
    if head[:4] == PCAPNG_SHB and (len(head) < 12 or head[8:12] in PCAPNG_BOM):
        return "pcapng"
    from dmdissect.sources.logs import detect_log

    if is_text(head):
        return detect_log(head) or "hex"
    if looks_like_raw(head):
        return "raw"
    return detect_log(head)
