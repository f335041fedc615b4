"""Bytes in, frames out: the one door every command uses to read an input.

:func:`open_frames` opens a file or standard input, tells its format from the
content (:mod:`dmdissect.sources.detect`) unless told, and hands back frames
numbered 1.. in input order.  Opening, emptiness and an unusable file header
are checked at the call, so a command fails before it prints anything; damage
later in the input comes as findings on frames (see the reader modules).
"""

from __future__ import annotations

import io
import os
import stat
import sys
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from dmdissect.sources.errors import InputError
from dmdissect.sources.frame import Frame
from dmdissect.sources.logs import LOG_FORMATS, LOG_SESSION

FORMATS = ("pcap", "pcapng", "hex", "raw", "qemu-trace", "qmp", "dmesg", "ftrace", "debugfs")

#: ``progress(bytes_read, total_bytes_or_None)``
Progress = Callable[[int, "int | None"], None]
STDIN_NAME = "<stdin>"


class _Replay(io.RawIOBase):
    """A stream that gives back ``head`` first, then the rest of ``stream``.

    Detection must look at the first bytes of a pipe, which cannot seek back;
    wrapping this in :class:`io.BufferedReader` gives every reader the whole
    input with ``read``, ``readline`` and line iteration.
    """

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._stream = stream
        # read1 returns what a pipe has now instead of waiting for a full buffer.
        self._read = getattr(stream, "read1", stream.read)

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        """The stream's descriptor, once the replayed head is used up (to wait on it)."""
        if self._head:
            raise io.UnsupportedOperation("the replayed head is not in the descriptor")
        return self._stream.fileno()

    def readinto(self, buffer: Any) -> int:
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _open(path: str) -> tuple[BinaryIO, str, bool]:
    """The binary stream, the name used in messages, and whether we must close it."""
    if path == "-":
        if sys.stdin is None:
            raise InputError("cannot read standard input: it is closed")
        if _is_directory(sys.stdin):
            raise InputError("cannot read standard input: it is a directory")
        return sys.stdin.buffer, STDIN_NAME, False
    try:
        return open(path, "rb"), path, True
    except FileNotFoundError:
        raise InputError(f"cannot read {path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"cannot read {path}: it is a directory") from None
    except PermissionError:
        raise InputError(f"cannot read {path}: permission denied") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None


def _is_directory(stream: Any) -> bool:
    try:
        return stat.S_ISDIR(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return False


def _read_head(stream: BinaryIO, name: str, size: int, pipe: bool | None = None) -> bytes:
    """The first bytes, enough to tell the format, at most ``size``.

    Files are read in one go; a pipe is read as its data arrives and only
    until the format is clear, so that live input (``dmesg -w``) flows.
    ``pipe`` says what ``stream`` is when it cannot tell itself (decompressed
    data read from a pipe).
    """
    from dmdissect.sources.capture import read_up_to
    from dmdissect.sources.detect import decided

    try:
        if not (_is_pipe(stream) if pipe is None else pipe):
            return read_up_to(stream, size)
        head = b""
        read1 = getattr(stream, "read1", stream.read)
        while len(head) < size and not decided(head):
            chunk = read1(size - len(head))
            if not chunk:
                break
            head += chunk
        return head
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror or exc}") from None


def _is_pipe(stream: BinaryIO) -> bool:
    try:
        return not stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError, io.UnsupportedOperation):
        return False


def _reader(
    fmt: str, stream: BinaryIO, name: str, linktype: int | None, hex_order: str | None
) -> Iterator[Frame]:
    if fmt == "pcap":
        from dmdissect.sources.capture import iter_pcap

        return iter_pcap(stream, name, linktype)
    if fmt == "pcapng":
        from dmdissect.sources.capture import iter_pcapng

        return iter_pcapng(stream, name, linktype)
    if fmt in LOG_FORMATS:
        from dmdissect.sources.logs import iter_log_frames

        return iter_log_frames(fmt, stream, name, hex_order)
    if fmt == "hex":
        from dmdissect.sources.hex import iter_hex_frames

        return iter_hex_frames(stream, name, hex_order)
    from dmdissect.sources.raw import iter_raw_frames

    return iter_raw_frames(stream, name)


def open_frames(
    path: str,
    fmt: str | None = None,
    linktype: int | None = None,
    hex_order: str | None = None,
    progress: Progress | None = None,
) -> Iterator[Frame]:
    """Frames of the input at ``path`` (``-`` for standard input).

    ``fmt`` is one of :data:`FORMATS` or None to detect it from the content.
    ``linktype`` makes a capture's packets count as messages whatever their
    link type says; ``hex_order`` goes to the hex reader.  Both are ignored by
    formats they do not concern.  Raises :class:`InputError` for an input that
    cannot be opened, is empty or is not the format asked for.  ``progress``,
    when given, is called now and then with the bytes read so far and the
    input's size (None for a pipe).
    """
    if fmt is not None and fmt not in FORMATS:
        raise ValueError(f"unknown input format {fmt!r}; expected one of {', '.join(FORMATS)}")
    stream, name, owned = _open(path)
    return read_frames(stream, name, fmt, linktype, hex_order, progress, owned)


