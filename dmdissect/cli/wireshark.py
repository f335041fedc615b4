"""``dmdissect wireshark``: write the Lua dissector generated from the layers."""

from __future__ import annotations

import sys

import click

from dmdissect.cli.common import fail, guarded


@click.command()
@click.option(
    "-o",
    "--output",
    "output",
    metavar="FILE",
    help="Write the Lua dissector to FILE ('-' for standard output).",
)
@click.option(
    "--install",
    is_flag=True,
    help="Write it into Wireshark's personal Lua plugins folder (see --print-path).",
)
@click.option(
    "--print-path",
    is_flag=True,
    help="Print where --install writes the plugin, and do nothing else.",
)
@guarded
def wireshark(output: str | None, install: bool, print_path: bool) -> None:
    """Generate the Wireshark dissector (Lua) for the Dynamic Memory protocol.

    The plugin is generated from the same layers as dmdissect's own decoding:
    protocol 'hvdm', every field 'hvdm.' + its dmdissect name, on
    LINKTYPE_USER0 (a preference chooses USER0..15).  After --install, restart
    Wireshark or reload its Lua plugins (Ctrl+Shift+L).
    """
    from dmdissect.wireshark.paths import plugin_path

    target = plugin_path()
    if print_path:
        click.echo(str(target))
        return
    if not (output or install):
        fail("nothing to do: give --output FILE, --install or --print-path")
    from dmdissect.wireshark.generate import plugin_source

    source = plugin_source()
    if output == "-":
        sys.stdout.write(source)
    elif output:
        _write(output, source)
    if install:
        target.parent.mkdir(parents=True, exist_ok=True)
        _write(str(target), source)
        click.echo(f"installed {target}", err=True)


def _write(path: str, source: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(source)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
