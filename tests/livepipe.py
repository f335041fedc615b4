"""A dmdissect process fed through a pipe that stays open, read line by line.

Live-input tests write a few messages, wait for the lines they must cause
(with a generous guard against a hang, never a timing assertion), then end
the input or signal the process.
"""

from __future__ import annotations

import fcntl
import os
import queue
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: How long a test waits for a line before calling the process stuck.
GUARD = 60.0


class LiveProcess:
    def __init__(self, *args: str) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dmdissect", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.decode())
        self.lines.put(None)

    def send(self, data: bytes) -> None:
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def wait_idle(self) -> None:
        """Until the process has taken every byte sent and sleeps waiting for more.

        The pipe is empty (FIONREAD) and the process is asleep (``S`` in
        /proc/PID/stat) twice in a row: then it is blocked reading the pipe.
        """
        deadline = time.monotonic() + GUARD
        calm = 0
        while calm < 2:
            assert time.monotonic() < deadline, "the process never went idle"
            unread = struct.unpack(
                "i", fcntl.ioctl(self.process.stdin.fileno(), termios.FIONREAD, b"\0" * 4)
            )[0]
            with open(f"/proc/{self.process.pid}/stat") as stat:
                state = stat.read().rpartition(")")[2].split()[0]
            calm = calm + 1 if unread == 0 and state == "S" else 0
            time.sleep(0.05)

    def next_line(self) -> str:
        line = self.lines.get(timeout=GUARD)
        assert line is not None, "output ended early: " + self.process.stderr.read().decode()
        return line

    def lines_until(self, predicate) -> list[str]:
        out = []
        while True:
            out.append(self.next_line())
            if predicate(out[-1]):
                return out

    def signal(self, signum: int = signal.SIGINT) -> tuple[int, list[str], str]:
        """Send ``signum`` with the input still open; the status, the rest of stdout, stderr."""
        self.process.send_signal(signum)
        return self.finish()

    def close_input(self) -> tuple[int, list[str], str]:
        self.process.stdin.close()
        return self.finish()

    def finish(self) -> tuple[int, list[str], str]:
        status = self.process.wait(timeout=GUARD)
        rest = []
        while (line := self.lines.get(timeout=GUARD)) is not None:
            rest.append(line)
        stderr = self.process.stderr.read().decode()
        if not self.process.stdin.closed:
            self.process.stdin.close()
        return status, rest, stderr
