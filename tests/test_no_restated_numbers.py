"""The layers are the only home of protocol numbers: a mechanical check of the rest of the code.

Outside ``dmdissect/layers/`` and the capture readers and writers (whose own
file formats have their own numbers), no module may

* use ``struct`` (a format string restates a layout the layers derive);
* compare a message type, info type or hot-add result with a bare number
  (``message.type == 5``, ``body.result == 1``): the layers name them;
* do arithmetic on a type (``type - 1``: which request a reply answers);
* compute with 4096, the largest part (``(4096 - 16) // 8``, ``size > 4096``): the
  layers' ``MAX_PART_SIZE`` and ``ranges_per_part`` say it.

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

#: Names whose values are protocol codes that the layers enumerate.
CODED = {"type", "msg_type", "result"}


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


def violations(source: str) -> list[str]:
    """What in ``source`` restates a number the layers own, one line each."""
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
    assert violations(path.read_text()) == []


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
    ],
)
def test_the_check_catches_each_kind(snippet, expected):
    assert violations(snippet) == [expected]


@pytest.mark.parametrize(
    "snippet",
    [
        "if message.type == MessageType.DM_STATUS_REPORT: pass",
        "ok = body.result is None",
        "size = fixed_size(message.type) + 8 * count",
        "PROGRESS_EVERY = 4096",
    ],
)
def test_the_check_leaves_named_values_alone(snippet):
    assert violations(snippet) == []
