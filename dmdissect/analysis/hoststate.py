"""What the tracker does with a log's event lines: host state changes, bookkeeping, guest notes.

QEMU logs no reply to the guest's version and capabilities messages; its
state change says how they went (``-> S_CAPS`` after an offer: accepted;
``-> S_POST_INIT_WAIT`` after the capabilities: accepted).  ``-> S_POST_RESET_CLOSED``
is a device reset.  The ranges QEMU took back from a balloon part come on
the lines after it.  The guest's notes (a floor reached, a request ignored)
explain the transaction they fall in.
"""

from __future__ import annotations

from typing import Any

from dmdissect import findings as ei
from dmdissect.analysis.events import LogEvent
from dmdissect.vocabulary import Kind, Outcome, Rule

QEMU_TRACE = "qemu-trace"
QMP = "qmp"
#: Seconds without a status report (after some) that count as reports stopping.
STATUS_STOP = 5.0

#: Host states that settle an open transaction: state -> (kind, outcome).
SETTLES = {
    "S_CAPS": (Kind.VERSION, Outcome.ACCEPTED),
    "S_POST_INIT_WAIT": (Kind.CAPABILITIES, Outcome.ACCEPTED),
}
#: Bookkeeping of a balloon part's ranges, printed after it.
RANGE_LINES = {
    "remove_response",
    "remove_response_hole",
    "remove_response_common",
    "remove_response_remainder",
}
#: Guest notes and the transaction kind they concern.
GUEST_NOTES: dict[str, Kind] = {
    "floor": Kind.BALLOON,
    "partial_balloon": Kind.BALLOON,
    "ignore_balloon": Kind.BALLOON,
    "ballooned": Kind.BALLOON,
    "ignore_unballoon": Kind.UNBALLOON,
    "freed": Kind.UNBALLOON,
    "ignore_hot_add": Kind.HOT_ADD,
    "hot_add_failed": Kind.HOT_ADD,
    "hot_add_error": Kind.HOT_ADD,
    "hot_adding": Kind.HOT_ADD,
    "online": Kind.HOT_ADD,
}


def remove_line(item: Any) -> bool:
    """Part of the range bookkeeping that follows a balloon part in QEMU's trace."""
    return isinstance(item, LogEvent) and item.event.name in RANGE_LINES


class HostState:
    """The tracker's handler of event lines (kept apart: the tracker proper is about messages)."""

    def __init__(self, tracker: Any) -> None:
        self.tracker = tracker
        #: A transaction told only by the guest's notes, open until a line of another kind.
        self.guest_told: Any = None
        #: The errno of the guest's ``hot_add memory failed error is %d`` in the hot add told.
        self.hot_add_errno: int | None = None
        #: The guest turned hot add off for the rest of its boot (add_memory() gave -EEXIST).
        self.hot_add_off = False

    def before(self, item: Any) -> None:
        """Close a transaction the guest's notes tell once a line of another matter comes."""
        told = self.guest_told
        if told is None:
            return
        if not isinstance(item, LogEvent) and item.type_name == "DM_STATUS_REPORT":
            return  # status reports come between the parts of anything
        name = item.event.name if isinstance(item, LogEvent) else None
        if GUEST_NOTES.get(name or "") == told.txn.kind and not (
            name in OPENS and told.txn.kind == "balloon" and told.seen_end
        ):
            return
        self.close_told()

    def close_told(self) -> None:
        told, self.guest_told = self.guest_told, None
        if told is None or told.txn.closed:
            return
        txn = told.txn
        if txn.pages is None:
            txn.not_logged("pages")
        if txn.outcome is None:
            txn.outcome = "unknown"
        self.tracker._close(told, True, final=txn.last_frame)

    def event(self, item: LogEvent) -> None:
        event = item.event
        name = event.name
        tracker = self.tracker
        if name == "state_change":
            self._state(item, event.facts["state"])
        elif name == "remove_response":
            tracker.add_returned(item)
        elif name in RANGE_LINES:
            tracker.link_event("balloon", item)
        elif name == "guest_state":
            tracker.session.guest_state = dict(event.facts)
        elif name in GUEST_NOTES:
            kind = GUEST_NOTES[name]
            told = self.guest_told
            if (told is not None and told.txn.kind == kind) or (
                kind not in tracker._open and QEMU_TRACE not in tracker.session.sources
            ):
                _guest_tells(self, kind, item)
            elif item.findings:
                tracker.flag_open(kind, item, item.findings[0])
            else:
                tracker.link_event(kind, item, Rule.GUEST_NOTE)

    def _state(self, item: LogEvent, state: str) -> None:
        tracker = self.tracker
        settles = SETTLES.get(state)
        if settles is not None:
            tracker.close_by_state(settles[0], item, settles[1])
        elif state == "S_POST_RESET_CLOSED":
            # The first line of every trace (vmdev_reset at boot) is no reset of a session;
            # the guest's boot lines merged in before it do not make it one.
            sources = tracker.session.sources
            if sources.get(QEMU_TRACE, 0) > 1 or sources.get(QMP, 0):
                item.findings.append(
                    ei.LOG_HOST_RESET("the host reset the device: the channel starts over")
                )
            tracker.reset_channel(item, "host reset")
        elif state == "S_HOT_ADD_SETUP":
            tracker.hot_add_wanted(item)


