"""Session health: verdicts on what the tracker saw, the memory series and a reclaim ledger.

Bug reports about ballooning ask health questions, not byte questions: did
the guest answer, did hot-add work, why did pressure rise and nothing
happen, is the guest stuck at its floor.  :class:`HealthMonitor` answers
them from the same stream every other view reads: it observes each
dissected message (status reports feed the memory series, requests mark
when the host acted) and each finished transaction of the tracker, and
keeps only bounded state: the memory series is thinned to at most
:data:`MAX_SAMPLES` points, the transaction rows and verdicts are capped
and the rest counted.

Verdicts are findings with a stable id (``hvdm.health.*``), a severity and
the frames they concern, so ``check`` can gate on them the way it gates on
expert info.  A verdict never states more than the input says: a request
whose timeout had not run out when the input ended is "not known to be
answered", not "unanswered".
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dmdissect import findings as ei
from dmdissect.analysis.transactions import REPLY_TIMEOUT, ReportKey, same_report
from dmdissect.findings import Severity
from dmdissect.layers import MessageType

_STATUS_REPORT = MessageType.DM_STATUS_REPORT
_VERSION_REQUEST = MessageType.DM_VERSION_REQUEST
_VERSION_RESPONSE = MessageType.DM_VERSION_RESPONSE
#: Requests by which a host relieves memory pressure: give pages back, or add memory.
_RELIEF = {MessageType.DM_UNBALLOON_REQUEST, MessageType.DM_MEM_HOT_ADD_REQUEST}

#: Points of the memory series kept for the plot; past it every other point is dropped.
MAX_SAMPLES = 20_000
#: Transaction rows kept for the report's table; later ones are only counted.
MAX_ROWS = 10_000
#: Verdicts kept; later ones are only counted (by id).
MAX_VERDICTS = 10_000

#: Kinds whose pages leave the guest (ledger: out) and come back or are added (in).
LEDGER_KINDS = ("balloon", "unballoon", "hot_add", "hot_remove")


@dataclass(frozen=True, slots=True)
class VerdictKind:
    """One health check, registered once: its id, default severity and what it means."""

    id: str
    severity: Severity
    meaning: str


def _kinds(*entries: tuple[str, Severity, str]) -> dict[str, VerdictKind]:
    return {entry[0]: VerdictKind(*entry) for entry in entries}


#: Seconds after the negotiation before Linux sends its first status report (its
#: pressure_report_delay: post_status() skips its first 45 calls, one a second).
FIRST_REPORT_DELAY = 45.0
#: Log formats that record status reports (QEMU's trace and the guest's dmesg do not).
REPORTING_LOGS = frozenset({"qmp", "ftrace"})

#: Every health check, by id; ``check --rule ID=...`` and the JUnit report use these ids.
VERDICT_KINDS = _kinds(
    (
        "hvdm.health.unanswered",
        Severity.WARNING,
        "a request got no reply within --reply-timeout",
    ),
    (
        "hvdm.health.request_unfinished",
        Severity.WARNING,
        "the host never sent the last part of a request in parts (an unballoon): the guest "
        "waits for it",
    ),
    (
        "hvdm.health.late_reply",
        Severity.WARNING,
        "a request was answered, but later than --reply-timeout",
    ),
    (
        "hvdm.health.answer_unknown",
        Severity.NOTE,
        "the input ended before --reply-timeout ran out for a request with no reply",
    ),
    (
        "hvdm.health.latency",
        Severity.WARNING,
        "a transaction took longer than --max-latency allows for its kind",
    ),
    ("hvdm.health.hot_add.ok", Severity.NOTE, "a hot-add that added every page asked"),
    (
        "hvdm.health.hot_add.failed",
        Severity.WARNING,
        "a hot-add the guest refused (transient or permanent failure)",
    ),
    ("hvdm.health.hot_add.short", Severity.WARNING, "a hot-add that added fewer pages than asked"),
    (
        "hvdm.health.hot_add.over",
        Severity.WARNING,
        "a hot-add response claiming more pages than the host asked for (QEMU warns of it)",
    ),
    (
        "hvdm.health.hot_add.unknown",
        Severity.NOTE,
        "a hot-add whose result the input does not show (a response cut short, or none yet)",
    ),
    (
        "hvdm.health.hot_add.after_permanent",
        Severity.WARNING,
        "a hot-add request after a permanent failure with no reset between (the guest said: "
        "try no more)",
    ),
    (
        "hvdm.health.hot_add.ended",
        Severity.NOTE,
        "no hot-add followed a failed or short one (QEMU hot-adds no more until reset)",
    ),
    (
        "hvdm.health.balloon.partial",
        Severity.NOTE,
        "a balloon request the guest met only in part",
    ),
    (
        "hvdm.health.balloon.floor",
        Severity.WARNING,
        "the guest answered a balloon request at its floor (nothing more to give)",
    ),
    (
        "hvdm.health.pressure.high",
        Severity.WARNING,
        "memory pressure stayed above --pressure-threshold for --pressure-duration "
        "with no unballoon or hot-add request, or for as long after the last one",
    ),
    (
        "hvdm.health.status.gap",
        Severity.WARNING,
        "status reports paused for longer than --status-gap",
    ),
    (
        "hvdm.health.status.stopped",
        Severity.WARNING,
        "status reports stopped while the session went on",
    ),
    (
        "hvdm.health.status.none",
        Severity.WARNING,
        "no status report at all, long after the version negotiation, in an input that would "
        "show them (a capture, QMP, ftrace)",
    ),
    (
        "hvdm.health.status.first",
        Severity.NOTE,
        "how long after the version negotiation the first status report came",
    ),
)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The limits the verdicts apply; each is a command-line option."""

    reply_timeout: float = REPLY_TIMEOUT
    pressure_percent: float = 85.0
    pressure_seconds: float = 60.0
    status_gap: float = 5.0
    max_latency: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Verdict:
    """One health finding: which check, how bad, what it says and the frames it concerns."""

    id: str
    severity: Severity
    message: str
    frames: tuple[int, ...] = ()
    time: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "severity": self.severity.value,
            "message": self.message,
            "frames": list(self.frames),
            "time": self.time,
        }


