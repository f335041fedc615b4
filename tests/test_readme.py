"""The README's commands run, and print exactly what the README shows."""

from __future__ import annotations

import doctest
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def console_examples() -> list[tuple[str, str]]:
    """(command, expected output) for every ``$ `` line of the README's console blocks."""
    examples = []
    for block in re.findall(r"```console\n(.*?)```", README.read_text(), flags=re.S):
        command, output = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command is not None:
                    examples.append((command, "\n".join(output)))
                command, output = line[2:], []
            else:
                output.append(line)
        if command is not None:
            examples.append((command, "\n".join(output)))
    return examples


def test_readme_opens_with_the_two_commands():
    first_block = re.search(r"```sh\n(.*?)```", README.read_text(), flags=re.S).group(1)
    lines = first_block.splitlines()
    assert lines[0].endswith("dmdissect read captures/linux-qemu.pcapng")
    assert lines[1].endswith("python -m pytest -q")
    assert (ROOT / "captures" / "linux-qemu.pcapng").is_file()


def test_the_test_command_is_the_one_ci_runs():
    assert "python -m pytest -q" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize(
    "command,expected", console_examples(), ids=[c[:60] for c, _ in console_examples()]
)
def test_console_example(command, expected):
    if "jq " in command and shutil.which("jq") is None:
        pytest.skip("jq is not installed")
    bindir = str(Path(sys.executable).parent)
    if shutil.which("dmdissect", path=bindir) is None:
        pytest.skip("the dmdissect script is not installed beside this Python")
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    env.pop("NO_COLOR", None)
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.rstrip("\n") == expected.rstrip("\n")


def test_python_examples():
    failures, tried = doctest.testfile(
        str(README), module_relative=False, optionflags=doctest.ELLIPSIS
    )
    assert tried > 0
    assert failures == 0


def test_readme_lists_every_finding_id_and_only_those():
    """The README's table of finding ids is the registry: same ids, groups, severities, order."""
    from dmdissect.findings import REGISTRY

    section = README.read_text().split("### Finding ids", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(hvdm\.[^`]+)` \| (\w+) \| (\w+) \| (.+) \|$", section, flags=re.M)
    assert rows == [(e.id, e.group, e.severity, e.meaning) for e in REGISTRY.values()]