#: Guest notes that start what they tell (the others may only end or add to it).
OPENS = {"floor", "partial_balloon", "ignore_balloon"}


#: Seconds between two ``Freed`` lines beyond which they are two unballoon requests: the
#: host sends the parts of one back to back, and the guest frees each part at once.
PART_GAP = 1.0


def _starts_anew(told: Any, item: LogEvent) -> bool:
    """Whether the guest's line begins a request of its own rather than adding to ``told``.

    Linux prints ``Hot adding`` once per request it handles and ends a request
    that added nothing with ``Memory hot add failed`` or ``Ignore hot-add
    request!`` (itself a whole request); its ``Freed`` lines carry no id, so
    only their times tell two unballoon requests apart.
    """
    name = item.event.name
    txn = told.txn
    if name == "ignore_hot_add":
        return True
    if name == "hot_adding":
        return txn.pages_requested is not None or told.seen_end
    if name == "freed":
        time = item.frame.time
        return time is not None and txn.end is not None and time - txn.end > PART_GAP
    return False


#: add_memory()'s "already there": Linux then turns hot add off for the rest of its boot.
EEXIST = 17


def _hot_add_failed(self: HostState, txn: Any, name: str) -> None:
    """What the guest answered when it logs that a hot add failed or was ignored.

    Linux's hot_add_req() answers result 1 (permanent: the host tries no more)
    when its hot add is off (a hibernation-capable guest, whose line is
    ``Ignore hot-add request!``, or an earlier -EEXIST), and result 0
    (transient) when add_memory() failed otherwise.  With neither an errno line
    nor an earlier -EEXIST, ``Memory hot add failed`` may be either: the log
    does not say which.
    """
    errno, self.hot_add_errno = self.hot_add_errno, None
    if txn.pages:
        # Some pages were onlined before the failure: Linux says success with what it added.
        asked = txn.pages_requested
        txn.outcome = Outcome.ACCEPTED if asked is not None and txn.pages >= asked else "partial"
        return
    txn.pages = 0
    if name == "ignore_hot_add" or self.hot_add_off:
        txn.outcome = Outcome.PERMANENT_FAILURE
    elif errno is not None:
        txn.outcome = Outcome.TRANSIENT_FAILURE
    else:
        txn.outcome = Outcome.FAILED


def _told(self: HostState, kind: Kind, item: LogEvent) -> Any:
    """The open transaction the guest's notes tell of ``kind``, opened by ``item`` if none."""
    tracker = self.tracker
    told = self.guest_told
    if (
        told is not None
        and told.txn.kind == kind
        and not told.txn.closed
        and not _starts_anew(told, item)
    ):
        tracker._link_event(told, item, Rule.GUEST_NOTE)
        return told
    self.close_told()
    told = tracker.open_told(kind, item)
    self.guest_told = told
    return told


def _guest_tells(self: HostState, kind: Kind, item: LogEvent) -> None:
    """With no host log, the guest's own lines are all there is of a transaction."""
    told = _told(self, kind, item)
    txn = told.txn
    event = item.event
    facts = event.facts
    name = event.name
    for finding in item.findings:
        txn.add_finding(finding)
    if name in ("floor", "partial_balloon"):
        txn.outcome = "partial"
    elif name == "ignore_balloon":
        told.ignored = event.text
        txn.not_logged("response")
        self.close_told()
    elif name == "ballooned":
        txn.pages_requested = facts["requested"]
        told.seen_end = True
        self.close_told()
    elif name == "freed":
        txn.part_count += 1
        txn.pages = (txn.pages or 0) + facts["pages"]
        txn.pages_requested = txn.pages
    elif name == "hot_adding":
        txn.pages_requested = facts["pages"]
        txn.detail = f"at {facts['pfn']:#x}"
        self.hot_add_errno = None
    elif name == "hot_add_error":
        self.hot_add_errno = facts["errno"]
        self.hot_add_off = self.hot_add_off or facts["errno"] == -EEXIST
    elif name in ("hot_add_failed", "ignore_hot_add"):
        _hot_add_failed(self, txn, name)
        told.seen_end = True
        self.close_told()
    elif name == "online":
        txn.pages = (txn.pages or 0) + facts["pages"]
        if txn.pages_requested is not None:
            txn.outcome = "accepted" if txn.pages >= txn.pages_requested else "partial"
