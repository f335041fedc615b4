"""The generated module ``dmdissect/layers/tables.py`` is what the layers give today.

``read`` decodes with what :mod:`dmdissect.layers.generate` wrote from the
layers' ``fields_desc`` and summary templates, so the file must never drift
from them: each run regenerates it from the layers (the oracle) and compares
the text.  That the generated decoders and summaries equal Scapy's own
dissection is the differential tests' job (``test_fastpath.py``).
"""

from __future__ import annotations

import subprocess
import sys

from dmdissect.layers import generate, tables
from dmdissect.layers.codegen import LAYERS
from dmdissect.layers.layout import layout_of
from dmdissect.layers.messages import MESSAGE_LAYERS, SENDER, fixed_size


def test_tables_are_what_the_layers_give():
    assert generate.TABLES.read_text() == generate.module_source(), (
        "dmdissect/layers/tables.py drifted from the layers: "
        "run python -m dmdissect.layers.generate"
    )


def test_the_check_fails_on_a_drifted_file(tmp_path, monkeypatch):
    stale = tmp_path / "tables.py"
    stale.write_text(generate.module_source().replace("HEADER_SIZE = 8", "HEADER_SIZE = 9"))
    monkeypatch.setattr(generate, "TABLES", stale)
    said: list[str] = []
    assert generate.main(["--check"], write=said.append) == 1
    assert "differs from the layers" in said[0]
    assert generate.main([], write=said.append) == 0
    assert stale.read_text() == generate.module_source()
    assert generate.main(["--check"], write=said.append) == 0


def test_the_command_checks_the_committed_file():
    done = subprocess.run(
        [sys.executable, "-m", "dmdissect.layers.generate", "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_tables_import_no_scapy():
    probe = "import sys, dmdissect.layers.tables, dmdissect.layers; print('scapy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


def test_sizes_and_names_agree_with_the_layouts():
    """Spot checks against the layouts themselves, independent of the generator's text."""
    for name, layer in LAYERS.items():
        assert tables.FIELDS[name] == tuple(spot.name for spot in layout_of(layer).spots)
        assert tables.LAYER_SIZES[name] == layout_of(layer).fixed_size
        assert tables.VALUES[name].__slots__ == tables.FIELDS[name]
    for msg_type, layer in MESSAGE_LAYERS.items():
        assert tables.LAYER_NAMES[msg_type] == layer.__name__
        assert tables.FIXED_SIZES[msg_type] == fixed_size(msg_type)
        assert tables.SENDER[msg_type] == SENDER[msg_type]
