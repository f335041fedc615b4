"""Compressed inputs, told by their magic and decompressed as they stream, as tshark reads them.

gzip, bzip2 and xz come from the standard library, zstd from ``zstandard``.
The decompressed bytes are handed to the readers like any other stream, so a
compressed pipe (``zcat``-less ``dmdissect read - < x.pcapng.gz``) and a
compressed live input flow the same way.  One level only: a file compressed
twice is read as the inner compressed file, which is then not a known format
(tshark does the same).

Damage in the compressed data (a torn file, a bad checksum) ends reading with
one :class:`InputError` naming the compressor; what was decoded before it is
still shown.  A decompressor never produces more than a reader asks for, so a
small file that inflates to gigabytes streams in bounded memory.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from collections.abc import Callable
from typing import Any, BinaryIO

from dmdissect.sources.errors import InputError

#: Magic -> compressor name: the ones read here.
MAGICS = {
    b"\x1f\x8b": "gzip",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"\xfd7zXZ\x00": "xz",
    b"BZh": "bzip2",
}
#: Known by their magic but not read: refused with a hint rather than taken for raw messages.
UNSUPPORTED = {b"\x04\x22\x4d\x18": "lz4"}


def compression(head: bytes) -> str | None:
    """The name of the compressor whose magic starts ``head``, if any (read or not)."""
    for magic, name in (MAGICS | UNSUPPORTED).items():
        if head.startswith(magic):
            return name
    return None


class _Zstd:
    """zstd frames one after another, with a cut frame reported (EOFError).

    ``zstandard``'s stream reader ends quietly on a cut frame, so frames go
    through its decompress object instead, in slices of :data:`ZSTD_SLICE`
    compressed bytes: one slice inflates to at most a few MiB (a zstd block
    is at most 128 KiB and takes at least four bytes), however much the
    whole frame claims.
    """

    def __init__(self, stream: BinaryIO) -> None:
        import zstandard

        self._new = zstandard.ZstdDecompressor().decompressobj
        self._stream = stream
        self._frame = self._new()
        self._fed = False
        self._pending = b""
        self._input = b""
        self._ended = False

    def read1(self, size: int = -1) -> bytes:
        while not self._pending and not self._ended:
            self._step()
        if size < 0 or size >= len(self._pending):
            out, self._pending = self._pending, b""
        else:
            out, self._pending = self._pending[:size], self._pending[size:]
        return out

    read = read1

    def _step(self) -> None:
        if not self._input:
            self._input = self._stream.read(ZSTD_READ)
            if not self._input:
                self._ended = True
                if self._fed:
                    raise EOFError("the last zstd frame is cut short")
                return
        piece, self._input = self._input[:ZSTD_SLICE], self._input[ZSTD_SLICE:]
        self._fed = True
        self._pending = self._frame.decompress(piece)
        if self._frame.eof:
            self._input = self._frame.unused_data + self._input
            self._frame = self._new()
            self._fed = False


#: Compressed bytes read at once, and fed to the zstd decompressor at once.
ZSTD_READ = 1 << 16
ZSTD_SLICE = 512


def _zstd(stream: BinaryIO) -> BinaryIO:
    return _Zstd(stream)  # type: ignore[return-value]


#: Compressor name -> a function opening the decompressed stream (a binary file object).
_OPENERS: dict[str, Callable[[BinaryIO], Any]] = {
    "gzip": lambda stream: gzip.GzipFile(fileobj=stream, mode="rb"),
    "bzip2": lambda stream: bz2.BZ2File(stream, mode="rb"),
    "xz": lambda stream: lzma.LZMAFile(stream, mode="rb"),
    "zstd": _zstd,
}


def _errors() -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = (EOFError, OSError, lzma.LZMAError, ValueError)
    try:
        import zstandard

        return (*errors, zstandard.ZstdError)
    except ImportError:
        return errors


class _Decompressed(io.RawIOBase):
    """The decompressed bytes as a raw stream; damage becomes one :class:`InputError`."""

    def __init__(self, inner: BinaryIO, kind: str, name: str) -> None:
        super().__init__()
        self._inner = inner
        self._kind = kind
        self._name = name
        self._errors = _errors()
        self._read = getattr(inner, "read1", inner.read)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._read(len(buffer))
        except self._errors as exc:
            raise InputError(
                f"cannot read {self._name}: its {self._kind} data is damaged or cut short ({exc})"
            ) from None
        buffer[: len(data)] = data
        return len(data)


def decompressed(stream: BinaryIO, kind: str, name: str) -> BinaryIO:
    """A buffered stream of the decompressed bytes of ``stream`` (compressed with ``kind``)."""
    if kind not in _OPENERS:
        raise InputError(f"{name} is {kind}-compressed, which is not read; decompress it first")
    return io.BufferedReader(_Decompressed(_OPENERS[kind](stream), kind, name))
