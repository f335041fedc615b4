"""Per-message expert checks: what one message's own bytes reveal.

The real peers disagree with the header file in known ways (QEMU trusts the
transport length, one guest sends ``hdr.size=16`` with ranges, another sends
the unballoon response as type 7), so every check says precisely which of
``hdr.size``, the counts and the bytes disagree, and never stops a run.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from dmdissect import findings as ei
from dmdissect.analysis.known import known
from dmdissect.analysis.message import Message
from dmdissect.findings import Finding
from dmdissect.layers.numbers import (
    HOT_REMOVE_QOS,
    INFO_TYPES,
    MAX_PART_SIZE,
    PROTOCOL_VERSIONS,
    VMBUS_UNIT,
    HotAddMeaning,
    InfoType,
    hot_add_meaning,
    version_text,
)
from dmdissect.layers.sizes import fixed_size, vmbus_bytes, vmbus_packet_size
from dmdissect.layers.tables import (
    DESCRIPTOR_SIZE,
    FIELDS,
    HEADER_SIZE,
    LAYER_NAMES,
    LAYER_SIZES,
    MAX_PAGE_CNT_SIZE,
    PAGE_RANGE_SIZE,
    SENDER,
    STRUCTS,
)
from dmdissect.layers.values import Values, layer_name
from dmdissect.views.english import plural
from dmdissect.vocabulary import DirectionSource

#: ``DM_REMOVE_QOS_MASK``: the QoS bits a hot-remove request may set.
QOS_MASK = (1 << len(HOT_REMOVE_QOS)) - 1

#: Largest message a peer sends in one part (docs/protocol.md).
MAX_PART_BYTES = MAX_PART_SIZE


#: The layers (by name) some checks single out.
_INFO_MESSAGE, _HOT_ADD_REQUEST = "DMInfoMessage", "DMHotAddRequest"
_VERSION_REQUEST, _HOT_REMOVE_REQUEST, _HOT_ADD_RESPONSE = (
    "DMVersionRequest",
    "DMHotRemoveRequest",
    "DMHotAddResponse",
)


@cache
def _names(layer: str) -> frozenset[str]:
    return frozenset(FIELDS[layer])


def _present(body: Any, layer: str, name: str) -> bool:
    """The body's layer has this field and its bytes were there."""
    return name in _names(layer) and name not in body.missing


def _fixed(layer: str) -> int:
    """Bytes of the fixed part of a message of this layer, header included."""
    return HEADER_SIZE + LAYER_SIZES[layer]


def expected_size(message: Message, layer: str) -> int:
    """What ``hdr.size`` should be for the content the body actually declares."""
    body = message.body
    fixed = _fixed(layer)
    if _present(body, layer, "range_count"):
        return fixed + PAGE_RANGE_SIZE * body.range_count
    if layer == _INFO_MESSAGE and _present(body, layer, "info_size"):
        return fixed + body.info_size
    if layer == _HOT_ADD_REQUEST and body.region is not None:
        return fixed + PAGE_RANGE_SIZE
    return fixed


def check(message: Message, quick: bool = True) -> list[Finding]:
    """Every per-message finding; a well-formed message is told apart first, cheaply.

    ``quick=False`` skips the precheck (:func:`well_formed`), so a test can
    hold it to the full checks' verdict.
    """
    if quick and message.body is not None and well_formed(message):
        return _vmbus(message) if message.framed else []
    findings: list[Finding] = []
    if message.framed:
        findings += _vmbus(message)
    available = message.available
    if message.size is None or message.trans_id is None:
        findings.append(
            ei.HEADER_SHORT(
                f"{plural(available, 'byte')}: shorter than the {HEADER_SIZE}-byte header"
            )
        )
        return findings
    body = message.body
    if body is None:
        return findings + _size(message, available, None)
    layer = layer_name(body)
    findings += _size(message, available, layer)
    if body.missing:
        findings.append(
            ei.BODY_TRUNCATED(
                f"truncated: the bytes end inside {message.type_name} after {available}; "
                f"missing {', '.join(body.missing)}",
                body.missing[0],
            )
        )
    findings += _counts(message, layer)
    findings += _reserved(body, layer)
    findings += _semantics(body, layer)
    findings += _direction(message)
    return findings


#: Layers whose values :func:`_semantics` judges (the others' values mean nothing wrong).
_JUDGED = (_VERSION_REQUEST, _HOT_REMOVE_REQUEST, _HOT_ADD_RESPONSE)

#: :func:`_plain_plan` by the body's own class (a layer or its compiled values class).
_PLANS: dict[type, tuple | None] = {}


