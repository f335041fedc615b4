"""Every field a filter or ``-T fields`` can name: the protocol's and the analysis's.

The protocol fields come from :mod:`dmdissect.layers.registry` (derived from
``fields_desc``); this module adds what only the analysis knows (the frame,
the direction, the transaction link, expert findings, left-over bytes) and,
for every name, a *getter*: a function from a dissected message to the list
of values the field has in it.  An empty list means the field is absent; a
repeated field (a page range's ``start_page``) gives one value per
occurrence.  Getters read the fast-path message (values objects or Scapy
packets alike, by attribute) and never build a Scapy packet.

``FIELDS`` maps each name to a :class:`FieldDef`; :func:`lookup` also takes
the ``hvdm.`` prefix the Wireshark plugin registers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dmdissect.analysis.timeref import TimeReference
from dmdissect.layers import DESCRIPTOR_SIZE, HEADER_SIZE, MESSAGE_LAYERS
from dmdissect.layers.compiled import layer_of
from dmdissect.layers.registry import (
    HEADER_SLOTS,
    PREFIX,
    PROTOCOL_FIELDS,
    VMBUS_SLOTS,
    ProtocolField,
    Slot,
    message_slots,
)

#: Value types of fields, as filters and ``dmdissect fields`` name them.
UINT, BOOL, ENUM, FLAGS, BYTES, STRING, TIME, FLOAT, NONE = (
    "uint",
    "bool",
    "enum",
    "flags",
    "bytes",
    "string",
    "time",
    "float",
    "none",
)

Getter = Callable[[Any, TimeReference], list]

#: How a filter may write a boolean value (Wireshark's spellings).
BOOL_NAMES = {"True": 1, "False": 0, "true": 1, "false": 0, "TRUE": 1, "FALSE": 0}


@dataclass(frozen=True)
class FieldDef:
    """One name a filter can use: its value type, meaning, and how to read it."""

    name: str
    kind: str
    description: str
    get: Getter
    repeated: bool = False
    #: Names usable as values: value string -> number (enumerations, booleans).
    names: Mapping[str, int] | None = None
    protocol: ProtocolField | None = None
    #: ``frame``, ``hvdm`` (the protocol's own fields) or ``analysis``.
    group: str = "analysis"
    #: The bytes each value was read from (the ``@field`` of a filter); None when the
    #: field has no bytes of its own (a frame number, a transaction link).
    raw: Getter | None = None

    @property
    def abbrev(self) -> str:
        return PREFIX + self.name


# --- protocol fields ----------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Scapy's flag values as integers; numbers, bytes, structures and lists as read."""
    if type(value) in (int, bytes, list) or hasattr(value, "missing"):
        return value
    return int(value)


def _collect(obj: Any, path: tuple[str, ...], out: list) -> None:
    name = path[0]
    if name in obj.missing:
        return
    value = getattr(obj, name, None)
    if value is None:
        return
    items = value if isinstance(value, list) else (value,)
    for item in items:
        if len(path) == 1:
            out.append(_plain(item))
        else:
            _collect(item, path[1:], out)


def _form_of(field: ProtocolField) -> tuple[str | None, type]:
    """The layer's field a typed form is read from, and the type its values have there."""
    slot = field.slots[0][1]
    return slot.form, bytes if slot.kind == "bytes" else int


def _body_getter(field: ProtocolField) -> Getter:
    layers = frozenset(MESSAGE_LAYERS[t] for t in field.messages)
    path = tuple(field.name.split("."))
    form, holds = _form_of(field)
    if form is not None:
        # One form of a field whose type depends on others: its values of that type.
        path = (*path[:-1], form)

        def get_form(message: Any, ref: TimeReference) -> list:
            body = message.body
            if body is None or layer_of(body) not in layers:
                return []
            out: list = []
            _collect(body, path, out)
            return [value for value in out if type(value) is holds]

        return get_form
    if len(path) == 1:
        name = path[0]

        def get_top(message: Any, ref: TimeReference) -> list:
            body = message.body
            if body is None or layer_of(body) not in layers or name in body.missing:
                return []
            value = getattr(body, name, None)
            return [] if value is None else [_plain(value)]

        return get_top

    def get(message: Any, ref: TimeReference) -> list:
        body = message.body
        if body is None or layer_of(body) not in layers:
            return []
        out: list = []
        _collect(body, path, out)
        return out

    return get


