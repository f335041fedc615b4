"""Logs that tell of the protocol without its bytes: QEMU trace events, QMP, dmesg, ftrace, debugfs.

Each reader turns lines into frames with no bytes: a message a line
witnesses (its known facts in ``Frame.witness``) or a peer's state it
records (``Frame.event``); see :mod:`dmdissect.sources.frame`.  Every frame
names its source and line; a line that cannot be read is a finding on an
event frame, never the end of the input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO

from dmdissect.sources.frame import Frame

#: Log formats, in the order detection tries them.
LOG_FORMATS = ("qemu-trace", "qmp", "ftrace", "debugfs", "dmesg")
#: Sources whose times count from the guest's boot (unless a line carries a date).
GUEST_CLOCK = ("dmesg", "ftrace")
#: The session every log of one run joins (a capture's file and interface are their own):
#: QEMU's trace and QMP, the guest's dmesg and ftrace of one VM tell one story.
LOG_SESSION = "logs"
#: Lines of the head that detection looks at.
HEAD_LINES = 2000


def _detectors() -> dict[str, Callable[[list[str]], bool]]:
    from dmdissect.sources.logs.debugfs import looks_like_debugfs
    from dmdissect.sources.logs.dmesg import looks_like_dmesg
    from dmdissect.sources.logs.ftrace import looks_like_ftrace
    from dmdissect.sources.logs.qemu_trace import looks_like_qemu_trace
    from dmdissect.sources.logs.qmp import looks_like_qmp

    return {
        "qemu-trace": looks_like_qemu_trace,
        "qmp": looks_like_qmp,
        "ftrace": looks_like_ftrace,
        "debugfs": looks_like_debugfs,
        "dmesg": looks_like_dmesg,
    }


def detect_log(head: bytes) -> str | None:
    """The log format of a text head, or None (then it is read as a hex dump)."""
    text = head.decode("utf-8", "replace")
    lines = text.split("\n", HEAD_LINES)[:HEAD_LINES]
    if len(head) >= 65536 and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    lines = [line.rstrip("\r") for line in lines]
    for fmt, looks in _detectors().items():
        if looks(lines):
            return fmt
    return None


#: Bytes of lines :func:`scan_for_log` hands the detectors at a time, as in a head.
SCAN_BATCH = 65536


def scan_for_log(stream: BinaryIO) -> str | None:
    """The log format of the first batch of lines in ``stream`` that shows one, or None.

    A log's first hv_balloon line may come after megabytes of other trace
    events or boot messages; this reads the whole stream once, a batch of
    lines at a time, so memory stays bounded by the batch.
    """
    from dmdissect.sources.logs.lines import MAX_LINE

    detectors = _detectors()
    batch: list[str] = []
    size = 0
    while True:
        line = stream.readline(MAX_LINE)
        if line:
            batch.append(line.replace(b"\0", b"").decode("utf-8", "replace").rstrip("\r\n"))
            size += len(line)
        if batch and (not line or size >= SCAN_BATCH or len(batch) >= HEAD_LINES):
            for fmt, looks in detectors.items():
                if looks(batch):
                    return fmt
            batch, size = [], 0
        if not line:
            return None


def iter_log_frames(
    fmt: str, stream: BinaryIO, name: str, hex_order: str | None = None
) -> Iterator[Frame]:
    if fmt == "qemu-trace":
        from dmdissect.sources.logs.qemu_trace import iter_qemu_trace

        return iter_qemu_trace(stream, name)
    if fmt == "qmp":
        from dmdissect.sources.logs.qmp import iter_qmp

        return iter_qmp(stream, name)
    if fmt == "ftrace":
        from dmdissect.sources.logs.ftrace import iter_ftrace

        return iter_ftrace(stream, name)
    if fmt == "debugfs":
        from dmdissect.sources.logs.debugfs import iter_debugfs

        return iter_debugfs(stream, name)
    from dmdissect.sources.logs.dmesg import iter_dmesg

    return iter_dmesg(stream, name, hex_order)
