"""The English helpers: counts and sizes written as a reader expects, by hand-written values."""

from __future__ import annotations

import pytest

from dmdissect.views.english import mib_text, plural
from dmdissect.views.phrases import mib


@pytest.mark.parametrize(
    ("args", "text"),
    [
        ((1, "page"), "1 page"),
        ((0, "page"), "0 pages"),
        ((2, "range"), "2 ranges"),
        ((1, "entry", "entries"), "1 entry"),
        ((3, "entry", "entries"), "3 entries"),
    ],
)
def test_plural(args, text):
    assert plural(*args) == text


@pytest.mark.parametrize(
    ("pages", "text"),
    [
        (0, "0 MiB"),
        (1, "< 0.01 MiB"),  # 4 KiB: two decimals would say 0.00
        (2, "0.01 MiB"),  # 8 KiB = 0.0078 MiB, rounded
        (3, "0.01 MiB"),  # 12 KiB = 0.0117 MiB
        (256, "1 MiB"),
        (384, "1.50 MiB"),
        (131072, "512 MiB"),
        (131073, "512.00 MiB"),
    ],
)
def test_mib_of_pages(pages, text):
    assert mib(pages) == text


def test_mib_text_of_a_negative_net_and_of_a_huge_count():
    assert mib_text(-384, 256) == "-1.50 MiB"
    assert mib_text(-1, 256) == "> -0.01 MiB"
    # A float would call 2**64 - 1 pages whole; the integers do not.
    assert mib_text(2**64 - 1, 256) == f"{(2**64 - 1) / 256:.2f} MiB"
    assert mib_text(2**64, 256) == f"{2**56} MiB"


def test_one_page_reads_as_one_page_in_the_summary():
    """Hand-written DM_STATUS_REPORT: num_avail 1, num_committed 256 (no hand-rolled plural)."""
    import struct

    from dmdissect.analysis.dissect import dissect
    from dmdissect.sources.frame import Frame
    from dmdissect.views.summary import info_text

    data = struct.pack("<HHI", 5, 48, 3) + struct.pack("<QQQQII", 1, 256, 0, 0, 0, 0)
    text = info_text(dissect(Frame(1, data)))
    assert text.startswith("avail 1 page (< 0.01 MiB), committed 256 pages (1 MiB)"), text


def _modules_after_import(module: str) -> set[str]:
    """The dmdissect modules a fresh interpreter has loaded after importing ``module``."""
    import subprocess
    import sys

    script = (
        f"import sys, {module}; "
        "print(' '.join(m for m in sys.modules if m.split('.')[0] == 'dmdissect'))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


def test_the_english_helpers_import_nothing_of_the_project():
    """Every stage may write a sentence with them: importing them must pull in no stage."""
    assert _modules_after_import("dmdissect.views.english") == {
        "dmdissect",
        "dmdissect.views",
        "dmdissect.views.english",
    }


def test_the_layers_load_no_view():
    """The words of the summaries are the views'; the layers never need them to dissect."""
    loaded = _modules_after_import("dmdissect.layers")
    assert {m for m in loaded if m.startswith("dmdissect.views")} == set()


def test_every_layer_has_the_words_of_its_summary():
    """A layer added without its template would give an empty Info column and summary."""
    from dmdissect.layers import MESSAGE_LAYERS, DMCaps, DMInfoEntry, DMPageRange, DMVersion
    from dmdissect.views.phrases import SUMMARIES

    layers = {*MESSAGE_LAYERS.values(), DMCaps, DMInfoEntry, DMPageRange, DMVersion}
    names = {layer.__name__ for layer in layers}
    assert sorted(names - set(SUMMARIES)) == []
    assert sorted(set(SUMMARIES) - names) == []


def test_the_words_load_without_the_layers_classes():
    """The summaries' words are keyed by the layers' names: their module asks the layers
    for names and numbers only, so a read path free of Scapy can use it."""
    import ast
    from pathlib import Path

    import dmdissect.layers
    import dmdissect.views.phrases as phrases

    tree = ast.parse(Path(phrases.__file__).read_text())
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dmdissect.layers")
        for alias in node.names
    }
    classes = {name for name in imported if isinstance(getattr(dmdissect.layers, name, None), type)}
    assert classes <= {"HotAddResult"}, classes
