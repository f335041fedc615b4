"""``dmdissect report``: a self-contained page, checked by parsing it and in a real browser.

The browser test loads the page in Debian's headless Chromium (which ``.ci/run``
installs): no console message may appear (the same check on a page with a
script error proves it would see one), and the screenshot must show the plot
in the colours of its lines.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from sessions import (
    balloon_request,
    balloon_response,
    frames,
    handshake,
    hot_add_request,
    hot_add_response,
    status,
    unballoon_request,
    unballoon_response,
)

from dmdissect.cli import main
from dmdissect.sources.writer import write_frames

ROOT = Path(__file__).resolve().parent.parent
#: The plot's line colours (views/plot.py): committed, available.
COMMITTED = (0xE6, 0x9F, 0x00)
AVAILABLE = (0x56, 0xB4, 0xE9)


class _Page(HTMLParser):
    """Every tag, the links and sources it names, and the visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.references: list[str] = []
        self.text: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href") and value is not None:
                self.references.append(value)
            if name == "id" and value is not None:
                self.ids.append(value)

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def session_file(tmp_path, name="session.pcapng") -> Path:
    timed = (
        handshake()
        + [(45.0 + i, status(10 + i, 3000, 7000)) for i in range(10)]
        + [
            (50.5, balloon_request(0, 1024)),
            (51.0, balloon_response(30, [(0x1000, 512)])),
            (52.0, hot_add_request(1, 0x140000, 32768)),
            (52.1, hot_add_response(31, 0, 0)),
        ]
    )
    path = tmp_path / name
    with open(path, "wb") as handle:
        write_frames(frames(timed), handle)
    return path


def report(*args) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["report", *args])
    return result.exit_code, result.stderr


def test_the_page_holds_everything_and_links_only_to_itself(tmp_path):
    path = session_file(tmp_path)
    out = tmp_path / "r.html"
    assert report(str(path), "-o", str(out)) == (0, "")
    page = parse(out.read_text())
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags
    assert page.references and all(ref.startswith("#") for ref in page.references)
    missing = {ref[1:] for ref in page.references} - set(page.ids)
    assert missing == set()
    text = " ".join(page.text)
    assert "time since the first message (s)" in text  # the plot's axes, as SVG text
    assert "guest memory (MiB)" in text
    assert "balloon #1: the guest gave 512 of 1024 pages" in text
    assert "hot_add #1: transient failure, 0 of 32768 pages added" in text
    # The card counts in English: the failed hot-add (a warning); the partial balloon, the
    # first status report, the hot-add stop and the guest's transient-failure result (notes).
    assert (
        'Findings and verdicts: <span class="warning">1 warning</span>, '
        '<span class="note">4 notes</span>' in out.read_text()
    )


def test_the_tables_say_what_the_session_did(tmp_path):
    path = session_file(tmp_path)
    out = tmp_path / "r.html"
    report(str(path), "-o", str(out))
    html = out.read_text()
    assert (
        '<tr><td>balloon #1</td><td class="num">50.500</td><td class="num">0.500</td>'
        '<td class="num">1024</td><td class="num">512</td><td>partial</td>' in html
    )
    # Ledger: 512 pages ballooned in minute 0; the failed hot-add moved nothing.
    assert (
        '<tr><td><b>total</b></td><td class="num">512</td><td class="num">0</td>'
        '<td class="num">0</td><td class="num">0</td><td class="num">-512</td>'
        '<td class="num">-2</td></tr>' in html
    )


def test_input_text_is_escaped(tmp_path):
    path = session_file(tmp_path, "<img src=x onerror=alert(1)>.pcapng")
    out = tmp_path / "r.html"
    assert report(str(path), "-o", str(out))[0] == 0
    page = parse(out.read_text())
    assert "img" not in page.tags
    assert any("<img src=x onerror=alert(1)>" in text for text in page.text)


def test_png_alone_and_unreadable_input(tmp_path):
    png = tmp_path / "plot.png"
    assert report(str(session_file(tmp_path)), "--png", str(png)) == (0, "")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "report.html").exists()
    code, err = report(str(tmp_path / "missing"), "-o", str(tmp_path / "x.html"))
    assert code == 2 and err.count("\n") == 1


def _chromium() -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("chromium must be installed in CI (.ci/run installs it)")
        pytest.skip("chromium is not installed")
    return binary


def _load(page: Path, shot: Path, profile: Path) -> str:
    """Load a page headless, take a screenshot, return what Chromium logged of it."""
    result = subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--window-size=1280,1400",
            "--enable-logging=stderr",
            "--v=0",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.exists(), result.stderr[-2000:]
    return result.stderr


def _colour_share(png: Path, colour: tuple[int, int, int]) -> float:
    from matplotlib.image import imread

    pixels = (imread(str(png))[:, :, :3] * 255).round().astype(int)
    close = (abs(pixels - colour) <= 12).all(axis=2)
    return float(close.mean())


