"""Expert findings: what is wrong or worth noticing, with a severity, like Wireshark's.

Shared by every stage that can notice something: a source (a broken hex line),
the per-message checks and the transaction tracker.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "note": 2}[self.value]


@dataclass(frozen=True, slots=True)
class Finding:
    severity: Severity
    message: str
    field: str | None = None

    def to_json(self) -> dict:
        out = {"severity": self.severity.value, "message": self.message}
        if self.field:
            out["field"] = self.field
        return out


def error(message: str, field: str | None = None) -> Finding:
    return Finding(Severity.ERROR, message, field)


def warning(message: str, field: str | None = None) -> Finding:
    return Finding(Severity.WARNING, message, field)


def note(message: str, field: str | None = None) -> Finding:
    return Finding(Severity.NOTE, message, field)
