"""What the read path needs of the layers, generated from their ``fields_desc``.

Do not edit: written by ``python -m dmdissect.layers.generate`` (see that
module); a test regenerates it and fails when the layers changed and this
file did not.  It imports no Scapy: sizes, field names, one values class
and one decoder per layer, as :mod:`dmdissect.layers.codegen` derives them.
"""

# mypy: ignore-errors

from collections.abc import Callable
from struct import Struct, iter_unpack
from typing import Any

from dmdissect.layers.numbers import MessageType, ProtocolVersion
from dmdissect.layers.values import NotCompiled, Values, VersionWord
from dmdissect.vocabulary import Side

#: ``type, size, trans_id`` of ``struct dm_header`` in one read.
HEADER_STRUCT = Struct('<HHI')

#: Bytes of ``struct dm_header``.
HEADER_SIZE = 8

#: Bytes from a message's start to the end of its ``size`` field.
SIZE_END = 4

#: The largest ``hdr.size``: what its field holds.
MAX_SIZE = 65535

#: Bytes of ``struct vmpacket_descriptor``.
DESCRIPTOR_SIZE = 16

#: Offset and size of the VMBus descriptor's fields.
DESCRIPTOR_SPANS = {'type': (0, 2), 'offset8': (2, 2), 'len8': (4, 2), 'flags': (6, 2), 'trans_id': (8, 8)}

#: The first bytes of every in-band descriptor, up to the end of ``offset8``.
DESCRIPTOR_START = b'\x06\x00\x02\x00'

#: Bytes of ``union dm_mem_page_range``.
PAGE_RANGE_SIZE = 8

#: Bytes of a MAX_PAGE_CNT entry's data.
MAX_PAGE_CNT_SIZE = 8

#: The header's fields: offset and size.
HEADER_SPANS = {'type': (0, 2), 'size': (2, 2), 'trans_id': (4, 4)}

