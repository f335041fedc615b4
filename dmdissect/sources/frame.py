"""The unit every source yields: one message's bytes and what is known about them."""

from __future__ import annotations

from dataclasses import dataclass, field

from dmdissect.findings import Finding

#: Values of :attr:`Frame.direction`.
GUEST_TO_HOST = "guest->host"
HOST_TO_GUEST = "host->guest"

#: Values of :attr:`Frame.direction_source`: who said which way a message went.
FROM_CAPTURE = "capture"  # pcapng per-packet flags
FROM_TEXT = "text"  # an I/O preamble or a host->guest word in a hex dump
INFERRED = "inferred"  # from the message type (set by the analysis stage)
UNKNOWN = "unknown"


@dataclass(slots=True)
class Frame:
    """One message as a source delivered it.

    ``time`` is in seconds: epoch seconds from a capture or a dated log line,
    seconds since boot from a bare dmesg stamp, None when the input has no
    times.  ``origin`` says where the bytes came from (``file:line`` for text,
    ``file#record@offset`` for captures) so that findings can point at it.
    ``findings`` holds what the source itself noticed (a broken hex line).
    ``wire_length`` is set when a capture's snap length cut the packet.
    """

    index: int
    data: bytes
    time: float | None = None
    direction: str | None = None
    direction_source: str = UNKNOWN
    origin: str = ""
    comment: str | None = None
    findings: list[Finding] = field(default_factory=list)
    #: The message's length on the wire when the capture kept fewer bytes (snap length).
    wire_length: int | None = None
