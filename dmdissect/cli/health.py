"""What ``check`` and ``report`` share: the thresholds of the health verdicts, and reading inputs.

Both read their inputs once through :func:`dmdissect.analysis.gathered.health_of`
(:func:`read_health` says how inputs become sessions); the options here are
the limits the verdicts apply, so the commands always agree on what is
healthy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from dmdissect.cli.common import merge_opened, open_input, stacked

#: Kinds a ``--max-latency`` rule can name.
LATENCY_KINDS = ("version", "capabilities", "balloon", "unballoon", "hot_add", "hot_remove")


def _latency(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict:
    limits = {}
    for text in values:
        kind, sep, seconds = text.partition("=")
        try:
            limit = float(seconds)
        except ValueError:
            limit = -1.0
        if not sep or kind not in LATENCY_KINDS or not limit >= 0 or limit == float("inf"):
            raise click.BadParameter(
                f"{text!r}: expected KIND=SECONDS, KIND one of {', '.join(LATENCY_KINDS)}",
                ctx,
                param,
            )
        limits[kind] = limit
    return limits


class _Number(click.FloatRange):
    """A FloatRange that refuses nan (every comparison with nan is false, so it passes a range)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if number != number:
            self.fail(f"{value!r} is not a number", param, ctx)
        return number


def health_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--reply-timeout``, ``--max-latency``, ``--pressure-*`` and ``--status-gap``."""
    seconds = _Number(min=0, max=1e9)
    decorators = [
        click.option(
            "--reply-timeout",
            type=seconds,
            default=5.0,
            show_default=True,
            metavar="SECONDS",
            help="A request with no reply within this long is unanswered.",
        ),
        click.option(
            "--max-latency",
            multiple=True,
            callback=_latency,
            metavar="KIND=SECONDS",
            help="Flag transactions of KIND that take longer, request to final message "
            "(repeatable).",
        ),
        click.option(
            "--pressure-threshold",
            type=_Number(min=0, max=100),
            default=85.0,
            show_default=True,
            metavar="PERCENT",
            help="Pressure alarm level: committed / (committed + available) x 100.",
        ),
        click.option(
            "--pressure-duration",
            type=seconds,
            default=60.0,
            show_default=True,
            metavar="SECONDS",
            help="How long pressure must stay above the threshold, with no unballoon or "
            "hot-add request, to raise the alarm.",
        ),
        click.option(
            "--status-gap",
            type=seconds,
            default=5.0,
            show_default=True,
            metavar="SECONDS",
            help="A pause between status reports longer than this is a gap.",
        ),
    ]
    return stacked(command, decorators)


def thresholds_of(options: dict[str, Any]) -> Any:
    from dmdissect.analysis.health import Thresholds

    return Thresholds(
        reply_timeout=options["reply_timeout"],
        pressure_percent=options["pressure_threshold"],
        pressure_seconds=options["pressure_duration"],
        status_gap=options["status_gap"],
        max_latency=options["max_latency"],
    )


def read_health(paths: list[str], options: dict[str, Any]) -> list[Any]:
    """The inputs read for their health: one run per session, in the order of the inputs.

    Each capture and hex dump is read on its own, numbered as that file alone
    (so ``check *.pcapng`` points at each file's own frames), its pcapng
    interfaces sessions of their own; the logs of one run (QEMU's trace and
    QMP, the guest's dmesg and ftrace) are merged into one session, as
    ``timeline`` reads them.  A read error is kept in the runs of its read
    (what was read is still judged), not raised; an input that cannot be
    opened gives one empty run carrying the error.
    """
    from dmdissect.analysis.gathered import health_of
    from dmdissect.analysis.sessions import Sessions
    from dmdissect.sources.errors import InputError

    thresholds = thresholds_of(options)
    reads: list[tuple[list[str], Any]] = []
    logs: list[tuple[str, Any]] = []
    for path in paths:
        try:
            frames, is_log = _opened(path, options)
        except InputError as exc:
            reads.append(([path], exc))
            continue
        if is_log:
            if not logs:
                reads.append(([], None))  # the logs' place: where the first one was given
            logs.append((path, frames))
        else:
            reads.append(([path], frames))
    runs: list[Any] = []
    for names, frames in reads:
        sessions = Sessions(reply_timeout=thresholds.reply_timeout)
        if not names:
            names = [path for path, _ in logs]
            frames = merge_opened(
                [f for _, f in logs],
                names,
                options["concat"],
                options["boot_time"],
                sessions.align,
            )
        if isinstance(frames, InputError):
            judged = health_of((), thresholds)
            judged[0].error = frames
        else:
            judged = health_of(frames, thresholds, sessions)
        for run in judged:
            if not run.files:
                run.files = list(names)
            run.label = run.label or " + ".join(names)
        runs.extend(judged)
    return runs


def read_errors(runs: list[Any]) -> list[str]:
    """The read errors of the runs, once each (the runs of one read share theirs)."""
    seen: list[Exception] = []
    for run in runs:
        if run.error is not None and not any(run.error is error for error in seen):
            seen.append(run.error)
    return [str(error) for error in seen]


def _opened(path: str, options: dict[str, Any]) -> tuple[Any, bool]:
    """The input's frames, and whether it is a log (its first frame belongs to a log session).

    The first frame is read to tell, and put back in front of the others.
    """
    import itertools

    from dmdissect.views.timefmt import anchored

    frames = open_input(path, options["fmt"], options["linktype"], options["hex_order"])
    if options["boot_time"] is not None:
        frames = anchored(frames, options["boot_time"])
    first = next(frames, None)
    if first is None:
        return iter(()), False
    return itertools.chain([first], frames), first.session is not None
