"""``dmdissect report``: the session's health as one self-contained HTML page."""

from __future__ import annotations

import click

from dmdissect.cli.common import fail, format_options, guarded
from dmdissect.cli.health import health_options, read_health


@click.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@format_options
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
def report(inputs, output, png, title, **options):
    """Write a health report of INPUT...: session, memory plot, verdicts, transactions.

    The HTML file holds everything it shows (inline CSS and SVG, no script,
    nothing loaded from the network), so it opens offline in any browser.
    Several inputs are reported one after another, each as its own session.
    Exit status 2 when an input cannot be read (the report of what was read
    is still written).
    """
    from dmdissect.views.plot import write_memory_png
    from dmdissect.views.report import render_document, render_section

    if output is None and png is None:
        output = "report.html"
    sections = []
    errors = []
    runs = []
    for path in inputs:
        run = read_health(path, options)
        runs.append((path, run))
        if run.error is not None:
            errors.append(str(run.error))
    if output is not None:
        for number, (path, run) in enumerate(runs, 1):
            sections.append(render_section(number, path, run, options["pressure_threshold"]))
        document = render_document(title or ", ".join(inputs), sections)
        _write_text(output, document)
    if png is not None:
        from dmdissect.sources.output import output_file

        path, run = runs[0]
        with output_file(png) as handle:
            write_memory_png(run.health, options["pressure_threshold"], handle, title or path)
    for error in errors:
        fail(error)


def _write_text(path: str, text: str) -> None:
    """The page to stdout as text, or to a file the way every output file is written."""
    if path == "-":
        click.echo(text, nl=False)
        return
    from dmdissect.sources.output import output_file

    with output_file(path) as handle:
        handle.write(text.encode("utf-8"))