def _header_getter(name: str) -> Getter:
    attribute = name.split(".", 1)[1]

    def get(message: Any, ref: TimeReference) -> list:
        value = getattr(message, attribute)
        return [] if value is None else [value]

    return get


def _vmbus_getter(name: str) -> Getter:
    attribute = name.split(".", 1)[1]

    def get(message: Any, ref: TimeReference) -> list:
        vmbus = message.vmbus if message.framed else None
        if vmbus is None or attribute in vmbus.missing:
            return []
        return [_plain(getattr(vmbus, attribute))]

    return get


# --- the bytes of protocol fields (``@field``) -----------------------------------------


def _path_to(slots: tuple[Slot, ...], name: str) -> tuple[Slot, ...] | None:
    """The slots from the top of ``slots`` down to the one called ``name``."""
    for slot in slots:
        if slot.name == name:
            return (slot,)
        if name.startswith(slot.name + "."):
            below = _path_to(slot.children, name)
            if below is not None:
                return (slot, *below)
    return None


def _length(slot: Slot, item: Any) -> int | None:
    """Bytes of one slot: its unit, or (a field sized by another) that field's value.

    ``item`` is the structure holding the slot; None asks whether the size is fixed.
    """
    if slot.length_field and slot.kind == "bytes":
        if item is None:
            return None
        value = getattr(item, slot.length_field.rsplit(".", 1)[-1], None)
        return value if isinstance(value, int) else None
    return slot.size


def _holds(slot: Slot, item: Any) -> bool:
    """The item has a value in ``slot``: always, but for a typed form of another type."""
    if slot.form is None:
        return True
    value = getattr(item, slot.form, None)
    return isinstance(value, bytes) if slot.kind == "bytes" else type(value) is int


def _item_length(list_slot: Slot, item: Any) -> int | None:
    """Bytes of one item of a list: fixed, or where its last child ends."""
    if list_slot.item_size is not None:
        return list_slot.item_size
    end = 0
    for child in list_slot.children:
        if child.form is not None and child.kind != "bytes":
            # A typed form's bytes are the field's bytes, which its length field sizes.
            continue
        size = _length(child, item)
        if size is None or child.offset is None:
            return None
        end = max(end, child.offset + size)
    return end


def _spans_in(path: tuple[Slot, ...], body: Any) -> list[tuple[int, int]] | None:
    """(offset, length) in the message of every occurrence of the path's last slot.

    Offsets come from the registry's slots: a place in the message, or a
    place within each item of a list (items one after another from the
    list's offset).  None when the layout cannot say (a list inside a list).
    """
    lists = [slot for slot in path if slot.kind == "list"]
    leaf = path[-1]
    if not lists:
        size = _length(leaf, body)
        return None if leaf.offset is None or size is None else [(leaf.offset, size)]
    list_slot = lists[0]
    first = list_slot.offset
    if len(lists) > 1 or first is None:
        return None
    items = getattr(body, list_slot.name.rsplit(".", 1)[-1], None) or []
    step = list_slot.item_size
    if step is not None and leaf is list_slot:
        return [(first, step * len(items))]
    if step is not None and leaf.offset is not None and _length(leaf, None) is not None:
        # Items of one size: every place is arithmetic, nothing to read per item.
        at, size = first + leaf.offset, _length(leaf, None) or 0
        return [(at + step * i, size) for i in range(len(items))]
    spans: list[tuple[int, int]] = []
    position, ended = first, True
    for item in items:
        size = _item_length(list_slot, item)
        leaf_size = _length(leaf, item) if _holds(leaf, item) else None
        if leaf is not list_slot and leaf.offset is not None and leaf_size is not None:
            spans.append((position + leaf.offset, leaf_size))
        if size is None:
            ended = False
            break
        position += size
    if leaf is list_slot:
        # The list as one value: from its offset to the end of its items (or of the bytes).
        return [(first, position - first if ended else _UNBOUNDED)]
    return spans


