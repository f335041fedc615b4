"""What every command shares: input options, the one-line error, pipe hygiene."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click

INPUT_FORMATS = (
    "auto",
    "pcap",
    "pcapng",
    "hex",
    "raw",
    "qemu-trace",
    "qmp",
    "dmesg",
    "ftrace",
    "debugfs",
)
HEX_ORDERS = ("auto", "bytes", "le-words")


def fail(message: str) -> None:
    """One line on stderr and exit status 2: the answer to unreadable input."""
    from dmdissect.views.output import printable

    click.echo(f"dmdissect: error: {printable(message)}", err=True)
    sys.exit(2)


def stacked(command: Callable[..., Any], decorators: list[Callable[..., Any]]) -> Any:
    """``command`` under ``decorators``, the first listed outermost (as if written above it)."""
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def _boot_time(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    from dmdissect.views.timefmt import parse_boot_time

    try:
        return parse_boot_time(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


def inputs_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``[FILE]...`` and ``-r FILE`` with the merge and format options, for commands that read
    several inputs as one (``read``, ``timeline``)."""
    decorators = [
        click.argument("files", nargs=-1, metavar="[FILE]..."),
        click.option(
            "-r",
            "--read-file",
            "read_file",
            metavar="FILE",
            help="Input file (as tshark -r); '-' reads standard input.",
        ),
    ]
    return merge_options(stacked(command, decorators))


def merge_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--concat`` and ``--boot-time`` with the format options: how several inputs become one."""
    decorators = [
        click.option(
            "--concat",
            is_flag=True,
            help="With several inputs, read them one after the other instead of merging "
            "them by time (as mergecap -a).",
        ),
        click.option(
            "--boot-time",
            "--guest-boot-time",
            "boot_time",
            metavar="ISO-TIME",
            callback=_boot_time,
            help="When the guest booted (ISO 8601, local time unless it names a zone, or "
            "epoch seconds): puts the guest's seconds-since-boot times (dmesg, ftrace, a "
            "kernel hex dump) on the wall clock, so they show as dates and merge with the "
            "host's logs.  Without it, guest logs read with QEMU's are aligned by the version "
            "negotiation both sides log.",
        ),
    ]
    return format_options(stacked(command, decorators))


def format_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that steer how an input is read, for commands that name their inputs."""
    decorators = [
        click.option(
            "--format",
            "fmt",
            type=click.Choice(INPUT_FORMATS),
            default="auto",
            show_default=True,
            help="Input format; 'auto' detects it from the content.  The logs: QEMU's "
            "hv_balloon_* trace events, QMP events, the guest's dmesg, ftrace's "
            "balloon_status, a debugfs hv-balloon snapshot.",
        ),
        click.option(
            "--linktype",
            type=click.IntRange(0, 0xFFFF),
            metavar="N",
            help="Read records of link type N (0-65535) as messages too, besides USER0..15.",
        ),
        click.option(
            "--hex-order",
            type=click.Choice(HEX_ORDERS),
            default="auto",
            show_default=True,
            help="Byte order of grouped hex dumps: 'bytes' as printed, 'le-words' for "
            "little-endian groups (print_hex_dump groupsize 2/4/8).",
        ),
    ]
    return stacked(command, decorators)


OUTPUT_FORMATS = ("text", "json", "jsonl")
COLORS = {"auto": None, "always": True, "never": False}


def output_options(
    text_help: str, formats: tuple[str, ...] = OUTPUT_FORMATS, more_help: str = ""
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``-T`` and ``--color``, shared by the commands that print messages or rows."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        command = click.option(
            "--color",
            type=click.Choice(tuple(COLORS)),
            default="auto",
            show_default=True,
            help="Colour on a terminal; NO_COLOR in the environment wins.",
        )(command)
        return click.option(
            "-T",
            "--output-format",
            "output_format",
            type=click.Choice(formats),
            default="text",
            show_default=True,
            help=f"text: {text_help}; json: one array; jsonl: one object a line{more_help}.",
        )(command)

    return decorate


def resolve_input(file: str | None, read_file: str | None) -> str:
    if file and read_file:
        raise click.UsageError("give the input once: FILE or -r FILE")
    path = read_file or file
    if path is None:
        if sys.stdin is None or sys.stdin.isatty():
            raise click.UsageError("no input: give FILE, -r FILE, or '-' for standard input")
        return "-"
    return path


def resolve_inputs(files: tuple[str, ...], read_file: str | None) -> list[str]:
    """The inputs in the order given (``-r FILE`` first); standard input when none and piped."""
    paths = ([read_file] if read_file else []) + list(files)
    if not paths:
        return [resolve_input(None, None)]
    if paths.count("-") > 1:
        raise click.UsageError("standard input can be read only once")
    return paths


def open_inputs(
    paths: list[str],
    fmt: str,
    linktype: int | None,
    hex_order: str,
    progress: Callable[[int, int | None], None] | None = None,
    concat: bool = False,
    boot_time: float | None = None,
    on_alignment: Callable[[str | None], None] | None = None,
) -> Iterator:
    """One input's frames, or several inputs' merged by time (``concat``: one after another).

    Every input is opened (and its format told) before any frame is read, so a
    missing second file fails before anything is printed.  The progress bar
    follows a single input only.  ``boot_time`` anchors seconds-since-boot
    times before the merge compares them with dated ones; without it, guest
    logs merged with the host's are aligned by their version negotiation.
    ``on_alignment`` hears how the clocks were matched (None: nothing to match).
    """
    from dmdissect.views.timefmt import anchored

    def one(path: str, progress: Any = None) -> Iterator:
        frames = open_input(path, fmt, linktype, hex_order, progress)
        return frames if boot_time is None else anchored(frames, boot_time)

    if boot_time is not None and on_alignment is not None:
        from dmdissect.sources.align import boot_time_text

        on_alignment(boot_time_text(boot_time))
    if len(paths) == 1:
        return one(paths[0], progress)
    return merge_opened([one(path) for path in paths], paths, concat, boot_time, on_alignment)


