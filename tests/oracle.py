"""An independent oracle for the Dynamic Memory wire layout, written from the C header.

Every ``struct``/``union`` of QEMU's ``hw/hyperv/dynmem-proto.h`` (docs/protocol.md) is
restated here as a packed little-endian :mod:`ctypes` type, bitfields declared exactly
as in C (same order, same widths, same storage type), so that the compiler
rules (x86-64, bitfields fill from the least significant bit) come from ctypes
and not from the Scapy layers under test.  Nothing in this module imports
``dmdissect``.

Flexible array members (``range_array[]``, ``info[]``, ``data[]``) are declared
as zero-length arrays so that ``ctypes.sizeof`` matches C's ``sizeof``; their
contents are appended as bytes (:func:`pack_range` for page ranges).
"""

from __future__ import annotations

import ctypes
import struct

u8 = ctypes.c_uint8
u16 = ctypes.c_uint16
u32 = ctypes.c_uint32
u64 = ctypes.c_uint64


class _Struct(ctypes.LittleEndianStructure):
    _pack_ = 1


class _Union(ctypes.LittleEndianUnion):
    _pack_ = 1


# --- enums ----------------------------------------------------------------------

DYNMEM_PROTOCOL_VERSION_1 = (0 << 16) | 3
DYNMEM_PROTOCOL_VERSION_2 = (1 << 16) | 0
DYNMEM_PROTOCOL_VERSION_3 = (2 << 16) | 0
DYNMEM_PROTOCOL_VERSION_WIN7 = DYNMEM_PROTOCOL_VERSION_1
DYNMEM_PROTOCOL_VERSION_WIN8 = DYNMEM_PROTOCOL_VERSION_2
DYNMEM_PROTOCOL_VERSION_WIN10 = DYNMEM_PROTOCOL_VERSION_3

DM_ERROR = 0
DM_VERSION_REQUEST = 1
DM_VERSION_RESPONSE = 2
DM_CAPABILITIES_REPORT = 3
DM_CAPABILITIES_RESPONSE = 4
DM_STATUS_REPORT = 5
DM_BALLOON_REQUEST = 6
DM_BALLOON_RESPONSE = 7
DM_UNBALLOON_REQUEST = 8
DM_UNBALLOON_RESPONSE = 9
DM_MEM_HOT_ADD_REQUEST = 10
DM_MEM_HOT_ADD_RESPONSE = 11
DM_INFO_MESSAGE = 12
DM_MEM_HOT_REMOVE_REQUEST = 13
DM_MEM_HOT_REMOVE_RESPONSE = 14

INFO_TYPE_MAX_PAGE_CNT = 0

DM_REMOVE_QOS_LARGE = 1 << 0
DM_REMOVE_QOS_LOCAL = 1 << 1


# --- unions ---------------------------------------------------------------------


class _dm_version_s(_Struct):
    _fields_ = [
        ("minor_version", u16),
        ("major_version", u16),
    ]


class dm_version(_Union):
    _anonymous_ = ("_s",)
    _fields_ = [
        ("_s", _dm_version_s),
        ("version", u32),
    ]


class _dm_caps_bits(_Struct):
    _fields_ = [
        ("balloon", u64, 1),
        ("hot_add", u64, 1),
        ("hot_add_alignment", u64, 4),
        ("hot_remove", u64, 1),
        ("reservedz", u64, 57),
    ]


class dm_caps(_Union):
    _fields_ = [
        ("cap_bits", _dm_caps_bits),
        ("caps", u64),
    ]


class _dm_mem_page_range_finfo(_Struct):
    _fields_ = [
        ("start_page", u64, 40),
        ("page_cnt", u64, 24),
    ]


class dm_mem_page_range(_Union):
    _fields_ = [
        ("finfo", _dm_mem_page_range_finfo),
        ("page_range", u64),
    ]


# --- header and messages --------------------------------------------------------


class dm_header(_Struct):
    _fields_ = [
        ("type", u16),
        ("size", u16),
        ("trans_id", u32),
    ]


class dm_message(_Struct):
    _fields_ = [
        ("hdr", dm_header),
        ("data", u8 * 0),
    ]


class dm_version_request(_Struct):
    _fields_ = [
        ("hdr", dm_header),
        ("version", dm_version),
        ("is_last_attempt", u32, 1),
        ("reservedz", u32, 31),
    ]