#: The message layer of each ``dm_header.type``, by name.
LAYER_NAMES: dict[int, str] = {
    MessageType.DM_ERROR: 'DMError',
    MessageType.DM_VERSION_REQUEST: 'DMVersionRequest',
    MessageType.DM_VERSION_RESPONSE: 'DMVersionResponse',
    MessageType.DM_CAPABILITIES_REPORT: 'DMCapabilitiesReport',
    MessageType.DM_CAPABILITIES_RESPONSE: 'DMCapabilitiesResponse',
    MessageType.DM_STATUS_REPORT: 'DMStatusReport',
    MessageType.DM_BALLOON_REQUEST: 'DMBalloonRequest',
    MessageType.DM_BALLOON_RESPONSE: 'DMBalloonResponse',
    MessageType.DM_UNBALLOON_REQUEST: 'DMUnballoonRequest',
    MessageType.DM_UNBALLOON_RESPONSE: 'DMUnballoonResponse',
    MessageType.DM_MEM_HOT_ADD_REQUEST: 'DMHotAddRequest',
    MessageType.DM_MEM_HOT_ADD_RESPONSE: 'DMHotAddResponse',
    MessageType.DM_INFO_MESSAGE: 'DMInfoMessage',
    MessageType.DM_MEM_HOT_REMOVE_REQUEST: 'DMHotRemoveRequest',
    MessageType.DM_MEM_HOT_REMOVE_RESPONSE: 'DMHotRemoveResponse',
}
#: Who sends each message type (None: either side).
SENDER: dict[int, Side | None] = {
    MessageType.DM_ERROR: None,
    MessageType.DM_VERSION_REQUEST: Side.GUEST,
    MessageType.DM_VERSION_RESPONSE: Side.HOST,
    MessageType.DM_CAPABILITIES_REPORT: Side.GUEST,
    MessageType.DM_CAPABILITIES_RESPONSE: Side.HOST,
    MessageType.DM_STATUS_REPORT: Side.GUEST,
    MessageType.DM_BALLOON_REQUEST: Side.HOST,
    MessageType.DM_BALLOON_RESPONSE: Side.GUEST,
    MessageType.DM_UNBALLOON_REQUEST: Side.HOST,
    MessageType.DM_UNBALLOON_RESPONSE: Side.GUEST,
    MessageType.DM_MEM_HOT_ADD_REQUEST: Side.HOST,
    MessageType.DM_MEM_HOT_ADD_RESPONSE: Side.GUEST,
    MessageType.DM_INFO_MESSAGE: Side.HOST,
    MessageType.DM_MEM_HOT_REMOVE_REQUEST: Side.HOST,
    MessageType.DM_MEM_HOT_REMOVE_RESPONSE: Side.GUEST,
}
#: The protocol version that introduced each message type.
INTRODUCED_IN: dict[int, ProtocolVersion] = {
    MessageType.DM_ERROR: ProtocolVersion.WIN7,
    MessageType.DM_VERSION_REQUEST: ProtocolVersion.WIN7,
    MessageType.DM_VERSION_RESPONSE: ProtocolVersion.WIN7,
    MessageType.DM_CAPABILITIES_REPORT: ProtocolVersion.WIN7,
    MessageType.DM_CAPABILITIES_RESPONSE: ProtocolVersion.WIN7,
    MessageType.DM_STATUS_REPORT: ProtocolVersion.WIN7,
    MessageType.DM_BALLOON_REQUEST: ProtocolVersion.WIN7,
    MessageType.DM_BALLOON_RESPONSE: ProtocolVersion.WIN7,
    MessageType.DM_UNBALLOON_REQUEST: ProtocolVersion.WIN7,
    MessageType.DM_UNBALLOON_RESPONSE: ProtocolVersion.WIN7,
    MessageType.DM_MEM_HOT_ADD_REQUEST: ProtocolVersion.WIN7,
    MessageType.DM_MEM_HOT_ADD_RESPONSE: ProtocolVersion.WIN7,
    MessageType.DM_INFO_MESSAGE: ProtocolVersion.WIN8,
    MessageType.DM_MEM_HOT_REMOVE_REQUEST: ProtocolVersion.WIN10,
    MessageType.DM_MEM_HOT_REMOVE_RESPONSE: ProtocolVersion.WIN10,
}
#: Bytes of the fixed part of each message type, header included.
FIXED_SIZES: dict[int, int] = {
    MessageType.DM_ERROR: 8,
    MessageType.DM_VERSION_REQUEST: 16,
    MessageType.DM_VERSION_RESPONSE: 16,
    MessageType.DM_CAPABILITIES_REPORT: 32,
    MessageType.DM_CAPABILITIES_RESPONSE: 16,
    MessageType.DM_STATUS_REPORT: 48,
    MessageType.DM_BALLOON_REQUEST: 16,
    MessageType.DM_BALLOON_RESPONSE: 16,
    MessageType.DM_UNBALLOON_REQUEST: 16,
    MessageType.DM_UNBALLOON_RESPONSE: 8,
    MessageType.DM_MEM_HOT_ADD_REQUEST: 16,
    MessageType.DM_MEM_HOT_ADD_RESPONSE: 16,
    MessageType.DM_INFO_MESSAGE: 16,
    MessageType.DM_MEM_HOT_REMOVE_REQUEST: 24,
    MessageType.DM_MEM_HOT_REMOVE_RESPONSE: 24,
}
#: Every layer's fields, by layer name, in their layout's order.
FIELDS: dict[str, tuple[str, ...]] = {
    'DMHeader': ('type', 'size', 'trans_id'),
    'VMBusDescriptor': ('type', 'offset8', 'len8', 'flags', 'trans_id'),
    'DMError': (),
    'DMVersion': ('minor_version', 'major_version'),
    'DMVersionRequest': ('version', 'reservedz', 'is_last_attempt'),
    'DMVersionResponse': ('reservedz', 'is_accepted'),
    'DMCaps': ('reservedz', 'hot_remove', 'hot_add_alignment', 'hot_add', 'balloon'),
    'DMCapabilitiesReport': ('caps', 'min_page_cnt', 'max_page_number'),
    'DMCapabilitiesResponse': ('reservedz', 'suppress_pressure_reports', 'hot_remove', 'is_accepted'),
    'DMStatusReport': ('num_avail', 'num_committed', 'page_file_size', 'zero_free', 'page_file_writes', 'io_diff'),
    'DMBalloonRequest': ('num_pages', 'reservedz'),
    'DMPageRange': ('start_page', 'page_cnt'),
    'DMBalloonResponse': ('reservedz', 'range_count', 'more_pages', 'range_array'),
    'DMUnballoonRequest': ('reservedz', 'more_pages', 'range_count', 'range_array'),
    'DMUnballoonResponse': (),
    'DMHotAddRequest': ('range', 'region'),
    'DMHotAddResponse': ('page_count', 'result'),
    'DMInfoEntry': ('type', 'data_size', 'data'),
    'DMInfoMessage': ('reserved', 'info_size', 'info'),
    'DMHotRemoveRequest': ('virtual_node', 'page_count', 'qos_flags', 'reservedZ'),
    'DMHotRemoveResponse': ('result', 'range_count', 'reservedz', 'more_pages', 'range_array'),
}
#: Bytes of every layer's fixed part (the header not included), by layer name.
LAYER_SIZES: dict[str, int] = {
    'DMHeader': 8,
    'VMBusDescriptor': 16,
    'DMError': 0,
    'DMVersion': 4,
    'DMVersionRequest': 8,
    'DMVersionResponse': 8,
    'DMCaps': 8,
    'DMCapabilitiesReport': 24,
    'DMCapabilitiesResponse': 8,
    'DMStatusReport': 40,
    'DMBalloonRequest': 8,
    'DMPageRange': 8,
    'DMBalloonResponse': 8,
    'DMUnballoonRequest': 8,
    'DMUnballoonResponse': 0,
    'DMHotAddRequest': 8,
    'DMHotAddResponse': 8,
    'DMInfoEntry': 8,
    'DMInfoMessage': 8,
    'DMHotRemoveRequest': 16,
    'DMHotRemoveResponse': 16,
}
#: The fixed structures nested in each layer: field name -> layer name.
STRUCTS: dict[str, dict[str, str]] = {
    'DMHeader': {},
    'VMBusDescriptor': {},
    'DMError': {},
    'DMVersion': {},
    'DMVersionRequest': {'version': 'DMVersion'},
    'DMVersionResponse': {},
    'DMCaps': {},
    'DMCapabilitiesReport': {'caps': 'DMCaps'},
    'DMCapabilitiesResponse': {},
    'DMStatusReport': {},
    'DMBalloonRequest': {},
    'DMPageRange': {},
    'DMBalloonResponse': {},
    'DMUnballoonRequest': {},
    'DMUnballoonResponse': {},
    'DMHotAddRequest': {'range': 'DMPageRange'},
    'DMHotAddResponse': {},
    'DMInfoEntry': {},
    'DMInfoMessage': {},
    'DMHotRemoveRequest': {},
    'DMHotRemoveResponse': {},
}
#: How each layer's fields go into JSON, in C order: name, kind, enum names (see :mod:`dmdissect.layers.exports`).
EXPORT_PLANS: dict[str, tuple[tuple[str, str, Any], ...]] = {
    'DMHeader': (('type', 'enum', {0: 'DM_ERROR', 1: 'DM_VERSION_REQUEST', 2: 'DM_VERSION_RESPONSE', 3: 'DM_CAPABILITIES_REPORT', 4: 'DM_CAPABILITIES_RESPONSE', 5: 'DM_STATUS_REPORT', 6: 'DM_BALLOON_REQUEST', 7: 'DM_BALLOON_RESPONSE', 8: 'DM_UNBALLOON_REQUEST', 9: 'DM_UNBALLOON_RESPONSE', 10: 'DM_MEM_HOT_ADD_REQUEST', 11: 'DM_MEM_HOT_ADD_RESPONSE', 12: 'DM_INFO_MESSAGE', 13: 'DM_MEM_HOT_REMOVE_REQUEST', 14: 'DM_MEM_HOT_REMOVE_RESPONSE'}), ('size', 'int', None), ('trans_id', 'int', None)),
    'VMBusDescriptor': (('type', 'enum', {0: 'VM_PKT_INVALID', 1: 'VM_PKT_SYNCH', 2: 'VM_PKT_ADD_XFER_PAGESET', 3: 'VM_PKT_RM_XFER_PAGESET', 4: 'VM_PKT_ESTABLISH_GPADL', 5: 'VM_PKT_TEARDOWN_GPADL', 6: 'VM_PKT_DATA_INBAND', 7: 'VM_PKT_DATA_USING_XFER_PAGES', 8: 'VM_PKT_DATA_USING_GPADL', 9: 'VM_PKT_DATA_USING_GPA_DIRECT', 10: 'VM_PKT_CANCEL_REQUEST', 11: 'VM_PKT_COMP', 12: 'VM_PKT_DATA_USING_ADDITIONAL_PKT', 13: 'VM_PKT_ADDITIONAL_DATA'}), ('offset8', 'int', None), ('len8', 'int', None), ('flags', 'int', None), ('trans_id', 'int', None)),
    'DMError': (),
    'DMVersion': (('minor_version', 'int', None), ('major_version', 'int', None)),
    'DMVersionRequest': (('version', 'struct', 'DMVersion'), ('is_last_attempt', 'int', None), ('reservedz', 'int', None)),
    'DMVersionResponse': (('is_accepted', 'int', None), ('reservedz', 'int', None)),
    'DMCaps': (('balloon', 'int', None), ('hot_add', 'int', None), ('hot_add_alignment', 'int', None), ('hot_remove', 'int', None), ('reservedz', 'int', None)),
    'DMCapabilitiesReport': (('caps', 'struct', 'DMCaps'), ('min_page_cnt', 'int', None), ('max_page_number', 'int', None)),
    'DMCapabilitiesResponse': (('is_accepted', 'int', None), ('hot_remove', 'int', None), ('suppress_pressure_reports', 'int', None), ('reservedz', 'int', None)),
    'DMStatusReport': (('num_avail', 'int', None), ('num_committed', 'int', None), ('page_file_size', 'int', None), ('zero_free', 'int', None), ('page_file_writes', 'int', None), ('io_diff', 'int', None)),
    'DMBalloonRequest': (('num_pages', 'int', None), ('reservedz', 'int', None)),
    'DMPageRange': (('start_page', 'int', None), ('page_cnt', 'int', None)),
    'DMBalloonResponse': (('reservedz', 'int', None), ('more_pages', 'int', None), ('range_count', 'int', None), ('range_array', 'list', 'DMPageRange')),
    'DMUnballoonRequest': (('more_pages', 'int', None), ('reservedz', 'int', None), ('range_count', 'int', None), ('range_array', 'list', 'DMPageRange')),
    'DMUnballoonResponse': (),
    'DMHotAddRequest': (('range', 'struct', 'DMPageRange'), ('region', 'optional', None)),
    'DMHotAddResponse': (('page_count', 'int', None), ('result', 'enum', {0: 'failure', 1: 'success'})),
    'DMInfoEntry': (('type', 'enum', {0: 'MAX_PAGE_CNT'}), ('data_size', 'int', None), ('data', 'other', None)),
    'DMInfoMessage': (('reserved', 'int', None), ('info_size', 'int', None), ('info', 'list', 'DMInfoEntry')),
    'DMHotRemoveRequest': (('virtual_node', 'int', None), ('page_count', 'int', None), ('qos_flags', 'other', None), ('reservedZ', 'int', None)),
    'DMHotRemoveResponse': (('result', 'int', None), ('range_count', 'int', None), ('more_pages', 'int', None), ('reservedz', 'int', None), ('range_array', 'list', 'DMPageRange')),
}
#: Where each layer's fields sit and how the -V tree shows them, in C order: name, offset, bit, bits, kind, what the kind needs (see :mod:`dmdissect.layers.exports`).
TREE_PLANS: dict[str, tuple[tuple[str, int | None, int | None, int | None, str, Any], ...]] = {
    'DMHeader': (('type', 0, None, None, 'enum', {0: 'DM_ERROR', 1: 'DM_VERSION_REQUEST', 2: 'DM_VERSION_RESPONSE', 3: 'DM_CAPABILITIES_REPORT', 4: 'DM_CAPABILITIES_RESPONSE', 5: 'DM_STATUS_REPORT', 6: 'DM_BALLOON_REQUEST', 7: 'DM_BALLOON_RESPONSE', 8: 'DM_UNBALLOON_REQUEST', 9: 'DM_UNBALLOON_RESPONSE', 10: 'DM_MEM_HOT_ADD_REQUEST', 11: 'DM_MEM_HOT_ADD_RESPONSE', 12: 'DM_INFO_MESSAGE', 13: 'DM_MEM_HOT_REMOVE_REQUEST', 14: 'DM_MEM_HOT_REMOVE_RESPONSE'}), ('size', 2, None, None, 'int', None), ('trans_id', 4, None, None, 'int', None)),
    'VMBusDescriptor': (('type', 0, None, None, 'enum', {0: 'VM_PKT_INVALID', 1: 'VM_PKT_SYNCH', 2: 'VM_PKT_ADD_XFER_PAGESET', 3: 'VM_PKT_RM_XFER_PAGESET', 4: 'VM_PKT_ESTABLISH_GPADL', 5: 'VM_PKT_TEARDOWN_GPADL', 6: 'VM_PKT_DATA_INBAND', 7: 'VM_PKT_DATA_USING_XFER_PAGES', 8: 'VM_PKT_DATA_USING_GPADL', 9: 'VM_PKT_DATA_USING_GPA_DIRECT', 10: 'VM_PKT_CANCEL_REQUEST', 11: 'VM_PKT_COMP', 12: 'VM_PKT_DATA_USING_ADDITIONAL_PKT', 13: 'VM_PKT_ADDITIONAL_DATA'}), ('offset8', 2, None, None, 'int', None), ('len8', 4, None, None, 'int', None), ('flags', 6, None, None, 'int', None), ('trans_id', 8, None, None, 'int', None)),
    'DMError': (),
    'DMVersion': (('minor_version', 0, None, None, 'int', None), ('major_version', 2, None, None, 'int', None)),
    'DMVersionRequest': (('version', 0, None, None, 'struct', 'DMVersion'), ('is_last_attempt', 4, 0, 1, 'int', None), ('reservedz', 4, 1, 31, 'int', None)),
    'DMVersionResponse': (('is_accepted', 0, 0, 1, 'int', None), ('reservedz', 0, 1, 63, 'int', None)),
    'DMCaps': (('balloon', 0, 0, 1, 'int', None), ('hot_add', 0, 1, 1, 'int', None), ('hot_add_alignment', 0, 2, 4, 'int', None), ('hot_remove', 0, 6, 1, 'int', None), ('reservedz', 0, 7, 57, 'int', None)),
    'DMCapabilitiesReport': (('caps', 0, None, None, 'struct', 'DMCaps'), ('min_page_cnt', 8, None, None, 'int', None), ('max_page_number', 16, None, None, 'hex', None)),
    'DMCapabilitiesResponse': (('is_accepted', 0, 0, 1, 'int', None), ('hot_remove', 0, 1, 1, 'int', None), ('suppress_pressure_reports', 0, 2, 1, 'int', None), ('reservedz', 0, 3, 61, 'int', None)),
    'DMStatusReport': (('num_avail', 0, None, None, 'int', None), ('num_committed', 8, None, None, 'int', None), ('page_file_size', 16, None, None, 'int', None), ('zero_free', 24, None, None, 'int', None), ('page_file_writes', 32, None, None, 'int', None), ('io_diff', 36, None, None, 'int', None)),
    'DMBalloonRequest': (('num_pages', 0, None, None, 'int', None), ('reservedz', 4, None, None, 'int', None)),
    'DMPageRange': (('start_page', 0, None, None, 'int', None), ('page_cnt', 5, None, None, 'int', None)),
    'DMBalloonResponse': (('reservedz', 0, None, None, 'int', None), ('more_pages', 4, 0, 1, 'int', None), ('range_count', 4, 1, 31, 'int', None), ('range_array', 8, None, None, 'list', ('DMPageRange', 8))),
    'DMUnballoonRequest': (('more_pages', 0, 0, 1, 'int', None), ('reservedz', 0, 1, 31, 'int', None), ('range_count', 4, None, None, 'int', None), ('range_array', 8, None, None, 'list', ('DMPageRange', 8))),
    'DMUnballoonResponse': (),
    'DMHotAddRequest': (('range', 0, None, None, 'struct', 'DMPageRange'), ('region', 8, None, None, 'optional', 'DMPageRange')),
    'DMHotAddResponse': (('page_count', 0, None, None, 'int', None), ('result', 4, None, None, 'enum', {0: 'failure', 1: 'success'})),
    'DMInfoEntry': (('type', 0, None, None, 'enum', {0: 'MAX_PAGE_CNT'}), ('data_size', 4, None, None, 'int', None), ('data', 8, None, None, 'variant', None)),
    'DMInfoMessage': (('reserved', 0, None, None, 'int', None), ('info_size', 4, None, None, 'int', None), ('info', 8, None, None, 'list', ('DMInfoEntry', None))),
    'DMHotRemoveRequest': (('virtual_node', 0, None, None, 'int', None), ('page_count', 4, None, None, 'int', None), ('qos_flags', 8, None, None, 'flags', None), ('reservedZ', 12, None, None, 'int', None)),
    'DMHotRemoveResponse': (('result', 0, None, None, 'int', None), ('range_count', 4, None, None, 'int', None), ('more_pages', 8, 0, 1, 'int', None), ('reservedz', 8, 1, 63, 'int', None), ('range_array', 16, None, None, 'list', ('DMPageRange', 8))),
}


