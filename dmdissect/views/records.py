"""The tracker's records in words and as JSON: transactions, series, the session, links.

:mod:`dmdissect.analysis.records` holds the facts; this module is the one
place that says them, so the summary line, ``read -V``, the timeline and the
JSON exports all use the same words.  The JSON objects are the contract the
README documents (``transaction`` on a message, timeline rows, the session).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dmdissect.analysis.records import MULTIPART, Link, Series, SeriesLink, Session, Transaction
from dmdissect.views.english import plural
from dmdissect.views.expert import finding_object
from dmdissect.views.phrases import mib
from dmdissect.vocabulary import Kind, Outcome, Role, Side

#: How the text views say each outcome (JSON carries the enum value).
OUTCOME_TEXT = {
    Outcome.ACCEPTED: "accepted",
    Outcome.REFUSED: "refused",
    Outcome.PARTIAL: "partial",
    Outcome.AT_FLOOR: "guest at floor",
    Outcome.TRANSIENT_FAILURE: "transient failure",
    Outcome.PERMANENT_FAILURE: "permanent failure",
    Outcome.FAILED: "failed (transient or permanent: the input does not say)",
    Outcome.SENT: "sent",
    Outcome.UNKNOWN: "unknown",
}


def outcome_word(outcome: Outcome | None) -> str:
    return OUTCOME_TEXT[outcome or Outcome.UNKNOWN]


# --- text ----------------------------------------------------------------------------


def seconds_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.6f}"


def frames_text(frames: list[int], total: int) -> str:
    """``6-7,9``: runs of consecutive frames joined; a note when some were not kept."""
    runs: list[str] = []
    start = prev = None
    for frame in frames:
        if prev is not None and frame == prev + 1:
            prev = frame
            continue
        if start is not None:
            runs.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = frame
    if start is not None:
        runs.append(str(start) if start == prev else f"{start}-{prev}")
    text = ",".join(runs) or "-"
    return text if total <= len(frames) else f"{text} (+{total - len(frames)} more)"


def _pages_word(pages: int, requested: int | None, asked: str) -> str:
    """``page`` or ``pages`` after ``N`` or ``N of M``: the last number says which."""
    last = requested if asked and requested is not None else pages
    return "page" if last == 1 else "pages"


def ids_text(ids: Mapping[Side, list[int]], unknown: list[str] | None = None) -> str:
    """``h:5 g:7,9``: host and guest ids apart, since the two spaces collide.

    ``g:?`` marks a side whose ids the log does not carry.
    """
    parts = []
    for side, values in ids.items():
        if values:
            parts.append(f"{side[0]}:{','.join(map(str, values))}")
        elif unknown and f"{side}_trans_id" in unknown:
            parts.append(f"{side[0]}:?")
    return " ".join(parts) or "-"


def transaction_summary(txn: Transaction) -> str:
    """What the final message of the transaction sums up, in a few words."""
    pages = txn.pages or 0
    outcome = outcome_word(txn.outcome)
    if txn.kind in MULTIPART and txn.pages is None and "pages" in txn.unknown:
        # The guest's "Ballooned N out of M" ends a balloon whose parts no line counts.
        unknown_parts = not txn.part_count and "parts" in txn.unknown
        count = "? parts" if unknown_parts else plural(txn.part_count, "part")
        asked = "" if txn.pages_requested is None else f" of {txn.pages_requested}"
        text = f"{count}, ? pages{asked} (not in this log), {outcome}"
    elif txn.kind in MULTIPART and txn.pages is None:
        text = outcome
    elif txn.kind in MULTIPART:
        asked = ""
        if txn.pages_requested is not None and txn.kind != Kind.UNBALLOON:
            asked = f" of {txn.pages_requested}"
        least = "at least " if txn.pages_lower_bound else ""
        text = (
            f"{plural(txn.part_count, 'part')}, "
            f"{least}{pages}{asked} {_pages_word(pages, txn.pages_requested, asked)} "
            f"({least}{mib(pages)}), {outcome}"
        )
        if txn.cut_parts:
            text += f" ({txn.cut_parts} cut short)"
    elif txn.kind == Kind.HOT_ADD and txn.pages is None:
        text = f"pages unknown, {outcome}"
    elif txn.kind == Kind.HOT_ADD:
        asked = "" if txn.pages_requested is None else f" of {txn.pages_requested}"
        text = f"{pages}{asked} pages ({mib(pages)}), {outcome}"
    elif txn.detail:
        text = f"{outcome}: {txn.detail}"
    else:
        text = outcome
    duration = txn.duration
    if duration is not None and txn.frame_count > 1:
        text += f", {duration:.6f} s"
    return text


def link_label(link: Link) -> str:
    """A message's place in its transaction, as the summary line shows it."""
    txn = link.transaction
    part = link.part
    if part is not None:
        head = f"part {part} of {txn.name}"
    elif link.role is Role.INFO:
        head = txn.name  # the message is the whole transaction: "info #1", not "info of info #1"
    else:
        head = f"{link.role} of {txn.name}"
    if link.one_pass and txn.request_frame is not None and txn.request_frame != link.frame:
        head += f", request in frame {txn.request_frame}"
    if not txn.closed:
        return head if link.one_pass else f"{head}, end not yet known (lookahead full)"
    if txn.final_frame == link.frame:
        text = f"{head}, final: {transaction_summary(txn)}"
    elif txn.final_frame is not None:
        word = "reassembled" if txn.kind in MULTIPART else "response"
        text = f"{head}, {word} in frame {txn.final_frame}"
    else:
        text = head
    if not txn.complete:
        text += f"; incomplete: {txn.reason}"
    return text