class dm_version_response(_Struct):
    _fields_ = [
        ("hdr", dm_header),
        ("is_accepted", u64, 1),
        ("reservedz", u64, 63),
    ]


class dm_capabilities(_Struct):
    _fields_ = [
        ("hdr", dm_header),
        ("caps", dm_caps),
        ("min_page_cnt", u64),
        ("max_page_number", u64),
    ]


class dm_capabilities_resp_msg(_Struct):
    _fields_ = [
        ("hdr", dm_header),
        ("is_accepted", u64, 1),
        ("hot_remove", u64, 1),
        ("suppress_pressure_reports", u64, 1),
        ("reservedz", u64, 61),
    ]


class dm_status(_Struct):
    _fields_ = [
        ("hdr", dm_header),
        ("num_avail", u64),
        ("num_committed", u64),
        ("page_file_size", u64),
        ("zero_free", u64),
        ("page_file_writes", u32),
        ("io_diff", u32),
    ]


class dm_balloon(_Struct):
    _fields_ = [
        ("hdr", dm_header),
        ("num_pages", u32),
        ("reservedz", u32),
    ]


class dm_balloon_response(_Struct):
    _fields_ = [
        ("hdr", dm_header),
        ("reservedz", u32),
        ("more_pages", u32, 1),
        ("range_count", u32, 31),
        ("range_array", dm_mem_page_range * 0),
    ]


class dm_unballoon_request(_Struct):
    _fields_ = [
        ("hdr", dm_header),
        ("more_pages", u32, 1),
        ("reservedz", u32, 31),
        ("range_count", u32),
        ("range_array", dm_mem_page_range * 0),
    ]


class dm_unballoon_response(_Struct):
    _fields_ = [
        ("hdr", dm_header),
    ]


class dm_hot_add(_Struct):
    _fields_ = [
        ("hdr", dm_header),
        ("range", dm_mem_page_range),
    ]


class dm_hot_add_response(_Struct):
    _fields_ = [
        ("hdr", dm_header),
        ("page_count", u32),
        ("result", u32),
    ]


class dm_hot_remove(_Struct):
    _fields_ = [
        ("hdr", dm_header),
        ("virtual_node", u32),
        ("page_count", u32),
        ("qos_flags", u32),
        ("reservedZ", u32),
    ]


class dm_hot_remove_response(_Struct):
    _fields_ = [
        ("hdr", dm_header),
        ("result", u32),
        ("range_count", u32),
        ("more_pages", u64, 1),
        ("reservedz", u64, 63),
        ("range_array", dm_mem_page_range * 0),
    ]


class dm_info_header(_Struct):
    _fields_ = [
        ("type", u32),  # enum dm_info_type: 4 bytes on x86-64
        ("data_size", u32),
        ("data", u8 * 0),
    ]


class dm_info_msg(_Struct):
    # Not QEMU_PACKED in C, but every member is naturally aligned: same layout.
    _fields_ = [
        ("hdr", dm_header),
        ("reserved", u32),
        ("info_size", u32),
        ("info", u8 * 0),
    ]


class vmpacket_descriptor(_Struct):
    _fields_ = [
        ("type", u16),
        ("offset8", u16),
        ("len8", u16),
        ("flags", u16),
        ("trans_id", u64),
    ]


#: ``sizeof`` of each type as the C compiler gives it.
C_SIZES = {
    dm_version: 4,
    dm_caps: 8,
    dm_mem_page_range: 8,
    dm_header: 8,
    dm_message: 8,
    dm_version_request: 16,
    dm_version_response: 16,
    dm_capabilities: 32,
    dm_capabilities_resp_msg: 16,
    dm_status: 48,
    dm_balloon: 16,
    dm_balloon_response: 16,
    dm_unballoon_request: 16,
    dm_unballoon_response: 8,
    dm_hot_add: 16,
    dm_hot_add_response: 16,
    dm_hot_remove: 24,
    dm_hot_remove_response: 24,
    dm_info_header: 8,
    dm_info_msg: 16,
    vmpacket_descriptor: 16,
}

for _cls, _size in C_SIZES.items():
    if ctypes.sizeof(_cls) != _size:  # pragma: no cover - a broken oracle must not load
        raise AssertionError(f"sizeof({_cls.__name__}) = {ctypes.sizeof(_cls)}, C says {_size}")

