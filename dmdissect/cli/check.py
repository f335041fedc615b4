"""``dmdissect check``: a CI gate on the expert findings and health verdicts of a session."""

from __future__ import annotations

import sys
from typing import Any

import click

from dmdissect.cli.common import fail, guarded, merge_options
from dmdissect.cli.health import health_options, read_errors, read_health

LEVELS = ("error", "warning", "note")


@click.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@merge_options
@click.option(
    "--fail-on",
    type=click.Choice(LEVELS),
    default="warning",
    show_default=True,
    help="Exit 1 when a finding or verdict is at least this severe.",
)
@click.option(
    "--rule",
    "rules",
    multiple=True,
    metavar="ID=LEVEL",
    help="Set the severity of a check: LEVEL off, note, warning or error; ID may be a glob "
    "such as 'hvdm.health.*' (repeatable; the last match wins).",
)
@click.option(
    "--junit",
    metavar="FILE",
    help="Also write the verdicts as JUnit XML ('-': stdout, the lines then go to stderr).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing; only the exit status tells.")
@health_options
@guarded
def check(
    inputs: tuple[str, ...],
    fail_on: str,
    rules: tuple[str, ...],
    junit: str | None,
    quiet: bool,
    **options: Any,
) -> None:
    """Check INPUT... and exit 1 if a finding or verdict reaches --fail-on.

    Prints every finding and verdict as 'file:N: severity id: message', N
    being the frame's record in a capture or its line in a text input (0: the
    session as a whole), then one line of totals.  Inputs are read as by
    timeline: merged by time, each capture file and interface its own
    session, the logs of one run one session.  Exit status:
    0 when nothing reaches --fail-on, 1 when something does, 2 when an input
    cannot be read (after what was read of it) or on a usage error.
    """
    from dmdissect.analysis.health import (
        apply_rules,
        check_ids,
        parse_rule,
        reaches,
        ruled_severity,
    )
    from dmdissect.findings import Severity
    from dmdissect.views.gate import CheckedInput, check_line, junit_xml
    from dmdissect.views.output import printable

    try:
        parsed = [parse_rule(text) for text in rules]
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    threshold = Severity(fail_on)
    # With the XML on stdout, the lines go to stderr (as tshark's summary does with -w -).
    to_stderr = junit == "-"
    checked: list[CheckedInput] = []
    runs = read_health(list(inputs), options)
    for run in runs:
        items = apply_rules(run.items(), parsed)
        error = None if run.error is None else str(run.error)
        checked.append(CheckedInput(run.label, items, error, run.where, tuple(run.files)))
        if not quiet:
            for item in items:
                click.echo(check_line(run.where(item), item), err=to_stderr)
    errors = read_errors(runs)
    all_items = [item for c in checked for item in c.items]
    failing = sum(1 for item in all_items if reaches(item.severity, threshold))
    if junit:
        ids = set(check_ids()) | {item.id for item in all_items}
        # Off only when the last rule naming the id turns it off (a later rule can bring it back).
        off = {i for i in ids if ruled_severity(i, Severity.NOTE, parsed) is None}
        _write(junit, junit_xml(checked, ids, threshold, off))
    if not quiet:
        totals = _totals(len(inputs), len(runs), all_items, failing, threshold, len(errors))
        click.echo(totals, err=to_stderr)
    for error in errors[:-1]:
        click.echo(f"dmdissect: error: {printable(error)}", err=True)
    if errors:
        fail(errors[-1])
    sys.exit(1 if failing else 0)


def _totals(
    inputs: int, sessions: int, items: list, failing: int, threshold: Any, unread: int = 0
) -> str:
    from dmdissect.views.english import plural

    counts = {level: 0 for level in LEVELS}
    for item in items:
        counts[item.severity.value] += 1
    found = ", ".join(plural(counts[level], level) for level in LEVELS)
    verdict = (
        f"fail: {plural(failing, 'finding')} at or above {threshold.value}"
        if failing
        else f"pass: nothing at or above {threshold.value}"
    )
    if unread:
        # What was not read was not checked: never "pass" on an input cut short.
        verdict += (
            f"{' in what was read' if not failing else ''}; "
            f"{plural(unread, 'input')} not read to {'its' if unread == 1 else 'their'} end"
        )
        if not failing:
            verdict = "incomplete" + verdict.removeprefix("pass")
    what = plural(inputs, "input")
    if sessions != inputs:
        what += f" ({plural(sessions, 'session')})"
    return f"checked {what}: {found}; {verdict}"


def _write(path: str, data: bytes) -> None:
    if path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    from dmdissect.sources.output import output_file

    with output_file(path) as handle:
        handle.write(data)
