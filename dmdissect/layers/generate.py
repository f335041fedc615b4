"""Writes :mod:`dmdissect.layers.tables`: what the read path needs of the layers, without Scapy.

``python -m dmdissect.layers.generate`` rewrites ``dmdissect/layers/tables.py``
from the layers' ``fields_desc``; ``--check`` only says whether the committed
file is what the layers give (exit 1 when it drifted).  Importing Scapy costs
more than a whole ``read`` of a small capture should, so the sizes, field
names, decoders, values classes and JSON export plans that this module derives from the layers
are written out once as plain Python, and a test regenerates them on every run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from scapy.fields import PacketField

from dmdissect.layers import numbers, values
from dmdissect.layers.base import DMPacket
from dmdissect.layers.codegen import LAYERS, decoder_name, layer_source, values_name
from dmdissect.layers.exports import export_plan, tree_plan
from dmdissect.layers.header import HEADER_STRUCT, MAX_SIZE, SIZE_END, DMHeader
from dmdissect.layers.layout import layout_of
from dmdissect.layers.messages import (
    INTRODUCED_IN,
    MAX_PAGE_CNT_SIZE,
    MESSAGE_LAYERS,
    PAGE_RANGE_SIZE,
    SENDER,
    fixed_size,
)
from dmdissect.layers.vmbus import DESCRIPTOR_SIZE, VMBusDescriptor
from dmdissect.vocabulary import Side

#: Where the generated module goes.
TABLES = Path(__file__).with_name("tables.py")

HEAD = '''"""What the read path needs of the layers, generated from their ``fields_desc``.

Do not edit: written by ``python -m dmdissect.layers.generate`` (see that
module); a test regenerates it and fails when the layers changed and this
file did not.  It imports no Scapy: sizes, field names, one values class
and one decoder per layer, as :mod:`dmdissect.layers.codegen` derives them.
"""

# mypy: ignore-errors

from collections.abc import Callable
from struct import Struct, iter_unpack
from typing import Any

'''


def _literal(value: Any) -> str | None:
    """``value`` as a Python literal, when it is made of plain constants only."""
    if value is None or isinstance(value, (bool, str)):
        return repr(value)
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, (list, tuple)):
        items = [_literal(item) for item in value]
        if None in items:
            return None
        inner = ", ".join(items)  # type: ignore[arg-type]
        if isinstance(value, list):
            return f"[{inner}]"
        return f"({inner},)" if len(items) == 1 else f"({inner})"
    if isinstance(value, Mapping):
        pairs = [(_literal(k), _literal(v)) for k, v in value.items()]
        if any(k is None or v is None for k, v in pairs):
            return None
        return "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
    return None


class _Module:
    """The generated module's imports."""

    def __init__(self) -> None:
        self.imports: dict[str, set[str]] = {}

    def use(self, module: str, name: str) -> str:
        self.imports.setdefault(module, set()).add(name)
        return name


def _mixins(layer: type[DMPacket]) -> list[type]:
    """The layer's own Scapy-free bases (:mod:`dmdissect.layers.values`), for its values class."""
    return [
        base
        for base in layer.__mro__
        if base.__module__ == values.__name__ and base is not values.Values
    ]


def _values_class(module: _Module, layer: type[DMPacket]) -> str:
    names = _names(layer)
    bases = [module.use(values.__name__, base.__name__) for base in _mixins(layer)]
    bases.append(module.use(values.__name__, "Values"))
    lines = [
        f"class {values_name(layer)}({', '.join(bases)}):",
        f"    __slots__ = {_literal(names)}",
        f"    layer_name = {layer.__name__!r}",
    ]
    return "\n".join(lines) + "\n"


def _enum_member(value: Any) -> str:
    owner = type(value)
    if owner is Side:
        return f"Side.{value.name}"
    if owner is numbers.ProtocolVersion:
        return f"ProtocolVersion.{value.name}"
    raise TypeError(f"no source form for {value!r}")