class DMHeaderValues(Values):
    __slots__ = ('type', 'size', 'trans_id')
    layer_name = 'DMHeader'


class VMBusDescriptorValues(Values):
    __slots__ = ('type', 'offset8', 'len8', 'flags', 'trans_id')
    layer_name = 'VMBusDescriptor'


class DMErrorValues(Values):
    __slots__ = ()
    layer_name = 'DMError'


class DMVersionValues(VersionWord, Values):
    __slots__ = ('minor_version', 'major_version')
    layer_name = 'DMVersion'


class DMVersionRequestValues(Values):
    __slots__ = ('version', 'reservedz', 'is_last_attempt')
    layer_name = 'DMVersionRequest'


class DMVersionResponseValues(Values):
    __slots__ = ('reservedz', 'is_accepted')
    layer_name = 'DMVersionResponse'


class DMCapsValues(Values):
    __slots__ = ('reservedz', 'hot_remove', 'hot_add_alignment', 'hot_add', 'balloon')
    layer_name = 'DMCaps'


class DMCapabilitiesReportValues(Values):
    __slots__ = ('caps', 'min_page_cnt', 'max_page_number')
    layer_name = 'DMCapabilitiesReport'


class DMCapabilitiesResponseValues(Values):
    __slots__ = ('reservedz', 'suppress_pressure_reports', 'hot_remove', 'is_accepted')
    layer_name = 'DMCapabilitiesResponse'