# --- JSON ----------------------------------------------------------------------------


def transaction_object(txn: Transaction) -> dict[str, Any]:
    """The JSON object of a whole transaction (``timeline -T json``).

    What a log does not carry (``not_in_log``) is left out, never written as
    0 or an empty list: the guest's notes alone give no parts, ranges or ids.
    """
    unknown = txn.unknown
    ids = {
        side.value: list(txn.ids[side])
        for side in (Side.HOST, Side.GUEST)
        if f"{side.value}_trans_id" not in unknown
    }
    return {
        "kind": txn.kind,
        "number": txn.number,
        "frames": list(txn.frames),
        "start": txn.start,
        "end": txn.end,
        "duration": txn.duration,
        "latency": txn.latency,
        "trans_ids": ids,
        **({} if "parts" in unknown else {"parts": txn.parts_shown, "ranges": txn.range_count}),
        "pages": txn.pages,
        "pages_lower_bound": txn.pages_lower_bound,
        "pages_requested": txn.pages_requested,
        "outcome": txn.outcome,
        "detail": txn.detail,
        "complete": txn.complete,
        "reason": txn.reason,
        "links": [{"frame": f, "rule": r} for f, r in zip(txn.frames, txn.rules)],
        "truncated": txn.truncated,
        **({"not_in_log": list(txn.unknown)} if txn.unknown else {}),
        "expert": [finding_object(f) for f in txn.findings()],
        "message_expert": [
            {"frame": frame, **finding_object(finding)} for frame, finding in txn.message_findings
        ],
        "message_expert_count": txn.message_finding_count,
    }


def series_object(series: Series) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": series.kind,
        "number": series.number,
        "first_frame": series.first_frame,
        "last_frame": series.last_frame,
        "start": series.start,
        "end": series.end,
        "duration": series.duration,
        "count": series.count,
    }
    if series.kind == Kind.STATUS:
        out["num_avail"] = series.num_avail
        out["num_committed"] = series.num_committed
        if series.sources:
            out["sources"] = dict(series.sources)
    else:
        out["types"] = dict(series.types)
    return out


def row_object(row: Transaction | Series) -> dict[str, Any]:
    """A timeline row as JSON."""
    return series_object(row) if isinstance(row, Series) else transaction_object(row)


def session_object(session: Session) -> dict[str, Any]:
    out = _session_core(session)
    if session.sources:
        out.update(
            events=session.events,
            sources=dict(session.sources),
            guest_state=session.guest_state,
            alignment=session.alignment,
        )
    if session.expert:
        out["expert"] = [finding_object(f) for f in session.expert]
    return out


def _session_core(session: Session) -> dict[str, Any]:
    return {
        "kind": Kind.SESSION,
        "version": session.version,
        "version_frame": session.version_frame,
        "negotiations": session.negotiations,
        "guest_capabilities": session.guest_caps,
        "host_capabilities": session.host_caps,
        "first_frame": session.first_frame,
        "last_frame": session.last_frame,
        "first": session.first_time,
        "last": session.last_time,
        "messages": session.messages,
        "transactions": dict(session.counts),
    }


def link_object(link: Link | SeriesLink) -> dict[str, Any]:
    """The ``transaction`` object of a message's JSON."""
    out: dict[str, Any] = {
        "kind": link.kind,
        "number": link.number,
        "role": link.role,
        "part": link.part,
        "rule": link.rule,
    }
    if isinstance(link, SeriesLink):
        return out
    out["request_frame"] = link.request_frame
    out["final_frame"] = link.final_frame
    out["complete"] = link.complete
    if link.transaction.closed and not link.transaction.complete:
        out["reason"] = link.reason
    return out
