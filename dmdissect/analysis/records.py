"""What the transaction tracker records: transactions, status series, the session, links.

These are plain records with bounded memory: a transaction keeps at most
:data:`RETAIN_FRAMES` frames (with the rule that linked each) and
:data:`RETAIN_RANGES` page ranges, at most :data:`RETAIN_IDS` trans_ids per
sender and :data:`RETAIN_FINDINGS` findings; past those caps it keeps counting
(parts, ranges, pages, frames) and sets ``truncated``.  A status series keeps
only counts and the latest figures, never its messages.

A message points at its transaction through a :class:`Link` (its role, part
number and rule) or at its series through a :class:`SeriesLink`.  These hold
facts only: their text and JSON are written by :mod:`dmdissect.views.records`.
A file is labelled in two passes (a message waits until its transaction ends,
so it can name the frame that ends it); live input in one (``one_pass``: a
message is labelled when read, pointing only back, as tshark without -2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dmdissect.findings import FINDINGS_DROPPED, Finding
from dmdissect.vocabulary import Kind, Outcome, Role, Rule, Side

#: Frames (and their link rules) one transaction keeps; later frames are only counted.
RETAIN_FRAMES = 1000
#: Page ranges one transaction keeps (for the tree and the overlap check).
RETAIN_RANGES = 10000
#: Distinct trans_ids kept per sender in one transaction.
RETAIN_IDS = 64
#: Findings kept per transaction; one more note says how many were dropped.
RETAIN_FINDINGS = 64
#: Distinct message types counted by name in an "other" series.
RETAIN_TYPES = 16

#: Kinds whose one side comes in parts that carry page ranges.
MULTIPART = frozenset({Kind.BALLOON, Kind.UNBALLOON, Kind.HOT_REMOVE})


def _elapsed(start: float | None, end: float | None) -> float | None:
    """Seconds between two capture times, rounded to the microsecond.

    Times are floats of epoch seconds, which resolve about 240 ns today; the
    digits of a difference below the microsecond are noise, not data.
    """
    if start is None or end is None:
        return None
    return round(end - start, 6)


@dataclass(slots=True, eq=False)
class Part:
    """One message of the multi-part side: its ranges (kept up to the cap) and totals."""

    frame: int
    trans_id: int | None
    more: bool
    range_count: int | None
    pages: int | None
    ranges: list[tuple[int, int]] = field(default_factory=list)
    #: ``ranges`` are the runs a host's log says it took back, not the guest's own ranges.
    logged: bool = False


class Transaction:
    """One exchange: a request and its reply or parts, as far as the capture shows it.

    A plain slotted class rather than a dataclass: one is made per request on
    the tracker's hot path, and assigning its fields in one ``__init__`` costs
    a fraction of a generated initialiser's forty keyword defaults and eight
    factories.
    """

    __slots__ = (
        "kind",
        "number",
        "name",
        "start",
        "end",
        "first_reply",
        "replied",
        "end_untimed",
        "request_frame",
        "final_frame",
        "first_frame",
        "last_frame",
        "frame_count",
        "frames",
        "rules",
        "ids",
        "parts",
        "part_count",
        "range_count",
        "ranges_kept",
        "pages",
        "pages_requested",
        "outcome",
        "detail",
        "complete",
        "reason",
        "expert",
        "dropped_findings",
        "truncated",
        "closed",
        "cut_parts",
        "message_findings",
        "message_finding_count",
        "worst_message_finding",
        "unknown",
        "events",
        "session",
    )

    def __init__(self, kind: Kind, number: int) -> None:
        self.kind = kind
        self.number = number
        #: ``balloon #3``: how every view names it (made once, not per message labelled).
        self.name = f"{kind} #{number}"
        self.start: float | None = None
        self.end: float | None = None
        self.first_reply: float | None = None
        #: A reply came, whether or not its time is known (``first_reply`` is its time).
        self.replied = False
        #: The last frame added has no time: when the transaction ended is unknown.
        self.end_untimed = False
        self.request_frame: int | None = None
        self.final_frame: int | None = None
        self.first_frame = 0
        self.last_frame = 0
        self.frame_count = 0
        self.frames: list[int] = []
        self.rules: list[Rule] = []
        self.ids: dict[Side, list[int]] = {Side.HOST: [], Side.GUEST: []}
        self.parts: list[Part] = []
        self.part_count = 0
        self.range_count = 0
        self.ranges_kept = 0
        self.pages: int | None = None
        self.pages_requested: int | None = None
        self.outcome: Outcome | None = None
        self.detail = ""
        self.complete: bool | None = None
        self.reason: str | None = None
        self.expert: list[Finding] = []
        self.dropped_findings = 0
        self.truncated = False
        self.closed = False
        #: Parts whose bytes were cut short (torn or snapped): ``pages`` is then a lower bound.
        self.cut_parts = 0
        #: The per-message findings of its messages, with their frames (kept up to the cap).
        self.message_findings: list[tuple[int, Finding]] = []
        self.message_finding_count = 0
        #: The worst per-message finding and its frame (counted even past the cap).
        self.worst_message_finding: tuple[int, Finding] | None = None
        #: Facts of the transaction its logs did not carry (shown as unknown).
        self.unknown: list[str] = []
        #: Frames of log events (state changes, QEMU's range bookkeeping) among ``frame_count``.
        self.events = 0
        #: The number of its session (1.. in first-seen order) when the input had several.
        self.session: int | None = None

    def __repr__(self) -> str:
        return f"Transaction({self.name}, frames {self.first_frame}-{self.last_frame})"

    def not_logged(self, fact: str) -> None:
        """A fact of this transaction the log it came from does not carry."""
        if fact not in self.unknown:
            self.unknown.append(fact)

    @property
    def pages_lower_bound(self) -> bool:
        """Cut parts hide ranges, so the pages counted are at least, not exactly, moved."""
        return self.cut_parts > 0

    @property
    def duration(self) -> float | None:
        return None if self.end_untimed else _elapsed(self.start, self.end)

    @property
    def parts_shown(self) -> int:
        """The messages of the transaction, request and every reply or part included.

        The same for every kind, so the column compares across rows; the parts
        of a multi-part side alone are ``part_count`` (the tree's "N parts").
        A log's event lines linked to it are no messages.
        """
        return self.frame_count - self.events

    @property
    def latency(self) -> float | None:
        if self.request_frame is None:
            return None
        return _elapsed(self.start, self.first_reply)

    def add_frame(self, frame: int, time: float | None, rule: Rule) -> None:
        count = self.frame_count
        if not count:
            self.first_frame = frame
            self.start = time
        self.frame_count = count + 1
        self.last_frame = frame
        self.end_untimed = time is None and count > 0
        if time is not None and (self.end is None or time > self.end):
            # The latest time, not the last frame's: a guest line counting whole seconds
            # comes after the request it answers but may carry an earlier stamp.
            self.end = time
        if count < RETAIN_FRAMES:
            self.frames.append(frame)
            self.rules.append(rule)
        else:
            self.truncated = True

    def add_id(self, sender: Side, trans_id: int | None) -> None:
        if trans_id is None:
            return
        ids = self.ids[sender]
        if trans_id in ids:
            return
        if len(ids) < RETAIN_IDS:
            ids.append(trans_id)
        else:
            self.truncated = True

    def add_finding(self, finding: Finding) -> None:
        if len(self.expert) < RETAIN_FINDINGS:
            self.expert.append(finding)
        else:
            self.dropped_findings += 1

    def add_message_findings(self, frame: int, findings: list[Finding]) -> None:
        """The findings a message brought (its own checks, its source), before tracking."""
        for finding in findings:
            self.message_finding_count += 1
            if len(self.message_findings) < RETAIN_FINDINGS:
                self.message_findings.append((frame, finding))
            worst = self.worst_message_finding
            if worst is None or finding.severity.rank < worst[1].severity.rank:
                self.worst_message_finding = (frame, finding)

    def findings(self) -> list[Finding]:
        """The kept findings, and a note when some were dropped at the cap."""
        if not self.dropped_findings:
            return list(self.expert)
        return self.expert + [FINDINGS_DROPPED(f"{self.dropped_findings} more findings not kept")]


@dataclass(slots=True, eq=False)
class Series:
    """Messages between transactions, summed up: status reports, or messages of no transaction."""

    kind: Kind
    number: int
    first_frame: int = 0
    last_frame: int = 0
    start: float | None = None
    end: float | None = None
    count: int = 0
    num_avail: int | None = None
    num_committed: int | None = None
    types: dict[str, int] = field(default_factory=dict)
    closed: bool = False
    sources: dict[str, int] = field(default_factory=dict)
    #: The number of its session (1.. in first-seen order) when the input had several.
    session: int | None = None

    @property
    def duration(self) -> float | None:
        return _elapsed(self.start, self.end)

    def add(self, frame: int, time: float | None) -> int:
        """Count one more message; returns its 1-based place in the series."""
        if not self.count:
            self.first_frame = frame
            self.start = time
        self.count += 1
        self.last_frame = frame
        if time is not None:
            self.end = time
        return self.count

    def add_type(self, name: str) -> None:
        if name in self.types or len(self.types) < RETAIN_TYPES:
            self.types[name] = self.types.get(name, 0) + 1
        else:
            self.types["(other types)"] = self.types.get("(other types)", 0) + 1


@dataclass(slots=True, eq=False)
class Session:
    """What the whole capture says about the channel: version, capabilities, times."""

    version: int | None = None
    version_frame: int | None = None
    negotiations: int = 0
    guest_caps: dict[str, int] | None = None
    host_caps: dict[str, int] | None = None
    first_frame: int | None = None
    last_frame: int | None = None
    first_time: float | None = None
    last_time: float | None = None
    messages: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    events: int = 0
    sources: dict[str, int] = field(default_factory=dict)
    guest_state: dict[str, object] | None = None
    alignment: str | None = None
    expert: list[Finding] = field(default_factory=list)
    #: The frame a finding of ``expert`` is about, where it is about one (by ``id``).
    expert_frames: dict[int, int] = field(default_factory=dict)

    def see_event(self, frame: int, time: float | None) -> None:
        """A log's event line: it counts for the time span, not as a message."""
        self.events += 1
        if self.first_frame is None:
            self.first_frame = frame
        self.last_frame = frame
        self._span(time)

    def see(self, frame: int, time: float | None) -> None:
        if self.first_frame is None:
            self.first_frame = frame
        self.last_frame = frame
        self.messages += 1
        self._span(time)

    def _span(self, time: float | None) -> None:
        """The earliest and the latest time, as capinfos gives them: merged logs (a guest's
        line stamped in whole seconds after the host's request) need not be in time order."""
        if time is None:
            return
        if self.first_time is None or time < self.first_time:
            self.first_time = time
        if self.last_time is None or time > self.last_time:
            self.last_time = time


#: How many messages :func:`~dmdissect.analysis.transactions.annotate` holds back
#: at most while a transaction is open; past it the oldest goes out unresolved.
LOOKAHEAD = 1000


@dataclass(slots=True, eq=False)
class Link:
    """One message's place in its transaction.

    ``role`` is request, part, response or info; ``part`` numbers the parts of
    the multi-part side (1-based); ``rule`` says what linked the message.
    """

    transaction: Transaction
    frame: int
    role: Role
    part: int | None
    rule: Rule
    #: Labelled as soon as read (live input): only links back, as tshark's one pass.
    one_pass: bool = False

    @property
    def kind(self) -> Kind:
        return self.transaction.kind

    @property
    def number(self) -> int:
        return self.transaction.number

    @property
    def request_frame(self) -> int | None:
        return self.transaction.request_frame

    @property
    def final_frame(self) -> int | None:
        """The frame the transaction ended in; None while it is open."""
        txn = self.transaction
        return txn.final_frame if txn.closed else None

    @property
    def complete(self) -> bool | None:
        """Whether the transaction completed; None while it is open."""
        txn = self.transaction
        return txn.complete if txn.closed else None

    @property
    def reason(self) -> str | None:
        """Why the transaction is incomplete, once it is closed and is."""
        txn = self.transaction
        return txn.reason if txn.closed and not txn.complete else None

    def reassembled_here(self) -> Transaction | None:
        """The transaction, when this is its final (or, if incomplete, last) message.

        ``read -V`` shows the reassembled transaction under that message only.
        """
        txn = self.transaction
        if not txn.closed or self.frame != (txn.final_frame or txn.last_frame):
            return None
        return txn


@dataclass(slots=True, eq=False)
class SeriesLink:
    """A message's place in a series (1-based ``index``)."""

    series: Series
    index: int

    #: A series has no request, end or completeness; these answer like an open link's.
    request_frame = None
    final_frame = None
    complete = None
    reason = None

    @property
    def kind(self) -> Kind:
        return self.series.kind

    @property
    def number(self) -> int:
        return self.series.number

    @property
    def role(self) -> Role:
        return Role.REPORT if self.series.kind == Kind.STATUS else Role.OTHER

    @property
    def part(self) -> int:
        return self.index

    @property
    def rule(self) -> Rule:
        return Rule.SERIES