class DMStatusReportValues(Values):
    __slots__ = ('num_avail', 'num_committed', 'page_file_size', 'zero_free', 'page_file_writes', 'io_diff')
    layer_name = 'DMStatusReport'


class DMBalloonRequestValues(Values):
    __slots__ = ('num_pages', 'reservedz')
    layer_name = 'DMBalloonRequest'


class DMPageRangeValues(Values):
    __slots__ = ('start_page', 'page_cnt')
    layer_name = 'DMPageRange'


class DMBalloonResponseValues(Values):
    __slots__ = ('reservedz', 'range_count', 'more_pages', 'range_array')
    layer_name = 'DMBalloonResponse'


class DMUnballoonRequestValues(Values):
    __slots__ = ('reservedz', 'more_pages', 'range_count', 'range_array')
    layer_name = 'DMUnballoonRequest'


class DMUnballoonResponseValues(Values):
    __slots__ = ()
    layer_name = 'DMUnballoonResponse'


class DMHotAddRequestValues(Values):
    __slots__ = ('range', 'region')
    layer_name = 'DMHotAddRequest'


class DMHotAddResponseValues(Values):
    __slots__ = ('page_count', 'result')
    layer_name = 'DMHotAddResponse'


class DMInfoEntryValues(Values):
    __slots__ = ('type', 'data_size', 'data')
    layer_name = 'DMInfoEntry'


