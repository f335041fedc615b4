"""The unit every source yields: one message's bytes and what is known about them."""

from __future__ import annotations

from dataclasses import dataclass, field

from dmdissect.findings import Finding
from dmdissect.vocabulary import Direction, DirectionSource


@dataclass(slots=True)
class Frame:
    """One message as a source delivered it.

    ``time`` is in seconds: epoch seconds from a capture or a dated log line,
    seconds since boot from a bare dmesg stamp, None when the input has no
    times.  ``origin`` says where the bytes came from (``file:line`` for text,
    ``file#record@offset`` for captures) so that findings can point at it.
    ``findings`` holds what the source itself noticed (a broken hex line).
    ``wire_length`` is set when a capture's snap length cut the packet.
    ``file`` names the input the frame was read from and ``interface`` the
    capture interface (pcapng's numbered across sections, 0 for classic pcap,
    None for text and raw input, which have none): each file and interface
    is its own session, since two of them may be two VMs.
    """

    index: int
    data: bytes
    time: float | None = None
    direction: Direction | None = None
    direction_source: DirectionSource = DirectionSource.UNKNOWN
    origin: str = ""
    comment: str | None = None
    findings: list[Finding] = field(default_factory=list)
    #: The message's length on the wire when the capture kept fewer bytes (snap length).
    wire_length: int | None = None
    file: str | None = None
    interface: int | None = None