def test_the_report_in_a_real_browser(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>missing_function();</script>x</body></html>")
    assert ":CONSOLE" in _load(bad, tmp_path / "bad.png", tmp_path / "profile-bad")

    out = tmp_path / "r.html"
    assert report(str(ROOT / "captures" / "linux-qemu.pcapng"), "-o", str(out))[0] == 0
    shot = tmp_path / "shot.png"
    log = _load(out, shot, tmp_path / "profile")
    assert ":CONSOLE" not in log
    # Both memory lines are drawn: each colour covers a visible share of the screenshot.
    assert _colour_share(shot, COMMITTED) > 0.0005
    assert _colour_share(shot, AVAILABLE) > 0.0005


def test_two_inputs_keep_their_plot_ids_apart(tmp_path):
    first, second = session_file(tmp_path, "a.pcapng"), session_file(tmp_path, "b.pcapng")
    out = tmp_path / "r.html"
    assert report(str(first), str(second), "-o", str(out)) == (0, "")
    page = parse(out.read_text())
    assert len(page.ids) == len(set(page.ids))  # HTML ids are unique in a document
    html = out.read_text()
    import re

    references = set(re.findall(r'(?:url\(#|href="#)([^")]+)', html))
    assert references and references <= set(page.ids)
    assert {"s1-figure_1", "s2-figure_1"} <= set(page.ids)


def test_a_file_name_is_never_read_as_mathtext(tmp_path):
    path = session_file(tmp_path, "x$\\frac{$.pcapng")
    png = tmp_path / "plot.png"
    assert report(str(path), "--png", str(png)) == (0, "")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_hot_removed_memory_is_its_own_line_not_negative_hot_added():
    """windows-hyperv.pcapng: two refused hot-adds, then three hot-removes whose responses
    give back 637440, 428544 and 307712 pages (read off the capture with tshark)."""
    from dmdissect.analysis.gathered import health_of
    from dmdissect.sources import open_frames
    from dmdissect.views.plot import _running_totals

    health = health_of(open_frames(str(ROOT / "captures" / "windows-hyperv.pcapng")))[0].health
    totals = _running_totals(health, health.first_time)
    assert [y for _, y in totals["hot_added"]] == [0.0]
    assert [y * 256 for _, y in totals["hot_removed"]] == [
        0,
        637440,
        637440 + 428544,
        637440 + 428544 + 307712,
    ]


def test_a_session_that_starts_by_giving_pages_back_draws_net_below_zero():
    """What was ballooned out before the first message is unknown: the line counts from there.

    Unballoon 512 pages at 1 s, balloon 256 at 2 s: net -2 MiB, then -1 MiB.
    """
    from dmdissect.analysis.gathered import health_of
    from dmdissect.views.plot import _running_totals, memory_figure

    session = handshake() + [
        (1.0, unballoon_request(1, [(0x1000, 512)])),
        (1.1, unballoon_response(1)),
        (2.0, balloon_request(2, 256)),
        (2.1, balloon_response(2, [(0x9000, 256)])),
    ]
    health = health_of(frames(session))[0].health
    assert [y for _, y in _running_totals(health, 0.0)["ballooned"]] == [0.0, -2.0, -1.0]
    labels = [line.get_label() for line in memory_figure(health, 85.0).axes[0].get_lines()]
    assert "ballooned out since the first message (net)" in labels


def test_logs_of_one_run_are_one_section_with_the_status_series_they_carry(tmp_path):
    """QMP carries the host's status series, ftrace the guest's: one report line each."""
    captures = ROOT / "captures"
    pairs = [
        ("linux-qemu-trace.log", "linux-qemu-qmp.log", '"event": "HV_BALLOON_STATUS_REPORT"'),
        ("linux-qemu-guest-dmesg.log", "linux-qemu-guest-ftrace.txt", " balloon_status: "),
    ]
    for first, second, marker in pairs:
        out = tmp_path / f"{first}.html"
        assert report(str(captures / first), str(captures / second), "-o", str(out)) == (0, "")
        html = out.read_text()
        reports = (captures / second).read_text().count(marker)
        assert reports > 60
        assert html.count("<section>") == 1
        assert f"<h1>{captures / first} + {captures / second}</h1>" in html
        assert f"<p>Status reports: {reports}</p>" in html
        # The frames table says where each frame is in its own file.
        assert "<th>file:record or line</th>" in html
        # A log's event is the host's or the guest's, never of unknown direction.
        assert "<td>?</td>" not in html


def _snapped_balloon_then_unballoon() -> list:
    """A balloon of 2048 pages whose only part was cut by a 24-byte snap length (one range of
    512 pages seen: at least 512 moved), then an unballoon of 256 pages, whole."""
    import struct

    from dmdissect.sources.frame import Frame

    def header(msg_type: int, size: int, trans_id: int) -> bytes:
        return struct.pack("<HHI", msg_type, size, trans_id)

    ranges = b"".join(struct.pack("<Q", 0x1000 + 512 * i | 512 << 40) for i in range(4))
    part = header(7, 16 + len(ranges), 5) + struct.pack("<II", 0, 4 << 1) + ranges
    unballoon = (
        header(8, 24, 6) + struct.pack("<II", 0, 1 << 1 | 0) + struct.pack("<Q", 0x9000 | 256 << 40)
    )
    return [
        Frame(1, header(6, 16, 4) + struct.pack("<II", 2048, 0), 61.0),
        Frame(2, part[:24], 62.0, wire_length=len(part)),
        Frame(3, unballoon, 130.0),
        Frame(4, header(9, 8, 6), 130.5),
    ]


def test_pages_only_a_lower_bound_are_marked_and_make_the_net_unknown():
    from dmdissect.analysis.gathered import health_of
    from dmdissect.views.plot import _running_totals
    from dmdissect.views.report import _ledger, _transactions

    health = health_of(_snapped_balloon_then_unballoon())[0].health
    # Minute 0 (from 61 s): the balloon, at least 512 pages; minute 1: the unballoon of 256.
    assert health.ledger.to_json() == {
        "totals": {
            "balloon": 512,
            "unballoon": 256,
            "hot_add": 0,
            "hot_remove": 0,
            "net": None,
            "at_least": {"balloon": 1},
        },
        "per_minute": [
            {"minute": 0, "balloon": 512, "unballoon": 0, "hot_add": 0, "hot_remove": 0,
             "net": None, "at_least": {"balloon": 1}},
            {"minute": 1, "balloon": 0, "unballoon": 256, "hot_add": 0, "hot_remove": 0,
             "net": 256},
        ],
    }  # fmt: skip
    assert "<td>balloon #1</td>" in _transactions(health, "s1-", {})
    assert '<td class="num">&ge;512</td>' in _transactions(health, "s1-", {})
    total = _ledger(health.ledger).split("<b>total</b>")[1]
    assert total.startswith('</td><td class="num">&ge;512</td><td class="num">256</td>')
    # The net ballooned line ends at the balloon: from there its total is unknown.
    points = _running_totals(health, health.first_time)["ballooned"]
    assert points[0] == (0.0, 0.0)
    assert [x for x, _ in points] == [0.0, 0.0, 69.0]
    assert all(math.isnan(y) for _, y in points[1:])


def test_pages_a_log_does_not_give_end_the_plotted_line(tmp_path):
    """The guest's dmesg tells a balloon at its floor (how many pages, it does not say), then
    frees 512 pages: the net line cannot go on past the balloon; the hot-added line has none."""
    from dmdissect.analysis.gathered import health_of
    from dmdissect.sources import open_frames
    from dmdissect.views.plot import _running_totals, memory_figure

    log = tmp_path / "dmesg.log"
    log.write_text(
        "[    2.000000] hv_balloon: Using Dynamic Memory protocol version 2.0\n"
        "[   10.000000] hv_balloon: Balloon request will be partially fulfilled. Balloon floor "
        "reached.\n"
        "[   40.000000] hv_balloon: Freed 512 ballooned pages.\n"
    )
    health = health_of(open_frames(str(log)))[0].health
    points = _running_totals(health, health.first_time)["ballooned"]
    assert points[0] == (0.0, 0.0)
    assert len(points) == 3 and all(math.isnan(y) for _, y in points[1:])
    labels = [line.get_label() for line in memory_figure(health, 85.0).axes[0].get_lines()]
    assert (
        "ballooned out since the first message (net) (ends where a transaction's pages are not "
        "known)" in labels
    )


def test_a_report_whose_pressure_is_undefined_draws_no_point():
    """committed + available = 0: pressure is undefined, not 0 %."""
    from dmdissect.analysis.gathered import health_of
    from dmdissect.views.plot import memory_figure

    health = health_of(frames(handshake() + [(1.0, status(1, 0, 0)), (2.0, status(2, 100, 300))]))[
        0
    ].health
    figure = memory_figure(health, 85.0)
    pressure = [line for line in figure.axes[1].get_lines() if line.get_label() == "pressure"][0]
    ys = list(pressure.get_ydata())
    assert math.isnan(ys[0]) and ys[1] == 75.0


def test_standard_input_is_named_as_everywhere_else(tmp_path):
    capture = (ROOT / "captures" / "linux-qemu.pcapng").read_bytes()
    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["report", "-", "-o", str(out)], input=capture)
    assert result.exit_code == 0, result.stderr
    assert "<title>dmdissect report: &lt;stdin&gt;</title>" in out.read_text()
