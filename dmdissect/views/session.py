"""The session header that ``read`` and ``timeline`` print: version, capabilities, times."""

from __future__ import annotations

from datetime import UTC, datetime

from dmdissect.analysis.records import Session
from dmdissect.layers import version_text
from dmdissect.sources.frame import EPOCH_FROM
from dmdissect.sources.logs.debugfs import fact_text
from dmdissect.views.english import plural


def clock(time: float) -> str:
    """Epoch seconds as a UTC date; seconds since boot as they are."""
    if time >= EPOCH_FROM:
        try:
            stamp = datetime.fromtimestamp(time, UTC)
        except (ValueError, OverflowError, OSError):
            return f"{time:.6f} s (past any calendar date)"
        return stamp.strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    return f"{time:.6f} s"


def _caps_text(session: Session) -> str:
    guest = session.guest_caps
    host = session.host_caps
    if guest is None and host is None:
        return "Capabilities: not seen (the capture may start after them)"
    parts = []
    if guest is not None:
        # Prose: the capability fields' identifiers are caps.hot_add and caps.hot_remove.
        names = [
            word
            for name, word in (
                ("balloon", "balloon"),
                ("hot_add", "hot-add"),
                ("hot_remove", "hot-remove"),
            )
            if guest[name]
        ]
        text = ", ".join(names) or "none"
        if guest["hot_add"]:
            text += f" (alignment {1 << guest['hot_add_alignment']} MiB)"
        parts.append(f"guest {text}")
    if host is not None:
        words = ["accepted" if host["is_accepted"] else "refused"]
        if host["hot_remove"]:
            words.append("hot-remove")
        if host["suppress_pressure_reports"]:
            words.append("pressure reports suppressed")
        parts.append(f"host {', '.join(words)}")
    return "Capabilities: " + "; ".join(parts)


def session_lines(session: Session) -> list[str]:
    """Negotiated version, capabilities, first and last time, in three lines."""
    if session.version is not None:
        count = session.negotiations
        version = (
            f"Protocol: {version_text(session.version)}, negotiated in frame "
            f"{session.version_frame} ({plural(count, 'negotiation')})"
        )
    elif session.negotiations:
        version = "Protocol: accepted, offer not seen (the capture starts after it)"
    else:
        version = "Protocol: no accepted version seen"
    first, last = session.first_time, session.last_time
    messages = plural(session.messages, "message")
    if first is None or last is None:
        times = f"Time: none in the input; {messages}"
    else:
        times = f"Time: {clock(first)} to {clock(last)} ({last - first:.6f} s), {messages}"
    lines = [version, _caps_text(session), times]
    if session.sources:
        logs = ", ".join(
            f"{name} {plural(count, 'frame')}" for name, count in session.sources.items()
        )
        events = plural(session.events, "event")
        lines.append(f"Logs: {logs} ({events} among them; other lines are not counted)")
        if "qmp" in session.sources:
            lines.append(
                "QMP: at most one HV_BALLOON_STATUS_REPORT a second, a newer report replacing a "
                "held one: a report QMP replaced is not a missing one"
            )
    if session.alignment:
        lines.append(f"Clock: {session.alignment}")
    if session.guest_state:
        facts = ", ".join(f"{key} {fact_text(value)}" for key, value in session.guest_state.items())
        lines.append(f"Guest's own state (debugfs): {facts}")
    for finding in session.expert:
        lines.append(f"[{finding.severity.value}: {finding.message}]")
    return lines