class DMInfoMessageValues(Values):
    __slots__ = ('reserved', 'info_size', 'info')
    layer_name = 'DMInfoMessage'


class DMHotRemoveRequestValues(Values):
    __slots__ = ('virtual_node', 'page_count', 'qos_flags', 'reservedZ')
    layer_name = 'DMHotRemoveRequest'


class DMHotRemoveResponseValues(Values):
    __slots__ = ('result', 'range_count', 'reservedz', 'more_pages', 'range_array')
    layer_name = 'DMHotRemoveResponse'


_header_fields = HEADER_STRUCT.unpack_from
_unpack_HH = Struct('<HH').unpack_from
_unpack_HHHHQ = Struct('<HHHHQ').unpack_from
_unpack_HHI = Struct('<HHI').unpack_from
_unpack_I = Struct('<I').unpack_from
_unpack_II = Struct('<II').unpack_from
_unpack_IIII = Struct('<IIII').unpack_from
_unpack_IIQ = Struct('<IIQ').unpack_from
_unpack_Q = Struct('<Q').unpack_from
_unpack_QQ = Struct('<QQ').unpack_from
_unpack_QQQQII = Struct('<QQQQII').unpack_from


def decode_DMHeader(data: bytes, offset: int) -> tuple[Any, int]:
    obj = DMHeaderValues()
    obj.missing = ()
    w0, w1, w2, = _unpack_HHI(data, offset)
    obj.type = w0
    obj.size = w1
    obj.trans_id = w2
    offset += 8
    return obj, offset


