"""Expert findings, registered once with a stable id, the way Wireshark registers ``ei_``.

A finding is what a stage noticed about one message: a source (a torn
capture record, a broken hex line), the per-message checks, or the
transaction tracker.  Every kind of finding is an :class:`Expert` entry in
the one table below, with an id scripts can match on (``hvdm.size.truncated``),
a Wireshark expert group, a severity and a sentence saying what it means (the
README lists them; the generated Wireshark dissector registers one
``ProtoExpert`` per entry).  Code raises a finding by calling its entry with
the sentence for this occurrence::

    SIZE_TRUNCATED(f"truncated: hdr.size {size} but only {available} bytes present", "size")

To add a finding: one :func:`register` line in the section of its stage
(ids are ``hvdm.<area>.<what>``, lower case, unique), a test that provokes
it, and its row in the README table (``tests/test_readme.py`` compares the
two).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How bad it is, worst first (Wireshark's error, warn, note)."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def rank(self) -> int:
        """0 for the worst, so ``min(..., key=rank)`` picks the worst of several."""
        return _RANKS[self]


_RANKS = {severity: rank for rank, severity in enumerate(Severity)}


class Group(StrEnum):
    """Wireshark's expert groups (``PI_MALFORMED``, ...), the ones this protocol needs."""

    MALFORMED = "malformed"
    PROTOCOL = "protocol"
    SEQUENCE = "sequence"
    REASSEMBLE = "reassemble"
    UNDECODED = "undecoded"
    RESPONSE_CODE = "response_code"
    REQUEST_CODE = "request_code"
    ASSUMPTION = "assumption"
    DEPRECATED = "deprecated"
    COMMENT = "comment"


@dataclass(frozen=True, slots=True)
class Expert:
    """One registered kind of finding: what every occurrence of it shares."""

    id: str
    group: Group
    severity: Severity
    meaning: str

    def __call__(self, message: str, field: str | None = None) -> Finding:
        """An occurrence: ``message`` says what this one saw, ``field`` where (C name)."""
        return Finding(self, message, field)


@dataclass(frozen=True, slots=True)
class Finding:
    """One occurrence of a registered finding, attached to a message."""

    expert: Expert
    message: str
    field: str | None = None

    @property
    def id(self) -> str:
        return self.expert.id

    @property
    def group(self) -> Group:
        return self.expert.group

    @property
    def severity(self) -> Severity:
        return self.expert.severity


#: Every registered finding by id, in registration order.
REGISTRY: dict[str, Expert] = {}

_ID = re.compile(r"hvdm(\.[a-z0-9_]+){2,}")


def register(expert_id: str, group: Group, severity: Severity, meaning: str) -> Expert:
    """Add one entry to :data:`REGISTRY`; an id is registered once, ever."""
    if not _ID.fullmatch(expert_id):
        raise ValueError(f"expert id {expert_id!r} is not hvdm.<area>.<what> in lower case")
    if expert_id in REGISTRY:
        raise ValueError(f"expert id {expert_id!r} is registered twice")
    expert = Expert(expert_id, group, severity, meaning)
    REGISTRY[expert_id] = expert
    return expert


ERROR, WARNING, NOTE = Severity.ERROR, Severity.WARNING, Severity.NOTE
G = Group

# --- sources: captures (pcap, pcapng) and raw bytes ------------------------------------

