"""The man page documents every option that --help offers, and lints clean."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import click
import pytest

from dmdissect.cli import main
from dmdissect.cli.main import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
MAN = ROOT / "man" / "dmdissect.1"


def roff(option: str) -> str:
    """How mdoc writes an option: ``Fl V`` for -V, ``Fl \\-read\\-file`` for --read-file."""
    name = option.lstrip("-").replace("-", "\\-")
    return "Fl " + ("\\-" if option.startswith("--") else "") + name


def every_option():
    for name in sorted(COMMANDS):
        command = main.get_command(None, name)
        for param in command.params:
            if isinstance(param, click.Option):
                for option in param.opts + param.secondary_opts:
                    yield name, option


def test_commands_are_in_the_man_page():
    text = MAN.read_text()
    for name in COMMANDS:
        assert f".Cm {name}" in text, name


@pytest.mark.parametrize("command,option", sorted(set(every_option())))
def test_every_option_is_in_the_man_page(command, option):
    assert roff(option) in MAN.read_text(), f"{command} {option}"


def test_version_option_is_documented():
    assert roff("--version") in MAN.read_text()


@pytest.mark.skipif(shutil.which("mandoc") is None, reason="mandoc is not installed")
def test_man_page_lints_clean():
    result = subprocess.run(
        ["mandoc", "-Tlint", "-W", "warning", str(MAN)], capture_output=True, text=True
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_shell_completion_offers_commands_options_and_choices():
    from click.shell_completion import BashComplete

    def complete(args, incomplete):
        shell = BashComplete(main, {}, "dmdissect", "_DMDISSECT_COMPLETE")
        return [item.value for item in shell.get_completions(args, incomplete)]

    assert complete([], "ti") == ["timeline"]
    assert complete(["read"], "--fo") == ["--format"]
    assert complete(["read", "--format"], "") == [
        "auto",
        "pcap",
        "pcapng",
        "hex",
        "raw",
        "qemu-trace",
        "qmp",
        "dmesg",
        "ftrace",
        "debugfs",
    ]
    assert complete(["synth", "--profile"], "w") == ["windows-hyperv"]