def decode_VMBusDescriptor(data: bytes, offset: int) -> tuple[Any, int]:
    obj = VMBusDescriptorValues()
    obj.missing = ()
    w0, w1, w2, w3, w4, = _unpack_HHHHQ(data, offset)
    obj.type = w0
    obj.offset8 = w1
    obj.len8 = w2
    obj.flags = w3
    obj.trans_id = w4
    offset += 16
    return obj, offset


def decode_DMError(data: bytes, offset: int) -> tuple[Any, int]:
    obj = DMErrorValues()
    obj.missing = ()
    return obj, offset


def decode_DMVersion(data: bytes, offset: int) -> tuple[Any, int]:
    obj = DMVersionValues()
    obj.missing = ()
    w0, w1, = _unpack_HH(data, offset)
    obj.minor_version = w0
    obj.major_version = w1
    offset += 4
    return obj, offset


def decode_DMVersionRequest(data: bytes, offset: int) -> tuple[Any, int]:
    obj = DMVersionRequestValues()
    obj.missing = ()
    obj.version, offset = decode_DMVersion(data, offset)
    w0, = _unpack_I(data, offset)
    obj.reservedz = (w0 >> 1) & 0x7fffffff
    obj.is_last_attempt = (w0 >> 0) & 0x1
    offset += 4
    return obj, offset


def decode_DMVersionResponse(data: bytes, offset: int) -> tuple[Any, int]:
    obj = DMVersionResponseValues()
    obj.missing = ()
    w0, = _unpack_Q(data, offset)
    obj.reservedz = (w0 >> 1) & 0x7fffffffffffffff
    obj.is_accepted = (w0 >> 0) & 0x1
    offset += 8
    return obj, offset


def decode_DMCaps(data: bytes, offset: int) -> tuple[Any, int]:
    obj = DMCapsValues()
    obj.missing = ()
    w0, = _unpack_Q(data, offset)
    obj.reservedz = (w0 >> 7) & 0x1ffffffffffffff
    obj.hot_remove = (w0 >> 6) & 0x1
    obj.hot_add_alignment = (w0 >> 2) & 0xf
    obj.hot_add = (w0 >> 1) & 0x1
    obj.balloon = (w0 >> 0) & 0x1
    offset += 8
    return obj, offset


def decode_DMCapabilitiesReport(data: bytes, offset: int) -> tuple[Any, int]:
    obj = DMCapabilitiesReportValues()
    obj.missing = ()
    obj.caps, offset = decode_DMCaps(data, offset)
    w0, w1, = _unpack_QQ(data, offset)
    obj.min_page_cnt = w0
    obj.max_page_number = w1
    offset += 16
    return obj, offset


