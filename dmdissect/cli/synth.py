"""``dmdissect synth``: write a realistic session made by :mod:`dmdissect.synth`.

Usage mistakes get one line and exit status 2, as for every command (the
group's :class:`~dmdissect.cli.main.LazyGroup` reports them): the command is
run from scripts (captures/regenerate.sh) whose logs should say what went
wrong in one line.
"""

from __future__ import annotations

import io
import sys
from typing import Any

import click

from dmdissect.cli.common import fail, guarded
from dmdissect.synth import DEFAULT_DURATIONS, MAX_DURATION

FORMATS = ("pcapng", "pcap", "hex", "qemu-trace", "qmp", "dmesg", "ftrace")
#: Formats that are text, safe to write to a terminal.
TEXT_FORMATS = ("hex", "qemu-trace", "qmp", "dmesg", "ftrace")


def _defaults() -> str:
    return ", ".join(f"{name} {default:g} s" for name, default in DEFAULT_DURATIONS.items())


@click.command()
@click.option(
    "--profile",
    type=click.Choice(tuple(DEFAULT_DURATIONS)),
    default="linux-qemu",
    show_default=True,
    help="linux-qemu: Linux guest, QEMU host; windows-hyperv: protocol 2.0 guest, "
    "info message, hot remove, refused hot adds; faulty: one of every "
    "malformation, labelled in comments.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Seed of the session; the same seed gives the same bytes.",
)
@click.option(
    "--duration",
    type=click.FloatRange(min=1.0, max=MAX_DURATION),
    metavar="SECONDS",
    help=f"Length of the session from the first message (default: {_defaults()}).",
)
@click.option(
    "--vmbus", is_flag=True, help="Put the 16-byte VMBus in-band descriptor before every message."
)
@click.option(
    "-o",
    "--output",
    default="-",
    metavar="FILE",
    show_default=True,
    help="Where to write; '-' is standard output.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="pcapng",
    show_default=True,
    help="pcapng keeps directions and comments; pcap only bytes and times; hex is "
    "dmesg as a driver logging each message with print_hex_dump() shows it; "
    "qemu-trace, qmp, dmesg and ftrace are the logs the peers print of the session "
    "(QEMU's hv_balloon_* trace events, its QMP status events, the Linux driver's "
    "dmesg lines, its balloon_status tracepoint).",
)
@guarded
def synth(
    profile: str, seed: int, duration: float | None, vmbus: bool, output: str, fmt: str
) -> None:
    """Write a realistic Dynamic Memory session, built with the project's Scapy layers."""
    if output == "-" and fmt not in TEXT_FORMATS and sys.stdout.isatty():
        fail("refusing to write a binary capture to a terminal; redirect it or use -o FILE")
    from dmdissect.synth import generate

    try:
        session = generate(profile, seed=seed, duration=duration, vmbus=vmbus)
    except ValueError as exc:
        fail(str(exc))
    data = _render(session, fmt)
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        with open(output, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")


def _render(session: Any, fmt: str) -> bytes:
    from dmdissect.synth.logs import LOG_FORMATS

    if fmt in LOG_FORMATS:
        from dmdissect.synth.logs import log_text

        return log_text(session, fmt).encode()
    if fmt == "hex":
        from dmdissect.views.hexlog import dmesg_lines

        return "".join(
            line + "\n" for line in dmesg_lines(session.frames, session.boot_time)
        ).encode()
    from dmdissect.sources.writer import write_frames

    buffer = io.BytesIO()
    write_frames(session.frames, buffer, to=fmt)
    return buffer.getvalue()
