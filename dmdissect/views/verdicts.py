"""Health verdicts where the timeline shows them: a text block after the table, JSON objects.

The block comes after the table because verdicts such as "unanswered" or
"status reports stopped" are known only once the input has ended.
"""

from __future__ import annotations

from typing import Any

from dmdissect.analysis.health import Health, Verdict
from dmdissect.views.expert import SEVERITY_STYLES
from dmdissect.views.output import printable


def verdict_line(item: Verdict) -> str:
    """``frame 12: warning hvdm.health.unanswered: ...`` (frame 0: the session as a whole)."""
    frame = item.frames[0] if item.frames else 0
    return f"frame {frame}: {item.severity.value} {item.id}: {printable(item.message)}"


def verdict_lines(health: Health) -> list[tuple[str, str]]:
    """The timeline's health block as (text, terminal style): a title, then a line a verdict.

    On a terminal the styles also let the console fold long lines at words,
    as it folds the session header; in pipes the lines are written as they are.
    """
    lines = [("Health:", "bold")]
    lines += [(f"  {verdict_line(v)}", SEVERITY_STYLES[v.severity]) for v in health.verdicts] or [
        ("  no verdicts", "dim")
    ]
    dropped = sum(health.dropped_verdicts.values())
    if dropped:
        lines.append((f"  ... {dropped} more verdicts not kept", "dim"))
    return lines


def verdict_object(item: Verdict) -> dict[str, Any]:
    """A verdict in the timeline's JSON: ``kind`` "verdict" and the verdict's own keys."""
    return {"kind": "verdict", **item.to_json()}