def decode_DMCapabilitiesResponse(data: bytes, offset: int) -> tuple[Any, int]:
    obj = DMCapabilitiesResponseValues()
    obj.missing = ()
    w0, = _unpack_Q(data, offset)
    obj.reservedz = (w0 >> 3) & 0x1fffffffffffffff
    obj.suppress_pressure_reports = (w0 >> 2) & 0x1
    obj.hot_remove = (w0 >> 1) & 0x1
    obj.is_accepted = (w0 >> 0) & 0x1
    offset += 8
    return obj, offset


def decode_DMStatusReport(data: bytes, offset: int) -> tuple[Any, int]:
    obj = DMStatusReportValues()
    obj.missing = ()
    w0, w1, w2, w3, w4, w5, = _unpack_QQQQII(data, offset)
    obj.num_avail = w0
    obj.num_committed = w1
    obj.page_file_size = w2
    obj.zero_free = w3
    obj.page_file_writes = w4
    obj.io_diff = w5
    offset += 40
    return obj, offset


def decode_DMBalloonRequest(data: bytes, offset: int) -> tuple[Any, int]:
    obj = DMBalloonRequestValues()
    obj.missing = ()
    w0, w1, = _unpack_II(data, offset)
    obj.num_pages = w0
    obj.reservedz = w1
    offset += 8
    return obj, offset


def decode_DMPageRange(data: bytes, offset: int) -> tuple[Any, int]:
    obj = DMPageRangeValues()
    obj.missing = ()
    w0, = _unpack_Q(data, offset)
    obj.start_page = (w0 >> 0) & 0xffffffffff
    obj.page_cnt = (w0 >> 40) & 0xffffff
    offset += 8
    return obj, offset


