"""The expert info the plugin raises, and the transaction fields it reads back.

The static checks are those of :mod:`dmdissect.analysis.expert` that need
nothing but the message's own bytes; the runtime raises them under these
ids.  Findings that only the tracker (or a source) can make reach Wireshark
through the packet comments that ``convert`` writes, with their id when
they have one, else under the ``other_*`` id of their severity.
"""

from __future__ import annotations

from dataclasses import dataclass

_LUA_SEVERITIES = {"error": "ERROR", "warning": "WARN", "note": "NOTE"}


@dataclass(frozen=True)
class ExpertDef:
    id: str
    severity: str
    group: str
    summary: str

    @property
    def lua_severity(self) -> str:
        return _LUA_SEVERITIES[self.severity]


EXPERTS = (
    ExpertDef("short_header", "error", "MALFORMED", "Shorter than the header"),
    ExpertDef("unknown_type", "error", "UNDECODED", "Unknown message type"),
    ExpertDef("size_below_header", "error", "MALFORMED", "hdr.size smaller than the header"),
    ExpertDef("size_below_fixed", "error", "MALFORMED", "hdr.size smaller than the fixed part"),
    ExpertDef("truncated", "error", "MALFORMED", "hdr.size larger than the bytes (truncated)"),
    ExpertDef("body_truncated", "error", "MALFORMED", "The bytes end inside the message"),
    ExpertDef("trailing", "warning", "PROTOCOL", "Bytes after the end of the message"),
    ExpertDef("size_mismatch", "warning", "PROTOCOL", "hdr.size disagrees with the content"),
    ExpertDef("part_too_large", "warning", "PROTOCOL", "A part larger than peers send"),
    ExpertDef("count_exceeds_bytes", "error", "MALFORMED", "A count larger than the bytes hold"),
    ExpertDef("list_size_exceeds", "error", "MALFORMED", "A list size larger than the bytes"),
    ExpertDef("entry_truncated", "error", "MALFORMED", "An entry cut short"),
    ExpertDef("entry_data_short", "error", "MALFORMED", "An entry's data shorter than its size"),
    ExpertDef("reserved_nonzero", "warning", "PROTOCOL", "A reserved field is not zero"),
    ExpertDef("vmbus_len8_exceeds", "error", "MALFORMED", "VMBus len8 beyond the frame"),
    ExpertDef("vmbus_trailing", "warning", "PROTOCOL", "Bytes after the VMBus packet"),
    ExpertDef("vmbus_len8_mismatch", "warning", "PROTOCOL", "VMBus len8 disagrees with hdr.size"),
    ExpertDef("other_error", "error", "SEQUENCE", "dmdissect error"),
    ExpertDef("other_warning", "warning", "SEQUENCE", "dmdissect warning"),
    ExpertDef("other_note", "note", "SEQUENCE", "dmdissect note"),
)

#: The ids the runtime raises by itself (the others come from comments).
STATIC_IDS = frozenset(e.id for e in EXPERTS if not e.id.startswith("other_"))

#: Transaction facts convert writes and the plugin shows: (name, kind, description).
TRANSACTION_FIELDS = (
    ("transaction.kind", "string", "Kind of transaction (balloon, unballoon, hot_add, ...)"),
    ("transaction.number", "number", "Number of the transaction among those of its kind"),
    ("transaction.role", "string", "request, part, response, info or report"),
    ("transaction.part", "number", "Part number on the multi-part side"),
    ("transaction.rule", "string", "What linked the message to its transaction"),
    ("transaction.request_frame", "frame", "Frame of the transaction's request"),
    ("transaction.final_frame", "frame", "Frame the transaction ends (is reassembled) in"),
    ("transaction.complete", "bool", "The transaction was seen from start to end"),
    ("transaction.reason", "string", "Why the transaction is incomplete"),
    ("origin", "string", "Where dmdissect read the bytes from"),
)