def _plain_plan(layer: str) -> tuple[int, bool, bool, tuple[str, ...], str | None] | None:
    """What :func:`well_formed` checks of a layer: its fixed size, whether ``range_count``
    counts its ranges and an optional region follows, its flat reserved fields, and the
    layer again when :func:`_semantics` has something to judge.

    None for the layers left to the full checks every time: those with info
    entries or with reserved fields inside nested structures (rare messages).
    """
    if layer == _INFO_MESSAGE:
        return None
    plan = _reserved_plan(layer)
    if any(inner is not None for _, inner in plan):
        return None
    return (
        _fixed(layer),
        "range_count" in _names(layer),
        layer == _HOT_ADD_REQUEST,
        tuple(name for name, _ in plan),
        layer if layer in _JUDGED else None,
    )


def well_formed(message: Message) -> bool:
    """True only when the full checks would find nothing beyond the VMBus framing's own.

    The common message (whole, sizes agreeing, reserved fields zero, sent
    the way its type goes) is recognised in a few comparisons; anything
    else, or any doubt, answers False and the full checks run.
    """
    body = message.body
    msg_type = message.type
    if body.missing or msg_type is None:
        return False
    kind = type(body)
    if kind in _PLANS:
        plan = _PLANS[kind]
    else:
        plan = _PLANS[kind] = _plain_plan(layer_name(body))
    if plan is None:
        return False
    fixed, counted, region, reserved, judged = plan
    if counted:
        count = body.range_count
        if count != len(body.range_array):
            return False
        expected = fixed + PAGE_RANGE_SIZE * count
        if expected > MAX_PART_BYTES:
            return False
    elif region and body.region is not None:
        expected = fixed + PAGE_RANGE_SIZE
    else:
        expected = fixed
    size = message.size
    if size is None or size != expected or message.available < size or message.trans_id is None:
        return False
    consumed = message.consumed
    if consumed != message.available:
        if not message.framed or consumed > message.available:
            return False
        rest = message.message_bytes[consumed:]
        if len(rest) >= VMBUS_UNIT or any(rest):
            return False
    for name in reserved:
        if getattr(body, name):
            return False
    if message.direction_source not in _UNSAID:
        sender = SENDER.get(msg_type)
        if sender is not None and message.direction != sender.direction:
            return False
    return judged is None or not _semantics(body, judged)


#: Direction sources that a wrong-direction finding never comes from.
_UNSAID = frozenset((DirectionSource.INFERRED, DirectionSource.UNKNOWN))


@cache
def sound_check(kind: type) -> Callable[[Message], bool]:
    """:func:`well_formed` for the messages whose body is of class ``kind``, compiled.

    The same plan (:func:`_plain_plan`: sizes, counts and reserved fields from
    the layers' tables) and the type's sender, written out as one function of
    straight tests for that layer alone: a status report is five comparisons,
    not a walk through every case.  ``well_formed`` stays the definition (the
    tests hold the two equal); a layer it leaves to the full checks gets a
    function that says so.
    """
    layer = kind.layer_name if issubclass(kind, Values) else kind.__name__
    plan = _plain_plan(layer)
    types = [msg_type for msg_type, name in LAYER_NAMES.items() if name == layer]
    if plan is None or len(types) != 1:
        return _not_sound if plan is None else well_formed
    fixed, counted, region, reserved, judged = plan
    sender = SENDER.get(types[0])
    lines = [
        "def sound(message):",
        "    body = message.body",
        "    if body.missing or message.type is None:",
        "        return False",
        "    available = message.available",
    ]
    if counted:
        lines += [
            "    count = body.range_count",
            "    if count != len(body.range_array):",
            "        return False",
            f"    expected = {fixed} + {PAGE_RANGE_SIZE} * count",
            f"    if expected > {MAX_PART_BYTES}:",
            "        return False",
        ]
    elif region:
        lines.append(
            f"    expected = {fixed + PAGE_RANGE_SIZE} if body.region is not None else {fixed}"
        )
    else:
        lines.append(f"    expected = {fixed}")
    lines += [
        "    size = message.size",
        "    if size != expected or available < size or message.trans_id is None:",
        "        return False",
        "    consumed = message.consumed",
        "    if consumed != available:",
        "        if not message.framed or consumed > available:",
        "            return False",
        "        rest = message.message_bytes[consumed:]",
        f"        if len(rest) >= {VMBUS_UNIT} or any(rest):",
        "            return False",
    ]
    lines += [f"    if body.{name}:\n        return False" for name in reserved]
    if sender is not None:
        lines += [
            "    if message.direction != direction and message.direction_source not in unsaid:",
            "        return False",
        ]
    lines.append(
        "    return True" if judged is None else f"    return not semantics(body, {judged!r})"
    )
    namespace: dict[str, Any] = {
        "direction": None if sender is None else sender.direction,
        "unsaid": _UNSAID,
        "semantics": _semantics,
    }
    exec(compile("\n".join(lines) + "\n", f"<sound {layer}>", "exec"), namespace)
    sound: Callable[[Message], bool] = namespace["sound"]
    return sound


