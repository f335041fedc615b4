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
    ExpertDef("hvdm.header.short", "error", "MALFORMED", "The bytes end inside the header"),
    ExpertDef("hvdm.type.unknown", "error", "UNDECODED", "Unknown message type"),
    ExpertDef("hvdm.size.below_header", "error", "MALFORMED", "hdr.size smaller than the header"),
    ExpertDef("hvdm.size.below_fixed", "error", "MALFORMED", "hdr.size below the fixed part"),
    ExpertDef("hvdm.size.truncated", "error", "MALFORMED", "hdr.size claims more than the bytes"),
    ExpertDef("hvdm.body.truncated", "error", "MALFORMED", "The bytes end inside the message"),
    ExpertDef("hvdm.size.trailing", "warning", "MALFORMED", "Bytes after the end of the message"),
    ExpertDef("hvdm.size.mismatch", "warning", "PROTOCOL", "hdr.size disagrees with the content"),
    ExpertDef("hvdm.size.large_part", "warning", "PROTOCOL", "A part larger than peers send"),
    ExpertDef("hvdm.ranges.short", "error", "MALFORMED", "range_count beyond the bytes"),
    ExpertDef("hvdm.info.size_short", "error", "MALFORMED", "info_size beyond the bytes"),
    ExpertDef("hvdm.info.entry_truncated", "error", "MALFORMED", "An info entry cut short"),
    ExpertDef("hvdm.info.data_short", "error", "MALFORMED", "data_size beyond the entry's bytes"),
    ExpertDef("hvdm.reserved.nonzero", "warning", "PROTOCOL", "A reserved field is not zero"),
    ExpertDef("hvdm.vmbus.len8_overrun", "error", "MALFORMED", "VMBus len8 beyond the frame"),
    ExpertDef("hvdm.vmbus.trailing", "warning", "MALFORMED", "Bytes after the VMBus packet"),
    ExpertDef("hvdm.vmbus.len8_mismatch", "warning", "MALFORMED", "VMBus len8 disagrees"),
    ExpertDef("hvdm.other.error", "error", "SEQUENCE", "dmdissect error"),
    ExpertDef("hvdm.other.warning", "warning", "SEQUENCE", "dmdissect warning"),
    ExpertDef("hvdm.other.note", "note", "SEQUENCE", "dmdissect note"),
)

#: The check the runtime makes -> the expert id it raises.  Counted and sized
#: lists are checked generically; their ids are by the field that counts them.
CHECKS = {
    "short_header": "hvdm.header.short",
    "unknown_type": "hvdm.type.unknown",
    "size_below_header": "hvdm.size.below_header",
    "size_below_fixed": "hvdm.size.below_fixed",
    "truncated": "hvdm.size.truncated",
    "body_truncated": "hvdm.body.truncated",
    "trailing": "hvdm.size.trailing",
    "size_mismatch": "hvdm.size.mismatch",
    "part_too_large": "hvdm.size.large_part",
    "count:range_count": "hvdm.ranges.short",
    "length:info_size": "hvdm.info.size_short",
    "entry_truncated:info": "hvdm.info.entry_truncated",
    "entry_data_short:info": "hvdm.info.data_short",
    "reserved_nonzero": "hvdm.reserved.nonzero",
    "vmbus_len8_exceeds": "hvdm.vmbus.len8_overrun",
    "vmbus_trailing": "hvdm.vmbus.trailing",
    "vmbus_len8_mismatch": "hvdm.vmbus.len8_mismatch",
}

#: The ids the runtime raises by itself (the others come from comments).
STATIC_IDS = frozenset(CHECKS.values())

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
