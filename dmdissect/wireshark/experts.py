"""The expert info the plugin raises, and the transaction fields it reads back.

Every id of dmdissect's finding registry is a ProtoExpert with its group
and severity.  The static checks are those of
:mod:`dmdissect.analysis.expert` that need nothing but the message's own
bytes; the runtime raises them under the ids of :data:`CHECKS`.  The
others (the tracker's, a source's, those that need more than the bytes)
reach Wireshark through the packet comments that ``convert`` writes, with
their id; an id the plugin does not know comes under ``hvdm.other.*``.
"""

from __future__ import annotations

from dataclasses import dataclass

from dmdissect.findings import REGISTRY

_LUA_SEVERITIES = {"error": "ERROR", "warning": "WARN", "note": "NOTE"}
#: Groups whose name in Wireshark's Lua ``expert.group`` is not the upper-cased one.
_GROUPS = {"comment": "COMMENTS_GROUP"}


@dataclass(frozen=True)
class ExpertDef:
    id: str
    severity: str
    group: str
    summary: str

    @property
    def lua_severity(self) -> str:
        return _LUA_SEVERITIES[self.severity]


#: Every registered finding (dmdissect.findings.REGISTRY), then one per severity for an id
#: the plugin does not know (a marker written by another dmdissect version).
EXPERTS = tuple(
    ExpertDef(e.id, e.severity.value, _GROUPS.get(e.group.value, e.group.value.upper()), e.meaning)
    for e in REGISTRY.values()
) + (
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
    (
        "input_frame",
        "number",
        "Frame number of this message in the input dmdissect read; the transaction's "
        "frames count as it did",
    ),
)
