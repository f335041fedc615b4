"""The dissected message: what one frame turned out to be, the model every later stage reads.

This is the seam between the sources (bytes) and everything that reasons
about messages (expert checks, the transaction tracker, the views); it is
filled by :mod:`dmdissect.analysis.dissect`.  ``body`` is either a compiled
values object or a Scapy packet, with the same attribute names; the Scapy
packets are built lazily, only for views that need them (the field tree),
so a summary of a million status reports never builds one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dmdissect.findings import Finding
from dmdissect.layers.numbers import type_name
from dmdissect.layers.sizes import descriptor_length
from dmdissect.layers.tables import DESCRIPTOR_SIZE
from dmdissect.sources.frame import Frame
from dmdissect.vocabulary import Direction, DirectionSource

if TYPE_CHECKING:
    from scapy.packet import Packet

    from dmdissect.layers import DMHeader, DMMessage, VMBusDescriptor


class Message:
    """One dissected message and everything known about it.

    ``type``, ``size`` and ``trans_id`` are the header's values (None when the
    bytes end before them).  ``body`` is the message layer: a Scapy packet or
    a compiled values object, both with the C field names and ``missing``.
    ``available`` is how many bytes the message has (inside any VMBus
    framing) and ``consumed`` how many of them the layers decoded.
    ``transaction`` is filled by the tracker.
    """

    __slots__ = (
        "frame",
        "direction",
        "direction_source",
        "findings",
        "transaction",
        "type",
        "size",
        "trans_id",
        "body",
        "available",
        "consumed",
        "framed",
        "_scapy",
        "_vmbus",
    )

    def __init__(
        self,
        frame: Frame,
        msg_type: int | None = None,
        size: int | None = None,
        trans_id: int | None = None,
        body: Any = None,
        available: int = 0,
        consumed: int = 0,
        vmbus: Any = None,
        direction: Direction | None = None,
        direction_source: DirectionSource = DirectionSource.UNKNOWN,
    ) -> None:
        """A message of ``frame``; the dissector's fast path gives the decoded values at once
        (``vmbus``: the compiled descriptor of a VMBus-framed message)."""
        self.frame = frame
        self.findings: list[Finding] = []
        self.transaction: Any = None
        self.direction = direction
        self.direction_source = direction_source
        self.type = msg_type
        self.size = size
        self.trans_id = trans_id
        self.body = body
        self.available = available
        self.consumed = consumed
        self.framed = vmbus is not None
        self._scapy: tuple | None = None
        self._vmbus = vmbus

    @property
    def type_name(self) -> str:
        return "?" if self.type is None else type_name(self.type)

    # --- the Scapy view, built on first use (Scapy is imported then) -------------

    def _layers(self) -> tuple[Packet, DMHeader, VMBusDescriptor | None, bytes]:
        if self._scapy is None:
            from dmdissect.layers import decode_frame

            self._scapy = decode_frame(self.frame.data)
        return self._scapy

    @property
    def header(self) -> DMHeader:
        return self._layers()[1]

    @property
    def vmbus(self) -> Any:
        """The VMBus descriptor: compiled values on the fast path, else Scapy's layer."""
        if not self.framed:
            return None
        return self._vmbus if self._vmbus is not None else self._layers()[2]

    @property
    def extra(self) -> bytes:
        """Frame bytes after the VMBus packet (``len8 * 8``)."""
        if not self.framed:
            return b""
        data = self.frame.data
        return data[max(descriptor_length(data), DESCRIPTOR_SIZE) :]

    @property
    def scapy_body(self) -> DMMessage | None:
        from dmdissect.layers import DMMessage

        payload = self.header.payload
        return payload if isinstance(payload, DMMessage) else None

    @property
    def rest(self) -> bytes:
        """Bytes after what the layers decoded (after the header for unknown types)."""
        if self.consumed >= self.available:
            return b""
        return self.message_bytes[self.consumed :]

    @property
    def cut(self) -> bytes:
        """Left-over bytes of a field or structure the input cut short."""
        rest = self.rest
        return rest if rest and self.body is not None and cut_short(self.body) else b""

    @property
    def trailing(self) -> bytes:
        """Bytes after a message that is whole: more than its content declares."""
        rest = self.rest
        return b"" if not rest or (self.body is not None and cut_short(self.body)) else rest

    @property
    def message_bytes(self) -> bytes:
        """The Dynamic Memory message alone, without VMBus framing."""
        data = self.frame.data
        if not self.framed:
            return data
        return data[DESCRIPTOR_SIZE : DESCRIPTOR_SIZE + self.available]


def cut_short(body: Any) -> bool:
    """The body says more should follow than the bytes hold.

    A field is missing, a list counts more ranges than arrived, or its last
    info entry is cut: bytes left over are the start of what is missing, not
    bytes after the message.
    """
    if body.missing:
        return True
    count = getattr(body, "range_count", None)
    if count is not None and count > len(body.range_array):
        return True
    entries = getattr(body, "info", None)
    if not entries:
        return False
    return bool(getattr(entries[-1], "missing", ()))
