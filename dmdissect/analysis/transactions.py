"""The transaction tracker: messages in, in order; transactions and status series out.

Why not pair by trans_id: a Linux guest stamps a new id on every message it
sends (each part of one balloon response included, status reports in
between), QEMU stamps one id on every unballoon part and echoes the guest's
id only on version and capabilities replies, and host and guest ids are
separate spaces that collide.  So the tracker pairs by protocol state:

* at most one transaction of each kind is open; a request opens one (a new
  request while one is open is flagged, and closes the old one incomplete);
* a reply or part goes to the open transaction of its kind;
* balloon and hot_remove collect the guest's parts until ``more_pages=0``
  (a balloon part with ``range_count=0`` and ``more_pages=0``: the guest is at
  its floor); unballoon collects the host's parts until ``more_pages=0``, then
  waits for the guest's UNBALLOON_RESPONSE;
* version, capabilities and hot_add close on their one response; info stands
  alone; status reports form a series that never breaks a transaction;
* a reply with nothing open opens a transaction marked incomplete ("no
  request seen"); the end of input, a renegotiated version (the channel was
  reopened) or a superseding request closes open ones incomplete.

A shared trans_id then confirms a link where the peer shares it: the host
echoing the guest's id (version, capabilities) or one id on every part of a
series.  Each message records its rule: ``request``, ``state``,
``state+trans_id``, ``orphan``, ``after-final``, ``standalone``, ``series``
or ``state:type7-unballoon-response``.

Memory stays bounded: records cap what they keep (:mod:`.records`), at most
one transaction per kind is open, and finished rows wait for an earlier open
one only up to :data:`ORDER_LIMIT` before it is closed as unanswered.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Protocol

from dmdissect import findings as ei
from dmdissect.analysis.events import LogEvent
from dmdissect.analysis.hoststate import QEMU_TRACE, STATUS_STOP, HostState, remove_line
from dmdissect.analysis.intervals import PageSet, coalesce
from dmdissect.analysis.known import known
from dmdissect.analysis.records import (
    LOOKAHEAD,
    RETAIN_FRAMES,
    RETAIN_RANGES,
    Link,
    Part,
    Series,
    SeriesLink,
    Session,
    Transaction,
)
from dmdissect.findings import Finding
from dmdissect.interrupt import Interrupted
from dmdissect.layers import (
    HEADER_SIZE,
    INTRODUCED_IN,
    SENDER,
    HotAddMeaning,
    MessageType,
    ProtocolVersion,
    hot_add_meaning,
    type_name,
    version_text,
)
from dmdissect.sources.align import REACTION_WINDOW
from dmdissect.sources.logs import GUEST_CLOCK
from dmdissect.views.phrases import mib, summarize
from dmdissect.vocabulary import Kind, Outcome, Role, Rule, Side

if TYPE_CHECKING:
    # Types only: the message model imports Scapy, which the tracker never needs.
    from dmdissect.analysis.message import Message

__all__ = [
    "ORDER_LIMIT",
    "LOOKAHEAD",
    "BALLOONED_LIMIT",
    "Tracker",
    "annotate",
    "Link",
    "Series",
    "Session",
    "Transaction",
]

#: Seconds apart two logs' lines of one status report may be (after clock alignment).
SAME_REPORT = 0.5

#: What identifies a log line's status report: (its log format, (available, committed), time).
ReportKey = tuple[str | None, tuple[Any, Any], float | None]


def same_report(last: ReportKey | None, now: ReportKey) -> bool:
    """Whether ``now`` is another log's line for the status report ``last`` witnessed.

    QMP (the host's word) and ftrace (the guest's) both record each report:
    the same values from the other log, within :data:`SAME_REPORT` seconds.
    """
    if last is None or now[0] is None:
        return False
    source, values, time = last
    return (
        source != now[0]
        and values == now[1]
        and time is not None
        and now[2] is not None
        and abs(now[2] - time) <= SAME_REPORT
    )


#: Smaller re-requests after partial balloons that make a floor finding.
FLOOR_CHAIN = 2
#: Finished rows allowed to wait behind one open transaction before it is closed unanswered.
ORDER_LIMIT = 1000
#: Seconds within which a reply counts as in time (``--reply-timeout``'s default).
REPLY_TIMEOUT = 5.0
#: Disjoint page runs remembered as ballooned in the session (for the unballoon note).
BALLOONED_LIMIT = 100_000

_STATUS_REPORT = MessageType.DM_STATUS_REPORT

#: Request type -> kind.
REQUESTS = {
    MessageType.DM_VERSION_REQUEST: Kind.VERSION,
    MessageType.DM_CAPABILITIES_REPORT: Kind.CAPABILITIES,
    MessageType.DM_BALLOON_REQUEST: Kind.BALLOON,
    MessageType.DM_UNBALLOON_REQUEST: Kind.UNBALLOON,
    MessageType.DM_MEM_HOT_ADD_REQUEST: Kind.HOT_ADD,
    MessageType.DM_MEM_HOT_REMOVE_REQUEST: Kind.HOT_REMOVE,
}
#: Kind -> the type of its request.
REQUEST_OF = {kind: msg_type for msg_type, kind in REQUESTS.items()}
#: Kinds whose reply echoes the request's trans_id on peers that share it (QEMU).
ECHOED = frozenset({Kind.VERSION, Kind.CAPABILITIES})


#: Why a transaction still open at the end of a capture is incomplete (a log's: "log ended").
INPUT_ENDED = "capture ended"


class _Pending:
    """Working state of an open transaction, dropped when it closes.

    Plain slots: one is made per request on the hot path (a dataclass's
    generated initialiser with its defaults costs several times more).
    """

    __slots__ = (
        "txn",
        "expecting",
        "opener",
        "request_id",
        "series_id",
        "last_attempt",
        "version",
        "node",
        "pages",
        "unknown_pages",
        "part_known",
        "last_part",
        "ignored",
        "from_log",
        "seen_end",
    )

    def __init__(self, txn: Transaction, expecting: str, opener: Side = Side.HOST) -> None:
        self.txn = txn
        self.expecting = expecting
        self.opener = opener
        self.request_id: int | None = None
        self.series_id: int | None = None
        self.last_attempt = False
        self.version: int | None = None
        self.node: int | None = None
        #: The pages of its parts (for the overlap check), made with the first part.
        self.pages: PageSet | None = None
        self.unknown_pages = 0
        self.part_known = True
        self.last_part: Part | None = None
        self.ignored: str | None = None
        self.from_log = False
        self.seen_end = False


#: The side that sends each type; DM_ERROR (no sender) and unknown types count as the host's.
_SENDERS: dict[int | None, Side] = {t: side or Side.HOST for t, side in SENDER.items()}
#: Types a later protocol version introduced: checked against the version negotiated.
_NEWER: dict[int | None, ProtocolVersion] = {
    t: version for t, version in INTRODUCED_IN.items() if version != ProtocolVersion.WIN7
}


def is_cut(message: Message) -> bool:
    """Fewer bytes arrived than were sent: snapped by the capture, or torn before hdr.size.

    A range_count larger than a whole message's bytes is a lying count, not a cut.
    """
    frame = message.frame
    if frame.wire_length is not None and frame.wire_length > len(frame.data):
        return True
    return message.size is not None and message.size > message.available


#: The page count of a ``(start_page, page_cnt)`` pair.
_COUNT = itemgetter(1)


def _more(body: Any) -> bool:
    """More parts follow; a truncated part is not known to be the last."""
    return bool(body.more_pages) or "more_pages" in body.missing


class Tracker:
    """Feed messages in order; get finished transactions and series back in start order."""

    def __init__(self, one_pass: bool = False, reply_timeout: float = REPLY_TIMEOUT) -> None:
        #: Live input: rows come out as soon as they are final, not in start order.
        self.one_pass = one_pass
        #: Seconds a log must go on after a request before "never answered" is said.
        self.reply_timeout = reply_timeout
        self.session = Session()
        #: Why the input ended, for transactions still open then ("capture ended",
        #: "reading stopped at -c 5", the error that stopped a torn input).
        self.end_reason = INPUT_ENDED
        self._open: dict[str, _Pending] = {}
        self._numbers: dict[str, int] = {}
        self._finals: dict[str, tuple[str, int]] = {}
        self._status: Series | None = None
        self._other: Series | None = None
        self._order: deque[Transaction | Series] = deque()
        self._ballooned = PageSet(BALLOONED_LIMIT)
        #: Pages given back since they were last ballooned (for "unballooned again").
        self._unballooned = PageSet(BALLOONED_LIMIT)
        #: Balloon parts cut short so far: their missing ranges were ballooned unseen.
        self._ballooned_cut = 0
        self._negotiated = False
        self._awaiting: tuple[_Pending, Message] | None = None
        self._last_version: Transaction | None = None
        self._hot_add_ended: str | None = None
        self._floor_chain = 0
        self._last_balloon: Transaction | None = None
        #: The time and frame of the last status report a log gave.
        self._last_status: tuple[float, int] | None = None
        self._last_report: ReportKey | None = None
        self._events = HostState(self)
        self._handlers: dict[int | None, Callable[[Message], None]] = {
            MessageType.DM_VERSION_REQUEST: self._version_request,
            MessageType.DM_VERSION_RESPONSE: self._version_response,
            MessageType.DM_CAPABILITIES_REPORT: self._caps_report,
            MessageType.DM_CAPABILITIES_RESPONSE: self._caps_response,
            MessageType.DM_BALLOON_REQUEST: partial(self._multipart_request, Kind.BALLOON),
            MessageType.DM_BALLOON_RESPONSE: self._balloon_response,
            MessageType.DM_UNBALLOON_REQUEST: self._unballoon_request,
            MessageType.DM_UNBALLOON_RESPONSE: self._unballoon_response,
            MessageType.DM_MEM_HOT_ADD_REQUEST: self._hot_add_request,
            MessageType.DM_MEM_HOT_ADD_RESPONSE: self._hot_add_response,
            MessageType.DM_INFO_MESSAGE: self._info,
            MessageType.DM_MEM_HOT_REMOVE_REQUEST: partial(
                self._multipart_request, Kind.HOT_REMOVE
            ),
            MessageType.DM_MEM_HOT_REMOVE_RESPONSE: partial(
                self._multipart_response, Kind.HOT_REMOVE
            ),
        }

    # --- the stream --------------------------------------------------------------

    def feed(self, message: Message | LogEvent) -> list[Transaction | Series]:
        """Track one message or log event (sets ``.transaction``); returns rows now final."""
        frame = message.frame
        source = frame.source
        if source is not None:
            if self._awaiting is not None and not remove_line(message):
                self._finish_awaited()
            if self._events.guest_told is not None:
                self._events.before(message)
            sources = self.session.sources
            sources[source] = sources.get(source, 0) + 1
        if isinstance(message, LogEvent):
            self.session.see_event(frame.index, frame.time)
            self._events.event(message)
            return self._ready() if self._order else []
        self.session.see(frame.index, frame.time)
        body = message.body
        msg_type = message.type
        if msg_type == _STATUS_REPORT and body is not None:
            self._status_report(message, body)
            return []
        handler = self._handlers.get(msg_type)
        if handler is None or body is None:
            self._series_message(message, Kind.OTHER)
        else:
            handler(message)
            if msg_type in _NEWER:
                self._check_version(message, _NEWER[msg_type])
        return self._ready() if self._order else []

    def _check_version(self, message: Message, needed: ProtocolVersion) -> None:
        """A message newer than the protocol version the session negotiated."""
        version = self.session.version
        link = message.transaction
        if version is None or version >= needed or not isinstance(link, Link):
            return
        self._flag(
            message,
            link.transaction,
            ei.SEQUENCE_NEWER_THAN_VERSION(
                f"{message.type_name} belongs to protocol {version_text(needed)}; this session "
                f"negotiated {version_text(version)}"
            ),
        )

    def finish(self) -> list[Transaction | Series]:
        """End of input: close what is open (incomplete) and return every row left."""
        if self._awaiting is not None:
            self._finish_awaited()
        self._events.close_told()
        self._status_stopped(self.session.last_time)
        for pending in list(self._open.values()):
            self._unanswered(pending)
            reason = self.end_reason
            if reason == INPUT_ENDED and pending.from_log:
                reason = "log ended"
            self._close(pending, False, f"{self._unfinished(pending)} ({reason})")
        self._end_series()
        rows = list(self._order)
        self._order.clear()
        return rows

    def held_from(self) -> int | None:
        """The first frame of the earliest row not yet given (rows come in start order)."""
        return self._order[0].first_frame if self._order else None

    def _ready(self) -> list[Transaction | Series]:
        order = self._order
        if self.one_pass:
            # Live: a finished row must not wait behind one that may stay open for ever.
            done = [row for row in order if row.closed]
            if done:
                self._order = deque(row for row in order if not row.closed)
            return done
        rows: list[Transaction | Series] = []
        while order:
            if order[0].closed:
                rows.append(order.popleft())
            elif len(order) > ORDER_LIMIT:
                front = order[0]
                pending = self._open.get(front.kind)
                if pending is None or pending.txn is not front:
                    break
                self._close(
                    pending,
                    False,
                    self._unfinished(pending)
                    + f" (no reply within the next {ORDER_LIMIT} transactions)",
                )
            else:
                break
        return rows

    # --- what only logs show ------------------------------------------------------

    def link_event(self, kind: str, event: LogEvent, rule: Rule = Rule.STATE) -> _Pending | None:
        """Link a host or guest event to the open transaction of ``kind``, if any."""
        pending = self._open.get(kind)
        if pending is not None:
            self._link_event(pending, event, rule)
        return pending

    def _link_event(self, pending: _Pending, event: LogEvent, rule: Rule) -> None:
        txn = pending.txn
        frame = event.frame
        txn.add_frame(frame.index, frame.time, rule)
        txn.events += 1
        event.transaction = Link(txn, frame.index, Role.EVENT, None, rule, self.one_pass)

    def close_by_state(self, kind: str, event: LogEvent, outcome: Outcome) -> Transaction | None:
        """A host state change that settles an open transaction the log gives no reply for."""
        pending = self._open.get(kind)
        if pending is None:
            return None
        self._link_event(pending, event, Rule.HOST_STATE)
        txn = pending.txn
        if not txn.replied:
            # QEMU sends its reply just before it changes state: the line marks the reply,
            # so it counts as the reply's message among the transaction's parts.
            txn.replied = True
            txn.first_reply = event.frame.time
            txn.events -= 1
        txn.outcome = outcome
        txn.not_logged("response")
        if kind == "version" and outcome == "accepted":
            self._negotiated = True
            self.session.negotiations += 1
            if pending.version is not None:
                self.session.version = pending.version
                self.session.version_frame = txn.request_frame
            self._last_version = txn
        self._close(pending, True, final=event.frame.index)
        return txn

    def reset_channel(self, event: LogEvent, why: str) -> None:
        """The host reset the device: what is open ends; QEMU's rules start over."""
        for pending in list(self._open.values()):
            self._close(
                pending,
                False,
                self._unfinished(pending) + f" ({why} in frame {event.frame.index})",
            )
        self._negotiated = False
        self._hot_add_ended = None
        self._floor_chain = 0

    def open_told(self, kind: Kind, event: LogEvent) -> _Pending:
        """A transaction known only from the guest's notes (no host log): ids, request unknown."""
        self._end_series()
        number = self._numbers.get(kind, 0) + 1
        self._numbers[kind] = number
        counts = self.session.counts
        counts[kind] = counts.get(kind, 0) + 1
        txn = Transaction(kind, number)
        # The guest's notes are no messages: how many the exchange had is unknown too.
        for fact in ("host_trans_id", "guest_trans_id", "request", "parts"):
            txn.not_logged(fact)
        self._order.append(txn)
        pending = _Pending(txn, "guest-notes", Side.GUEST)
        pending.from_log = True
        self._open[kind] = pending
        self._link_event(pending, event, Rule.GUEST_NOTE)
        return pending

    def flag_open(self, kind: str, event: LogEvent, finding: Finding) -> bool:
        """Put a finding on the open transaction of ``kind`` (and link the event); False if none."""
        pending = self._open.get(kind) or (
            self._awaiting[0] if self._awaiting and self._awaiting[0].txn.kind == kind else None
        )
        if pending is None:
            return False
        ignore = event.name.startswith("ignore")
        if ignore and self._too_late(pending.txn.start, event, f"{pending.txn.name}'s request"):
            return False
        self._link_event(pending, event, Rule.STATE)
        pending.txn.add_finding(finding)
        if ignore:
            pending.ignored = event.event.text
        return True

    def _too_late(self, host_time: float | None, item: Message | LogEvent, what: str) -> bool:
        """A guest's immediate reaction far from the host's event: the clocks disagree.

        The guest's driver logs its ``Ignore ...`` and its protocol version the
        moment the host's message arrives.  More than :data:`REACTION_WINDOW`
        seconds apart, the two logs are not on one clock (a wrong
        ``--boot-time``): the line is flagged instead of linked.
        """
        time = item.frame.time
        if (
            host_time is None
            or time is None
            or item.frame.source not in GUEST_CLOCK
            or QEMU_TRACE not in self.session.sources
            or abs(time - host_time) <= REACTION_WINDOW
        ):
            return False
        apart = time - host_time
        item.findings.append(
            ei.LOG_CLOCKS_APART(
                f"the guest's line comes {abs(apart):.1f} s {'after' if apart > 0 else 'before'} "
                f"{what}, which it answers at once: the logs' clocks are not aligned "
                f"(check --boot-time)"
            )
        )
        return True

    def hot_add_wanted(self, event: LogEvent) -> None:
        """QEMU set up a hot add: after a failed or short one it never posts another."""
        if self._hot_add_ended is None:
            return
        event.findings.append(
            ei.LOG_HOT_ADD_NOT_POSTED(
                f"QEMU wants to hot-add but will not post: {self._hot_add_ended} failed or "
                f"was short, which ends hot add until the guest is reset"
            )
        )
        self._hot_add_ended = None

    def _status_stopped(self, end: float | None) -> None:
        """Status reports come about once a second: none in the log's last seconds is worth a note.

        Only at the end of the log is it known that they did not resume (a
        pause they resume after is health's ``status.gap``).  QMP throttles
        its event to one a second (a newer report replaces a held one), so
        silences under :data:`STATUS_STOP` never count.
        """
        last = self._last_status
        if last is None or end is None or end - last[0] <= STATUS_STOP:
            return
        time, frame = last
        finding = ei.LOG_STATUS_STOPPED(
            f"status reports stopped: none after frame {frame}, in the {end - time:.1f} s to "
            f"the end of the log (the guest sends one about every second)"
        )
        self.session.expert.append(finding)
        self.session.expert_frames[id(finding)] = frame
        self._last_status = None

    def _unanswered(self, pending: _Pending) -> None:
        """A request a log shows the host sending and the guest never answering."""
        txn = pending.txn
        if txn.request_frame is None or txn.kind not in ("balloon", "unballoon", "hot_add"):
            return
        if pending.from_log and pending.expecting in ("reply", "response"):
            start, end = txn.start, self.session.last_time
            if start is not None and end is not None:
                if end - start <= self.reply_timeout:
                    return  # the log ends too soon after it to say (health: answer_unknown)
                waited = f"in the {end - start:.1f} s to the end of the log"
            else:
                waited = "by the end of the log"
            why = f"; the guest said: {pending.ignored}" if pending.ignored else ""
            txn.add_finding(
                ei.LOG_UNANSWERED(
                    f"the guest never answered {txn.name} {waited}{why} "
                    f"(the host waits for a reply)"
                )
            )

    # --- opening, linking, closing ------------------------------------------------

    def _open_txn(
        self,
        kind: Kind,
        message: Message,
        rule: Rule,
        role: Role,
        part: int | None = None,
        expecting: str = "reply",
    ) -> _Pending:
        if self._status is not None or self._other is not None:
            self._end_series()
        number = self._numbers.get(kind, 0) + 1
        self._numbers[kind] = number
        counts = self.session.counts
        counts[kind] = counts.get(kind, 0) + 1
        txn = Transaction(kind, number)
        frame = message.frame
        if rule is Rule.REQUEST:
            txn.request_frame = frame.index
            if kind in self._finals:
                del self._finals[kind]
        self._order.append(txn)
        pending = _Pending(txn, expecting, _SENDERS.get(message.type, Side.HOST))
        pending.from_log = frame.source is not None
        if kind is not Kind.INFO:
            self._open[kind] = pending
        self._link(pending, message, rule, role, part)
        return pending

    def _link(
        self, pending: _Pending, message: Message, rule: Rule, role: Role, part: int | None = None
    ) -> None:
        txn = pending.txn
        frame = message.frame
        index = frame.index
        sender = _SENDERS.get(message.type, Side.HOST)
        if sender is not pending.opener and txn.request_frame is not None:
            txn.replied = True
            if txn.first_reply is None:
                txn.first_reply = frame.time
        txn.add_frame(index, frame.time, rule)
        trans_id = message.trans_id
        if trans_id is not None:
            txn.add_id(sender, trans_id)
        elif frame.witness is not None:
            txn.not_logged(f"{sender}_trans_id")
        if message.findings:
            txn.add_message_findings(index, message.findings)
        message.transaction = Link(txn, index, role, part, rule, self.one_pass)

    def _close(
        self, pending: _Pending, complete: bool, reason: str | None = None, final: int | None = None
    ) -> None:
        txn = pending.txn
        txn.closed = True
        txn.final_frame = final
        if txn.reason and reason:
            txn.reason = f"{txn.reason}; {reason}"
        elif reason:
            txn.reason = reason
        txn.complete = complete and txn.reason is None
        if txn.outcome is None:
            txn.outcome = Outcome.UNKNOWN
        if self._open.get(txn.kind) is pending:
            del self._open[txn.kind]

    def _orphan(
        self,
        kind: Kind,
        message: Message,
        role: Role,
        part: int | None = None,
        expecting: str = "reply",
    ) -> _Pending:
        """A reply with nothing open: an incomplete transaction, and why."""
        after = self._finals.get(kind) if kind in (Kind.BALLOON, Kind.HOT_REMOVE) else None
        seen = kind in self._numbers
        rule = Rule.AFTER_FINAL if after else Rule.ORPHAN
        pending = self._open_txn(kind, message, rule, role, part, expecting)
        if after:
            name, frame = after
            pending.txn.reason = f"part after the final one of {name}"
            self._flag(
                message,
                pending.txn,
                ei.SEQUENCE_AFTER_FINAL(f"part after the final one of {name} (frame {frame})"),
            )
        else:
            pending.txn.reason = "no request seen"
            where = "capture" if message.frame.source is None else "log"
            self._flag(
                message,
                pending.txn,
                ei.SEQUENCE_NO_REQUEST(
                    f"response with no request: no {type_name(REQUEST_OF[kind])} is outstanding"
                )
                if seen
                else ei.SEQUENCE_REQUEST_NOT_CAPTURED(
                    f"response with no request in the {where} (it may start after the request)"
                ),
            )
        return pending

    def _supersede(self, kind: Kind, message: Message) -> None:
        """A new request while one of its kind is open: flag it, close the old one."""
        pending = self._open.get(kind)
        if pending is None:
            return
        txn = pending.txn
        self._flag(
            message,
            txn,
            ei.SEQUENCE_SUPERSEDED(
                f"new request while {txn.name} (frame {txn.first_frame}) is outstanding"
            ),
        )
        self._close(
            pending,
            False,
            self._unfinished(pending) + f" (superseded by frame {message.frame.index})",
        )

    @staticmethod
    def _unfinished(pending: _Pending) -> str:
        if pending.expecting == "parts":
            return "final part missing"
        return "no response"

    @staticmethod
    def _flag(message: Message, txn: Transaction, finding: Finding) -> None:
        message.findings.append(finding)
        txn.add_finding(finding)

    # --- series -------------------------------------------------------------------

    def _new_series(self, kind: Kind) -> Series:
        number = self._numbers.get(kind, 0) + 1
        self._numbers[kind] = number
        series = Series(kind, number)
        self._order.append(series)
        if kind == Kind.STATUS:
            self._status = series
        else:
            self._other = series
        return series

    def _series_message(self, message: Message, kind: Kind) -> Series:
        series = (self._status if kind == Kind.STATUS else self._other) or self._new_series(kind)
        frame = message.frame
        message.transaction = SeriesLink(series, series.add(frame.index, frame.time))
        if kind == Kind.OTHER:
            series.add_type(message.type_name)
        return series

    def _end_series(self) -> None:
        for series in (self._status, self._other):
            if series is not None:
                series.closed = True
        self._status = self._other = None

    def _status_report(self, message: Message, body: Any) -> None:
        """The hot path (nine messages in ten): no row can become final here.

        A report that is another log's line for the one the last line witnessed
        (QMP and ftrace both record each report) is counted once.
        """
        frame = message.frame
        source = frame.source
        last = self._last_report
        now = self._last_report = (source, (body.num_avail, body.num_committed), frame.time)
        # A capture's report is never another log's line (same_report's first test).
        series = self._status
        if source is not None and series is not None and same_report(last, now):
            series.sources[source] = series.sources.get(source, 0) + 1
            message.transaction = SeriesLink(series, series.count)
            return
        series = series or self._new_series(Kind.STATUS)
        # Series.add, in line: nine messages in ten take this path.
        index, time = frame.index, frame.time
        count = series.count + 1
        if count == 1:
            series.first_frame = index
            series.start = time
        series.count = count
        series.last_frame = index
        if time is not None:
            series.end = time
        message.transaction = SeriesLink(series, count)
        if source is not None:
            series.sources[source] = series.sources.get(source, 0) + 1
            if time is not None:
                self._last_status = (time, index)
        missing = body.missing
        if not missing:
            series.num_avail = now[1][0]
            series.num_committed = now[1][1]
            return
        if "num_avail" not in missing:
            series.num_avail = body.num_avail
        if "num_committed" not in missing:
            series.num_committed = body.num_committed

    # --- version and capabilities -------------------------------------------------

    def _version_request(self, message: Message) -> None:
        previous = self._open.get("version")
        if previous is not None and previous.from_log and message.frame.source is not None:
            # A log shows no refusal: a new offer while one is open means it was refused.
            previous.txn.outcome = Outcome.REFUSED
            previous.txn.not_logged("response")
            self._close(previous, True, final=previous.txn.last_frame)
        reset = self._negotiated and "version" not in self._open
        if reset:
            self._reset(message)
        else:
            self._supersede(Kind.VERSION, message)
        body = message.body
        pending = self._open_txn(Kind.VERSION, message, Rule.REQUEST, Role.REQUEST)
        if reset:
            self._flag(
                message,
                pending.txn,
                ei.SEQUENCE_RENEGOTIATED(
                    "version negotiated again: the channel was reopened (suspend/resume?)"
                ),
            )
        pending.request_id = message.trans_id
        offered = known(body, "version")
        pending.version = None if offered is None else offered.version
        pending.last_attempt = bool(known(body, "is_last_attempt"))
        pending.txn.detail = "version unknown" if offered is None else version_text(offered.version)

    def _reset(self, message: Message) -> None:
        """A version offer after an accepted one: the channel was reopened."""
        frame = message.frame.index
        for pending in list(self._open.values()):
            self._close(
                pending, False, self._unfinished(pending) + f" (channel reset in frame {frame})"
            )
        self._negotiated = False

    def _reply_link(self, kind: Kind, message: Message, role: Role = Role.RESPONSE) -> _Pending:
        """Link a single reply to the open transaction of its kind, or to an orphan."""
        pending = self._open.get(kind)
        if pending is None:
            return self._orphan(kind, message, role)
        echoed = (
            kind in ECHOED
            and message.trans_id is not None
            and message.trans_id == pending.request_id
        )
        self._link(pending, message, Rule.STATE_TRANS_ID if echoed else Rule.STATE, role)
        return pending

    def _version_response(self, message: Message) -> None:
        last = self._last_version
        if "version" not in self._open and last is not None and message.frame.source is not None:
            if self._too_late(last.end, message, f"the host's acceptance of {last.name}"):
                return
            # Another log's word for a negotiation the host's log already settled.
            message.transaction = Link(
                last, message.frame.index, Role.RESPONSE, None, Rule.OTHER_LOG, self.one_pass
            )
            return
        logged = message.frame.witness.extra.get("version") if message.frame.witness else None
        if "version" not in self._open and logged is not None:
            # The guest's "Using ... protocol version": its offer and the host's yes in one line.
            pending = self._open_txn(Kind.VERSION, message, Rule.LOG, Role.RESPONSE)
            pending.txn.not_logged("request")
            pending.txn.not_logged("guest_trans_id")
        else:
            pending = self._reply_link(Kind.VERSION, message)
        txn = pending.txn
        if pending.version is None and logged is not None:
            pending.version = (logged["major_version"] << 16) | logged["minor_version"]
            txn.detail = version_text(pending.version)
        answer = known(message.body, "is_accepted")
        if answer is None:
            # The bytes end before is_accepted: the answer is unknown, never "refused".
            self._close(
                pending, False, "the response is cut before is_accepted", final=message.frame.index
            )
            return
        accepted = bool(answer)
        txn.outcome = Outcome.ACCEPTED if accepted else Outcome.REFUSED
        if accepted:
            self._last_version = txn
            self._negotiated = True
            self.session.negotiations += 1
            if pending.version is not None:
                self.session.version = pending.version
                self.session.version_frame = txn.request_frame or message.frame.index
        elif pending.last_attempt:
            self._flag(
                message,
                txn,
                ei.VERSION_REFUSED(
                    f"version negotiation failed: the host refused the guest's last offer "
                    f"({txn.detail})"
                ),
            )
        self._close(pending, True, final=message.frame.index)

    def _caps_report(self, message: Message) -> None:
        self._supersede(Kind.CAPABILITIES, message)
        body = message.body
        pending = self._open_txn(Kind.CAPABILITIES, message, Rule.REQUEST, Role.REQUEST)
        pending.request_id = message.trans_id
        caps = known(body, "caps")
        if caps is None:
            pending.txn.detail = f"capabilities unknown ({_why_unknown(message, 'caps')})"
            return
        pending.txn.detail = summarize(caps)
        self.session.guest_caps = {
            "balloon": caps.balloon,
            "hot_add": caps.hot_add,
            "hot_add_alignment": caps.hot_add_alignment,
            "hot_remove": caps.hot_remove,
            "min_page_cnt": known(body, "min_page_cnt"),
            "max_page_number": known(body, "max_page_number"),
        }

    def _caps_response(self, message: Message) -> None:
        pending = self._reply_link(Kind.CAPABILITIES, message)
        body = message.body
        answer = known(body, "is_accepted")
        if answer is None:
            self._close(
                pending, False, "the response is cut before is_accepted", final=message.frame.index
            )
            return
        accepted = bool(answer)
        pending.txn.outcome = Outcome.ACCEPTED if accepted else Outcome.REFUSED
        self.session.host_caps = {
            "is_accepted": answer,
            "hot_remove": known(body, "hot_remove"),
            "suppress_pressure_reports": known(body, "suppress_pressure_reports"),
        }
        if not accepted:
            self._flag(
                message, pending.txn, ei.CAPABILITIES_REFUSED("capabilities refused by the host")
            )
        self._close(pending, True, final=message.frame.index)

    # --- balloon and hot remove: a host request, guest parts ---------------------

    def _multipart_request(self, kind: Kind, message: Message) -> None:
        self._supersede(kind, message)
        pending = self._open_txn(kind, message, Rule.REQUEST, Role.REQUEST)
        pending.request_id = message.trans_id
        body = message.body
        txn = pending.txn
        txn.pages = 0
        if kind == Kind.BALLOON:
            txn.pages_requested = known(body, "num_pages")
            self._floor_check(message, txn)
        else:
            txn.pages_requested = known(body, "page_count")
            pending.node = known(body, "virtual_node")
            if pending.node is not None:
                txn.detail = f"node {pending.node}"

    def _balloon_response(self, message: Message) -> None:
        unballoon = self._open.get(Kind.UNBALLOON)
        if (
            Kind.BALLOON not in self._open
            and unballoon is not None
            and unballoon.expecting == "response"
            and message.available == HEADER_SIZE
        ):
            self._type7_unballoon_response(unballoon, message)
            return
        self._multipart_response(Kind.BALLOON, message)

    def _multipart_response(self, kind: Kind, message: Message) -> None:
        pending = self._open.get(kind)
        if pending is None:
            pending = self._orphan(kind, message, Role.PART, 1, expecting="parts")
        else:
            rule = Rule.STATE
            if pending.series_id is not None and message.trans_id == pending.series_id:
                rule = Rule.STATE_TRANS_ID
            self._link(pending, message, rule, Role.PART, pending.txn.part_count + 1)
        if pending.series_id is None:
            pending.series_id = message.trans_id
        pending.expecting = "parts"
        body = message.body
        self._add_part(pending, message)
        if kind == Kind.HOT_REMOVE:
            node = "" if pending.node is None else f"node {pending.node}, "
            result = known(body, "result")
            pending.txn.detail = f"{node}result {'unknown' if result is None else result}"
        if not _more(body):
            if message.frame.source == QEMU_TRACE and pending.unknown_pages:
                # QEMU logs the part's ranges on the lines after it: wait for them.
                pending.expecting = "ranges"
                self._awaiting = (pending, message)
                return
            self._finish_parts(pending, message)

    def _floor_check(self, message: Message, txn: Transaction) -> None:
        """Ever-smaller re-requests after partial balloons: the guest is at its floor.

        Linux keeps a floor that shrinks with its memory, so QEMU, asking for
        what is still owed after each partial answer, asks less each time.
        """
        last = self._last_balloon
        self._last_balloon = txn
        asked = txn.pages_requested
        if (
            last is None
            or last.outcome != "partial"
            or asked is None
            or last.pages_requested is None
            or asked >= last.pages_requested
        ):
            self._floor_chain = 0
            return
        self._floor_chain += 1
        if self._floor_chain == FLOOR_CHAIN:
            self._flag(
                message,
                txn,
                ei.LOG_FLOOR(
                    f"the guest is at its floor: {FLOOR_CHAIN + 1} balloon requests in a row, "
                    f"each partly fulfilled and followed by a smaller one"
                ),
            )

    def _finish_awaited(self) -> None:
        assert self._awaiting is not None
        pending, message = self._awaiting
        self._awaiting = None
        if self._open.get(pending.txn.kind) is pending:
            self._finish_parts(pending, message)

    def add_returned(self, event: LogEvent) -> bool:
        """QEMU's "processing remove response range": pages the last balloon part moved."""
        pending = self._awaiting[0] if self._awaiting else self._open.get("balloon")
        if pending is None or pending.expecting not in ("parts", "ranges"):
            return False
        facts = event.event.facts
        count, start = facts["count"], facts["start"]
        txn = pending.txn
        txn.pages = (txn.pages or 0) + count
        part = pending.last_part
        if part is not None:
            part.logged = True
            part.pages = (part.pages or 0) + count
            if txn.ranges_kept < RETAIN_RANGES:
                part.ranges.append((start, count))
                txn.ranges_kept += 1
        if not pending.part_known:
            pending.unknown_pages -= 1
            pending.part_known = True
        self._ballooned.add(start, start + count)
        # Ballooned again: no longer pages the host returned (as for a response's ranges).
        self._unballooned.remove(start, start + count)
        self._link_event(pending, event, Rule.STATE)
        return True

    def _finish_parts(self, pending: _Pending, message: Message) -> None:
        """The guest's last part: work out the outcome and close."""
        txn = pending.txn
        if pending.unknown_pages:
            txn.pages = None
            txn.unknown.append("pages")
        pages = txn.pages or 0
        asked = txn.pages_requested
        claimed = known(message.body, "range_count")
        if txn.cut_parts and (asked is None or pages < asked):
            # A part cut short hides ranges: what was counted is only a lower bound.
            txn.outcome = Outcome.UNKNOWN
        elif txn.kind == Kind.BALLOON and pages == 0 and claimed == 0 and asked != 0:
            # Nothing given for a request of pages; a request of 0 pages got all it asked.
            txn.outcome = Outcome.AT_FLOOR
        elif txn.pages is None:
            txn.outcome = Outcome.UNKNOWN
        elif txn.kind == Kind.HOT_REMOVE and pages == 0:
            txn.outcome = Outcome.REFUSED
        elif asked is None:
            txn.outcome = Outcome.UNKNOWN
        elif pages < asked:
            txn.outcome = Outcome.PARTIAL
        else:
            txn.outcome = Outcome.ACCEPTED
        if asked is not None and pages > asked:
            self._flag(
                message,
                txn,
                ei.PAGES_OVER_REQUEST(f"{pages} pages given, more than the {asked} asked for"),
            )
        self._finals[txn.kind] = (txn.name, message.frame.index)
        self._close(pending, True, final=message.frame.index)

    def _add_part(self, pending: _Pending, message: Message) -> tuple[Part, list[tuple[int, int]]]:
        """Count a part's ranges and pages, keep them up to the cap, check overlaps."""
        txn = pending.txn
        body = message.body
        if body.range_array is None:
            # A log line that counts the part's ranges without listing them.
            part = Part(message.frame.index, message.trans_id, _more(body), body.range_count, None)
            txn.part_count += 1
            txn.range_count += body.range_count or 0
            txn.pages = txn.pages or 0
            if body.range_count:
                pending.unknown_pages += 1
                pending.part_known = False
            pending.last_part = part
            if len(txn.parts) < RETAIN_FRAMES:
                txn.parts.append(part)
            return part, []
        ranges = [(r.start_page, r.page_cnt) for r in body.range_array]
        pages = sum(map(_COUNT, ranges))
        part = Part(message.frame.index, message.trans_id, _more(body), len(ranges), pages)
        if is_cut(message):
            txn.cut_parts += 1
            if txn.kind == Kind.BALLOON:
                self._ballooned_cut += 1
        pending.last_part = None
        txn.part_count += 1
        txn.range_count += len(ranges)
        txn.pages = (txn.pages or 0) + pages
        if len(txn.parts) < RETAIN_FRAMES:
            part.ranges = ranges[: max(0, RETAIN_RANGES - txn.ranges_kept)]
            txn.ranges_kept += len(part.ranges)
            txn.parts.append(part)
        if len(part.ranges) < len(ranges):
            txn.truncated = True
        runs, twice = coalesce(ranges)
        self._overlaps(pending, message, runs, twice)
        if txn.kind == Kind.BALLOON:
            for start, end in runs:
                self._ballooned.add(start, end)
                self._unballooned.remove(start, end)
        return part, runs

    def _overlaps(
        self, pending: _Pending, message: Message, runs: list[tuple[int, int]], twice: int
    ) -> None:
        seen = pending.pages
        if seen is None:
            seen = pending.pages = PageSet(RETAIN_RANGES)
        for start, end in runs:
            twice += seen.put(start, end)
        if twice:
            self._flag(
                message,
                pending.txn,
                ei.REASSEMBLE_OVERLAP(
                    f"overlapping ranges within {pending.txn.name}: {twice} pages "
                    f"({mib(twice)}) appear twice"
                ),
            )

    # --- unballoon: host parts, one guest response -------------------------------

    def _unballoon_request(self, message: Message) -> None:
        pending = self._open.get(Kind.UNBALLOON)
        if pending is not None and pending.expecting == "parts":
            rule = Rule.STATE_TRANS_ID if message.trans_id == pending.series_id else Rule.STATE
            self._link(pending, message, rule, Role.PART, pending.txn.part_count + 1)
        elif (
            pending is not None
            and pending.series_id is not None
            and message.trans_id == pending.series_id
        ):
            self._link(pending, message, Rule.AFTER_FINAL, Role.PART, pending.txn.part_count + 1)
            final = pending.txn.parts[-1].frame if pending.txn.parts else pending.txn.last_frame
            self._flag(
                message,
                pending.txn,
                ei.SEQUENCE_AFTER_FINAL(
                    f"part after the final one of {pending.txn.name} (frame {final})"
                ),
            )
        else:
            self._supersede(Kind.UNBALLOON, message)
            pending = self._open_txn(Kind.UNBALLOON, message, Rule.REQUEST, Role.PART, 1, "parts")
            pending.series_id = message.trans_id
            pending.txn.pages = 0
        part, runs = self._add_part(pending, message)
        pending.txn.pages_requested = pending.txn.pages
        self._never_ballooned(pending.txn, message, part, runs)
        if not _more(message.body):
            pending.expecting = "response"

    def _never_ballooned(
        self, txn: Transaction, message: Message, part: Part, runs: list[tuple[int, int]]
    ) -> None:
        """Note pages returned that this capture never saw ballooned (it may start late),
        and warn of pages returned again without being ballooned in between."""
        ballooned = self._ballooned
        returned = self._unballooned
        missing = again = 0
        for start, end in runs:
            repeated = returned.put(start, end)
            again += repeated
            missing += (end - start) - ballooned.take(start, end) - repeated
        if again and not returned.overflowed:
            self._flag(
                message,
                txn,
                ei.UNBALLOON_AGAIN(
                    f"{again} of {part.pages} pages unballooned again: the host already "
                    f"returned them and they were not ballooned since"
                ),
            )
        # Cut balloon parts hid ranges that were ballooned unseen: then nothing can be said.
        if missing and not ballooned.overflowed and not self._ballooned_cut:
            self._flag(
                message,
                txn,
                ei.UNBALLOON_NEVER_BALLOONED(
                    f"{missing} of {part.pages} pages unballooned were never ballooned in this "
                    f"capture (it may start after they were)"
                ),
            )

    def _unballoon_response(self, message: Message) -> None:
        pending = self._open.get(Kind.UNBALLOON)
        if pending is None:
            pending = self._orphan(Kind.UNBALLOON, message, Role.RESPONSE)
        else:
            self._link(pending, message, Rule.STATE, Role.RESPONSE)
        txn = pending.txn
        txn.outcome = Outcome.ACCEPTED
        if pending.expecting == "parts" and txn.request_frame is not None:
            self._flag(
                message, txn, ei.SEQUENCE_EARLY_RESPONSE("UNBALLOON_RESPONSE before the final part")
            )
            self._close(pending, False, "final part missing", final=message.frame.index)
            return
        self._close(pending, True, final=message.frame.index)

    def _type7_unballoon_response(self, pending: _Pending, message: Message) -> None:
        self._link(pending, message, Rule.TYPE7_UNBALLOON_RESPONSE, Role.RESPONSE)
        self._flag(
            message,
            pending.txn,
            ei.UNBALLOON_TYPE7_RESPONSE(
                "header-only BALLOON_RESPONSE after the last unballoon part: taken as the "
                "UNBALLOON_RESPONSE (a known guest bug)"
            ),
        )
        pending.txn.outcome = Outcome.ACCEPTED
        self._close(pending, True, final=message.frame.index)

    # --- hot add and info ---------------------------------------------------------

    def _hot_add_request(self, message: Message) -> None:
        if Kind.HOT_ADD in self._open:
            self._supersede(Kind.HOT_ADD, message)
        txn = self._open_txn(Kind.HOT_ADD, message, Rule.REQUEST, Role.REQUEST).txn
        body = message.body
        wanted = known(body, "range")
        if wanted is None:
            txn.detail = f"range unknown ({_why_unknown(message, 'range')})"
            return
        txn.pages_requested = wanted.page_cnt
        region = known(body, "region")
        if region is None:
            txn.detail = f"at {wanted.start_page:#x}"
        else:
            txn.detail = (
                f"at {wanted.start_page:#x}, region {region.page_cnt} pages at "
                f"{region.start_page:#x}"
            )

    def _hot_add_response(self, message: Message) -> None:
        pending = self._reply_link(Kind.HOT_ADD, message)
        body = message.body
        txn = pending.txn
        txn.pages = known(body, "page_count")
        result = known(body, "result")
        meaning = None if result is None else hot_add_meaning(result, txn.pages)
        if meaning is None:
            txn.outcome = Outcome.UNKNOWN
        elif meaning is HotAddMeaning.TRANSIENT_FAILURE:
            txn.outcome = Outcome.TRANSIENT_FAILURE
        elif meaning is HotAddMeaning.PERMANENT_FAILURE:
            txn.outcome = Outcome.PERMANENT_FAILURE
        elif meaning is HotAddMeaning.UNDEFINED or txn.pages is None:
            txn.outcome = Outcome.UNKNOWN
        elif txn.pages_requested is not None and txn.pages < txn.pages_requested:
            txn.outcome = Outcome.PARTIAL
        else:
            txn.outcome = Outcome.ACCEPTED
        if txn.outcome is not Outcome.ACCEPTED and message.frame.source == QEMU_TRACE:
            self._hot_add_ended = txn.name
            self._flag(
                message,
                txn,
                ei.LOG_HOT_ADD_ENDED(
                    "QEMU marks the rest of its memory backend unusable after a failed or short "
                    "hot add: no more hot adds until the guest is reset"
                ),
            )
        self._close(pending, True, final=message.frame.index)

    def _info(self, message: Message) -> None:
        pending = self._open_txn(Kind.INFO, message, Rule.STANDALONE, Role.INFO)
        txn = pending.txn
        txn.detail = summarize(message.body) if not message.body.missing else ""
        txn.outcome = Outcome.SENT
        self._close(pending, True, final=message.frame.index)


