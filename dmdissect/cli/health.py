"""What ``check`` and ``report`` share: the thresholds of the health verdicts, and reading inputs.

Both read each input once through :func:`dmdissect.pipeline.health_of`; the
options here are the limits the verdicts apply, so the two commands always
agree on what is healthy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from dmdissect.cli.common import open_input

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
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def thresholds_of(options: dict[str, Any]) -> Any:
    from dmdissect.analysis.health import Thresholds

    return Thresholds(
        reply_timeout=options["reply_timeout"],
        pressure_percent=options["pressure_threshold"],
        pressure_seconds=options["pressure_duration"],
        status_gap=options["status_gap"],
        max_latency=options["max_latency"],
    )


def read_health(path: str, options: dict[str, Any]) -> Any:
    """One input read for its health; a read error is kept in the result, not raised."""
    from dmdissect.pipeline import health_of
    from dmdissect.sources.errors import InputError

    thresholds = thresholds_of(options)
    try:
        frames = open_input(path, options["fmt"], options["linktype"], options["hex_order"])
    except InputError as exc:
        run = health_of((), thresholds)
        run.error = exc
        return run
    return health_of(frames, thresholds)