def merge_opened(
    inputs: list[Iterator],
    paths: list[str],
    concat: bool = False,
    boot_time: float | None = None,
    on_alignment: Callable[[str | None], None] | None = None,
) -> Iterator:
    """Opened inputs (already anchored to ``boot_time``) as one stream, as :func:`open_inputs`."""
    if len(inputs) == 1:
        return inputs[0]
    from dmdissect.sources.merge import merged, merged_aligned

    if concat or boot_time is not None:
        return merged(inputs, concat)
    return merged_aligned(inputs, paths, on_alignment)


def open_input(
    path: str,
    fmt: str,
    linktype: int | None,
    hex_order: str,
    progress: Callable[[int, int | None], None] | None = None,
) -> Iterator:
    """The frames of the input; a signal while reading ends them (dmdissect.interrupt)."""
    from dmdissect.interrupt import interruptible
    from dmdissect.sources import open_frames

    if not getattr(progress, "enabled", True):
        progress = None
    return interruptible(
        open_frames(
            path,
            fmt=None if fmt == "auto" else fmt,
            linktype=linktype,
            hex_order=None if hex_order == "auto" else hex_order,
            progress=progress,
        )
    )


def two_pass_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """``-2``: the two-pass output of a file, on live input too (as tshark -2)."""
    return click.option(
        "-2",
        "--two-pass",
        "two_pass",
        is_flag=True,
        help="Two-pass output on live input too: hold each message until its transaction "
        "ends, to name the frame that ends it (files always get it; pipes and terminals are "
        "otherwise shown in one pass, each message as soon as it is read).",
    )(command)


def one_pass(path: str, two_pass: bool) -> bool:
    """Live input is shown in one pass unless -2 asks for two."""
    from dmdissect.sources import is_live

    return not two_pass and is_live(path)


def guarded(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn input errors into one line and exit 2; end quietly on a closed pipe.

    SIGINT and SIGTERM stop the reading (what was read is still shown, JSON
    closed) and end the command with status 130 / 143.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # Here, not at the top: --help never runs a command, and never loads the sources.
        from dmdissect.interrupt import Interrupted, install
        from dmdissect.sources.errors import InputError

        install()
        if sys.stdout is None:
            fail("cannot write standard output: it is closed")
        try:
            return command(*args, **kwargs)
        except Interrupted as exc:
            # Everything read has been shown; end as a shell expects of a signal.
            _flush_stdout()
            sys.exit(exc.status)
        except InputError as exc:
            fail(str(exc))
        except OSError as exc:
            if isinstance(exc, BrokenPipeError):
                _silence_stdout()
                sys.exit(0)
            fail(f"{exc.filename or 'output'}: {exc.strerror or exc}")

    return wrapper


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except (OSError, ValueError, AttributeError):
        _silence_stdout()


def _silence_stdout() -> None:
    """After a reader closed the pipe, keep Python from complaining at exit."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


#: Where ``-C``'s profile waits for the filters that need its macros.
PROFILE_KEY = "dmdissect.profile"


def display_filter_option(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``-Y FILTER`` and ``-C PROFILE``: the filter is compiled when the options are read,
    so a bad filter stops at once; ``-C`` is read first, wherever it stands."""
    filter_option = click.option(
        "-Y",
        "--display-filter",
        "display_filter",
        metavar="FILTER",
        callback=_compile_filter,
        help=f"{what} that match FILTER, in Wireshark's display-filter syntax "
        "(field names: 'dmdissect fields'; @FIELD for its bytes, FIELD#N for a layer, "
        "${FIELD} a reference, which has no value as in tshark; ${MACRO:ARG1;ARG2} a "
        "macro of Wireshark's dfilter_macros file in its personal configuration folder).",
    )
    profile_option = click.option(
        "-C",
        "--config-profile",
        "config_profile",
        metavar="PROFILE",
        is_eager=True,
        expose_value=False,
        callback=_choose_profile,
        help="Take the display-filter macros of Wireshark's configuration profile PROFILE "
        "(its profiles/PROFILE folder; Default: the folder itself), as tshark -C does.",
    )

    def both(command: Callable[..., Any]) -> Callable[..., Any]:
        return filter_option(profile_option(command))

    return both


def _choose_profile(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is None:
        return
    from dmdissect.filter.macros import ProfileError, profile_folder

    try:
        profile_folder(value)
    except ProfileError as exc:
        fail(f"-C: {exc}")
    ctx.meta[PROFILE_KEY] = value


def _compile_filter(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    from dmdissect.filter import FilterError, compile_filter

    try:
        compiled = compile_filter(value, profile=ctx.meta.get(PROFILE_KEY))
    except FilterError as exc:
        fail(f"-Y: {exc.message.rstrip('.')} (column {exc.column})")
    warn_filter("-Y", compiled)
    return compiled


def warn_filter(what: str, compiled: Any) -> None:
    """What a filter means here but tshark would refuse: one stderr line each."""
    for warning in compiled.warnings:
        click.echo(
            f"dmdissect: warning: {what}: {warning.message} (column {warning.column})", err=True
        )
