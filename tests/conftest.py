"""Shared pytest setup: make the package importable from a source checkout."""

import os
import sys
import tempfile
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

# Wireshark's personal configuration (display-filter macros above all) is the user's: the
# tests, and the tshark they run, read an empty one instead, so no one's own settings
# change a result.
os.environ["WIRESHARK_CONFIG_DIR"] = tempfile.mkdtemp(prefix="dmdissect-wireshark-")