CAPTURE_RECORD_TRUNCATED = register(
    "hvdm.capture.record_truncated", G.MALFORMED, ERROR,
    "The file ends inside a packet record: fewer bytes than its captured length",
)  # fmt: skip
CAPTURE_BLOCK_TRUNCATED = register(
    "hvdm.capture.block_truncated", G.MALFORMED, ERROR,
    "A pcapng packet block is shorter than its length or its fixed fields",
)  # fmt: skip
CAPTURE_CAPLEN_OVERRUN = register(
    "hvdm.capture.caplen_overrun", G.MALFORMED, ERROR,
    "A packet's captured length runs past the end of its pcapng block",
)  # fmt: skip
CAPTURE_TRAILER_MISMATCH = register(
    "hvdm.capture.trailer_mismatch", G.MALFORMED, ERROR,
    "A pcapng block's trailing length differs from its leading one; reading stops after it",
)  # fmt: skip
CAPTURE_INTERFACE_UNKNOWN = register(
    "hvdm.capture.interface_unknown", G.MALFORMED, ERROR,
    "A packet names an interface its pcapng section does not describe",
)  # fmt: skip
CAPTURE_OPTION_OVERRUN = register(
    "hvdm.capture.option_overrun", G.MALFORMED, WARNING,
    "A pcapng option runs past the end of its block; later options are ignored",
)  # fmt: skip
CAPTURE_FLAGS_SIZE = register(
    "hvdm.capture.flags_size", G.MALFORMED, WARNING,
    "A pcapng packet flags option is not 4 bytes; the direction it would give is unknown",
)  # fmt: skip
CAPTURE_SNAPLEN = register(
    "hvdm.capture.snaplen", G.MALFORMED, WARNING,
    "The capture kept fewer bytes than the packet had (snap length)",
)  # fmt: skip
CAPTURE_COMMENT_CUT = register(
    "hvdm.capture.comment_cut", G.COMMENT, WARNING,
    "A comment longer than a pcapng option holds (65535 bytes) was cut when written",
)  # fmt: skip
CAPTURE_MARKER_CUT = register(
    "hvdm.capture.marker_cut", G.COMMENT, WARNING,
    "Marker items that did not fit in one pcapng option (65535 bytes) were left out",
)  # fmt: skip
RAW_SPLIT_STOPPED = register(
    "hvdm.raw.split_stopped", G.MALFORMED, ERROR,
    "Raw input: a length below the header or past the input stops the split; "
    "the rest is one last frame",
)  # fmt: skip

# --- sources: hex dumps ---------------------------------------------------------------

HEX_LINE = register(
    "hvdm.hex.line", G.MALFORMED, WARNING,
    "A hex dump line is damaged (odd digits, a bad group); what could be read is kept",
)  # fmt: skip
HEX_REPEAT_EMPTY = register(
    "hvdm.hex.repeat_empty", G.MALFORMED, WARNING,
    "A '*' line (repeated rows) is followed by an offset that repeats nothing",
)  # fmt: skip
HEX_REPEAT_PARTIAL = register(
    "hvdm.hex.repeat_partial", G.MALFORMED, WARNING,
    "The bytes a '*' line repeats are not a whole number of rows",
)  # fmt: skip
HEX_REPEAT_UNENDED = register(
    "hvdm.hex.repeat_unended", G.MALFORMED, WARNING,
    "A '*' line is not followed by an offset: the repeated bytes are missing",
)  # fmt: skip
HEX_STARTS_LATE = register(
    "hvdm.hex.starts_late", G.MALFORMED, ERROR,
    "The dump starts past offset 0: the first bytes, with the header, are missing",
)  # fmt: skip
HEX_OFFSET_GAP = register(
    "hvdm.hex.offset_gap", G.MALFORMED, ERROR,
    "The offsets jump forward: the bytes between were not printed",
)  # fmt: skip
HEX_OFFSET_BACKWARDS = register(
    "hvdm.hex.offset_backwards", G.MALFORMED, WARNING,
    "An offset goes back inside one dump",
)  # fmt: skip
HEX_ENDS_SHORT = register(
    "hvdm.hex.ends_short", G.MALFORMED, ERROR,
    "The dump's closing offset says more bytes than were printed",
)  # fmt: skip
HEX_ENDS_EARLY = register(
    "hvdm.hex.ends_early", G.MALFORMED, WARNING,
    "The dump's closing offset says fewer bytes than were printed; the extra ones are dropped",
)  # fmt: skip
HEX_TOO_LONG = register(
    "hvdm.hex.too_long", G.MALFORMED, ERROR,
    "A dump goes on past the largest message; it is cut there",
)  # fmt: skip
HEX_TIMESTAMP_DIGITS = register(
    "hvdm.hex.timestamp_digits", G.MALFORMED, WARNING,
    "A line's timestamp has more digits than a time may have; the message has no time from it",
)  # fmt: skip
HEX_LINES_NOT_LISTED = register(
    "hvdm.hex.lines_not_listed", G.COMMENT, WARNING,
    "A dump had more damaged lines than are listed; this counts the rest",
)  # fmt: skip
HEX_SPLIT_BY_SIZE = register(
    "hvdm.hex.split_by_size", G.ASSUMPTION, NOTE,
    "One dump held several messages back to back; it was split by each header's size",
)  # fmt: skip
HEX_ORDER_CONFLICT = register(
    "hvdm.hex.order_conflict", G.ASSUMPTION, WARNING,
    "The ASCII column fits the hex as bytes on some lines and as little-endian words on others",
)  # fmt: skip
HEX_ORDER_ASSUMED = register(
    "hvdm.hex.order_assumed", G.ASSUMPTION, NOTE,
    "Nothing settles the byte order of multi-byte hex groups; the default was taken",
)  # fmt: skip
HEX_ASCII_MISMATCH = register(
    "hvdm.hex.ascii_mismatch", G.MALFORMED, NOTE,
    "The ASCII column disagrees with the hex; the hex is what counts",
)  # fmt: skip

