"""The layers are the only home of protocol numbers: a mechanical check of the rest of the code.

Outside ``dmdissect/layers/`` and the capture readers and writers (whose own
file formats have their own numbers), no module may

* use ``struct`` (a format string restates a layout the layers derive);
* compare a message type, info type or hot-add result with a bare number
  (``message.type == 5``, ``body.result == 1``): the layers name them;
* do arithmetic on a type (``type - 1``: which request a reply answers);
* compute with 4096, the largest part (``(4096 - 16) // 8``, ``size > 4096``): the
  layers' ``MAX_PART_SIZE`` and ``ranges_per_part`` say it;
* add a bare number to a size (``HEADER_SIZE + 8``: the fixed part of a layer,
  ``layer_fixed_size``) or divide one by it (``DESCRIPTOR_SIZE // 8``);
* count VMBus units by hand (``len8 * 8``: ``vmbus_bytes``) or align by hand
  (``-size % 8``, ``(size + 7) // 8``: ``vmbus_packet_size``);
* compare a byte length with a bare protocol size (``len(buffer) < 4``: the
  header's ``SIZE_END``; 4, 8, 16 and 24 bytes), except in the hex reader,
  whose lengths count characters of text.

The capture readers and writers keep their file formats' numbers, but as named
constants: a block type or option code written as a literal (``_block(6, ...)``)
or a magic number inline (``0xA1B2C3D4`` outside a module-level constant) is
caught there.

Each rule is also run on a snippet that breaks it, so the check itself is
shown to catch what it claims to.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "dmdissect"

#: Where numbers may live: the layers, and the capture file formats' own code.
ALLOWED = (
    "layers/",
    "sources/capture.py",
    "sources/writer.py",
    "sources/compressed.py",
    "sources/detect.py",
)

#: The capture file formats' own code, where their numbers live as named constants.
CAPTURE_FORMATS = ALLOWED[1:]
#: Modules whose lengths are of text, not of protocol bytes.
TEXT_LENGTHS = ("sources/hex/",)

#: Names whose values are protocol codes that the layers enumerate.
CODED = {"type", "msg_type", "result"}
#: VMBus descriptor fields counted in units of 8 bytes.
UNITS = {"len8", "offset8"}
#: Byte lengths that are protocol sizes: the size field's end, the header, the
#: descriptor, and the two together.
PROTOCOL_SIZES = {4, 8, 16, 24}
#: The capture writers' helpers whose first argument is a block type or option code.
CODE_TAKERS = {"_block", "_option"}


def _coded(node: ast.AST) -> bool:
    if isinstance(node, ast.Name):
        return node.id in CODED
    return isinstance(node, ast.Attribute) and node.attr in CODED


def _number(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int) and not isinstance(node.value, bool)
    if isinstance(node, (ast.Tuple, ast.Set, ast.List)):
        return bool(node.elts) and all(_number(elt) for elt in node.elts)
    return False


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _int(node: ast.AST, value: int | None = None) -> bool:
    return (
        isinstance(node, ast.Constant)
        and type(node.value) is int
        and (value is None or node.value == value)
    )


def _is_len(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len"


def _sizes(node: ast.BinOp) -> list[str]:
    """Size and VMBus-unit arithmetic with bare numbers."""
    found = []
    pairs = ((node.left, node.right), (node.right, node.left))
    if isinstance(node.op, (ast.Add, ast.Sub, ast.FloorDiv, ast.Mod, ast.Div)) and any(
        _name(a).endswith("_SIZE") and _int(b) and b.value for a, b in pairs
    ):
        found.append("a size computed with a bare number")
    if isinstance(node.op, ast.Mult) and any(_name(a) in UNITS and _int(b) for a, b in pairs):
        found.append("VMBus units counted by hand (vmbus_bytes)")
    padding = isinstance(node.op, ast.Mod) and _int(node.right, 8)
    padding = padding and isinstance(node.left, ast.UnaryOp)
    rounding = isinstance(node.op, ast.FloorDiv) and _int(node.right, 8)
    rounding = rounding and isinstance(node.left, ast.BinOp) and _int(node.left.right, 7)
    if padding or rounding:
        found.append("8-byte alignment by hand (vmbus_packet_size)")
    return found


def violations(source: str, text_lengths: bool = False) -> list[str]:
    """What in ``source`` restates a number the layers own, one line each.

    ``text_lengths``: the module measures text, so ``len()`` comparisons are its own.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import) and any(a.name == "struct" for a in node.names):
            found.append(f"{line}: import struct")
        elif isinstance(node, ast.ImportFrom) and node.module == "struct":
            found.append(f"{line}: from struct import")
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_coded(side) for side in sides) and any(_number(side) for side in sides):
                found.append(f"{line}: a coded value compared with a bare number")
        elif isinstance(node, ast.BinOp) and (
            (_coded(node.left) and _number(node.right))
            or (_coded(node.right) and _number(node.left))
        ):
            found.append(f"{line}: arithmetic on a coded value")
        if isinstance(node, (ast.BinOp, ast.Compare)) and any(
            isinstance(part, ast.Constant) and type(part.value) is int and part.value == 4096
            for part in ast.walk(node)
        ):
            found.append(f"{line}: 4096 (MAX_PART_SIZE)")
        if isinstance(node, ast.BinOp):
            found += [f"{line}: {what}" for what in _sizes(node)]
        if isinstance(node, ast.Compare) and not text_lengths:
            sides = [node.left, *node.comparators]
            if any(_is_len(side) for side in sides) and any(
                _int(side) and side.value in PROTOCOL_SIZES for side in sides
            ):
                found.append(f"{line}: a byte length compared with a bare protocol size")
    return list(dict.fromkeys(found))