def _not_sound(message: Message) -> bool:
    return False


def _size(message: Message, available: int, layer: str | None) -> list[Finding]:
    size = message.size
    assert size is not None, "check() returns first"
    out: list[Finding] = []
    if message.type not in LAYER_NAMES:
        out.append(ei.TYPE_UNKNOWN(f"unknown message type {message.type}", "type"))
    fixed = fixed_size(message.type)
    if size < HEADER_SIZE:
        out.append(
            ei.SIZE_BELOW_HEADER(
                f"hdr.size {size} is smaller than the {HEADER_SIZE}-byte header", "size"
            )
        )
    elif fixed is not None and size < fixed:
        out.append(
            ei.SIZE_BELOW_FIXED(
                f"hdr.size {size} is smaller than the fixed part of "
                f"{message.type_name} ({fixed} bytes)",
                "size",
            )
        )
    if size > available:
        out.append(
            ei.SIZE_TRUNCATED(
                f"truncated: hdr.size {size} but only {available} bytes present", "size"
            )
        )
    body = message.body
    if body is None or layer is None or body.missing:
        return out
    rest = message.trailing if message.consumed < available else b""
    if rest and not _is_vmbus_padding(message, rest):
        out.append(ei.SIZE_TRAILING(f"{len(rest)} bytes after the end of the message (trailing)"))
    expected = expected_size(message, layer)
    if size != expected and size >= HEADER_SIZE and not (fixed and size < fixed):
        out.append(
            ei.SIZE_MISMATCH(
                f"hdr.size {size} disagrees with the content ({expected} bytes)", "size"
            )
        )
    if _present(body, layer, "range_count") and expected > MAX_PART_BYTES:
        out.append(
            ei.SIZE_LARGE_PART(f"{expected} bytes in one part; peers send at most {MAX_PART_BYTES}")
        )
    return out


def _is_vmbus_padding(message: Message, rest: bytes) -> bool:
    """Zeros after a VMBus-framed message up to the next whole VMBus unit are padding."""
    return message.vmbus is not None and len(rest) < VMBUS_UNIT and not any(rest)


def _counts(message: Message, layer: str) -> list[Finding]:
    body = message.body
    out: list[Finding] = []
    if _present(body, layer, "range_count"):
        decoded = len(body.range_array)
        if body.range_count > decoded:
            out.append(
                ei.RANGES_SHORT(
                    f"range_count {body.range_count} but the bytes hold only "
                    f"{plural(decoded, 'range')}",
                    "range_count",
                )
            )
    if layer == _INFO_MESSAGE and _present(body, layer, "info_size"):
        present = message.available - HEADER_SIZE - 8
        if body.info_size > present:
            out.append(
                ei.INFO_SIZE_SHORT(
                    f"info_size {body.info_size} but only {max(present, 0)} bytes follow",
                    "info_size",
                )
            )
        for index, entry in enumerate(body.info):
            out += _info_entry(index, entry)
    return out


def _info_entry(index: int, entry: Any) -> list[Finding]:
    where = f"info[{index}]"
    if entry.missing:
        return [
            ei.INFO_ENTRY_TRUNCATED(
                f"{where}: truncated entry, missing {', '.join(entry.missing)}", "info"
            )
        ]
    out: list[Finding] = []
    data = entry.data
    if isinstance(data, bytes) and len(data) < entry.data_size:
        out.append(
            ei.INFO_DATA_SHORT(
                f"{where}: data_size {entry.data_size} but only {len(data)} bytes", "info"
            )
        )
    if entry.type not in INFO_TYPES:
        out.append(ei.INFO_TYPE_UNKNOWN(f"{where}: unknown info type {entry.type}", "info"))
    elif entry.type == InfoType.MAX_PAGE_CNT and entry.data_size != MAX_PAGE_CNT_SIZE:
        out.append(
            ei.INFO_MAX_PAGE_CNT_SIZE(
                f"{where}: MAX_PAGE_CNT carries {entry.data_size} bytes, not 8", "info"
            )
        )
    return out