@dataclass(frozen=True, slots=True)
class Sample:
    """One status report: when, which frame, and the guest's figures in 4 KiB pages."""

    time: float
    frame: int
    available: int
    committed: int

    @property
    def pressure(self) -> float:
        """Hyper-V's memory pressure: committed / (committed + available) x 100."""
        total = self.committed + self.available
        return 100.0 * self.committed / total if total else 0.0


@dataclass(frozen=True, slots=True)
class Row:
    """A finished transaction as the report's table shows it."""

    kind: str
    number: int
    start: float | None
    duration: float | None
    pages_requested: int | None
    pages: int | None
    outcome: str | None
    complete: bool | None
    reason: str | None
    first_frame: int
    final_frame: int | None
    #: What a log says of why the guest did not answer (a hibernation-capable guest ignores).
    explained: str | None = None
    #: ``pages`` is only a lower bound: a part cut short hid some of the ranges.
    pages_at_least: bool = False


@dataclass(slots=True)
class Ledger:
    """Pages moved by each kind of transaction, in total and per minute of the session.

    A transaction whose pages the input does not say (a log that names no
    count, a reply cut off) is counted in ``unknown``: the totals beside it are
    then lower bounds and the net is unknown, never a sum that took it as 0.
    One whose pages are only a lower bound (a part cut by the snap length hid
    ranges) adds what was seen and is counted in ``at_least``: its kind's total
    is then a lower bound and the net unknown too.
    """

    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEDGER_KINDS, 0))
    per_minute: dict[int, dict[str, int]] = field(default_factory=dict)
    unknown: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEDGER_KINDS, 0))
    unknown_per_minute: dict[int, dict[str, int]] = field(default_factory=dict)
    at_least: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEDGER_KINDS, 0))
    at_least_per_minute: dict[int, dict[str, int]] = field(default_factory=dict)

    def add(self, kind: str, pages: int | None, minute: int | None, at_least: bool = False) -> None:
        if minute is not None:
            for buckets in (self.per_minute, self.unknown_per_minute, self.at_least_per_minute):
                buckets.setdefault(minute, dict.fromkeys(LEDGER_KINDS, 0))
        if pages is None:
            self.unknown[kind] += 1
            if minute is not None:
                self.unknown_per_minute[minute][kind] += 1
            return
        self.totals[kind] += pages
        if minute is not None:
            self.per_minute[minute][kind] += pages
        if at_least:
            self.at_least[kind] += 1
            if minute is not None:
                self.at_least_per_minute[minute][kind] += 1

    @staticmethod
    def net_of(
        counts: dict[str, int],
        unknown: dict[str, int] | None = None,
        at_least: dict[str, int] | None = None,
    ) -> int | None:
        """Pages the guest has gained: unballooned and hot-added minus ballooned and removed
        (None when a transaction's pages are unknown or only a lower bound)."""
        if unknown is not None and any(unknown.values()):
            return None
        if at_least is not None and any(at_least.values()):
            return None
        return counts["unballoon"] + counts["hot_add"] - counts["balloon"] - counts["hot_remove"]

    def buckets(self) -> list[tuple[int | None, dict[str, int], dict[str, int], dict[str, int]]]:
        """(minute, pages, unknown, at least) per minute in order, then the totals (minute None)."""
        rows: list[tuple[int | None, dict[str, int], dict[str, int], dict[str, int]]] = [
            (m, counts, self.unknown_per_minute[m], self.at_least_per_minute[m])
            for m, counts in sorted(self.per_minute.items())
        ]
        rows.append((None, self.totals, self.unknown, self.at_least))
        return rows

    def to_json(self) -> dict[str, Any]:
        def bucket(
            counts: dict[str, int], unknown: dict[str, int], at_least: dict[str, int]
        ) -> dict[str, Any]:
            out: dict[str, Any] = {**counts, "net": self.net_of(counts, unknown, at_least)}
            if any(unknown.values()):
                out["unknown"] = {kind: n for kind, n in unknown.items() if n}
            if any(at_least.values()):
                out["at_least"] = {kind: n for kind, n in at_least.items() if n}
            return out

        *minutes, (_, totals, unknown, at_least) = self.buckets()
        return {
            "totals": bucket(totals, unknown, at_least),
            "per_minute": [
                {"minute": minute, **bucket(counts, unknown_m, at_least_m)}
                for minute, counts, unknown_m, at_least_m in minutes
            ],
        }