def _key(key: Any) -> str:
    """A message type as its member (the layers' own tables are keyed by them), else a literal."""
    if isinstance(key, numbers.MessageType):
        return f"MessageType.{key.name}"
    literal = _literal(key)
    assert literal is not None, key
    return literal


def _table(name: str, items: Mapping[Any, str], doc: str) -> str:
    body = "".join(f"    {_key(key)}: {value},\n" for key, value in items.items())
    return f"#: {doc}\n{name}: {_TYPES[name]} = {{\n{body}}}\n"


#: The type of each table, for the code that reads it.
_TYPES = {
    "LAYER_NAMES": "dict[int, str]",
    "SENDER": "dict[int, Side | None]",
    "INTRODUCED_IN": "dict[int, ProtocolVersion]",
    "FIXED_SIZES": "dict[int, int]",
    "FIELDS": "dict[str, tuple[str, ...]]",
    "LAYER_SIZES": "dict[str, int]",
    "STRUCTS": "dict[str, dict[str, str]]",
    "EXPORT_PLANS": "dict[str, tuple[tuple[str, str, Any], ...]]",
    "TREE_PLANS": "dict[str, tuple[tuple[str, int | None, int | None, int | None, str, Any], ...]]",
    "VALUES": "dict[str, type[Values]]",
    "DECODERS": "dict[int, Callable[[bytes, int], tuple[Any, int]]]",
}