def format_violations(source: str) -> list[str]:
    """What in a capture reader or writer writes a file format's number inline."""
    tree = ast.parse(source)
    named = {
        id(part)
        for node in tree.body
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        for part in ast.walk(node)
    }
    found = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if (
            isinstance(node, ast.Call)
            and _name(node.func) in CODE_TAKERS
            and node.args
            and _int(node.args[0])
        ):
            found.append(f"{line}: a block type or option code as a bare number")
        if _int(node) and node.value > 0xFFFF and id(node) not in named:
            found.append(f"{line}: a magic number outside a named constant")
    return list(dict.fromkeys(found))


def _checked_modules() -> list[Path]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if not relative.startswith(ALLOWED):
            out.append(path)
    return out


@pytest.mark.parametrize(
    "path", _checked_modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix()
)
def test_no_protocol_number_outside_the_layers(path):
    relative = path.relative_to(PACKAGE).as_posix()
    assert violations(path.read_text(), text_lengths=relative.startswith(TEXT_LENGTHS)) == []


@pytest.mark.parametrize("relative", CAPTURE_FORMATS)
def test_capture_formats_name_their_numbers(relative):
    assert format_violations((PACKAGE / relative).read_text()) == []


@pytest.mark.parametrize(
    "snippet,expected",
    [
        ("import struct", "1: import struct"),
        ("from struct import unpack_from", "1: from struct import"),
        ("if message.type == 5: pass", "1: a coded value compared with a bare number"),
        ("ok = body.result in (0, 1)", "1: a coded value compared with a bare number"),
        ("ok = 12 <= msg_type", "1: a coded value compared with a bare number"),
        ("name = type_name(message.type - 1)", "1: arithmetic on a coded value"),
        ("RANGES = (4096 - 16) // 8", "1: 4096 (MAX_PART_SIZE)"),
        ("big = size > 4096", "1: 4096 (MAX_PART_SIZE)"),
        ("end = HEADER_SIZE + 8 + body.info_size", "1: a size computed with a bare number"),
        ("units = DESCRIPTOR_SIZE // 8", "1: a size computed with a bare number"),
        ("claimed = vmbus.len8 * 8", "1: VMBus units counted by hand (vmbus_bytes)"),
        ("pad = -message.size % 8", "1: 8-byte alignment by hand (vmbus_packet_size)"),
        ("top = (n + 7) // 8 * 8", "1: 8-byte alignment by hand (vmbus_packet_size)"),
        ("short = len(buffer) < 4", "1: a byte length compared with a bare protocol size"),
        ("ok = 16 <= len(data)", "1: a byte length compared with a bare protocol size"),
    ],
)
def test_the_check_catches_each_kind(snippet, expected):
    assert violations(snippet) == [expected]


@pytest.mark.parametrize(
    "snippet,expected",
    [
        ("x = _block(6, body, options)", "1: a block type or option code as a bare number"),
        ("x = _option(2, flags)", "1: a block type or option code as a bare number"),
        ("def f():\n    return 0xA1B2C3D4", "2: a magic number outside a named constant"),
    ],
)
def test_the_format_check_catches_each_kind(snippet, expected):
    assert format_violations(snippet) == [expected]


@pytest.mark.parametrize(
    "snippet",
    [
        "if message.type == MessageType.DM_STATUS_REPORT: pass",
        "ok = body.result is None",
        "size = fixed_size(message.type) + 8 * count",
        "PROGRESS_EVERY = 4096",
        "end = layer_fixed_size(DMInfoMessage) + body.info_size",
        "size = f'{bits // 8} bytes' if bits % 8 == 0 else f'{bits} bits'",
        "both = 2 * PAGE_RANGE_SIZE",
        "short = len(buffer) < SIZE_END",
    ],
)
def test_the_check_leaves_named_values_alone(snippet):
    assert violations(snippet) == []


def test_text_lengths_are_the_hex_readers_own():
    assert violations("wide = len(token) == 16", text_lengths=True) == []


def test_the_format_check_leaves_named_constants_alone():
    source = "BLOCK_SHB = 0x0A0D0D0A\nx = _block(BLOCK_SHB, body)\n"
    assert format_violations(source) == []
