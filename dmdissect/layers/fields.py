"""Scapy fields that stay bounded when a message lies about its own lengths.

A ``range_count`` of 2**31-1 or an ``info_size`` of 4 GiB must not make the
dissector loop or allocate for what is not there: these fields take the
smaller of what the message claims and what the bytes hold.  The expert
checks compare the two and report the difference.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from scapy.config import conf
from scapy.fields import ConditionalField, PacketField, PacketListField
from scapy.packet import BasePacket, Packet


class BoundedPacketListField(PacketListField):
    """A list of fixed-size structures, counted by a field, capped by the bytes.

    ``count_from`` gives the number the message claims; at most
    ``len(bytes) // item_size`` items are decoded.
    """

    __slots__ = ["item_size", "item_cls", "claimed"]

    def __init__(
        self, name: str, cls: type[Packet], item_size: int, count_from: Callable[[Packet], int]
    ) -> None:
        super().__init__(name, [], cls, count_from=count_from)
        self.item_size = item_size
        # Scapy types ``cls`` and ``count_from`` loosely (a class or a callback, maybe None);
        # these fields always hold a class and a count, kept here with their real types.
        self.item_cls = cls
        self.claimed = count_from

    def getfield(self, pkt: Packet, s: bytes) -> tuple[bytes, list[BasePacket]]:
        claimed = self.claimed(pkt) or 0
        count = max(0, min(claimed, len(s) // self.item_size))
        size = self.item_size
        items: list[BasePacket] = []
        for i in range(count):
            item = self.item_cls(s[i * size : (i + 1) * size], _internal=1)
            item.parent = pkt
            items.append(item)
        return s[count * size :], items


#: Bytes first offered to each structure of a :class:`SizedPacketListField`.
FIRST_WINDOW = 64


def _strip_padding(item: Packet) -> bytes:
    """The bytes ``item`` did not take (Scapy leaves them as a padding layer), removed."""
    pad = item.getlayer(conf.padding_layer)
    if pad is None:
        return b""
    if pad.underlayer is not None:
        pad.underlayer.remove_payload()
    return pad.load


class SizedPacketListField(PacketListField):
    """Variable-size structures packed into a byte budget given by a field.

    The budget is capped by the bytes present; each structure consumes what
    it dissects, and a structure that consumes nothing, or is cut short,
    ends the list.

    Each structure is offered a window of the bytes, doubled while it takes
    all of it, never the whole rest: Scapy keeps the bytes a packet was made
    from, so thousands of small entries each holding the rest of a 64 KiB
    message cost memory and time quadratic in their number.  This way each
    costs about what it holds.
    """

    __slots__ = ["item_cls", "budget"]

    def __init__(self, name: str, cls: type[Packet], length_from: Callable[[Packet], int]) -> None:
        super().__init__(name, [], cls, length_from=length_from)
        # Typed again, as in BoundedPacketListField.
        self.item_cls = cls
        self.budget = length_from

    def getfield(self, pkt: Packet, s: bytes) -> tuple[bytes, list[BasePacket]]:
        budget = max(0, min(self.budget(pkt) or 0, len(s)))
        chunk, rest = s[:budget], s[budget:]
        items: list[BasePacket] = []
        pos = 0
        while pos < budget:
            item, used = self._take(chunk, pos)
            if used <= 0:
                break
            item.parent = pkt
            items.append(item)
            pos += used
            if getattr(item, "missing", ()):
                break
        return chunk[pos:] + rest, items

    def _take(self, chunk: bytes, pos: int) -> tuple[Packet, int]:
        """The structure at ``pos`` and how many bytes it took."""
        window = FIRST_WINDOW
        while True:
            end = min(len(chunk), pos + window)
            item = self.item_cls(chunk[pos:end], _internal=1)
            leftover = _strip_padding(item)
            if leftover or end == len(chunk):
                return item, end - pos - len(leftover)
            window *= 2


class OptionalPacketField(ConditionalField):
    """A trailing structure that is there only when its condition holds and bytes remain.

    The hot-add request's region is announced by ``hdr.size``; when the size
    claims it but the bytes stop first, the field is absent (and the expert
    checks report the truncation) instead of being invented from nothing.
    """

    __slots__ = ["announced_by_size", "packet_cls"]

    def __init__(
        self,
        name: str,
        cls: type[Packet],
        cond: Callable[[Packet], bool],
        announced_by_size: bool = False,
    ) -> None:
        """``announced_by_size``: ``cond`` is exactly "the header's size reaches the
        end of this field", which the compiled decoders then test themselves."""
        super().__init__(PacketField(name, None, cls), cond)
        self.announced_by_size = announced_by_size
        #: The structure's layer, typed (Scapy's ``fld`` is any field).
        self.packet_cls = cls

    def getfield(self, pkt: Packet, s: bytes) -> tuple[bytes, Packet | None]:
        """None when the condition fails; a short read when it holds but bytes lack."""
        if not self._evalcond(pkt):
            return s, None
        from dmdissect.layers.layout import layout_of

        needed = layout_of(self.packet_cls).fixed_size
        if len(s) < needed:
            raise struct.error(f"{self.name} needs {needed} bytes, {len(s)} left")
        return self.fld.getfield(pkt, s)