# --- one message: VMBus framing -------------------------------------------------------

VMBUS_LEN8_OVERRUN = register(
    "hvdm.vmbus.len8_overrun", G.MALFORMED, ERROR,
    "The VMBus descriptor's len8 claims more bytes than the frame holds",
)  # fmt: skip
VMBUS_TRAILING = register(
    "hvdm.vmbus.trailing", G.MALFORMED, WARNING,
    "Bytes follow the VMBus packet inside the frame",
)  # fmt: skip
VMBUS_LEN8_MISMATCH = register(
    "hvdm.vmbus.len8_mismatch", G.MALFORMED, WARNING,
    "len8 differs from the descriptor plus the message padded to 8 bytes",
)  # fmt: skip

# --- one message: header and sizes ----------------------------------------------------

HEADER_SHORT = register(
    "hvdm.header.short", G.MALFORMED, ERROR,
    "The bytes end inside the 8-byte dm_header",
)  # fmt: skip
TYPE_UNKNOWN = register(
    "hvdm.type.unknown", G.UNDECODED, ERROR,
    "hdr.type is no message type of the protocol; the body is not decoded",
)  # fmt: skip
SIZE_BELOW_HEADER = register(
    "hvdm.size.below_header", G.MALFORMED, ERROR,
    "hdr.size is smaller than the header itself",
)  # fmt: skip
SIZE_BELOW_FIXED = register(
    "hvdm.size.below_fixed", G.MALFORMED, ERROR,
    "hdr.size is smaller than the fixed part of its message type",
)  # fmt: skip
SIZE_TRUNCATED = register(
    "hvdm.size.truncated", G.MALFORMED, ERROR,
    "hdr.size claims more bytes than the input holds",
)  # fmt: skip
SIZE_MISMATCH = register(
    "hvdm.size.mismatch", G.PROTOCOL, WARNING,
    "hdr.size disagrees with what the content declares (counts, sizes)",
)  # fmt: skip
SIZE_TRAILING = register(
    "hvdm.size.trailing", G.MALFORMED, WARNING,
    "Bytes follow a whole message: more than its content declares",
)  # fmt: skip
SIZE_LARGE_PART = register(
    "hvdm.size.large_part", G.PROTOCOL, WARNING,
    "One part is larger than the peers ever send in one message",
)  # fmt: skip
BODY_TRUNCATED = register(
    "hvdm.body.truncated", G.MALFORMED, ERROR,
    "The bytes end inside the message's fields; the missing ones are named",
)  # fmt: skip

# --- one message: contents ------------------------------------------------------------