#: The struct of each message type.
MESSAGE_STRUCTS = {
    DM_ERROR: dm_message,
    DM_VERSION_REQUEST: dm_version_request,
    DM_VERSION_RESPONSE: dm_version_response,
    DM_CAPABILITIES_REPORT: dm_capabilities,
    DM_CAPABILITIES_RESPONSE: dm_capabilities_resp_msg,
    DM_STATUS_REPORT: dm_status,
    DM_BALLOON_REQUEST: dm_balloon,
    DM_BALLOON_RESPONSE: dm_balloon_response,
    DM_UNBALLOON_REQUEST: dm_unballoon_request,
    DM_UNBALLOON_RESPONSE: dm_unballoon_response,
    DM_MEM_HOT_ADD_REQUEST: dm_hot_add,
    DM_MEM_HOT_ADD_RESPONSE: dm_hot_add_response,
    DM_INFO_MESSAGE: dm_info_msg,
    DM_MEM_HOT_REMOVE_REQUEST: dm_hot_remove,
    DM_MEM_HOT_REMOVE_RESPONSE: dm_hot_remove_response,
}

#: The message type of each struct (each struct serves exactly one type).
STRUCT_TYPES = {cls: msg_type for msg_type, cls in MESSAGE_STRUCTS.items()}


# --- helpers --------------------------------------------------------------------


def pack_range(start_page: int, page_cnt: int) -> bytes:
    """One ``union dm_mem_page_range`` as its 64-bit little-endian word."""
    assert 0 <= start_page < 1 << 40 and 0 <= page_cnt < 1 << 24
    return struct.pack("<Q", start_page | page_cnt << 40)


def unpack_range(data: bytes) -> tuple[int, int]:
    (word,) = struct.unpack("<Q", data)
    return word & ((1 << 40) - 1), word >> 40


def pack_ranges(ranges) -> bytes:
    return b"".join(pack_range(s, c) for s, c in ranges)


def pack_info_entry(info_type: int, data: bytes, data_size: int | None = None) -> bytes:
    """One ``struct dm_info_header`` followed by its data."""
    entry = dm_info_header()
    entry.type = info_type
    entry.data_size = len(data) if data_size is None else data_size
    return bytes(entry) + data


def get_path(obj, path: str):
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def set_path(obj, path: str, value) -> None:
    *parents, last = path.split(".")
    for part in parents:
        obj = getattr(obj, part)
    setattr(obj, last, value)


def new(cls, trans_id: int = 0, size: int | None = None, msg_type: int | None = None, **paths):
    """A zeroed ``cls`` with its header and the given dotted C paths set.

    ``msg_type`` defaults to the type ``cls`` belongs to, ``size`` to ``sizeof(cls)``.
    """
    obj = cls()
    if msg_type is None:
        msg_type = STRUCT_TYPES[cls]
    obj.hdr.type = msg_type
    obj.hdr.size = ctypes.sizeof(cls) if size is None else size
    obj.hdr.trans_id = trans_id
    for path, value in paths.items():
        set_path(obj, path.replace("__", "."), value)
    return obj


def parse(cls, data: bytes):
    """The fixed part of ``data`` read as ``cls`` (data must be long enough)."""
    return cls.from_buffer_copy(data[: ctypes.sizeof(cls)])


def parse_ranges(data: bytes) -> list[tuple[int, int]]:
    """Every whole 8-byte page range in ``data``."""
    return [unpack_range(data[i : i + 8]) for i in range(0, len(data) - len(data) % 8, 8)]


def parse_info_entries(blob: bytes) -> list[tuple[int, int, bytes]]:
    """``(type, data_size, data)`` of each ``dm_info_header`` in ``blob``.

    ``data`` is what the bytes hold of the claimed ``data_size``.
    """
    out = []
    offset = 0
    size = ctypes.sizeof(dm_info_header)
    while offset + size <= len(blob):
        entry = dm_info_header.from_buffer_copy(blob[offset : offset + size])
        data = blob[offset + size : offset + size + entry.data_size]
        out.append((entry.type, entry.data_size, data))
        offset += size + entry.data_size
    return out


def members(cls) -> list[tuple[str, int, int]]:
    """``(name, offset, storage size)`` of each fixed member after ``hdr``.

    Bitfields sharing a storage unit all report that unit; flexible arrays
    (zero-length) are left out.
    """
    out = []
    for spec in cls._fields_:
        name, ctype = spec[0], spec[1]
        if name == "hdr" or ctypes.sizeof(ctype) == 0:
            continue
        out.append((name, getattr(cls, name).offset, ctypes.sizeof(ctype)))
    return out
