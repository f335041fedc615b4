"""Start-up: help loads no heavy module, and a plain ``read`` of a capture loads no Scapy.

Help is what a user runs first and completion runs on every key press; the
command modules keep their heavy imports inside the commands.  ``read``
decodes with the decoders generated from the layers
(:mod:`dmdissect.layers.tables`), so Scapy's import, which costs more than a
whole read of a small capture, is paid only by what needs Scapy's packets
(the ``-V`` tree, JSON, message types whose layers do not compile).  This
counts modules, not time: a module that pulls Scapy back in fails here.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import click
import pytest

from dmdissect.cli.main import COMMANDS, SUMMARIES, main

HEAVY = ("scapy", "rich", "lark", "orjson", "zstandard", "sortedcontainers", "matplotlib")

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
SAMPLE = CAPTURES / "linux-qemu.pcapng"
PROBE = f"""
import json, sys
from dmdissect.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
loaded = sorted({{name.split('.')[0] for name in sys.modules}} & {set(HEAVY)!r})
print(json.dumps({{"code": code, "loaded": loaded}}), file=sys.stderr)
"""


def _help_imports(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120
    )
    return json.loads(done.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [["--help"], *([name, "--help"] for name in COMMANDS)])
def test_help_loads_no_heavy_module(args):
    result = _help_imports(*args)
    assert result == {"code": 0, "loaded": []}


@pytest.mark.parametrize("name", ["linux-qemu.pcapng", "linux-qemu-vmbus.pcapng"])
@pytest.mark.parametrize(
    "options",
    [
        [],
        ["-c", "3"],
        ["-t", "ud"],
        ["-x"],
        ["-q", "-z", "expert", "-z", "io,stat,10"],
        ["-T", "json"],
        ["-T", "jsonl"],
    ],
)
def test_read_loads_no_scapy(name, options):
    """Summary lines of a capture (VMBus-framed too), its bytes, its JSON (handshake,
    capabilities, status, balloon) and its statistics come from the generated decoders
    and export plans."""
    result = _help_imports("read", *options, str(CAPTURES / name))
    assert result["code"] == 0
    assert "scapy" not in result["loaded"]
    assert "rich" not in result["loaded"] and "lark" not in result["loaded"]


def test_the_timeline_of_a_capture_loads_no_scapy():
    result = _help_imports("timeline", str(SAMPLE))
    assert result["code"] == 0
    assert "scapy" not in result["loaded"]


@pytest.mark.parametrize("command", [["read"], ["timeline"]])
def test_a_kernel_hex_dump_log_loads_no_scapy(command):
    """A dmesg of print_hex_dump rows is bytes like a capture's: detecting it asks the log
    readers first, and none of them may pull Scapy in to say it is no log of theirs."""
    result = _help_imports(*command, str(CAPTURES / "linux-qemu-dmesg.log"))
    assert result["code"] == 0
    assert "scapy" not in result["loaded"]


def test_the_probe_sees_heavy_imports():
    """The probe itself can fail: the -V tree of a version negotiation (a version's
    extra line comes from the field walk) does load Scapy."""
    result = _help_imports("read", "-V", "-c", "1", str(SAMPLE))
    assert "scapy" in result["loaded"]


@pytest.mark.parametrize("options", [["-V"], ["-V", "-x"]])
def test_the_tree_of_status_and_balloon_traffic_loads_no_scapy(tmp_path, options):
    """The -V tree in a pipe is written by writers compiled from the generated plans:
    status reports, a balloon exchange and both forms of a hot-add request."""
    from capbuild import BALLOON_REQUEST, BALLOON_RESPONSE, STATUS, header, pcap

    ranged = struct.pack("<Q", 0x400000 | 512 << 40)
    hot_add = [
        header(10, 24, 5) + ranged + ranged,
        header(11, 16, 5) + struct.pack("<II", 512, 1),
        header(10, 16, 6) + ranged,
        header(11, 16, 6) + struct.pack("<II", 512, 1),
    ]
    messages = [STATUS, BALLOON_REQUEST, BALLOON_RESPONSE, STATUS, *hot_add]
    path = tmp_path / "traffic.pcap"
    path.write_bytes(pcap([(1, i, data) for i, data in enumerate(messages)]))
    result = _help_imports("read", *options, str(path))
    assert result["code"] == 0
    assert "scapy" not in result["loaded"]


@pytest.mark.parametrize("width", [60, 80, 100, 200])
def test_the_command_list_is_what_click_makes_of_the_commands_themselves(width):
    """``dmdissect --help`` lists the commands from SUMMARIES without importing them: the
    lines are those click makes from each command's own help (the oracle imports them)."""
    ctx = click.Context(main, info_name="dmdissect")
    lazy, eager = (click.HelpFormatter(width=width) for _ in range(2))
    main.format_commands(ctx, lazy)
    click.Group.format_commands(main, ctx, eager)
    assert lazy.getvalue() == eager.getvalue()
    assert "read" in lazy.getvalue() and "wireshark" in lazy.getvalue()


def test_every_command_has_its_summary():
    assert list(SUMMARIES) == list(COMMANDS)


FIRST_SLOW = """
import struct, sys
from dmdissect.analysis.dissect import dissect
from dmdissect.sources.frame import Frame
before = 'scapy' in sys.modules
cut = dissect(Frame(1, struct.pack('<HHI', 5, 16, 1) + bytes(8)))
print(before, type(cut.body).__name__, ','.join(cut.body.missing))
"""


def test_the_first_message_scapy_dissects_in_a_process_has_every_layer_bound():
    """Scapy comes in late, for the first message the fast decoders leave to it (here a
    status report cut short): its message layers must be bound on the header by then."""
    done = subprocess.run(
        [sys.executable, "-c", FIRST_SLOW], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.split() == [
        "False",
        "DMStatusReport",
        "num_committed,page_file_size,zero_free,page_file_writes,io_diff",
    ], done.stderr