def decode_DMBalloonResponse(data: bytes, offset: int) -> tuple[Any, int]:
    obj = DMBalloonResponseValues()
    obj.missing = ()
    w0, w1, = _unpack_II(data, offset)
    obj.reservedz = w0
    obj.range_count = (w1 >> 1) & 0x7fffffff
    obj.more_pages = (w1 >> 0) & 0x1
    offset += 8
    count = min(obj.range_count, (len(data) - offset) // 8)
    if count < 0:
        count = 0
    items = []
    append = items.append
    end = offset + count * 8
    for w0, in iter_unpack('<Q', data[offset:end]):
        item = DMPageRangeValues()
        item.missing = ()
        item.start_page = (w0 >> 0) & 0xffffffffff
        item.page_cnt = (w0 >> 40) & 0xffffff
        append(item)
    offset = end
    obj.range_array = items
    return obj, offset


def decode_DMUnballoonRequest(data: bytes, offset: int) -> tuple[Any, int]:
    obj = DMUnballoonRequestValues()
    obj.missing = ()
    w0, w1, = _unpack_II(data, offset)
    obj.reservedz = (w0 >> 1) & 0x7fffffff
    obj.more_pages = (w0 >> 0) & 0x1
    obj.range_count = w1
    offset += 8
    count = min(obj.range_count, (len(data) - offset) // 8)
    if count < 0:
        count = 0
    items = []
    append = items.append
    end = offset + count * 8
    for w0, in iter_unpack('<Q', data[offset:end]):
        item = DMPageRangeValues()
        item.missing = ()
        item.start_page = (w0 >> 0) & 0xffffffffff
        item.page_cnt = (w0 >> 40) & 0xffffff
        append(item)
    offset = end
    obj.range_array = items
    return obj, offset


def decode_DMUnballoonResponse(data: bytes, offset: int) -> tuple[Any, int]:
    obj = DMUnballoonResponseValues()
    obj.missing = ()
    return obj, offset


def decode_DMHotAddRequest(data: bytes, offset: int) -> tuple[Any, int]:
    obj = DMHotAddRequestValues()
    obj.missing = ()
    obj.range, offset = decode_DMPageRange(data, offset)
    if _header_fields(data)[1] >= offset + 8:
        if len(data) < offset + 8:
            raise NotCompiled
        obj.region, offset = decode_DMPageRange(data, offset)
    else:
        obj.region = None
    return obj, offset


def decode_DMHotAddResponse(data: bytes, offset: int) -> tuple[Any, int]:
    obj = DMHotAddResponseValues()
    obj.missing = ()
    w0, w1, = _unpack_II(data, offset)
    obj.page_count = w0
    obj.result = w1
    offset += 8
    return obj, offset


def decode_DMInfoEntry(data: bytes, offset: int) -> tuple[Any, int]:
    obj = DMInfoEntryValues()
    obj.missing = ()
    w0, w1, = _unpack_II(data, offset)
    obj.type = w0
    obj.data_size = w1
    offset += 8
    if obj.type == 0 and obj.data_size == 8:
        if len(data) < offset + 8:
            raise NotCompiled
        obj.data, = _unpack_Q(data, offset)
        offset += 8
    else:
        obj.data = data[offset:offset + obj.data_size]
        offset += len(obj.data)
    return obj, offset


def decode_DMInfoMessage(data: bytes, offset: int) -> tuple[Any, int]:
    obj = DMInfoMessageValues()
    obj.missing = ()
    w0, w1, = _unpack_II(data, offset)
    obj.reserved = w0
    obj.info_size = w1
    offset += 8
    budget = max(0, min(obj.info_size or 0, len(data) - offset))
    chunk = data[offset:offset + budget]
    items = []
    pos = 0
    while pos < budget:
        if budget - pos < 8:
            raise NotCompiled
        item, pos = decode_DMInfoEntry(chunk, pos)
        items.append(item)
    obj.info = items
    offset += pos
    return obj, offset


def decode_DMHotRemoveRequest(data: bytes, offset: int) -> tuple[Any, int]:
    obj = DMHotRemoveRequestValues()
    obj.missing = ()
    w0, w1, w2, w3, = _unpack_IIII(data, offset)
    obj.virtual_node = w0
    obj.page_count = w1
    obj.qos_flags = w2
    obj.reservedZ = w3
    offset += 16
    return obj, offset


def decode_DMHotRemoveResponse(data: bytes, offset: int) -> tuple[Any, int]:
    obj = DMHotRemoveResponseValues()
    obj.missing = ()
    w0, w1, w2, = _unpack_IIQ(data, offset)
    obj.result = w0
    obj.range_count = w1
    obj.reservedz = (w2 >> 1) & 0x7fffffffffffffff
    obj.more_pages = (w2 >> 0) & 0x1
    offset += 16
    count = min(obj.range_count, (len(data) - offset) // 8)
    if count < 0:
        count = 0
    items = []
    append = items.append
    end = offset + count * 8
    for w0, in iter_unpack('<Q', data[offset:end]):
        item = DMPageRangeValues()
        item.missing = ()
        item.start_page = (w0 >> 0) & 0xffffffffff
        item.page_cnt = (w0 >> 40) & 0xffffff
        append(item)
    offset = end
    obj.range_array = items
    return obj, offset


#: The values class of every layer, by layer name.
VALUES: dict[str, type[Values]] = {
    'DMHeader': DMHeaderValues,
    'VMBusDescriptor': VMBusDescriptorValues,
    'DMError': DMErrorValues,
    'DMVersion': DMVersionValues,
    'DMVersionRequest': DMVersionRequestValues,
    'DMVersionResponse': DMVersionResponseValues,
    'DMCaps': DMCapsValues,
    'DMCapabilitiesReport': DMCapabilitiesReportValues,
    'DMCapabilitiesResponse': DMCapabilitiesResponseValues,
    'DMStatusReport': DMStatusReportValues,
    'DMBalloonRequest': DMBalloonRequestValues,
    'DMPageRange': DMPageRangeValues,
    'DMBalloonResponse': DMBalloonResponseValues,
    'DMUnballoonRequest': DMUnballoonRequestValues,
    'DMUnballoonResponse': DMUnballoonResponseValues,
    'DMHotAddRequest': DMHotAddRequestValues,
    'DMHotAddResponse': DMHotAddResponseValues,
    'DMInfoEntry': DMInfoEntryValues,
    'DMInfoMessage': DMInfoMessageValues,
    'DMHotRemoveRequest': DMHotRemoveRequestValues,
    'DMHotRemoveResponse': DMHotRemoveResponseValues,
}
#: The decoder of each message type whose layer compiles.
DECODERS: dict[int, Callable[[bytes, int], tuple[Any, int]]] = {
    MessageType.DM_ERROR: decode_DMError,
    MessageType.DM_VERSION_REQUEST: decode_DMVersionRequest,
    MessageType.DM_VERSION_RESPONSE: decode_DMVersionResponse,
    MessageType.DM_CAPABILITIES_REPORT: decode_DMCapabilitiesReport,
    MessageType.DM_CAPABILITIES_RESPONSE: decode_DMCapabilitiesResponse,
    MessageType.DM_STATUS_REPORT: decode_DMStatusReport,
    MessageType.DM_BALLOON_REQUEST: decode_DMBalloonRequest,
    MessageType.DM_BALLOON_RESPONSE: decode_DMBalloonResponse,
    MessageType.DM_UNBALLOON_REQUEST: decode_DMUnballoonRequest,
    MessageType.DM_UNBALLOON_RESPONSE: decode_DMUnballoonResponse,
    MessageType.DM_MEM_HOT_ADD_REQUEST: decode_DMHotAddRequest,
    MessageType.DM_MEM_HOT_ADD_RESPONSE: decode_DMHotAddResponse,
    MessageType.DM_INFO_MESSAGE: decode_DMInfoMessage,
    MessageType.DM_MEM_HOT_REMOVE_REQUEST: decode_DMHotRemoveRequest,
    MessageType.DM_MEM_HOT_REMOVE_RESPONSE: decode_DMHotRemoveResponse,
}
#: The decoders of the VMBus descriptor and of the header.
VMBUS_DECODER = decode_VMBusDescriptor
HEADER_DECODER = decode_DMHeader
