"""``dmdissect convert``: any input we read, out as a capture Wireshark opens.

Hex dumps pasted from logs become pcapng with the direction, the source line
and the source's own findings kept on every packet (see
:mod:`dmdissect.sources.writer`).  ``--hex-order`` takes the names the hex
reader defines (:data:`dmdissect.cli.common.HEX_ORDERS`); they may still move
with that reader.

The output file is written under a temporary name in its directory and moved
into place only when the whole input has been read, so a failed conversion
leaves no half file and ``convert x.pcap x.pcap`` cannot destroy its input.
"""

from __future__ import annotations

import os
import sys
import tempfile

import click

from dmdissect.cli.common import HEX_ORDERS, fail, guarded
from dmdissect.findings import Severity
from dmdissect.sources import FORMATS, open_frames
from dmdissect.sources.frame import Frame
from dmdissect.sources.writer import OUTPUTS, RESOLUTIONS, write_frames
from dmdissect.views.output import printable
from dmdissect.views.progress import InputProgress


@click.command()
@click.argument("input_path", metavar="INPUT")
@click.argument("output_path", metavar="OUTPUT")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="Input format; detected from the content when not given.",
)
@click.option(
    "--to",
    "to",
    type=click.Choice(OUTPUTS),
    default="pcapng",
    show_default=True,
    help="Output format; only pcapng keeps directions and comments.",
)
@click.option(
    "--linktype",
    type=click.IntRange(0, 0xFFFF),
    metavar="N",
    help="Treat every capture record as one message, whatever its link type.",
)
@click.option(
    "--hex-order",
    type=click.Choice(HEX_ORDERS),
    default="auto",
    show_default=True,
    help="Byte order of grouped hex dumps: 'bytes' as printed, 'le-words' for "
    "little-endian groups.",
)
@click.option(
    "--resolution",
    type=click.Choice(tuple(RESOLUTIONS)),
    default="us",
    show_default=True,
    help="Time unit of the output: microseconds or nanoseconds.",
)
@guarded
def convert(
    input_path: str,
    output_path: str,
    fmt: str | None,
    to: str,
    linktype: int | None,
    hex_order: str,
    resolution: str,
) -> None:
    """Convert INPUT (pcap, pcapng, hex dump or raw; '-' for stdin) to a capture OUTPUT.

    OUTPUT '-' writes to standard output.  Frames without a time get one
    microsecond after the frame before them.
    """
    if output_path == "-" and sys.stdout.isatty():
        fail("refusing to write a binary capture to a terminal; redirect it or name a file")
    with InputProgress(enabled=sys.stderr.isatty()) as progress:
        frames = open_frames(
            input_path,
            fmt=fmt,
            linktype=linktype,
            hex_order=None if hex_order == "auto" else hex_order,
            progress=progress,
        )
        frames = _reporting(frames)
        if output_path == "-":
            write_frames(frames, sys.stdout.buffer, to=to, resolution=resolution)
            return
        _write_file(frames, output_path, to, resolution)


def _reporting(frames):
    """Pass frames on, telling stderr of every error the source found in them."""
    for frame in frames:
        for finding in frame.findings:
            if finding.severity is Severity.ERROR:
                click.echo(f"dmdissect: warning: {_where(frame)}: {finding.message}", err=True)
        yield frame


def _where(frame: Frame) -> str:
    return printable(frame.origin) if frame.origin else f"frame {frame.index}"


def _write_file(frames, output_path: str, to: str, resolution: str) -> None:
    directory = os.path.dirname(os.path.abspath(output_path))
    try:
        handle = tempfile.NamedTemporaryFile(
            "wb", dir=directory, prefix=f".{os.path.basename(output_path)}.", delete=False
        )
    except OSError as exc:
        fail(f"cannot write {output_path}: {exc.strerror or exc}")
    try:
        with handle:
            write_frames(frames, handle, to=to, resolution=resolution)
        os.chmod(handle.name, 0o666 & ~_umask())
        os.replace(handle.name, output_path)
    except OSError as exc:
        _remove(handle.name)
        fail(f"cannot write {output_path}: {exc.strerror or exc}")
    except BaseException:
        _remove(handle.name)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