RANGES_SHORT = register(
    "hvdm.ranges.short", G.MALFORMED, ERROR,
    "range_count is more than the page ranges the bytes hold",
)  # fmt: skip
INFO_SIZE_SHORT = register(
    "hvdm.info.size_short", G.MALFORMED, ERROR,
    "info_size is more than the bytes that follow",
)  # fmt: skip
INFO_ENTRY_TRUNCATED = register(
    "hvdm.info.entry_truncated", G.MALFORMED, ERROR,
    "An info entry is cut short",
)  # fmt: skip
INFO_DATA_SHORT = register(
    "hvdm.info.data_short", G.MALFORMED, ERROR,
    "An info entry's data_size is more than its bytes",
)  # fmt: skip
INFO_TYPE_UNKNOWN = register(
    "hvdm.info.type_unknown", G.UNDECODED, NOTE,
    "An info entry of a type the protocol does not define",
)  # fmt: skip
INFO_MAX_PAGE_CNT_SIZE = register(
    "hvdm.info.max_page_cnt_size", G.PROTOCOL, WARNING,
    "A MAX_PAGE_CNT entry whose data is not one 8-byte count",
)  # fmt: skip
RESERVED_NONZERO = register(
    "hvdm.reserved.nonzero", G.PROTOCOL, WARNING,
    "A reserved field is not zero",
)  # fmt: skip
VERSION_UNKNOWN = register(
    "hvdm.version.unknown", G.PROTOCOL, NOTE,
    "A version request offers no known protocol version",
)  # fmt: skip
QOS_UNKNOWN_BITS = register(
    "hvdm.qos.unknown_bits", G.PROTOCOL, WARNING,
    "A hot-remove request sets qos_flags bits outside DM_REMOVE_QOS_MASK",
)  # fmt: skip
HOT_ADD_TRANSIENT = register(
    "hvdm.hot_add.transient_failure", G.RESPONSE_CODE, NOTE,
    "Hot-add result 0: the guest failed this time; the host may retry",
)  # fmt: skip
HOT_ADD_PERMANENT = register(
    "hvdm.hot_add.permanent_failure", G.RESPONSE_CODE, NOTE,
    "Hot-add result 1 with page_count 0: the guest cannot hot-add; the host stops trying",
)  # fmt: skip
HOT_ADD_RESULT_UNKNOWN = register(
    "hvdm.hot_add.result_unknown", G.RESPONSE_CODE, WARNING,
    "A hot-add result the protocol does not define",
)  # fmt: skip
DIRECTION_WRONG = register(
    "hvdm.direction.wrong", G.PROTOCOL, WARNING,
    "The capture says this message went the way its type is never sent",
)  # fmt: skip

# --- transactions ---------------------------------------------------------------------

SEQUENCE_NO_REQUEST = register(
    "hvdm.sequence.no_request", G.SEQUENCE, WARNING,
    "A reply with no request outstanding, though earlier ones of its kind were seen",
)  # fmt: skip
SEQUENCE_REQUEST_NOT_CAPTURED = register(
    "hvdm.sequence.request_not_captured", G.SEQUENCE, NOTE,
    "A reply whose request is not in the capture (it may start after the request)",
)  # fmt: skip
SEQUENCE_AFTER_FINAL = register(
    "hvdm.sequence.after_final", G.SEQUENCE, WARNING,
    "A part arrives after the part that said it was the last",
)  # fmt: skip
SEQUENCE_SUPERSEDED = register(
    "hvdm.sequence.superseded", G.SEQUENCE, WARNING,
    "A new request while one of its kind is still unanswered; the old one closes incomplete",
)  # fmt: skip
SEQUENCE_EARLY_RESPONSE = register(
    "hvdm.sequence.early_response", G.SEQUENCE, WARNING,
    "The UNBALLOON_RESPONSE arrives before the host's final part",
)  # fmt: skip
SEQUENCE_RENEGOTIATED = register(
    "hvdm.sequence.renegotiated", G.SEQUENCE, NOTE,
    "A version offer after an accepted one: the channel was reopened",
)  # fmt: skip
SEQUENCE_NEWER_THAN_VERSION = register(
    "hvdm.sequence.newer_than_version", G.PROTOCOL, WARNING,
    "A message of a protocol version newer than the one the session negotiated",
)  # fmt: skip
VERSION_REFUSED = register(
    "hvdm.version.refused_last", G.RESPONSE_CODE, ERROR,
    "The host refused the guest's last version offer: negotiation failed",
)  # fmt: skip
CAPABILITIES_REFUSED = register(
    "hvdm.capabilities.refused", G.RESPONSE_CODE, WARNING,
    "The host refused the guest's capabilities",
)  # fmt: skip
PAGES_OVER_REQUEST = register(
    "hvdm.pages.over_request", G.PROTOCOL, WARNING,
    "The guest gave more pages than the host asked for",
)  # fmt: skip
REASSEMBLE_OVERLAP = register(
    "hvdm.reassemble.overlap", G.REASSEMBLE, WARNING,
    "Page ranges of one transaction overlap: some pages appear twice",
)  # fmt: skip
UNBALLOON_NEVER_BALLOONED = register(
    "hvdm.unballoon.never_ballooned", G.SEQUENCE, NOTE,
    "Pages returned that this capture never saw ballooned (it may start after they were)",
)  # fmt: skip
UNBALLOON_AGAIN = register(
    "hvdm.unballoon.again", G.SEQUENCE, WARNING,
    "Pages returned again without being ballooned since they were last returned",
)  # fmt: skip
UNBALLOON_TYPE7_RESPONSE = register(
    "hvdm.unballoon.type7_response", G.PROTOCOL, WARNING,
    "A header-only BALLOON_RESPONSE after the last unballoon part, taken as the "
    "UNBALLOON_RESPONSE (a known guest bug)",
)  # fmt: skip
FINDINGS_DROPPED = register(
    "hvdm.findings.dropped", G.COMMENT, NOTE,
    "A transaction had more findings than are kept; this counts the rest",
)  # fmt: skip

