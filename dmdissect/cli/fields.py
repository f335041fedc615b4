"""``dmdissect fields``: every name ``-Y`` and ``-e`` accept, like ``tshark -G fields``."""

from __future__ import annotations

import click

from dmdissect.cli.common import COLORS, guarded


@click.command()
@click.argument("prefixes", nargs=-1, metavar="[PREFIX]...")
@click.option(
    "-T",
    "--output-format",
    "output_format",
    type=click.Choice(("text", "json")),
    default="text",
    show_default=True,
    help="text: one aligned row per field; json: one array of objects.",
)
@click.option(
    "--color",
    type=click.Choice(tuple(COLORS)),
    default="auto",
    show_default=True,
    help="Colour on a terminal; NO_COLOR in the environment wins.",
)
@guarded
def fields(prefixes: tuple[str, ...], output_format: str, color: str) -> None:
    """List the fields of the registry (only those starting with a PREFIX, if given).

    Each name is also accepted with the prefix 'hvdm.' (the Wireshark plugin's
    names).  Columns: type ('[]' when the field repeats), width in bits,
    position (byte offset from the message start, '& mask' in its storage
    unit, 'item@' inside each list entry; 'TYPES:' where it differs by message
    type), the message types it occurs in, and a description.
    """
    from dmdissect.analysis.registry import FIELDS, PREFIX
    from dmdissect.views.jsonout import dumps
    from dmdissect.views.output import Output
    from dmdissect.views.registryview import field_object, table_lines

    wanted = [p[len(PREFIX) :] if p.startswith(PREFIX) else p for p in prefixes]
    chosen = [f for name, f in FIELDS.items() if not wanted or name.startswith(tuple(wanted))]
    out = Output(color=COLORS[color])
    if output_format == "json":
        out.raw("[" + ",\n ".join(dumps(field_object(f)) for f in chosen) + "]\n")
        return
    lines = table_lines(chosen)
    out.line(lines[0], "bold")
    for line in lines[1:]:
        out.line(line)
