"""Lines of a text input, read with bounded memory, with the pauses of live input.

The input is read with ``read1`` (what a pipe holds now, at most
:data:`CHUNK`), never with a ``read(n)`` that waits for ``n`` bytes, so that
``dmesg -w | dmdissect read -`` sees each line when it arrives.  When a read
returns less than it was asked for and no partial line is buffered, the
reader yields :data:`PAUSE`: the writer paused (a live log) or the input
ends.  A file read in full chunks pauses only at its end, so it gives the
same lines (and messages) whatever its size.  The whole lines of a chunk come
as one :class:`Lines`, for the readers that look at many lines at once.  A line longer than
:data:`MAX_LINE` is consumed chunk by chunk, never held whole, and comes out
as None.  UTF-16 input (PowerShell's ``>`` writes it) is re-encoded and a
byte-order mark dropped.
"""

from __future__ import annotations

import codecs
import io
import select
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, TextIO

from dmdissect.sources.errors import InputError

#: Longest line read as a line; longer ones are consumed in chunks and skipped.
MAX_LINE = 1 << 20
#: Bytes read from the stream at a time.
CHUNK = 1 << 16


class _Pause(str):
    """The marker :func:`read_texts` yields when the input has no more for now."""


#: Yielded between lines when the stream returned less than it was asked for.
PAUSE = _Pause("")
#: Yielded when, after a pause, nothing more arrived for :data:`IDLE_SECONDS`.
IDLE = _Pause("")
#: How long live input must stay quiet before a message waiting for a possible
#: next row is handed out anyway: a writer prints one dump in one burst.
IDLE_SECONDS = 0.5


def _reader(stream: BinaryIO | TextIO) -> Callable[[], bytes | str]:
    """The call that returns what the stream has now, up to CHUNK, without waiting for more.

    ``read(CHUNK)`` on a buffered pipe blocks until 64 KiB or end of file, so
    a slow writer (``dmesg -w``, ``tail -f``) would see nothing for minutes:
    buffered binary streams are read with ``read1`` (at most one read of the
    pipe), text streams line by line with a bounded ``readline``; raw streams
    return short reads by themselves.
    """
    if isinstance(stream, io.TextIOBase):
        text = stream
        return lambda: text.readline(CHUNK)
    read1 = getattr(stream, "read1", None)
    if callable(read1):
        return lambda: read1(CHUNK)
    return lambda: stream.read(CHUNK)


def _read_chunks(stream: BinaryIO | TextIO, name: str) -> Iterator[bytes]:
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
            if _quiet(stream):
                yield IDLE_CHUNK


class _IdleChunk(bytes):
    """An empty chunk that says "idle", between :func:`_read_chunks` and :func:`_split_lines`."""


IDLE_CHUNK = _IdleChunk()


def _quiet(stream: BinaryIO | TextIO) -> bool:
    """A live input that has sent nothing for IDLE_SECONDS (never a file: it has no pauses)."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return False
    try:
        ready, _, _ = select.select([fd], [], [], IDLE_SECONDS)
    except (OSError, ValueError):
        return False
    return not ready


def _utf8_chunks(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """UTF-8 chunks: a UTF-16 input is re-encoded and a byte-order mark dropped,
    judged on at least the first four bytes.  Empty chunks (pauses) pass
    through; no other empty chunk is made."""
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


class Lines(str):
    """Several whole lines at once, joined by newlines, carriage returns still in them:
    what :func:`read_texts` gives between the lines it gives one by one."""

    __slots__ = ()


def _split_lines(chunks: Iterable[bytes]) -> Iterator[str | None]:
    buf = bytearray()
    skipping = False
    for chunk in chunks:
        if not chunk:
            if not buf and not skipping:
                yield IDLE if isinstance(chunk, _IdleChunk) else PAUSE
            continue
        scan = len(buf)
        buf += chunk
        first = buf.find(b"\n", scan)
        if first >= 0:
            # the line begun in earlier chunks, then every whole line decoded at once
            # (a newline is never inside a UTF-8 sequence, so this decodes as line by line)
            yield None if skipping else _text(buf[:first])
            skipping = False
            last = buf.rfind(b"\n")
            if last > first:
                yield Lines(buf[first + 1 : last].decode("utf-8", "replace"))
            del buf[: last + 1]
        if len(buf) > MAX_LINE:
            buf.clear()
            skipping = True
    if skipping:
        yield None
    elif buf:
        yield _text(buf)


def read_texts(stream: BinaryIO | TextIO, name: str) -> Iterator[str | None]:
    """The lines of ``stream`` as text (no newline, no carriage return), None for a
    line longer than MAX_LINE, and :data:`PAUSE` where the input paused; runs of
    whole lines read at once come as one :class:`Lines`.  Raises InputError when
    the stream cannot be read."""
    return _split_lines(_utf8_chunks(_read_chunks(stream, name)))
