"""The ``dmdissect`` command group: commands are imported only when they run.

Each command lives in its own module; importing all of them (the session
generator, the capture writer) would cost start-up time to every command,
so the group loads the one asked for, as click's documentation suggests
for lazily loaded subcommands.
"""

from __future__ import annotations

import gc
import importlib
import sys
from typing import Any

import click

from dmdissect import __version__

#: Command name -> "module:attribute", in the order ``--help`` lists them.
COMMANDS = {
    "read": "dmdissect.cli.read:read",
    "timeline": "dmdissect.cli.timeline:timeline",
    "convert": "dmdissect.cli.convert:convert",
    "fields": "dmdissect.cli.fields:fields",
    "synth": "dmdissect.cli.synth:synth",
    "check": "dmdissect.cli.check:check",
    "report": "dmdissect.cli.report:report",
    "wireshark": "dmdissect.cli.wireshark:wireshark",
}

#: The first paragraph of each command's help, which ``dmdissect --help`` lists, so that
#: listing them imports no command (tests/test_startup.py holds them equal to the commands').
SUMMARIES = {
    "read": "Dissect the messages of FILE (pcap, pcapng, hex dump, raw or a log; '-' for stdin).",
    "timeline": "Show the transactions of FILE in time order (inputs as for read).",
    "convert": "Convert INPUT (pcap, pcapng, hex dump or raw; '-' for stdin) to a capture OUTPUT.",
    "fields": "List the fields of the registry (only those starting with a PREFIX, if given).",
    "synth": "Write a realistic Dynamic Memory session, built with the project's Scapy layers.",
    "check": "Check INPUT... and exit 1 if a finding or verdict reaches --fail-on.",
    "report": "Write a health report of INPUT...: session, memory plot, verdicts, transactions.",
    "wireshark": "Generate the Wireshark dissector (Lua) for the Dynamic Memory protocol.",
}


#: Allocations between two collections of the youngest generation (Python's default: 700).
#: A 510-range part makes over a thousand short-lived objects, so the default ran a
#: collection for every message and spent 40% of a long balloon's time in it;
#: the objects a message leaves alive are bounded, so memory stays flat either way.
GC_THRESHOLD = 10_000

#: The command an option-first command line runs, and the options the group keeps for itself.
DEFAULT_COMMAND = "read"
GROUP_OPTIONS = ("-h", "--help", "--version")


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use, with one-line usage errors.

    click's own usage error is a three-line block; scripts and users of a
    tshark-like tool get the same single ``dmdissect: error:`` line as for an
    unreadable input, and exit status 2.
    """

    def main(
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else exc.format_message())
            sys.exit(0)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else "dmdissect"
            click.echo(f"dmdissect: error: {exc.format_message()} (see '{where} --help')", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"dmdissect: error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("dmdissect: aborted", err=True)
            sys.exit(1)
        sys.exit(0)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """``dmdissect -r FILE [options]`` means ``dmdissect read -r FILE [options]``, as in tshark.

        Any first word that is an option but not one of the group's own
        (``--help``, ``--version``) starts ``read``'s options.
        """
        if args and args[0].startswith("-") and args[0] != "-" and args[0] not in GROUP_OPTIONS:
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands with their line of help, as click lists them, from :data:`SUMMARIES`."""
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [
            (name, click.Command(name, help=SUMMARIES[name]).get_short_help_str(limit))
            for name in COMMANDS
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        return getattr(importlib.import_module(module), attribute)


@click.group(
    name="dmdissect",
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="dmdissect")
def main() -> None:
    """Dissect Hyper-V Dynamic Memory protocol traffic: captures, hex dumps, and the logs of
    QEMU (trace events, QMP) and of the guest (dmesg, ftrace, debugfs).

    Options without a command are read's: 'dmdissect -r FILE -V' is 'dmdissect read -r FILE -V'.
    """
