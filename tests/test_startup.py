"""Start-up: printing help loads neither Scapy nor rich, whatever command is asked about.

Help is what a user runs first and completion runs on every key press; the
command modules keep their heavy imports inside the commands.  This counts
modules, not time: a module that pulls Scapy back into ``--help`` fails here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dmdissect.cli.main import COMMANDS

HEAVY = ("scapy", "rich", "lark", "orjson", "zstandard", "sortedcontainers", "matplotlib")

SAMPLE = Path(__file__).resolve().parent.parent / "captures" / "linux-qemu.pcapng"
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


def test_the_probe_sees_heavy_imports():
    """The probe itself can fail: reading a capture does load Scapy."""
    result = _help_imports("read", "-c", "1", str(SAMPLE))
    assert "scapy" in result["loaded"]