@dataclass(slots=True)
class Health:
    """Everything the monitor concluded: verdicts, the memory series, rows and the ledger."""

    verdicts: list[Verdict]
    dropped_verdicts: dict[str, int]
    samples: list[Sample]
    sample_count: int
    rows: list[Row]
    dropped_rows: int
    ledger: Ledger
    first_time: float | None
    last_time: float | None

    def counts(self) -> dict[str, int]:
        """Verdicts per id, the dropped ones included."""
        out = dict(self.dropped_verdicts)
        for verdict in self.verdicts:
            out[verdict.id] = out.get(verdict.id, 0) + 1
        return out


def _why_unanswered(item: Any) -> str | None:
    """The guest's own word on ignoring the request, when its log says so (hibernation)."""
    findings = getattr(item, "findings", None)
    if not callable(findings):
        return None
    for finding in findings():
        if finding.id == ei.LOG_GUEST_IGNORES.id:
            return str(finding.message).removeprefix("guest: ")
    return None


def _explained(row: Row) -> str:
    return "" if row.explained is None else f"; the guest's log explains it: {row.explained}"


class HealthMonitor:
    """Feed it every message (``observe``) and every finished row (``add_row``), in order."""

    def __init__(
        self, thresholds: Thresholds | None = None, max_samples: int = MAX_SAMPLES
    ) -> None:
        self.thresholds = thresholds or Thresholds()
        self._max_samples = max_samples
        self._verdicts: list[Verdict] = []
        self._dropped: dict[str, int] = {}
        self._samples: list[Sample] = []
        self._sample_count = 0
        self._stride = 1
        self._rows: list[Row] = []
        self._dropped_rows = 0
        self.ledger = Ledger()
        self._first_time: float | None = None
        self._last_time: float | None = None
        self._last_frame = 0
        #: The last status report with usable values (the pressure and the floor read it).
        self._previous: Sample | None = None
        #: The last status report of any kind, (time, frame): the cadence counts every one.
        self._last_report: tuple[float, int] | None = None
        self._last_line: ReportKey | None = None
        #: When the version was first negotiated: (time, frame, what showed it).
        self._negotiated_at: tuple[float, int, str] | None = None
        #: Whether the input would show status reports (a capture, QMP, ftrace): QEMU's trace
        #: and the guest's dmesg never do, so their silence says nothing.
        self._shows_reports = False
        self._first_status_seen = False
        self._episode: Sample | None = None
        self._alarmed_since: float | None = None
        self._relief: tuple[float, int] | None = None
        self._resets: list[int] = []
        #: The last hot-add the guest failed for good, until a reset or the next hot-add.
        self._hot_add_refused: Row | None = None
        self._hot_add_stop: Row | None = None
        self._hot_add_requests: list[int] = []
        self._unanswered: list[tuple[Row, float]] = []

    # --- the message stream ------------------------------------------------------

    def observe(self, message: Any) -> None:
        """One dissected message, in input order."""
        frame = message.frame
        time = frame.time
        self._last_frame = frame.index
        if time is not None:
            if self._first_time is None:
                self._first_time = time
            if self._last_time is None or time > self._last_time:
                self._last_time = time
        if not self._shows_reports and (frame.source is None or frame.source in REPORTING_LOGS):
            self._shows_reports = True
        msg_type = message.type
        if msg_type == _STATUS_REPORT:
            # Nine messages in ten: tested first (the types below are other types).
            if time is not None:
                self._status(message, time)
        elif msg_type == _VERSION_REQUEST:
            self._resets.append(frame.index)  # frames are in time order, timed or not
            if self._negotiated_at is None and time is not None:
                self._negotiated_at = (time, frame.index, "version request")
        elif msg_type == _VERSION_RESPONSE and time is not None:
            # A guest's log shows the accepted version, not the request it sent.
            if self._negotiated_at is None:
                self._negotiated_at = (time, frame.index, "version response")
        elif msg_type in _RELIEF and time is not None:
            self._relief = (time, frame.index)

    def _status(self, message: Any, time: float) -> None:
        body = message.body
        available = getattr(body, "num_avail", None) if body is not None else None
        committed = getattr(body, "num_committed", None) if body is not None else None
        missing = getattr(body, "missing", ()) or ()
        line = (message.frame.source, (available, committed), time)
        last, self._last_line = self._last_line, line
        if same_report(last, line):
            return  # another log's line for the report just counted (QMP and ftrace)
        # The cadence counts every report, even one whose values cannot be read.
        self._cadence(time, message.frame.index)
        self._last_report = (time, message.frame.index)
        if (
            available is None
            or committed is None
            or "num_avail" in missing
            or "num_committed" in missing
        ):
            return
        sample = Sample(time, message.frame.index, available, committed)
        self._keep_sample(sample)
        self._pressure(sample)
        self._previous = sample

    def _keep_sample(self, sample: Sample) -> None:
        """Keep every stride-th sample; when the list is full, thin it and double the stride."""
        if self._sample_count % self._stride == 0:
            self._samples.append(sample)
            if len(self._samples) > self._max_samples:
                self._samples = self._samples[::2]
                self._stride *= 2
        self._sample_count += 1

    def _cadence(self, time: float, frame_index: int) -> None:
        previous = self._last_report
        if previous is None:
            if self._negotiated_at is not None:
                start, frame, seen = self._negotiated_at
                self._verdict(
                    "hvdm.health.status.first",
                    f"first status report {time - start:.1f} s after the {seen} in frame {frame}",
                    (frame_index,),
                    time,
                )
            return
        gap = time - previous[0]
        if gap > self.thresholds.status_gap:
            self._verdict(
                "hvdm.health.status.gap",
                f"no status report for {gap:.1f} s (frames {previous[1]} to {frame_index}; "
                f"--status-gap {self.thresholds.status_gap:g} s)",
                (previous[1], frame_index),
                previous[0],
            )

    def _pressure(self, sample: Sample) -> None:
        """Alarm when pressure stays high for the duration with no relief asked for.

        A relief request (unballoon, hot-add) restarts the clock rather than
        ending the episode: however small it was, if pressure is still high a
        whole duration after it, the host did not do enough, and that is alarmed
        again.  A duration of 0 alarms on the first high sample.
        """
        limits = self.thresholds
        if sample.pressure <= limits.pressure_percent:
            self._episode = None
            self._alarmed_since = None
            return
        if self._episode is None:
            self._episode = sample
        episode = self._episode
        since, why = episode.time, " with no unballoon or hot-add request"
        frames: tuple[int, ...] = (episode.frame, sample.frame)
        relief = self._relief
        if relief is not None and relief[0] >= episode.time:
            since = relief[0]
            why = f" since the last unballoon or hot-add request (frame {relief[1]})"
            frames = (episode.frame, relief[1], sample.frame)
        lasted = sample.time - since
        if lasted < limits.pressure_seconds or self._alarmed_since == since:
            return
        self._alarmed_since = since
        self._verdict(
            "hvdm.health.pressure.high",
            f"pressure above {limits.pressure_percent:g}% for {lasted:.1f} s{why} "
            f"({episode.pressure:.1f}% at frame {episode.frame}, {sample.pressure:.1f}% at "
            f"frame {sample.frame})",
            frames,
            episode.time,
        )

    # --- the tracker's rows -------------------------------------------------------

    def add_rows(self, rows: Iterable[Any]) -> None:
        for row in rows:
            self.add_row(row)

    def add_row(self, item: Any) -> None:
        """One finished transaction or series, as the tracker hands them out."""
        if not hasattr(item, "request_frame"):
            return
        row = Row(
            kind=str(item.kind),
            number=item.number,
            start=item.start,
            duration=item.duration,
            pages_requested=item.pages_requested,
            pages=item.pages,
            outcome=None if item.outcome is None else str(item.outcome),
            complete=item.complete,
            reason=item.reason,
            first_frame=item.first_frame,
            final_frame=item.final_frame,
            explained=_why_unanswered(item),
            pages_at_least=item.pages_lower_bound,
        )
        if len(self._rows) < MAX_ROWS:
            self._rows.append(row)
        else:
            self._dropped_rows += 1
        self._ledger(row)
        self._reply(item, row)
        self._latency(row)
        if row.kind == "hot_add":
            self._hot_add(row)
        elif row.kind == "balloon":
            self._balloon(row)

    def _ledger(self, row: Row) -> None:
        if row.kind not in LEDGER_KINDS or row.pages == 0:
            return
        if row.kind == "hot_add" and row.outcome not in ("accepted", "partial", None):
            return  # refused or failed: nothing was added
        minute = None
        if row.start is not None and self._first_time is not None:
            minute = int((row.start - self._first_time) // 60)
        self.ledger.add(row.kind, row.pages, minute, row.pages_at_least)

    def _reply(self, item: Any, row: Row) -> None:
        if row.kind == "info" or item.request_frame is None or row.start is None:
            return
        timeout = self.thresholds.reply_timeout
        answered = item.first_reply
        if answered is None and item.replied:
            return  # answered, at a time the input does not give: neither late nor missing
        if answered is not None:
            waited = answered - row.start
            if waited > timeout:
                self._verdict(
                    "hvdm.health.late_reply",
                    f"{row.kind} #{row.number}: first reply {waited:.3f} s after the request "
                    f"(--reply-timeout {timeout:g} s)",
                    (row.first_frame,),
                    row.start,
                )
            return
        # Whether the timeout ran out is only known once the input's end is known.
        self._unanswered.append((row, timeout))

    def _latency(self, row: Row) -> None:
        limit = self.thresholds.max_latency.get(row.kind)
        if limit is None or row.duration is None or row.duration <= limit:
            return
        self._verdict(
            "hvdm.health.latency",
            f"{row.kind} #{row.number} took {row.duration:.3f} s "
            f"(--max-latency {row.kind}={limit:g})",
            (row.first_frame,) + (() if row.final_frame is None else (row.final_frame,)),
            row.start,
        )

    def _hot_add(self, row: Row) -> None:
        self._hot_add_requests.append(row.first_frame)
        asked = "" if row.pages_requested is None else f" of {row.pages_requested}"
        frames = (row.first_frame,) + (() if row.final_frame is None else (row.final_frame,))
        refused = self._hot_add_refused
        if refused is not None and not any(
            refused.first_frame < reset < row.first_frame for reset in self._resets
        ):
            self._verdict(
                "hvdm.health.hot_add.after_permanent",
                f"hot_add #{row.number} comes after hot_add #{refused.number}'s permanent "
                f"failure (frame {refused.final_frame or refused.first_frame}) with no reset "
                "between: a permanent failure tells the host to try no more",
                frames,
                row.start,
            )
            self._hot_add_refused = None
        if row.outcome == "permanent_failure":
            self._hot_add_refused = row
        over = (
            row.pages is not None
            and row.pages_requested is not None
            and row.pages > row.pages_requested
        )
        if row.outcome in ("accepted", "partial") and over:
            self._verdict(
                "hvdm.health.hot_add.over",
                f"hot_add #{row.number}: the guest says {row.pages} pages added, more than the "
                f"{row.pages_requested} asked",
                frames,
                row.start,
            )
        elif row.outcome in (None, "unknown") and not (row.reason or "").startswith("no response"):
            # (No response at all is the unanswered verdict's, not this one's.)
            why = f" ({row.reason or 'the input does not show it'})"
            self._verdict(
                "hvdm.health.hot_add.unknown",
                f"hot_add #{row.number}: result unknown{why}",
                frames,
                row.start,
            )
        elif row.outcome == "accepted":
            self._verdict(
                "hvdm.health.hot_add.ok",
                f"hot_add #{row.number}: {row.pages}{asked} pages added",
                frames,
                row.start,
            )
        elif row.outcome in ("transient_failure", "permanent_failure", "failed"):
            word = row.outcome.replace("_", " ")
            if row.outcome == "failed":
                word = "failed (transient or permanent: the input does not say)"
            self._verdict(
                "hvdm.health.hot_add.failed",
                f"hot_add #{row.number}: {word}, {row.pages or 0}{asked} pages added",
                frames,
                row.start,
            )
            self._hot_add_stop = row
        elif row.outcome == "partial":
            self._verdict(
                "hvdm.health.hot_add.short",
                f"hot_add #{row.number}: only {row.pages}{asked} pages added",
                frames,
                row.start,
            )
            self._hot_add_stop = row

    def _balloon(self, row: Row) -> None:
        frames = (row.first_frame,) + (() if row.final_frame is None else (row.final_frame,))
        asked = "" if row.pages_requested is None else f" of {row.pages_requested}"
        given = f"{row.pages}{asked} pages"
        if row.pages is None:
            # A log may say a request was only partly met without saying how much was given.
            given = f"part{asked.replace(' of ', ' of the ')} pages asked (how many, the input "
            given += "does not say)"
        floor = self._previous
        at = (
            ""
            if floor is None
            else f"; last status: committed {floor.committed} pages, pressure "
            f"{floor.pressure:.1f}% (frame {floor.frame})"
        )
        if row.outcome == "at_floor":
            self._verdict(
                "hvdm.health.balloon.floor",
                f"balloon #{row.number}: the guest is at its floor and gave {given}{at}",
                frames,
                row.start,
            )
        elif row.outcome == "partial":
            self._verdict(
                "hvdm.health.balloon.partial",
                f"balloon #{row.number}: the guest gave {given}{at}",
                frames,
                row.start,
            )

    # --- the end ----------------------------------------------------------------

    def finish(self) -> Health:
        """End of input: settle what needed the input's end, and return the result."""
        end = self._last_time
        for row, timeout in self._unanswered:
            start = row.start if row.start is not None else end
            # Only past the timeout: a reply at exactly the timeout would still be in time.
            unfinished = row.kind == "unballoon" and (row.reason or "").startswith(
                "final part missing"
            )
            if unfinished and end is not None and start is not None and end - start > timeout:
                self._verdict(
                    "hvdm.health.request_unfinished",
                    f"{row.kind} #{row.number}: the host never sent the last part of its request "
                    f"(the input goes on {end - start:.1f} s after its first part); the guest "
                    "answers only the last part",
                    (row.first_frame,),
                    row.start,
                )
            elif end is not None and start is not None and end - start > timeout:
                self._verdict(
                    "hvdm.health.unanswered",
                    f"{row.kind} #{row.number}: no reply within {timeout:g} s (the input goes on "
                    f"{end - start:.1f} s after the request)" + _explained(row),
                    (row.first_frame,),
                    row.start,
                )
            else:
                self._verdict(
                    "hvdm.health.answer_unknown",
                    f"{row.kind} #{row.number}: no reply before the input ended, "
                    f"less than {timeout:g} s after the request" + _explained(row),
                    (row.first_frame,),
                    row.start,
                )
        self._no_reports(end)
        self._hot_add_ended()
        last = self._last_report
        if last is not None and end is not None and end - last[0] > self.thresholds.status_gap:
            self._verdict(
                "hvdm.health.status.stopped",
                f"last status report at frame {last[1]}, {end - last[0]:.1f} s "
                f"before the input ended (frame {self._last_frame})",
                (last[1],),
                last[0],
            )
        self._verdicts.sort(key=lambda v: v.frames[0] if v.frames else 0)
        return Health(
            verdicts=self._verdicts,
            dropped_verdicts=self._dropped,
            samples=self._samples,
            sample_count=self._sample_count,
            rows=self._rows,
            dropped_rows=self._dropped_rows,
            ledger=self.ledger,
            first_time=self._first_time,
            last_time=self._last_time,
        )

    def _no_reports(self, end: float | None) -> None:
        """No status report at all, long after the negotiation, in an input that shows them."""
        if self._last_report is not None or not self._shows_reports:
            return
        if self._negotiated_at is None or end is None:
            return
        start, frame, seen = self._negotiated_at
        waited = end - start
        if waited <= FIRST_REPORT_DELAY + self.thresholds.status_gap:
            return
        self._verdict(
            "hvdm.health.status.none",
            f"no status report in the {waited:.1f} s after the {seen} in frame {frame} (a Linux "
            f"guest sends its first about {FIRST_REPORT_DELAY:g} s after it, then one a second)",
            (frame,),
            start,
        )

    def _hot_add_ended(self) -> None:
        stop = self._hot_add_stop
        if stop is None:
            return
        later_reset = any(reset > stop.first_frame for reset in self._resets)
        later_request = any(first > stop.first_frame for first in self._hot_add_requests)
        if later_request or later_reset:
            return
        self._verdict(
            "hvdm.health.hot_add.ended",
            f"no hot-add after hot_add #{stop.number} ({(stop.outcome or '').replace('_', ' ')}) "
            "to the end of the input; a QEMU host never hot-adds again after a failed or short "
            "hot-add until the guest is reset",
            (stop.first_frame,),
            stop.start,
        )

    def _verdict(
        self, verdict_id: str, message: str, frames: tuple[int, ...], time: float | None
    ) -> None:
        if len(self._verdicts) >= MAX_VERDICTS:
            self._dropped[verdict_id] = self._dropped.get(verdict_id, 0) + 1
            return
        kind = VERDICT_KINDS[verdict_id]
        self._verdicts.append(Verdict(verdict_id, kind.severity, message, frames, time))


# --- the gate: findings and verdicts together, tuned by rules ---------------------------

#: Severities from worst to mildest; ``--fail-on`` takes one of these names.
SEVERITY_ORDER = (Severity.ERROR, Severity.WARNING, Severity.NOTE)

#: Frames whose facts the report keeps for its frame list; later frames are not listed.
MAX_FRAME_FACTS = 50_000


@dataclass(frozen=True, slots=True)
class FrameFacts:
    """What the report's frame list says of one frame (no packet is kept)."""

    time: float | None
    direction: str | None
    type_name: str
    trans_id: int | None
    findings: tuple[str, ...]
    #: The file the frame came from, and its record or line there (``place_in_file``).
    file: str | None = None
    place: int | None = None


class Places:
    """Where every frame of a session is in its file, in a few bytes a frame.

    The report keeps full :class:`FrameFacts` for :data:`MAX_FRAME_FACTS`
    frames only; ``check`` must still point every line at its file's record or
    line, however long the input, so each frame's number, file and place go
    into flat arrays (frames come in increasing order: a lookup bisects).
    """

    def __init__(self) -> None:
        self._frames = array("q")
        self._places = array("q")
        self._files = array("H")
        self._names: list[str | None] = []

    def add(self, frame: int, file: str | None, place: int | None) -> None:
        if file not in self._names:
            if len(self._names) >= 0xFFFF:
                return  # more input files than any run names: leave the frame unplaced
            self._names.append(file)
        self._frames.append(frame)
        self._places.append(-1 if place is None else place)
        self._files.append(self._names.index(file))

    def get(self, frame: int) -> tuple[str | None, int] | None:
        at = bisect.bisect_left(self._frames, frame)
        if at == len(self._frames) or self._frames[at] != frame or self._places[at] < 0:
            return None
        return self._names[self._files[at]], self._places[at]


@dataclass(slots=True)
class HealthRun:
    """One session read for ``check`` and ``report``: what every stage concluded of it.

    ``label`` names the session (its file, its interface, or the log files of
    one run joined by ``+``); ``files`` are its inputs in first-seen order.
    ``error`` is the read error that stopped the inputs, if one did: a merged
    read stops every session at once, so each run of that read carries it.
    """

    session: Any
    health: Health
    findings: list[Verdict]
    dropped_findings: int
    frames: dict[int, FrameFacts]
    error: Exception | None = None
    label: str = ""
    files: list[str] = field(default_factory=list)
    places: Places = field(default_factory=Places)

    def where(self, item: Verdict) -> tuple[str, int]:
        """The file and the place in it an item points at (the session's first file, 0, when
        the item is about the session as a whole)."""
        first = self.files[0] if self.files else self.label
        found = self.places.get(item.frames[0]) if item.frames else None
        if found is None:
            return first, 0
        return found[0] or first, found[1]

    def items(self) -> list[Verdict]:
        """Per-message findings and health verdicts, in frame order."""
        return sorted(
            [*self.findings, *self.health.verdicts],
            key=lambda v: (v.frames[0] if v.frames else 0, SEVERITY_ORDER.index(v.severity)),
        )


def finding_verdict(finding: Any, frames: tuple[int, ...], time: float | None) -> Verdict:
    """A finding as the gate counts it: same id and severity, at these frames (none: the
    session as a whole)."""
    return Verdict(finding.id, finding.severity, finding.message, frames, time)


def check_ids() -> list[str]:
    """Every id a check can report: the registered findings, then the health verdicts."""
    from dmdissect.findings import REGISTRY

    return [*REGISTRY, *VERDICT_KINDS]


def parse_rule(text: str) -> tuple[str, Severity | None]:
    """``ID=off|note|warning|error`` (ID may be a glob such as ``hvdm.health.*``).

    A pattern that names no known id is refused: a typo must not turn a check
    off silently.
    """
    from fnmatch import fnmatchcase

    pattern, sep, level = text.partition("=")
    levels = {"off": None, **{s.value: s for s in SEVERITY_ORDER}}
    if not sep or not pattern or level not in levels:
        raise ValueError(f"--rule {text!r}: expected ID=off|note|warning|error")
    if not any(fnmatchcase(check_id, pattern) for check_id in check_ids()):
        raise ValueError(f"--rule {text!r}: {pattern!r} matches no finding or verdict id")
    return pattern, levels[level]


def apply_rules(
    items: Iterable[Verdict], rules: list[tuple[str, Severity | None]]
) -> list[Verdict]:
    """Items with their severity as the rules set it (the last matching rule wins); off drops.

    A log finding that states the same fact as a health verdict at the same
    frame (:data:`SAME_FACT`) is dropped when that verdict is kept: one fact,
    one line, whichever the rules leave on.
    """
    out = []
    for item in items:
        severity = ruled_severity(item.id, item.severity, rules)
        if severity is None:
            continue
        out.append(item if severity is item.severity else replace_severity(item, severity))
    kept = {(item.id, item.frames) for item in out}
    return [
        item
        for item in out
        if item.id not in SAME_FACT or (SAME_FACT[item.id], item.frames) not in kept
    ]


#: Log finding id -> the health verdict saying the same of the same frame.
SAME_FACT = {"hvdm.log.status_stopped": "hvdm.health.status.stopped"}


def ruled_severity(
    check_id: str, severity: Severity | None, rules: list[tuple[str, Severity | None]]
) -> Severity | None:
    """The severity the rules give a check id (``None``: off); the last matching rule wins."""
    from fnmatch import fnmatchcase

    for pattern, level in rules:
        if fnmatchcase(check_id, pattern):
            severity = level
    return severity


def replace_severity(item: Verdict, severity: Severity) -> Verdict:
    return Verdict(item.id, severity, item.message, item.frames, item.time)


def reaches(severity: Severity, threshold: Severity) -> bool:
    """Whether a severity is at least as bad as the threshold."""
    return SEVERITY_ORDER.index(severity) <= SEVERITY_ORDER.index(threshold)
