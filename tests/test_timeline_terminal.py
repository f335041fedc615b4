"""The timeline on a terminal of any width: the columns of a pipe, folded, never a broken word.

The command runs on a real pseudo-terminal of a given size; what the pipe
prints for the same input is the oracle for the words and numbers each row
must hold.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")


def on_terminal(args: list[str], columns: int) -> list[str]:
    """The lines the command prints on a terminal ``columns`` wide, styles taken off."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dmdissect", *args],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=subprocess.DEVNULL,
        env={**env, "TERM": "xterm-256color"},
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=120)
    os.close(leader)
    text = ANSI.sub("", b"".join(chunks).decode()).replace("\r\n", "\n")
    return text.splitlines()


def in_pipe(args: list[str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "dmdissect", *args], capture_output=True, text=True, check=True
    )
    return done.stdout.splitlines()


@pytest.mark.parametrize("columns", [60, 80, 120, 150])
@pytest.mark.parametrize("name", ["faulty.pcapng", "linux-qemu.pcapng"])
def test_rows_fold_at_words_within_the_width(name, columns):
    args = ["timeline", str(CAPTURES / name)]
    tty = on_terminal(args, columns)
    pipe = in_pipe(args)
    assert tty and all(len(line) <= columns for line in tty)
    # Every word of the pipe's rows is whole on the terminal, in the same order.
    start = next(i for i, line in enumerate(pipe) if line.lstrip().startswith("start"))
    tty_start = next(i for i, line in enumerate(tty) if line.lstrip().startswith("start"))
    # The table ends where the health block (its own lines, folded alike) begins.
    tty_end, end = tty.index("Health:") - 1, pipe.index("Health:") - 1
    assert " ".join(tty[tty_start:tty_end]).split() == " ".join(pipe[start:end]).split()
    assert " ".join(tty[tty_end:]).split() == " ".join(pipe[end:]).split()
    # A row starts with its start time in the first column; folded lines never do.
    starts = [line.split()[0] for line in tty[tty_start:tty_end] if line[:12].strip()]
    assert starts == [line.split()[0] for line in pipe[start:end]]


def test_a_wide_terminal_shows_exactly_the_pipe_lines():
    args = ["timeline", "--color", "never", str(CAPTURES / "linux-qemu.pcapng")]
    assert on_terminal(args, 400) == in_pipe(args)
