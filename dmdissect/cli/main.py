"""The ``dmdissect`` command group: commands are imported only when they run.

Each command lives in its own module; importing all of them (the session
generator, the capture writer) would cost start-up time to every command,
so the group loads the one asked for, as click's documentation suggests
for lazily loaded subcommands.
"""

from __future__ import annotations

import importlib

import click

from dmdissect import __version__

#: Command name -> "module:attribute", in the order ``--help`` lists them.
COMMANDS = {
    "read": "dmdissect.cli.read:read",
    "timeline": "dmdissect.cli.timeline:timeline",
    "convert": "dmdissect.cli.convert:convert",
    "synth": "dmdissect.cli.synth:synth",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        return getattr(importlib.import_module(module), attribute)


@click.group(cls=LazyGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="dmdissect")
def main() -> None:
    """Dissect Hyper-V Dynamic Memory protocol traffic: captures and hex dumps from logs."""
