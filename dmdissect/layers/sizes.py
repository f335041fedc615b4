"""Sizes the read path computes with, free of Scapy: parts, VMBus units, descriptors.

Each is a small function over the sizes and offsets that
:mod:`dmdissect.layers.tables` holds (generated from the layers'
``fields_desc``), so the sources and the analysis never restate one.
"""

from __future__ import annotations

from dmdissect.layers.numbers import MAX_PART_SIZE, VM_PKT_DATA_INBAND, VMBUS_UNIT
from dmdissect.layers.tables import (
    DESCRIPTOR_SIZE,
    DESCRIPTOR_SPANS,
    FIXED_SIZES,
    HEADER_SIZE,
    PAGE_RANGE_SIZE,
)


def fixed_size(msg_type: int | None) -> int | None:
    """Bytes of the fixed part of a message of this type, header included (None: no such type)."""
    return None if msg_type is None else FIXED_SIZES.get(msg_type)


def ranges_per_part(msg_type: int) -> int:
    """Page ranges that fit in one part of this type at :data:`MAX_PART_SIZE`."""
    fixed = fixed_size(msg_type)
    assert fixed is not None, msg_type
    return (MAX_PART_SIZE - fixed) // PAGE_RANGE_SIZE


def descriptor_field(data: bytes | bytearray, name: str) -> int:
    """One field of the VMBus descriptor that starts ``data``."""
    offset, size = DESCRIPTOR_SPANS[name]
    return int.from_bytes(data[offset : offset + size], "little")


def vmbus_bytes(units: int) -> int:
    """Bytes that ``units`` of ``offset8`` or ``len8`` count."""
    return units * VMBUS_UNIT


def vmbus_packet_size(message_size: int) -> int:
    """Bytes of the VMBus packet that carries a message of ``message_size`` bytes:
    the descriptor, the message and its padding to a whole unit."""
    total = DESCRIPTOR_SIZE + message_size
    return total + (-total % VMBUS_UNIT)


def looks_like_descriptor(data: bytes | bytearray) -> bool:
    """True when ``data`` starts with a plausible in-band descriptor.

    A Dynamic Memory header never matches: it would need type 6 with a size of
    2 and be followed by another plausible header at byte 16.
    """
    if len(data) < DESCRIPTOR_SIZE + HEADER_SIZE:
        return False
    return (
        descriptor_field(data, "type") == VM_PKT_DATA_INBAND
        and vmbus_bytes(descriptor_field(data, "offset8")) == DESCRIPTOR_SIZE
        and vmbus_bytes(descriptor_field(data, "len8")) >= DESCRIPTOR_SIZE + HEADER_SIZE
    )


def descriptor_length(data: bytes | bytearray) -> int:
    """The bytes of the whole VMBus packet that starts ``data``, as its ``len8`` says."""
    return vmbus_bytes(descriptor_field(data, "len8"))
