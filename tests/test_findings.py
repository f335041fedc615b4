"""The finding registry: one entry per id, each used by the code, ids well formed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dmdissect import findings
from dmdissect.findings import REGISTRY, Group, Severity, register

PACKAGE = Path(findings.__file__).resolve().parent


def test_an_id_is_registered_once():
    taken = next(iter(REGISTRY))
    with pytest.raises(ValueError, match="registered twice"):
        register(taken, Group.MALFORMED, Severity.ERROR, "again")


@pytest.mark.parametrize("bad", ["hvdm.size", "size.truncated", "hvdm.Size.truncated", "hvdm..x"])
def test_ids_are_hvdm_area_what_in_lower_case(bad):
    with pytest.raises(ValueError, match="not hvdm"):
        register(bad, Group.MALFORMED, Severity.ERROR, "bad id")
    assert bad not in REGISTRY


def test_every_entry_is_raised_somewhere_in_the_code():
    """An entry no module raises is dead: its README row would promise a finding never given."""
    names = {
        name
        for name, value in vars(findings).items()
        if isinstance(value, findings.Expert) and value.id in REGISTRY
    }
    assert len(names) == len(REGISTRY)
    code = "\n".join(
        path.read_text() for path in PACKAGE.rglob("*.py") if path.name != "findings.py"
    )
    unused = sorted(name for name in names if not re.search(rf"\b{name}\(", code))
    assert unused == []


def test_a_finding_carries_its_entry():
    finding = findings.SIZE_TRUNCATED("truncated: hdr.size 48 but only 20 bytes present", "size")
    assert (finding.id, finding.group, finding.severity, finding.field) == (
        "hvdm.size.truncated",
        "malformed",
        "error",
        "size",
    )
