"""Where a capture is written: the one safe way to open an output file.

Every command that writes a capture (``convert``, ``read -w``) opens its
output here, so all of them treat a path alike, as editcap does:

* ``-`` is standard output (never a terminal: binary data would garble it);
* a regular file, or a name that does not exist yet, is written under a
  temporary name in the same directory and renamed into place only when the
  writing is done, so a failed run leaves no half file and the input cannot
  be the output (``convert x.pcap x.pcap`` reads all of x.pcap first);
* a device, a FIFO or an existing symlink is opened for writing as it is:
  renaming over it would replace ``/dev/stdout`` or the link itself.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from dmdissect.sources.errors import InputError

STDOUT = "-"


class OutputError(InputError):
    """An output that cannot be opened or written: one line, exit 2, like bad input."""


def _kind(path: str) -> str:
    """``new``, ``regular``, ``symlink`` or ``special`` (device, FIFO, socket)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return "new"
    if stat.S_ISLNK(info.st_mode):
        return "symlink"
    if stat.S_ISREG(info.st_mode):
        return "regular"
    if stat.S_ISDIR(info.st_mode):
        raise OutputError(f"cannot write {path}: it is a directory")
    return "special"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def output_file(path: str) -> Iterator[BinaryIO]:
    """A binary stream writing to ``path`` (see the module for how each kind is written).

    On an exception inside the ``with`` block a temporary file is removed and
    the target left as it was; the exception goes on.
    """
    if path == STDOUT:
        if sys.stdout is None or sys.stdout.isatty():
            raise OutputError(
                "refusing to write a binary capture to a terminal; redirect it or name a file"
            )
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    kind = _kind(path)
    if kind in ("symlink", "special"):
        try:
            device = open(path, "wb")  # noqa: SIM115 - closed below, after the caller's writes
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        with device:
            yield device
        return
    directory = os.path.dirname(os.path.abspath(path))
    try:
        handle = tempfile.NamedTemporaryFile(
            "wb", dir=directory, prefix=f".{os.path.basename(path)}.", delete=False
        )
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with handle:
            yield handle  # type: ignore[misc]  # a BinaryIO in all but name
        os.chmod(handle.name, 0o666 & ~_umask())
        os.replace(handle.name, path)
    except OSError as exc:
        _remove(handle.name)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        _remove(handle.name)
        raise


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