class Feeder(Protocol):
    """What :func:`annotate` feeds: one :class:`Tracker`, or the trackers of several
    inputs (:class:`~dmdissect.analysis.sessions.Sessions`)."""

    def feed(self, message: Message | LogEvent) -> list[Any]: ...

    def finish(self) -> list[Any]: ...

    @property
    def end_reason(self) -> str | None: ...

    @end_reason.setter
    def end_reason(self, reason: str) -> None: ...


def annotate(
    messages: Iterable[Message | LogEvent], tracker: Feeder | None = None, hold: int = LOOKAHEAD
) -> Iterator[Message | LogEvent]:
    """Every message in input order, with ``.transaction`` set.

    A message is held while its transaction is open, so that its label can
    name the frame the transaction ends in; at most ``hold`` messages wait,
    then the oldest goes out labelled "end not yet known".  Messages behind a
    held one wait with it, to keep the input order.
    """
    tracker = tracker or Tracker()
    held: deque[Message | LogEvent] = deque()
    #: The open transaction of the first message held: until it closes (or the
    #: hold is full) nothing behind it can go, so only it is looked at.
    blocker: Transaction | None = None
    feed = tracker.feed
    try:
        for message in messages:
            feed(message)
            if blocker is None:
                link = message.transaction
                if not isinstance(link, Link) or link.transaction.closed:
                    yield message
                    continue
                blocker = link.transaction
            held.append(message)
            if not blocker.closed and len(held) <= hold:
                continue
            blocker = None
            while held:
                link = held[0].transaction
                if isinstance(link, Link) and not link.transaction.closed and len(held) <= hold:
                    blocker = link.transaction
                    break
                yield held.popleft()
    except (Exception, Interrupted) as exc:
        # The input failed part-way or a signal stopped it: what was read still comes out.
        tracker.end_reason = stop_reason(exc)
        tracker.finish()
        yield from held
        raise
    tracker.finish()
    yield from held


def stop_reason(exc: BaseException) -> str:
    """What ended the input early, for the transactions left open."""
    if isinstance(exc, Interrupted):
        return f"reading interrupted by {exc}"
    return "reading stopped by an input error"


def _why_unknown(message: Message, name: str) -> str:
    """Why a field the tracker needs is unknown: the bytes ended before it, or the log
    line holds it unreadably, or does not carry it."""
    if message.frame.source is None:
        return "cut short"
    if name in getattr(message.body, "unreadable", ()):
        return "unreadable in this log"
    return "not in this log"
