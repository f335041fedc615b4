"""The Scapy side's view of the generated fast decoders (:mod:`dmdissect.layers.tables`).

The decoders and values classes that :mod:`dmdissect.layers.codegen` derives
from each layer's ``fields_desc`` are generated into
:mod:`dmdissect.layers.tables`, which imports no Scapy, so ``dmdissect read``
starts without it.  Code that works with the Scapy layers asks here for a
layer's decoder (:func:`compile_layer`), its values class and the layer of a
values object (:func:`layer_of`); importing this module tells every
generated values class its Scapy layer (``__layer__``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from scapy.packet import Packet

from dmdissect.layers import tables
from dmdissect.layers.codegen import LAYERS, decoder_name
from dmdissect.layers.layout import layout_of
from dmdissect.layers.values import NotCompiled, Values

__all__ = ["NotCompiled", "Values", "compile_layer", "layer_of", "values_class"]


def layer_of(obj: Any) -> type[Packet]:
    """The Scapy layer class of a packet or of a values object."""
    return getattr(obj, "__layer__", None) or type(obj)


@cache
def values_class(layer: type[Packet]) -> type[Values]:
    """The generated values class of ``layer``."""
    return tables.VALUES[layer.__name__]


for _name, _values in tables.VALUES.items():
    _values.__layer__ = LAYERS[_name]


@dataclass
class Decoder:
    """Decodes one layer from ``data`` at ``offset``; see :func:`compile_layer`.

    ``decode(data, offset)`` returns the values object and the offset after
    it; the caller checks that ``len(data)`` covers the fixed part first.
    """

    layer: type[Packet]
    decode: Callable[[bytes, int], tuple[Any, int]]
    fixed: int


@cache
def compile_layer(layer: type[Packet]) -> Decoder | None:
    """The generated fast decoder of ``layer``, or None when its layer does not compile."""
    decode = getattr(tables, decoder_name(layer), None)
    if decode is None:
        return None
    return Decoder(layer, decode, layout_of(layer).fixed_size)
