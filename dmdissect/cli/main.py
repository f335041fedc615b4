"""The ``dmdissect`` command group and the commands registered on it."""

from __future__ import annotations

import click

from dmdissect import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="dmdissect")
def main() -> None:
    """Dissect Hyper-V Dynamic Memory protocol traffic: captures and hex dumps from logs."""


def _register() -> None:
    from dmdissect.cli.convert import convert
    from dmdissect.cli.read import read
    from dmdissect.cli.synth import synth
    from dmdissect.cli.timeline import timeline

    main.add_command(read)
    main.add_command(timeline)
    main.add_command(convert)
    main.add_command(synth)


_register()
