"""The base class of every Dynamic Memory layer: dissects as far as the bytes go.

Plain Scapy gives up on a layer whose fixed part is cut short and turns the
whole body into ``Raw``.  A dissector must instead show every field that is
there and say which are missing, so :class:`DMPacket` reads storage unit by
storage unit and stops cleanly at the first one the bytes cannot fill.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any, ClassVar

from scapy.config import conf
from scapy.packet import Packet

from dmdissect.layers.layout import layout_of


class DMPacket(Packet):
    """A layer that records the fields its bytes were too short to hold.

    Its one-line summary is written by the views (:mod:`dmdissect.views.phrases`).
    """

    #: For a field whose type depends on others (a ``MultipleTypeField``): the
    #: values that select its typed variant, by field name.
    variant_when: ClassVar[Mapping[str, Mapping[str, int]]] = {}
    #: The name each typed variant goes by in filters, ``-T fields``, JSON and the
    #: Wireshark plugin (its field keeps the layer's name): one name, one type, so a
    #: filter's value means one thing (``info.data`` is bytes, ``info.max_page_cnt``
    #: the 64-bit count a MAX_PAGE_CNT entry's data holds).
    variant_names: ClassVar[Mapping[str, str]] = {}

    #: Names of the fields that were not present in the dissected bytes.
    missing: tuple[str, ...] = ()

    def __init__(self, _pkt: bytes | None = None, *args: Any, **kwargs: Any) -> None:
        """``Layer(b"")`` is a dissection of nothing, unlike ``Layer()`` (a new packet).

        Scapy treats both alike and shows defaults as if they had been read;
        here empty input says every field is missing.
        """
        super().__init__(b"" if _pkt is None else _pkt, *args, **kwargs)
        if _pkt is not None and not _pkt:
            self.missing = layout_of(type(self)).names_from(0)

    def do_dissect(self, s: bytes) -> bytes:
        raw = s
        self.raw_packet_cache_fields = {}
        self.missing = ()
        layout = layout_of(type(self))
        for group in layout.groups:
            if group.size is not None and len(s) < group.size:
                self.missing = layout.names_from(group.index)
                break
            try:
                pieces = [field.getfield(self, s) for field in group.fields[:1]]
            except struct.error:
                self.missing = layout.names_from(group.index)
                break
            for index, field in enumerate(group.fields):
                s, value = pieces[0] if index == 0 else field.getfield(self, s)
                if field.isconditional and value is None:
                    continue
                if (field.islist or field.holds_packets or field.ismutable) and value is not None:
                    self.raw_packet_cache_fields[field.name] = self._raw_packet_cache_field_value(
                        field, value, copy=True
                    )
                self.fields[field.name] = value
        self.raw_packet_cache = raw[: -len(s)] if s else raw
        self.explicit = 1
        return s

    def do_dissect_payload(self, s: bytes) -> None:
        """Give a message whose bytes end with its header its (wholly missing) body.

        Scapy adds no layer for zero bytes, which would make a header-only
        message indistinguishable from one of a type that has no body.  Bytes
        left by a layer cut short are the rest of that layer, not a body.
        """
        if s and self.missing:
            self.add_payload(conf.raw_layer(s, _internal=1, _underlayer=self))
            return
        if s:
            super().do_dissect_payload(s)
            return
        layer = self.guess_payload_class(s)
        if layer is None or not issubclass(layer, DMPacket) or self.missing:
            return
        body = layer()
        body.missing = layout_of(layer).names_from(0)
        self.add_payload(body)


class DMStruct(DMPacket):
    """A fixed structure nested inside a message (a union, a page range)."""

    def extract_padding(self, s: bytes) -> tuple[bytes, bytes]:
        return b"", s
