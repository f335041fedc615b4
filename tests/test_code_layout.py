"""The README's code-layout table names every module of the package, and only real ones.

Each row's first cell is a path (a package directory, or modules of the top
level); the modules of a package row are the backquoted ``name.py`` words of
its second cell.  The oracle is the file tree itself.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "dmdissect"


def _table() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Code layout\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`dmdissect/"):
            rows.append((cells[0], cells[1]))
    return rows


def _listed() -> set[str]:
    """Module paths (relative to the package) the table names."""
    listed = set()
    for paths, job in _table():
        for path in re.findall(r"`dmdissect/([^`]*)`", paths):
            if path.endswith("/"):
                listed.update(path + name for name in re.findall(r"`(\w+\.(?:py|lua))`", job))
            else:
                listed.add(path)
    return listed


def _modules() -> set[str]:
    """Every module and Lua file of the package, ``__init__.py`` and ``__main__.py`` aside."""
    found = set()
    for path in PACKAGE.rglob("*"):
        if path.suffix in (".py", ".lua") and path.name not in ("__init__.py", "__main__.py"):
            found.add(path.relative_to(PACKAGE).as_posix())
    return found


def test_every_module_is_in_the_code_layout_table():
    assert sorted(_modules() - _listed()) == []


def test_the_code_layout_table_names_only_real_modules():
    assert sorted(_listed() - _modules()) == []


def test_the_table_is_read_at_all():
    """Guards the two tests above against a table that no longer parses."""
    assert {"layers/header.py", "views/summary.py", "findings.py"} <= _listed()
