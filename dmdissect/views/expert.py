"""Findings as the views show them: one text form, one JSON form, one style per severity."""

from __future__ import annotations

from typing import Any

from dmdissect.escape import json_safe
from dmdissect.findings import Finding, Severity

#: Style of a line by its worst finding (used only on a terminal).
SEVERITY_STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.NOTE: "cyan"}


def finding_object(finding: Finding) -> dict[str, Any]:
    """The JSON of a finding: its registered id and group, severity, sentence, field."""
    out: dict[str, Any] = {
        "id": finding.id,
        "group": finding.group,
        "severity": finding.severity,
        "message": json_safe(finding.message),
    }
    if finding.field:
        out["field"] = finding.field
    return out


def worst(findings: list[Finding]) -> Severity | None:
    """The worst severity among ``findings``, None when there are none."""
    if not findings:
        return None
    return min(findings, key=lambda f: f.severity.rank).severity