#: A length reaching past any message: the bytes end first.
_UNBOUNDED = 1 << 62


def _raw_getter(field: ProtocolField, get: Getter) -> Getter | None:
    """The bytes of each value of a protocol field, as Wireshark's ``@field`` gives them.

    A bit field's bytes are those of its whole storage unit (the slot's
    size), as a Wireshark item with a mask covers its word.
    """
    if field.name.startswith(("hdr.", "vmbus.")):
        framed = field.name.startswith("vmbus.")
        (slot,) = _path_to(VMBUS_SLOTS if framed else HEADER_SLOTS, field.name) or (None,)
        if slot is None or slot.offset is None or slot.size is None:
            return None
        start, stop = slot.offset, slot.offset + slot.size

        def fixed(message: Any, ref: TimeReference) -> list:
            if not get(message, ref):
                return []
            data = message.frame.data if framed else message.message_bytes
            return [data[start:stop]] if len(data) >= stop else []

        return fixed
    paths = {t: _path_to(message_slots(t), field.name) for t in field.messages}

    def raw(message: Any, ref: TimeReference) -> list:
        values = get(message, ref)
        path = paths.get(message.type) if values else None
        spans = _spans_in(path, message.body) if path else None
        if not spans:
            return []
        data = message.message_bytes
        # A value the bytes cut short (a lying data_size) is what the bytes hold of it.
        pieces = [data[at : at + size] for at, size in spans if at < len(data)]
        return pieces[: len(values)]

    return raw


def _protocol_def(field: ProtocolField) -> FieldDef:
    if field.name.startswith("hdr."):
        get = _header_getter(field.name)
    elif field.name.startswith("vmbus."):
        get = _vmbus_getter(field.name)
    else:
        get = _body_getter(field)
    kind = {"struct": NONE, "list": NONE}.get(field.kind, field.kind)
    names = None
    if field.values:
        names = {text: number for number, text in field.values.items()}
    elif field.kind == "bool":
        names = BOOL_NAMES
    return FieldDef(
        field.name,
        kind,
        field.description,
        get,
        repeated=field.repeated,
        names=names,
        protocol=field,
        group="hvdm",
        raw=_raw_getter(field, get),
    )


# --- derived fields -----------------------------------------------------------------


def _one(read: Callable[[Any], Any]) -> Getter:
    def get(message: Any, ref: TimeReference) -> list:
        value = read(message)
        return [] if value is None else [value]

    return get


def _relative(message: Any, ref: TimeReference) -> list:
    time = message.frame.time
    if time is None or ref.time is None:
        return []
    return [round(time - ref.time, 6)]


def _link(key: str) -> Getter:
    def get(message: Any, ref: TimeReference) -> list:
        link = message.transaction
        value = getattr(link, key) if link is not None else None
        return [] if value is None else [value]

    return get


def _transaction_present(message: Any, ref: TimeReference) -> list:
    return [] if message.transaction is None else [True]


def _findings(attribute: str) -> Getter:
    def get(message: Any, ref: TimeReference) -> list:
        out = []
        for finding in message.findings:
            value = getattr(finding, attribute, None)
            if value is not None:
                out.append(getattr(value, "value", value))
        return out

    return get


def _expert_present(message: Any, ref: TimeReference) -> list:
    return [True] if message.findings else []


def _bytes(read: Callable[[Any], bytes | None]) -> Getter:
    def get(message: Any, ref: TimeReference) -> list:
        value = read(message)
        return [value] if value else []

    return get


def _comments(message: Any, ref: TimeReference) -> list:
    """tshark's ``frame.comment``: one value a pcapng comment, the marker convert writes too.

    A capture dmdissect wrote carries its marker as a comment like any other;
    tshark sees it, so the filter does (``len()``, ``count()``, ``contains``
    agree).  The views show only the packet's own comments, without it.
    """
    frame = message.frame
    if frame.comments:
        return list(frame.comments)
    return [frame.comment] if frame.comment else []