def read_frames(
    stream: BinaryIO,
    name: str,
    fmt: str | None = None,
    linktype: int | None = None,
    hex_order: str | None = None,
    progress: Progress | None = None,
    owned: bool = False,
) -> Iterator[Frame]:
    """Frames of an open binary stream, as :func:`open_frames` gives them.

    ``name`` is used in messages and origins; with ``owned`` the stream is
    closed when the frames end or fail.
    """
    from dmdissect.sources.compressed import compression, decompressed
    from dmdissect.sources.detect import HEAD_SIZE, detect_format, is_text
    from dmdissect.sources.logs import detect_log

    try:
        head = _read_head(stream, name, HEAD_SIZE)
        if not head:
            raise InputError(f"{name} is empty")
        source: BinaryIO = stream
        packed = compression(head)
        if packed:
            source = decompressed(io.BufferedReader(_Replay(head, stream)), packed, name)
            head = _read_head(source, name, HEAD_SIZE, pipe=_is_pipe(stream))
            if not head:
                raise InputError(f"{name} is empty once {packed}-decompressed")
        detected = fmt is None
        fmt = fmt or detect_format(head)
        if fmt is None:
            raise InputError(
                f"{name} is not a pcap, pcapng or hex dump, nor Dynamic Memory "
                f"messages back to back (--format raw reads it anyway)"
            )
        if fmt in LOG_FORMATS and not is_text(head) and detect_log(head) is None:
            raise InputError(f"{name} is binary data, not a {fmt} log")
        replay = io.BufferedReader(_Replay(head, source))
        frames = _reader(fmt, replay, name, linktype, hex_order)
        first = next(frames, None)
        if first is None and fmt == "hex":
            if not detected and not is_text(head):
                raise InputError(f"{name} is binary data, not a hex dump")
            if detected:
                fmt, frames, first = _log_after_the_head(stream, packed, name, hex_order)
    except InputError:
        if owned:
            stream.close()
        raise
    except OSError as exc:
        if owned:
            stream.close()
        raise InputError(f"cannot read {name}: {exc.strerror or exc}") from None
    if progress is not None:
        frames = _reporting(frames, stream, progress)
    if fmt in LOG_FORMATS:
        frames = _joining(frames)
        if first is not None:
            first.session = LOG_SESSION
    return _numbered(first, frames, stream if owned else None, name, fmt in NUMBERED)


def _log_after_the_head(
    stream: BinaryIO, packed: str | None, name: str, hex_order: str | None
) -> tuple[str, Iterator[Frame], Frame | None]:
    """A text input with no hex dump nor log line in its head, read again as the log
    whose first line comes later (the format and its frames), when it can be read again.

    Raises the input's error otherwise, saying how far it was looked at.
    """
    from dmdissect.sources.compressed import decompressed
    from dmdissect.sources.logs import scan_for_log

    logs = "a log of QEMU's hv-balloon, QMP or the guest's hv_balloon driver"
    if not _is_pipe(stream) and stream.seekable():
        stream.seek(0)
        source = decompressed(stream, packed, name) if packed else stream
        fmt = scan_for_log(source)
        if fmt is not None:
            stream.seek(0)
            source = decompressed(stream, packed, name) if packed else stream
            frames = _reader(fmt, source, name, None, hex_order)
            return fmt, frames, next(frames, None)
        no_dump = f"{name} holds no hex dump of a Dynamic Memory message"
        raise InputError(f"{no_dump} (and is not a capture nor {logs})")
    raise InputError(
        f"{name} holds no hex dump of a Dynamic Memory message, and its first 64 KiB are not "
        f"{logs} (--format qemu-trace, qmp, dmesg, ftrace or debugfs reads it as that log)"
    )


def _joining(frames: Iterator[Frame]) -> Iterator[Frame]:
    """A log's frames, each marked as one of the run's log session (hex dumps inside too)."""
    for frame in frames:
        frame.session = LOG_SESSION
        yield frame


def is_live(path: str) -> bool:
    """The input cannot be read twice: a pipe, a terminal, a FIFO or a device.

    Live input is shown in one pass (each message as soon as it is read), as
    tshark does; only a regular file gets the two-pass output by default.
    """
    try:
        if path == "-":
            if sys.stdin is None:
                return False
            mode = os.fstat(sys.stdin.fileno()).st_mode
        else:
            mode = os.stat(path).st_mode
    except (OSError, ValueError, io.UnsupportedOperation):
        return False
    return not stat.S_ISREG(mode)


#: Frames between two progress reports: rare enough to cost nothing.
PROGRESS_EVERY = 4096


def _size_of(stream: BinaryIO) -> int | None:
    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _reporting(frames: Iterator[Frame], stream: BinaryIO, progress: Progress) -> Iterator[Frame]:
    """Pass frames through, telling ``progress`` how far into the input they are."""
    total = _size_of(stream)
    for count, frame in enumerate(frames, 1):
        if not count % PROGRESS_EVERY:
            try:
                progress(stream.tell(), total)
            except (OSError, ValueError):
                progress(0, None)
        yield frame


#: Formats whose reader numbers its frames 1.. and names their file itself (captures).
NUMBERED = frozenset(("pcap", "pcapng"))


def _numbered(
    first: Frame | None,
    frames: Iterator[Frame],
    owned: BinaryIO | None,
    name: str,
    numbered: bool = False,
) -> Iterator[Frame]:
    """Frames renumbered 1.. whatever the reader did (``numbered``: the reader did it);
    read errors as InputError."""
    try:
        if first is None:
            return
        first.index = 1
        first.file = name
        yield first
        if numbered:
            yield from frames
            return
        for number, frame in enumerate(frames, 2):
            frame.index = number
            frame.file = name
            yield frame
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror or exc}") from None
    finally:
        if owned is not None:
            owned.close()


__all__ = ["FORMATS", "Frame", "InputError", "is_live", "open_frames", "read_frames"]
