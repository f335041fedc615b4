"""Benchmark dmdissect's commands on generated captures; prints medians of several runs.

    python bench/bench.py                 # 10k and 100k messages, 3 runs each
    python bench/bench.py --sizes 10000,100000,1000000 --runs 5

Captures hold the realistic mix of the performance issue: 90% status reports,
and balloon requests answered in 4 parts of 10 ranges each.  Every command
runs as a separate process with its output to /dev/null, as a user would run
it; peak memory is the child's maximum resident set size.  Plain Scapy
dissection of the same messages (``DMHeader(bytes)``) runs in-process as the
baseline.  Timings vary with the machine's load: compare medians and ratios
from one run of this script, not numbers across machines.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dmdissect.layers import (  # noqa: E402
    DMBalloonRequest,
    DMBalloonResponse,
    DMHeader,
    DMPageRange,
    DMStatusReport,
)
from dmdissect.layers.layout import layout_of  # noqa: E402
from dmdissect.sources.frame import Frame  # noqa: E402
from dmdissect.sources.writer import write_frames  # noqa: E402

T0 = 1_764_205_200.0
TRANS_ID = next(s for s in layout_of(DMHeader).spots if s.name == "trans_id")


def _with_id(template: bytes, trans_id: int) -> bytes:
    data = bytearray(template)
    data[TRANS_ID.offset : TRANS_ID.offset + TRANS_ID.size] = trans_id.to_bytes(
        TRANS_ID.size, "little"
    )
    return bytes(data)


def session(count: int):
    """Frames of the benchmark mix: each block is 45 status reports and a 4-part balloon."""
    status = bytes(DMHeader() / DMStatusReport(num_avail=262144, num_committed=131072))
    request = bytes(DMHeader() / DMBalloonRequest(num_pages=20480))
    parts = [
        bytes(
            DMHeader()
            / DMBalloonResponse(
                more_pages=int(part < 3),
                range_array=[
                    DMPageRange(start_page=0x100000 + 512 * (10 * part + i), page_cnt=512)
                    for i in range(10)
                ],
            )
        )
        for part in range(4)
    ]
    guest_id = host_id = 0
    for index in range(count):
        slot = index % 50
        if slot == 45:
            host_id += 1
            data, direction = _with_id(request, host_id), "host->guest"
        elif slot > 45:
            guest_id += 1
            data, direction = _with_id(parts[slot - 46], guest_id), "guest->host"
        else:
            guest_id += 1
            data, direction = _with_id(status, guest_id), "guest->host"
        yield Frame(
            index + 1, data, time=T0 + index * 0.02, direction=direction, direction_source="capture"
        )


def make_capture(path: Path, count: int) -> Path:
    if not path.exists():
        with path.open("wb") as out:
            write_frames(session(count), out)
    return path


def run_command(args: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one run of the CLI, output to /dev/null."""
    with open(os.devnull, "wb") as sink:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "dmdissect", *args], stdout=sink, stderr=subprocess.PIPE
        )
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"dmdissect {' '.join(args)} failed: {proc.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss


def scapy_rate(path: Path, limit: int) -> float:
    """Messages per second of plain Scapy dissection, records read with the same reader."""
    from dmdissect.sources import open_frames

    payloads = [frame.data for _, frame in zip(range(limit), open_frames(str(path)))]
    start = time.perf_counter()
    for data in payloads:
        DMHeader(data)
    return len(payloads) / (time.perf_counter() - start)


def measure(label: str, args: list[str], count: int, runs: int, startup: float = 0.0) -> float:
    """Print one row; returns the median wall time.

    msgs/s counts the whole run, start-up included; "after start-up" takes
    the median start-up of a 10-message read away, which is what a long
    input sees.
    """
    results = [run_command(args) for _ in range(runs)]
    wall = statistics.median(r[0] for r in results)
    peak = max(r[1] for r in results) / 1024
    rate = f"{count / wall:12,.0f}" if count else f"{'-':>12}"
    steady = f"{count / (wall - startup):14,.0f}" if count and wall > startup else f"{'-':>14}"
    print(f"{label:<34} {count:>9,} {wall:9.3f} {rate} {steady} {peak:10.1f}", flush=True)
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "dmdissect-bench")
    options = parser.parse_args()
    options.dir.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in options.sizes.split(",")]
    small = make_capture(options.dir / "bench-10.pcapng", 10)
    print(
        f"{'command':<34} {'messages':>9} {'median s':>9} {'msgs/s':>12} "
        f"{'after start-up':>14} {'peak MiB':>10}"
    )
    startup = measure("start-up: read (10 messages)", ["read", str(small)], 0, options.runs)
    measure("start-up: read -V (10 messages)", ["read", "-V", str(small)], 0, options.runs)
    for size in sizes:
        capture = make_capture(options.dir / f"bench-{size}.pcapng", size)
        measure("read", ["read", str(capture)], size, options.runs, startup)
        measure("read -T jsonl", ["read", "-T", "jsonl", str(capture)], size, options.runs, startup)
        measure("timeline", ["timeline", str(capture)], size, options.runs, startup)
        rates = [scapy_rate(capture, min(size, 20000)) for _ in range(options.runs)]
        print(
            f"{'plain Scapy DMHeader(bytes)':<34} {min(size, 20000):>9,} {'':>9} "
            f"{statistics.median(rates):12,.0f} {'':>14} {'':>10}",
            flush=True,
        )


if __name__ == "__main__":
    main()