@cache
def _reserved_plan(layer: str) -> tuple[tuple[str, str | None], ...]:
    """Reserved fields of a layer (by name), and nested structures that hold some."""
    plan: list[tuple[str, str | None]] = []
    structs = STRUCTS[layer]
    for name in FIELDS[layer]:
        inner = structs.get(name)
        if inner is not None and _reserved_plan(inner):
            plan.append((name, inner))
        elif name.lower().startswith("reserved"):
            plan.append((name, None))
    return tuple(plan)


def _reserved(obj: Any, layer: str, prefix: str = "") -> list[Finding]:
    """Non-zero reserved fields, nested unions included, on packets and values alike."""
    out: list[Finding] = []
    for name, inner in _reserved_plan(layer):
        if name in obj.missing:
            continue
        value = getattr(obj, name)
        if inner is not None:
            if value is not None:
                out += _reserved(value, inner, f"{prefix}{name}.")
        elif isinstance(value, int) and value:
            out.append(
                ei.RESERVED_NONZERO(
                    f"reserved field {prefix}{name} is not zero ({value:#x})", f"{prefix}{name}"
                )
            )
    return out


def _semantics(body: Any, layer: str) -> list[Finding]:
    """What the values mean; a value the bytes end before is unknown and says nothing."""
    if (
        layer == _VERSION_REQUEST
        and known(body, "version") is not None
        and body.version.version not in PROTOCOL_VERSIONS
    ):
        return [
            ei.VERSION_UNKNOWN(
                f"version {version_text(body.version.version)} is not a known protocol version",
                "version",
            )
        ]
    if (
        layer == _HOT_REMOVE_REQUEST
        and known(body, "qos_flags") is not None
        and int(body.qos_flags) & ~QOS_MASK
    ):
        return [
            ei.QOS_UNKNOWN_BITS(
                f"qos_flags {int(body.qos_flags):#x} has bits outside "
                f"DM_REMOVE_QOS_MASK ({QOS_MASK:#x})",
                "qos_flags",
            )
        ]
    if layer == _HOT_ADD_RESPONSE and known(body, "result") is not None:
        meaning = hot_add_meaning(body.result, known(body, "page_count"))
        if meaning is HotAddMeaning.PERMANENT_FAILURE:
            return [
                ei.HOT_ADD_PERMANENT(
                    "result 1 with page_count 0: permanent failure, the host stops hot-adding",
                    "result",
                )
            ]
        if meaning is HotAddMeaning.TRANSIENT_FAILURE:
            return [
                ei.HOT_ADD_TRANSIENT(
                    "hot add failed (result 0: transient, the host may retry)", "result"
                )
            ]
        if meaning is HotAddMeaning.UNDEFINED:
            return [ei.HOT_ADD_RESULT_UNKNOWN(f"unknown hot-add result {body.result}", "result")]
    return []


def _direction(message: Message) -> list[Finding]:
    if message.direction_source in (DirectionSource.INFERRED, DirectionSource.UNKNOWN):
        return []
    sender = SENDER.get(message.type) if message.type is not None else None
    if sender is not None and message.direction != sender.direction:
        return [
            ei.DIRECTION_WRONG(
                f"{message.type_name} is sent {sender.direction}, "
                f"but this one went {message.direction}",
                "type",
            )
        ]
    return []


def _vmbus(message: Message) -> list[Finding]:
    vmbus = message.vmbus
    frame_len = len(message.frame.data)
    out: list[Finding] = []
    claimed = vmbus_bytes(vmbus.len8)
    if claimed > frame_len:
        out.append(
            ei.VMBUS_LEN8_OVERRUN(
                f"VMBus len8 {vmbus.len8} claims {claimed} bytes but the frame holds {frame_len}",
                "vmbus.len8",
            )
        )
    if message.extra:
        out.append(
            ei.VMBUS_TRAILING(
                f"{len(message.extra)} bytes after the VMBus packet (len8 {vmbus.len8})",
                "vmbus.len8",
            )
        )
    if message.size is not None:
        padded = vmbus_packet_size(message.size)
        if claimed >= DESCRIPTOR_SIZE + HEADER_SIZE and claimed != padded and claimed <= frame_len:
            out.append(
                ei.VMBUS_LEN8_MISMATCH(
                    f"VMBus len8 {vmbus.len8} ({claimed} bytes) does not match the "
                    f"message ({padded} bytes with descriptor and padding)",
                    "vmbus.len8",
                )
            )
    return out
