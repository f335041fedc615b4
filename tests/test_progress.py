"""Progress on long reads: reported by the source, drawn only where someone watches."""

from __future__ import annotations

import io
import struct

from click.testing import CliRunner

from dmdissect.cli import main
from dmdissect.sources import PROGRESS_EVERY, open_frames
from dmdissect.views import progress as progress_module
from dmdissect.views.progress import InputProgress
from tests.pcapfile import write_pcap

STATUS = struct.pack("<HHI", 5, 48, 1) + bytes(40)


def test_open_frames_reports_bytes_read_and_the_file_size(tmp_path):
    count = 3 * PROGRESS_EVERY + 5
    path = write_pcap(tmp_path / "many.pcap", [(1.0 + i, STATUS) for i in range(count)])
    calls = []
    frames = list(open_frames(str(path), progress=lambda done, total: calls.append((done, total))))
    assert len(frames) == count
    size = path.stat().st_size
    assert len(calls) == 3
    assert all(total == size for _, total in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done) and 0 < done[0] and done[-1] <= size


def test_the_bar_is_drawn_after_the_delay_and_removed(monkeypatch):
    monkeypatch.setattr(progress_module, "DELAY", 0.0)
    stream = io.StringIO()
    with InputProgress(stream=stream, enabled=True) as bar:
        bar(512, 1024)
        assert bar.bar is not None
    assert bar.bar is None
    assert "reading" in stream.getvalue()


def test_nothing_before_the_delay_or_when_disabled():
    stream = io.StringIO()
    with InputProgress(stream=stream, enabled=True) as bar:
        bar(1, 2)
    with InputProgress(stream=stream, enabled=False) as quiet:
        quiet(1, 2)
    assert stream.getvalue() == ""


def test_nothing_on_stderr_in_pipes(tmp_path):
    path = write_pcap(
        tmp_path / "many.pcap", [(1.0 + i, STATUS) for i in range(PROGRESS_EVERY * 2)]
    )
    result = CliRunner().invoke(main, ["read", str(path)])
    assert result.exit_code == 0
    assert result.stderr == ""