def module_source() -> str:
    """The text of ``tables.py`` as the layers give it today."""
    module = _Module()
    module.use(values.__name__, "NotCompiled")
    module.use("dmdissect.vocabulary", "Side")
    module.use(numbers.__name__, "ProtocolVersion")
    module.use(numbers.__name__, "MessageType")
    classes, decoders, compiled = [], [], {}
    for layer in LAYERS.values():
        classes.append(_values_class(module, layer))
        source = layer_source(layer)
        if source is None:
            continue
        compiled[layer] = source
        decoders.append(source.source)
    symbols: dict[str, str] = {}
    for source in compiled.values():
        symbols.update(source.symbols)
    constants = [
        "#: ``type, size, trans_id`` of ``struct dm_header`` in one read.\n"
        f"HEADER_STRUCT = Struct({HEADER_STRUCT.format!r})",
        f"#: Bytes of ``struct dm_header``.\nHEADER_SIZE = {HEADER_STRUCT.size}",
        f"#: Bytes from a message's start to the end of its ``size`` field.\nSIZE_END = {SIZE_END}",
        f"#: The largest ``hdr.size``: what its field holds.\nMAX_SIZE = {MAX_SIZE}",
        f"#: Bytes of ``struct vmpacket_descriptor``.\nDESCRIPTOR_SIZE = {DESCRIPTOR_SIZE}",
        "#: Offset and size of the VMBus descriptor's fields.\nDESCRIPTOR_SPANS = "
        + _spans(VMBusDescriptor),
        "#: The first bytes of every in-band descriptor, up to the end of ``offset8``.\n"
        f"DESCRIPTOR_START = {_descriptor_start()!r}",
        f"#: Bytes of ``union dm_mem_page_range``.\nPAGE_RANGE_SIZE = {PAGE_RANGE_SIZE}",
        f"#: Bytes of a MAX_PAGE_CNT entry's data.\nMAX_PAGE_CNT_SIZE = {MAX_PAGE_CNT_SIZE}",
        "#: The header's fields: offset and size.\nHEADER_SPANS = " + _spans(DMHeader),
    ]
    out = [HEAD]
    for name, members in sorted(module.imports.items()):
        out.append(f"from {name} import {', '.join(sorted(members))}\n")
    out.append("\n" + "\n\n".join(constants) + "\n\n")
    out.append(
        _table(
            "LAYER_NAMES",
            {t: repr(layer.__name__) for t, layer in MESSAGE_LAYERS.items()},
            "The message layer of each ``dm_header.type``, by name.",
        )
    )
    out.append(
        _table(
            "SENDER",
            {t: "None" if s is None else _enum_member(s) for t, s in SENDER.items()},
            "Who sends each message type (None: either side).",
        )
    )
    out.append(
        _table(
            "INTRODUCED_IN",
            {t: _enum_member(v) for t, v in INTRODUCED_IN.items()},
            "The protocol version that introduced each message type.",
        )
    )
    out.append(
        _table(
            "FIXED_SIZES",
            {t: str(fixed_size(t)) for t in MESSAGE_LAYERS},
            "Bytes of the fixed part of each message type, header included.",
        )
    )
    out.append(
        _table(
            "FIELDS",
            {n: _literal(_names(layer)) or "()" for n, layer in LAYERS.items()},
            "Every layer's fields, by layer name, in their layout's order.",
        )
    )
    out.append(
        _table(
            "LAYER_SIZES",
            {n: str(layout_of(layer).fixed_size) for n, layer in LAYERS.items()},
            "Bytes of every layer's fixed part (the header not included), by layer name.",
        )
    )
    out.append(
        _table(
            "STRUCTS",
            {n: _literal(_structs(layer)) or "{}" for n, layer in LAYERS.items()},
            "The fixed structures nested in each layer: field name -> layer name.",
        )
    )
    out.append(
        _table(
            "EXPORT_PLANS",
            {n: _literal(export_plan(layer)) or "()" for n, layer in LAYERS.items()},
            "How each layer's fields go into JSON, in C order: name, kind, enum names"
            " (see :mod:`dmdissect.layers.exports`).",
        )
    )
    out.append(
        _table(
            "TREE_PLANS",
            {n: _literal(tree_plan(layer)) or "()" for n, layer in LAYERS.items()},
            "Where each layer's fields sit and how the -V tree shows them, in C order: name,"
            " offset, bit, bits, kind, what the kind needs (see :mod:`dmdissect.layers.exports`).",
        )
    )
    out.append("\n\n")
    out.append("\n\n".join(classes) + "\n\n")
    out.append("".join(f"{name} = {source}\n" for name, source in sorted(symbols.items())) + "\n\n")
    out.append("\n\n".join(decoders) + "\n\n")
    out.append(
        _table(
            "VALUES",
            {n: values_name(layer) for n, layer in LAYERS.items()},
            "The values class of every layer, by layer name.",
        )
    )
    out.append(
        _table(
            "DECODERS",
            {t: decoder_name(layer) for t, layer in MESSAGE_LAYERS.items() if layer in compiled},
            "The decoder of each message type whose layer compiles.",
        )
    )
    if VMBusDescriptor not in compiled or DMHeader not in compiled:
        raise TypeError("the header and the VMBus descriptor must compile: plain integers")
    out.append(
        "#: The decoders of the VMBus descriptor and of the header.\n"
        f"VMBUS_DECODER = {decoder_name(VMBusDescriptor)}\n"
        f"HEADER_DECODER = {decoder_name(DMHeader)}\n"
    )
    return "".join(out)


def _spans(layer: type[DMPacket]) -> str:
    """Offset and size of each field of a layer of fixed fields, as a literal."""
    return repr({s.name: (s.offset, s.size) for s in layout_of(layer).spots})


def _descriptor_start() -> bytes:
    offset, size = layout_of(VMBusDescriptor).span("offset8")
    return VMBusDescriptor().build()[: offset + size]


def _names(layer: type[DMPacket]) -> tuple[str, ...]:
    return tuple(spot.name for spot in layout_of(layer).spots)


def _structs(layer: type[DMPacket]) -> dict[str, str]:
    return {
        spot.name: spot.field.cls.__name__
        for spot in layout_of(layer).spots
        if type(spot.field) is PacketField
    }


def main(argv: list[str] | None = None, write: Callable[[str], object] = print) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dmdissect.layers.generate", description=__doc__
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if tables.py has drifted")
    args = parser.parse_args(argv)
    text = module_source()
    current = TABLES.read_text() if TABLES.exists() else ""
    if args.check:
        if current != text:
            write(f"{TABLES} differs from the layers: run python -m dmdissect.layers.generate")
            return 1
        return 0
    if current != text:
        TABLES.write_text(text)
        write(f"wrote {TABLES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
