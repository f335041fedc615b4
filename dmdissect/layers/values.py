"""What a decoded layer is on the fast path: a light values object, free of Scapy.

The decoders of :mod:`dmdissect.layers.tables` (generated from the layers'
``fields_desc``) fill one values object per layer: the layer's field names as
slots, ``missing`` (the fields the bytes did not hold) and the layer's own
methods.  The methods a layer adds to its fields are written here, as mixins
both the Scapy layer and its values class inherit, so either answers alike
without importing Scapy.
"""

from __future__ import annotations

from typing import Any, ClassVar


class NotCompiled(Exception):
    """Raised by a decoder for input it leaves to Scapy (an announced structure cut short)."""


class Values:
    """Base of the generated values classes.

    ``layer_name`` names the Scapy layer; ``__layer__`` is that layer's class,
    set when the Scapy side is imported (:mod:`dmdissect.layers.compiled`),
    which every view that needs it does first.
    """

    __slots__ = ("missing",)
    layer_name: ClassVar[str]
    __layer__: ClassVar[Any]


def layer_name(obj: Any) -> str:
    """The name of the layer of a values object or of a Scapy packet (its class name)."""
    kind = type(obj)
    return kind.layer_name if issubclass(kind, Values) else kind.__name__


class VersionWord:
    """``union dm_version`` read as one 32-bit word: major in the high half."""

    major_version: int
    minor_version: int

    @property
    def version(self) -> int:
        return (self.major_version << 16) | self.minor_version
