"""Benchmark dmdissect's commands on every session shape; prints a table for the README.

    python bench/bench.py                                  # every shape, 100k and 1M, 3 runs
    python bench/bench.py --shapes mix,long --sizes 100000 --runs 5
    python bench/bench.py --commands read,read-V --no-tshark
    python bench/bench.py --cpu --jobs 2 --big-runs 1     # the README's run (see --help)

Shapes are described in :mod:`shapes` (bench/shapes.py); their files are made
once with the project's layers from a fixed seed and kept in ``--dir``.  Every
command runs as a separate process with its output to /dev/null, as a user
would run it; "msgs/s" divides by the median wall time of ``--runs`` runs,
start-up included (``--cpu``: by CPU time); "1M/100k" is the ratio of the two sizes' median times
(linear is 10); peak memory is the largest resident set of any run.  Where
tshark is installed, it reads the same pcapng files with ``bench/minimal.lua``
(header fields and the balloon response's ranges) in the same run, and the
"vs tshark" column divides dmdissect's rate by tshark's (``read`` against
``tshark``, ``read -V`` against ``tshark -V``).  Progress goes to stderr; the
tables at the end (stdout) are Markdown, ready for the README.

``--jobs 2`` measures two processes at a time (with ``--cpu`` the times stay
each process's own), and files are made in parallel too; ``--big-runs``
sets the runs at the largest size.  Before measuring, the package is compiled
to bytecode, as ``pip install`` does: a checkout run with
``PYTHONDONTWRITEBYTECODE`` would otherwise compile every module at every
start-up and measure the compiler.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from shapes import SEED, SHAPES, file_name, write_shape  # noqa: E402

#: Command label -> dmdissect arguments before the file.
COMMANDS = {
    "read": ["read"],
    "read -T jsonl": ["read", "-T", "jsonl"],
    "read -T json": ["read", "-T", "json"],
    "timeline": ["timeline"],
    "read -V": ["read", "-V"],
    "read -x": ["read", "-x"],
    "read -Y 'hdr.type == 7'": ["read", "-Y", "hdr.type == 7"],
}
#: dmdissect command -> the tshark command it is compared with.
TSHARK = {"read": [], "read -V": ["-V"]}
LUA = HERE / "minimal.lua"
#: Start-up commands: (label, arguments); the capture is a 10-message mix.
STARTUP = [("dmdissect --help", ["--help"]), ("dmdissect read --help", ["read", "--help"])]


#: Time taken of a run: "wall" (what a user waits) or "cpu" (user + system of the child).
CLOCK = {"mode": "wall"}


def run(argv: list[str]) -> tuple[float, float]:
    """Seconds (see :data:`CLOCK`) and peak RSS (MiB) of one process, output to /dev/null."""
    with open(os.devnull, "wb") as sink:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({code}): {proc.stderr.read().decode()}")
    proc.stderr.close()
    if CLOCK["mode"] == "cpu":
        elapsed = usage.ru_utime + usage.ru_stime
    return elapsed, usage.ru_maxrss / 1024


def dmdissect(*args: str) -> list[str]:
    return [sys.executable, "-m", "dmdissect", *args]


def tshark(path: Path, extra: list[str]) -> list[str]:
    return ["tshark", "-n", "-X", f"lua_script:{LUA}", "-r", str(path), *extra]


def measure(argv: list[str], runs: int) -> tuple[float, float]:
    """Median seconds (see :data:`CLOCK`) and the peak RSS of ``runs`` runs."""
    results = [run(argv) for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def compile_package() -> None:
    """Bytecode for every module of the dmdissect the children import (as pip install makes)."""
    probe = subprocess.run(
        [sys.executable, "-c", "import dmdissect, os; print(os.path.dirname(dmdissect.__file__))"],
        capture_output=True,
        text=True,
        check=True,
    )
    compileall.compile_dir(probe.stdout.strip(), quiet=1)


def make_file(directory: Path, shape: str, size: int) -> Path:
    """The file of ``shape`` at ``size``, made in a child process (so that several run at once)."""
    path = file_name(directory, shape, size)
    if not path.exists():
        note(f"making {shape} {size:,} ...")
        code = (
            "import sys; sys.path[:0] = sys.argv[1:3]; from pathlib import Path; "
            "from shapes import write_shape; write_shape(Path(sys.argv[3]), sys.argv[4], "
            "int(sys.argv[5]))"
        )
        subprocess.run(
            [
                sys.executable,
                "-c",
                code,
                str(HERE.parent),
                str(HERE),
                str(directory),
                shape,
                str(size),
            ],
            check=True,
        )
    return path


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def rate(count: int, seconds: float | None) -> str:
    return "-" if seconds is None else f"{count / seconds:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated shapes")
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated sizes")
    parser.add_argument("--commands", default=",".join(c.replace(" ", "") for c in COMMANDS))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--big-runs", type=int, help="runs at the largest size (default: --runs)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="measurements (and files made) at a time; use with --cpu, which times each "
        "process by its own CPU time",
    )
    parser.add_argument("--startup-runs", type=int, default=20)
    parser.add_argument("--no-tshark", action="store_true", help="skip the tshark rows")
    parser.add_argument(
        "--tshark-max",
        type=int,
        help="run tshark only at sizes up to this one (the ratio is taken at the largest "
        "size both ran)",
    )
    parser.add_argument(
        "--no-plugin",
        action="store_true",
        help="skip the table of tshark with the generated plugin against minimal.lua",
    )
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="time by the child's CPU time (user + system) instead of wall time: on a "
        "machine shared with other work, this moves far less from run to run",
    )
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "dmdissect-bench")
    options = parser.parse_args()
    options.dir.mkdir(parents=True, exist_ok=True)
    CLOCK["mode"] = "cpu" if options.cpu else "wall"
    shapes = options.shapes.split(",")
    sizes = sorted(int(s) for s in options.sizes.split(","))
    wanted = set(options.commands.split(","))
    commands = [label for label in COMMANDS if label.replace(" ", "") in wanted]
    use_tshark = not options.no_tshark and shutil.which("tshark") is not None
    began = time.monotonic()
    compile_package()

    startup_rows = []
    small = write_shape(options.dir, "mix", 10)
    for label, args in [*STARTUP, ("dmdissect read (10 messages)", ["read", str(small)])]:
        seconds, peak = measure(dmdissect(*args), options.startup_runs)
        note(f"{label}: {seconds:.3f} s, {peak:.1f} MiB")
        startup_rows.append((label, seconds, peak))

    # Every file first (in parallel with --jobs), then every measurement.
    with ThreadPoolExecutor(max(1, options.jobs)) as pool:
        paths = dict(
            zip(
                [(shape, size) for shape in shapes for size in sizes],
                pool.map(
                    lambda job: make_file(options.dir, *job),
                    [(shape, size) for shape in shapes for size in sizes],
                ),
            )
        )
    jobs = []
    for shape in shapes:
        for size in sizes:
            path = paths[shape, size]
            runs = options.big_runs if size == sizes[-1] and options.big_runs else options.runs
            jobs += [
                (shape, size, label, dmdissect(*COMMANDS[label], str(path)), runs)
                for label in commands
            ]
            tshark_here = options.tshark_max is None or size <= options.tshark_max
            if use_tshark and tshark_here and SHAPES[shape][1] == "pcapng":
                jobs += [
                    (shape, size, f"tshark {' '.join(extra)}".strip(), tshark(path, extra), runs)
                    for label, extra in TSHARK.items()
                    if label in commands
                ]

    def one(job):
        shape, size, label, argv, runs = job
        seconds, peak = measure(argv, runs)
        note(
            f"{shape:<11} {label:<14} {size:>9,}: {seconds:8.3f} s "
            f"{size / seconds:>10,.0f} msgs/s {peak:7.1f} MiB"
        )
        return shape, size, label, seconds, peak

    # (shape, command) -> size -> (median seconds, peak MiB)
    results: dict[tuple[str, str], dict[int, tuple[float, float]]] = {}
    with ThreadPoolExecutor(max(1, options.jobs)) as pool:
        for shape, size, label, seconds, peak in pool.map(one, jobs):
            results.setdefault((shape, label), {})[size] = (seconds, peak)

    runs = f"{options.runs}" + (
        f" ({options.big_runs} at {sizes[-1]:,})" if options.big_runs and len(sizes) > 1 else ""
    )
    print_tables(startup_rows, results, shapes, sizes, commands, began, runs, options.jobs)
    if use_tshark and not options.no_plugin:
        plugin_table(options.dir, shapes, sizes[0], options.runs)


def plugin_table(directory: Path, shapes: list[str], size: int, runs: int) -> None:
    """tshark with the generated plugin against tshark with ``minimal.lua``, same files.

    The generated dissector does everything the plugin promises (every field,
    summaries, expert checks, comment markers); the goal is at most 1.5 times
    the time of the minimal one, with and without -V.
    """
    plugin = directory / "hvdm.lua"
    subprocess.run(dmdissect("wireshark", "-o", str(plugin)), check=True)
    print(
        "\n| shape | tshark command | minimal.lua s | generated plugin s | ratio |\n"
        "|---|---|---:|---:|---:|"
    )
    for shape in shapes:
        if SHAPES[shape][1] != "pcapng":
            continue
        path = write_shape(directory, shape, size)
        for extra in ([], ["-V"]):
            base = ["tshark", "-n", "-r", str(path), *extra]
            minimal, _ = measure([*base, "-X", f"lua_script:{LUA}"], runs)
            generated, _ = measure([*base, "-X", f"lua_script:{plugin}"], runs)
            label = " ".join(["tshark", *extra])
            note(f"{shape:<11} {label:<9} {size:>9,}: {minimal:.3f} s vs {generated:.3f} s")
            print(
                f"| {shape} | `{label}` ({size:,}) | {minimal:.3f} | {generated:.3f} | "
                f"{generated / minimal:.2f}x |"
            )


def print_tables(startup_rows, results, shapes, sizes, commands, began, runs, jobs=1) -> None:
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    minutes = (time.monotonic() - began) / 60
    clock = "CPU time (user + system)" if CLOCK["mode"] == "cpu" else "wall time"
    print(
        f"Medians of {runs} runs by {clock}, {today}, {os.cpu_count()} CPUs, {jobs} at a "
        f"time, Python {sys.version.split()[0]}, seed {SEED}; the run took {minutes:.0f} min.\n"
    )
    print("| start-up | median s | peak MiB |\n|---|---:|---:|")
    for label, seconds, peak in startup_rows:
        print(f"| `{label}` | {seconds:.3f} | {peak:.1f} |")
    print()
    ratio = f"{sizes[-1]:,}/{sizes[0]:,} time" if len(sizes) > 1 else ""
    columns = ["shape", "command", *(f"msgs/s at {size:,}" for size in sizes)]
    columns += [ratio] if ratio else []
    columns += ["peak MiB", "vs tshark"]
    print("| " + " | ".join(columns) + " |")
    print("|---|---|" + "---:|" * (len(columns) - 2))
    for shape in shapes:
        labels = [c for c in commands] + [
            label for label in ("tshark", "tshark -V") if (shape, label) in results
        ]
        for label in labels:
            by_size = results.get((shape, label))
            if not by_size:
                continue
            cells = [rate(size, by_size.get(size, (None,))[0]) for size in sizes]
            if ratio:
                low, high = by_size.get(sizes[0]), by_size.get(sizes[-1])
                cells.append(f"{high[0] / low[0]:.1f}" if low and high else "-")
            cells.append(f"{max(p for _, p in by_size.values()):.1f}")
            versus = next(
                (
                    t
                    for c, t in ((c, f"tshark {' '.join(e)}".strip()) for c, e in TSHARK.items())
                    if c == label
                ),
                None,
            )
            theirs = results.get((shape, versus)) if versus else None
            both = [size for size in sizes if theirs and size in theirs and size in by_size]
            if both:
                big = both[-1]
                cells.append(f"{theirs[big][0] / by_size[big][0]:.2f}x at {big:,}")
            else:
                cells.append("")
            name = f"`{label}`" if label.startswith("tshark") else f"`dmdissect {label}`"
            print(f"| {shape} | {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
