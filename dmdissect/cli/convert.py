"""``dmdissect convert``: any input we read, out as a capture Wireshark opens.

Hex dumps pasted from logs become pcapng with the direction, the source line
and the source's own findings kept on every packet (see
:mod:`dmdissect.sources.writer`).  ``--hex-order`` takes the names the hex
reader defines (:data:`dmdissect.cli.common.HEX_ORDERS`); they may still move
with that reader.

OUTPUT is opened by :func:`dmdissect.sources.output.output_file`: a regular
file is written under a temporary name and moved into place when the input
has been read (``convert x.pcap x.pcap`` cannot destroy its input); a device,
FIFO or symlink is written in place; ``-`` is standard output.  An input torn
part-way still gives a file of every message read before the damage, then
the one error line and exit status 2.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any

import click

from dmdissect.cli.common import HEX_ORDERS, display_filter_option, fail, guarded
from dmdissect.findings import Severity
from dmdissect.sources import FORMATS
from dmdissect.sources.errors import TornInput
from dmdissect.sources.frame import Frame
from dmdissect.sources.output import output_file
from dmdissect.sources.writer import OUTPUTS, RESOLUTIONS, write_annotated


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
    help="Read records of link type N (0-65535) as messages too, besides USER0..15.",
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
@display_filter_option("Write only the messages")
@guarded
def convert(
    input_path: str,
    output_path: str,
    fmt: str | None,
    to: str,
    linktype: int | None,
    hex_order: str,
    resolution: str,
    display_filter: Any = None,
) -> None:
    """Convert INPUT (pcap, pcapng, hex dump or raw; '-' for stdin) to a capture OUTPUT.

    OUTPUT '-' writes to standard output.  Frames without a time get one
    microsecond after the frame before them.  -Y writes only the messages a
    display filter matches (tested as read -Y tests them).
    """
    from dmdissect.interrupt import Interrupted, interruptible
    from dmdissect.sources import open_frames
    from dmdissect.views.progress import InputProgress

    stopped = None
    interrupted = None
    with InputProgress(enabled=sys.stderr.isatty()) as progress:
        # Read through interruptible, as read does: Ctrl-C ends the reading, not the writing.
        frames = interruptible(
            open_frames(
                input_path,
                fmt=fmt,
                linktype=linktype,
                hex_order=None if hex_order == "auto" else hex_order,
                progress=progress,
            )
        )
        logged = _Logged()
        records = _annotated(logged.bytes_only(_reporting(frames)), display_filter)
        with output_file(output_path) as handle:
            try:
                write_annotated(records, handle, to=to, resolution=resolution)
            except TornInput as exc:
                # Torn input: what was read is written (as editcap does), then the error.
                stopped = str(exc)
            except Interrupted as exc:
                # Ctrl-C or SIGTERM: as read shows what it read, a whole capture of what was
                # read is kept (editcap, killed, would leave a torn one), then status 130/143.
                interrupted = exc
    if interrupted is not None:
        raise interrupted
    if stopped is not None:
        fail(stopped)
    if logged.skipped:
        from dmdissect.views.english import plural

        what = plural(logged.skipped, "log line")
        if not logged.written:
            fail(
                f"{input_path} is a log: its lines carry facts, not message bytes; nothing to write"
            )
        click.echo(
            f"dmdissect: warning: {what} carry facts, not message bytes: not written", err=True
        )


class _Logged:
    """Lets only frames with bytes through: a log's lines have none to write."""

    def __init__(self) -> None:
        self.skipped = 0
        self.written = 0

    def bytes_only(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        for frame in frames:
            if frame.witness is not None or frame.event is not None:
                self.skipped += 1
                continue
            self.written += 1
            yield frame


def _reporting(frames: Iterable[Frame]) -> Iterator[Frame]:
    """Pass frames on, telling stderr of every error the source found in them."""
    for frame in frames:
        for finding in frame.findings:
            if finding.severity is Severity.ERROR:
                click.echo(f"dmdissect: warning: {_where(frame)}: {finding.message}", err=True)
        yield frame


def _annotated(frames: Iterable[Frame], display_filter: Any) -> Iterator[Any]:
    """Each frame with what the tracker knows of its message, for the Wireshark plugin.

    With a filter, only the frames of the messages it keeps, dissected and
    tracked as ``read`` does (the tracker still sees every message).
    """
    from dmdissect.pipeline import messages_of
    from dmdissect.views.capture_notes import annotated

    return annotated(messages_of(frames, keep=display_filter))


def _where(frame: Frame) -> str:
    from dmdissect.views.output import printable

    return printable(frame.origin) if frame.origin else f"frame {frame.index}"