# --- sources and tracker: logs (QEMU trace, QMP, dmesg, ftrace, debugfs) --------------------

LOG_LINE_TOO_LONG = register(
    "hvdm.log.line_too_long", G.MALFORMED, WARNING,
    "A log line longer than the reader keeps whole; it is skipped",
)  # fmt: skip
LOG_LINE_NUL = register(
    "hvdm.log.line_nul", G.MALFORMED, WARNING,
    "A log line holds NUL bytes (a torn write, an unclean shutdown); they are left out",
)  # fmt: skip
LOG_QEMU_FORMAT = register(
    "hvdm.log.qemu_format", G.MALFORMED, WARNING,
    "An hv_balloon trace line does not match its event's format in QEMU's trace-events",
)  # fmt: skip
LOG_TIME_UNREADABLE = register(
    "hvdm.log.time_unreadable", G.MALFORMED, WARNING,
    "A log line's time stamp is garbled or out of range: the line is read without a time",
)  # fmt: skip
LOG_QEMU_UNKNOWN_EVENT = register(
    "hvdm.log.qemu_unknown_event", G.UNDECODED, NOTE,
    "An hv_balloon_* trace event QEMU 8.2 and later do not have (an unmerged series?); skipped",
)  # fmt: skip
LOG_QEMU_UNKNOWN_STATE = register(
    "hvdm.log.qemu_unknown_state", G.UNDECODED, NOTE,
    "A state change to a state hv-balloon does not have",
)  # fmt: skip
LOG_QEMU_WARNING = register(
    "hvdm.log.qemu_warning", G.PROTOCOL, WARNING,
    "QEMU's hv-balloon device warned (warn_report): a message too short, in the wrong "
    "state, or pages it could not take back",
)  # fmt: skip
LOG_QEMU_ERROR = register(
    "hvdm.log.qemu_error", G.PROTOCOL, ERROR,
    "QEMU's hv-balloon device reported an error (error_report)",
)  # fmt: skip
LOG_QMP_NOT_JSON = register(
    "hvdm.log.qmp_not_json", G.MALFORMED, WARNING,
    "A line of a QMP log that is no JSON object",
)  # fmt: skip
LOG_QMP_VALUE = register(
    "hvdm.log.qmp_value", G.MALFORMED, WARNING,
    "A QMP status report value missing, no integer, out of range or no whole number of pages",
)  # fmt: skip
LOG_QMP_QUERY_ERROR = register(
    "hvdm.log.qmp_query_error", G.RESPONSE_CODE, NOTE,
    "query-hv-balloon-status-report failed (no device, reporting off, no report yet)",
)  # fmt: skip
LOG_FTRACE_LINE = register(
    "hvdm.log.ftrace_line", G.MALFORMED, WARNING,
    "A balloon_status line not in trace_pipe's layout or not matching the tracepoint's format",
)  # fmt: skip
LOG_FTRACE_NEGATIVE = register(
    "hvdm.log.ftrace_negative", G.PROTOCOL, WARNING,
    "balloon_status shows a negative page count, which no status report can carry",
)  # fmt: skip
LOG_FTRACE_RANGE = register(
    "hvdm.log.ftrace_range", G.MALFORMED, WARNING,
    "balloon_status shows a number beyond what its %lld or %ld can print: a garbled line; "
    "the number is not taken as a value",
)  # fmt: skip
LOG_DEBUGFS_LINE = register(
    "hvdm.log.debugfs_line", G.MALFORMED, WARNING,
    "A line of a debugfs snapshot that is no hv-balloon item",
)  # fmt: skip
LOG_DEBUGFS_PAGE_SIZE = register(
    "hvdm.log.debugfs_page_size", G.COMMENT, NOTE,
    "The guest's page size is not 4096 bytes: it does not balloon",
)  # fmt: skip
LOG_DMESG_FORMAT = register(
    "hvdm.log.dmesg_format", G.MALFORMED, WARNING,
    "An hv_balloon line of the guest's log that is one of the driver's messages garbled (a "
    "number out of range, bytes lost)",
)  # fmt: skip
LOG_DMESG_UNKNOWN = register(
    "hvdm.log.dmesg_unknown", G.UNDECODED, NOTE,
    "An hv_balloon line of the guest's log that is none of the driver's messages (another "
    "kernel version?)",
)  # fmt: skip
LOG_GUEST_IGNORES = register(
    "hvdm.log.guest_ignores", G.SEQUENCE, WARNING,
    "The guest ignores a balloon or unballoon request (hibernation allowed) and sends no reply",
)  # fmt: skip
LOG_CLOCKS_APART = register(
    "hvdm.log.clocks_apart", G.SEQUENCE, WARNING,
    "A guest's line is too far from the host's request or negotiation it would answer: "
    "the logs' clocks are not aligned (check --boot-time)",
)  # fmt: skip
LOG_GUEST_PARTIAL = register(
    "hvdm.log.guest_partial", G.RESPONSE_CODE, NOTE,
    "The guest says a balloon request will be partly fulfilled (its floor, or not enough memory)",
)  # fmt: skip
LOG_GUEST_NOTE = register(
    "hvdm.log.guest_note", G.COMMENT, NOTE,
    "A note of the guest's driver worth seeing (hot add ignored, a feature off)",
)  # fmt: skip
LOG_GUEST_WARNING = register(
    "hvdm.log.guest_warning", G.PROTOCOL, WARNING,
    "A warning of the guest's driver (busy, an unhandled message, an unknown info type)",
)  # fmt: skip
LOG_GUEST_ERROR = register(
    "hvdm.log.guest_error", G.PROTOCOL, ERROR,
    "An error of the guest's driver (a failed hot add or reply, capabilities refused)",
)  # fmt: skip
LOG_HOST_RESET = register(
    "hvdm.log.host_reset", G.SEQUENCE, NOTE,
    "QEMU reset the device: the channel starts over",
)  # fmt: skip
LOG_HOT_ADD_ENDED = register(
    "hvdm.log.hot_add_ended", G.SEQUENCE, NOTE,
    "A failed or short hot add: QEMU marks the rest of its memory backend unusable until reset",
)  # fmt: skip
LOG_HOT_ADD_NOT_POSTED = register(
    "hvdm.log.hot_add_not_posted", G.SEQUENCE, NOTE,
    "QEMU sets up a hot add it will not post, after a failed or short one",
)  # fmt: skip
LOG_UNANSWERED = register(
    "hvdm.log.unanswered", G.SEQUENCE, WARNING,
    "A request the host's log shows sent that the guest never answered, the log going on past "
    "--reply-timeout after it",
)  # fmt: skip
LOG_FLOOR = register(
    "hvdm.log.floor", G.SEQUENCE, WARNING,
    "Balloon requests in a row, each partly fulfilled and followed by a smaller one: the "
    "guest is at its floor",
)  # fmt: skip
LOG_STATUS_STOPPED = register(
    "hvdm.log.status_stopped", G.SEQUENCE, WARNING,
    "Status reports stopped: none from the last one to the end of the log, several seconds "
    "later (QMP's one-a-second limit never counts)",
)  # fmt: skip
