"""``dmdissect report``: the session's health as one self-contained HTML page."""

from __future__ import annotations

from typing import Any

import click

from dmdissect.cli.common import fail, guarded, merge_options
from dmdissect.cli.health import health_options, read_errors, read_health


@click.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@merge_options
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    help="Write the HTML report here ('-': stdout); default: report.html unless only --png "
    "is given.",
)
@click.option("--png", metavar="FILE", help="Also write the memory plot alone as a PNG image.")
@click.option("--title", metavar="TEXT", help="Title of the report (default: the input names).")
@health_options
@guarded
def report(
    inputs: tuple[str, ...],
    output: str | None,
    png: str | None,
    title: str | None,
    **options: Any,
) -> None:
    """Write a health report of INPUT...: session, memory plot, verdicts, transactions.

    The HTML file holds everything it shows (inline CSS and SVG, no script,
    nothing loaded from the network), so it opens offline in any browser.
    Inputs are read as by timeline (merged by time; each capture file and
    interface its own session, the logs of one run one session), and each
    session is reported in turn; --png plots the first.  Exit status 2 when an
    input cannot be read (the report of what was read is still written).
    """
    from dmdissect.sources import STDIN_NAME
    from dmdissect.views.plot import write_memory_png
    from dmdissect.views.report import render_document, render_section

    if output is None and png is None:
        output = "report.html"
    runs = read_health(list(inputs), options)
    if output is not None:
        sections = [
            render_section(number, run.label, run, options["pressure_threshold"])
            for number, run in enumerate(runs, 1)
        ]
        document = render_document(
            title or ", ".join(STDIN_NAME if name == "-" else name for name in inputs), sections
        )
        _write_text(output, document)
    if png is not None:
        from dmdissect.sources.output import output_file

        with output_file(png) as handle:
            write_memory_png(
                runs[0].health, options["pressure_threshold"], handle, title or runs[0].label
            )
    from dmdissect.views.output import printable

    errors = read_errors(runs)
    for error in errors[:-1]:
        click.echo(f"dmdissect: error: {printable(error)}", err=True)
    if errors:
        fail(errors[-1])


def _write_text(path: str, text: str) -> None:
    """The page to stdout as text, or to a file the way every output file is written."""
    if path == "-":
        click.echo(text, nl=False)
        return
    from dmdissect.sources.output import output_file

    with output_file(path) as handle:
        handle.write(text.encode("utf-8"))