def _captured(message: Any, ref: TimeReference) -> list:
    """The frame's bytes, there for every frame a capture or dump holds, 0 bytes too.

    As in tshark, where a 0-byte packet still has its ``frame`` and its
    protocol (``len(hvdm) == 0``): only a log line, which has no bytes at all, has none.
    """
    frame = message.frame
    if frame.data or (frame.witness is None and frame.event is None):
        return [frame.data]
    return []


def _header_bytes(message: Any) -> bytes | None:
    return message.message_bytes[:HEADER_SIZE] if message.type is not None else None


def _vmbus_bytes(message: Any) -> bytes | None:
    return message.frame.data[:DESCRIPTOR_SIZE] if message.framed else None


def _frame_attr(name: str) -> Getter:
    return _one(lambda message: getattr(message.frame, name, None))


#: What only the analysis knows: the frame, the link, the findings, left-over bytes.
_DERIVED: tuple[FieldDef, ...] = (
    FieldDef(
        "frame",
        BYTES,
        "The frame's bytes (for slices: frame[0:2])",
        _captured,
        group="frame",
    ),
    FieldDef(
        "frame.number",
        UINT,
        "Frame number in the input, from 1",
        _frame_attr("index"),
        group="frame",
    ),
    FieldDef(
        "frame.time",
        TIME,
        "Capture time: epoch seconds, or seconds since boot for dmesg",
        _frame_attr("time"),
        group="frame",
    ),
    FieldDef(
        "frame.time_epoch",
        FLOAT,
        "Capture time as a number: epoch seconds, or seconds since boot for dmesg",
        _frame_attr("time"),
        group="frame",
    ),
    FieldDef(
        "frame.time_relative",
        FLOAT,
        "Seconds since the first message of the input",
        _relative,
        group="frame",
    ),
    FieldDef(
        "frame.len", UINT, "Bytes in the frame", _one(lambda m: len(m.frame.data)), group="frame"
    ),
    FieldDef(
        "frame.interface",
        UINT,
        "pcapng interface the frame was captured on",
        _frame_attr("interface"),
        group="frame",
    ),
    FieldDef(
        "frame.comment",
        STRING,
        "Each comment of the frame as its file holds it (dmdissect's marker too, as in tshark)",
        _comments,
        repeated=True,
        group="frame",
    ),
    FieldDef(
        "frame.file",
        STRING,
        "The input file the frame came from",
        _frame_attr("file"),
        group="frame",
    ),
    FieldDef(
        "frame.origin",
        STRING,
        "Where the bytes came from: file#record@offset or file:line",
        _frame_attr("origin"),
        group="frame",
    ),
    FieldDef(
        "hvdm",
        BYTES,
        "The protocol's bytes: the message, with its VMBus descriptor when framed",
        _captured,
        group="hvdm",
    ),
    # The header and the descriptor are structures: labels, as the plugin (and a
    # Wireshark dissector) registers them; @hdr gives their bytes.
    FieldDef(
        "hdr",
        NONE,
        "The message header (struct dm_header)",
        _bytes(_header_bytes),
        group="hvdm",
        raw=_bytes(_header_bytes),
    ),
    FieldDef(
        "vmbus",
        NONE,
        "The VMBus in-band descriptor, when the frame has one",
        _bytes(_vmbus_bytes),
        group="hvdm",
        raw=_bytes(_vmbus_bytes),
    ),
    FieldDef(
        "direction",
        STRING,
        "guest->host or host->guest",
        _one(lambda m: m.direction),
        group="analysis",
    ),
    FieldDef(
        "direction_source",
        STRING,
        "Who said the direction: capture, text, inferred or unknown",
        _one(lambda m: m.direction_source),
        group="analysis",
    ),
    FieldDef(
        "type_name",
        STRING,
        "Message type name: DM_..., UNKNOWN(n), or ? when the bytes end before it",
        _one(lambda m: m.type_name),
        group="analysis",
    ),
    FieldDef(
        "trailing",
        BYTES,
        "Bytes after a whole message",
        _bytes(lambda m: m.trailing if m.body is not None else b""),
        group="analysis",
    ),
    FieldDef(
        "cut",
        BYTES,
        "Left-over bytes of a structure the input cut short",
        _bytes(lambda m: m.cut),
        group="analysis",
    ),
    FieldDef(
        "body",
        BYTES,
        "Undecoded body of a message of unknown type",
        _bytes(lambda m: m.rest if m.body is None else b""),
        group="analysis",
    ),
    FieldDef(
        "vmbus_trailing",
        BYTES,
        "Bytes after the VMBus packet",
        _bytes(lambda m: m.extra),
        group="analysis",
    ),
    FieldDef(
        "transaction",
        NONE,
        "The message's transaction or series",
        _transaction_present,
        group="analysis",
    ),
    FieldDef(
        "transaction.kind",
        STRING,
        "version, capabilities, balloon, unballoon, hot_add, hot_remove, info, status or other",
        _link("kind"),
        group="analysis",
    ),
    FieldDef(
        "transaction.number",
        UINT,
        "Number of the transaction within its kind, from 1",
        _link("number"),
        group="analysis",
    ),
    FieldDef(
        "transaction.role",
        STRING,
        "request, part, response, info, report or other",
        _link("role"),
        group="analysis",
    ),
    FieldDef(
        "transaction.part",
        UINT,
        "Part number within the multi-part side (or place in a series)",
        _link("part"),
        group="analysis",
    ),
    FieldDef(
        "transaction.rule",
        STRING,
        "What linked the message to its transaction",
        _link("rule"),
        group="analysis",
    ),
    FieldDef(
        "transaction.request_frame",
        UINT,
        "Frame of the transaction's request",
        _link("request_frame"),
        group="analysis",
    ),
    FieldDef(
        "transaction.final_frame",
        UINT,
        "Frame the transaction ends in (reassembled in)",
        _link("final_frame"),
        group="analysis",
    ),
    FieldDef(
        "transaction.complete",
        BOOL,
        "The capture shows the whole transaction",
        _link("complete"),
        names=BOOL_NAMES,
        group="analysis",
    ),
    FieldDef(
        "transaction.reason",
        STRING,
        "Why the transaction is incomplete",
        _link("reason"),
        group="analysis",
    ),
    FieldDef("expert", NONE, "The message has expert findings", _expert_present, group="analysis"),
    FieldDef("expert.id", STRING, "Finding id", _findings("id"), repeated=True, group="analysis"),
    FieldDef(
        "expert.group", STRING, "Finding group", _findings("group"), repeated=True, group="analysis"
    ),
    FieldDef(
        "expert.severity",
        STRING,
        "Finding severity: error, warning or note",
        _findings("severity"),
        repeated=True,
        group="analysis",
    ),
    FieldDef(
        "expert.message",
        STRING,
        "Finding text",
        _findings("message"),
        repeated=True,
        group="analysis",
    ),
    FieldDef(
        "expert.field",
        STRING,
        "Field a finding concerns",
        _findings("field"),
        repeated=True,
        group="analysis",
    ),
)


def _with_raw(field: FieldDef) -> FieldDef:
    """A field that is bytes read from the frame is its own raw form."""
    if field.kind != BYTES:
        return field
    return FieldDef(
        field.name, field.kind, field.description, field.get, group=field.group, raw=field.get
    )


def _build() -> dict[str, FieldDef]:
    """Frame fields, the protocol's (whole-message entries first), then the analysis's."""
    out: dict[str, FieldDef] = {}
    for group in ("frame", "hvdm"):
        out.update((f.name, _with_raw(f)) for f in _DERIVED if f.group == group)
    out.update((name, _protocol_def(field)) for name, field in PROTOCOL_FIELDS.items())
    out.update((f.name, _with_raw(f)) for f in _DERIVED if f.group == "analysis")
    return out


#: Every field by name: frame fields, protocol fields, then what the analysis adds.
FIELDS: dict[str, FieldDef] = _build()


def lookup(name: str) -> FieldDef | None:
    """The field called ``name`` (``hvdm.`` optional), or None."""
    if name.startswith(PREFIX):
        name = name[len(PREFIX) :]
    return FIELDS.get(name)
