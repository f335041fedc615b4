"""``--format raw``: messages back to back, with no framing but their own.

Each message says its length in ``hdr.size`` (little-endian u16 at offset 2),
so that is where one ends and the next begins.  A ring-buffer dump may put the
16-byte VMBus in-band descriptor before each message; where one is recognised
(:func:`looks_like_descriptor`) the record is ``len8 * 8`` bytes, descriptor and
padding included, and the layers decode the descriptor.

Raw bytes have no other framing, so a size that is wrong cannot be corrected:
a size below the 8-byte header or one running past the end of the input stops
the split: the bytes there become one last frame with an error finding, shown
at once (the input may be endless, ``/dev/zero``), and when more input
follows it, reading stops with the error (exit 2), as for a torn capture.  Known
guest bugs (hdr.size 16 on balloon responses carrying ranges) therefore split
wrongly here; a capture format does not have that problem.

Reading goes in chunks of :data:`CHUNK` bytes; the buffer never holds more than
one record plus one chunk, and the last frame keeps at most :data:`MAX_REST`
bytes of whatever follows a bad size.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from dmdissect.findings import RAW_SPLIT_STOPPED
from dmdissect.layers.sizes import descriptor_length, looks_like_descriptor, vmbus_packet_size
from dmdissect.layers.tables import DESCRIPTOR_SIZE, HEADER_SIZE, HEADER_STRUCT, MAX_SIZE, SIZE_END
from dmdissect.sources.capture import CHUNK
from dmdissect.sources.errors import TornInput
from dmdissect.sources.frame import Frame

#: The longest descriptor record: a message of the largest ``hdr.size`` in its VMBus packet.
MAX_DESCRIPTOR_RECORD = vmbus_packet_size(MAX_SIZE)
#: The most bytes kept in the frame that holds the rest after a bad size.
MAX_REST = MAX_DESCRIPTOR_RECORD


def _record_length(buffer: bytes | bytearray) -> tuple[int, str]:
    """Length of the record at the start of ``buffer`` and the field that said so."""
    if looks_like_descriptor(buffer):
        return descriptor_length(buffer), "descriptor len8"
    head = bytes(buffer[:HEADER_SIZE]).ljust(HEADER_SIZE, b"\0")
    return HEADER_STRUCT.unpack(head)[1], "hdr.size"


def iter_raw_frames(stream: BinaryIO, name: str) -> Iterator[Frame]:
    """Frames of back-to-back messages, split by each message's own length."""
    buffer = bytearray()
    offset = 0
    number = 0
    eof = False

    # read1 hands over what a pipe holds now, so live input is not held back.
    read = getattr(stream, "read1", stream.read)

    def fill(size: int) -> None:
        nonlocal eof
        while not eof and len(buffer) < size:
            part = read(CHUNK)
            if not part:
                eof = True
            buffer.extend(part)

    while True:
        fill(DESCRIPTOR_SIZE + HEADER_SIZE)
        if not buffer:
            return
        number += 1
        origin = f"{name}#{number}@{offset}"
        length, field = _record_length(buffer)
        problem = None
        if len(buffer) < SIZE_END:
            problem = f"{len(buffer)} trailing bytes are too few for a message header"
        elif length < HEADER_SIZE:
            problem = f"{field} {length} is smaller than the {HEADER_SIZE}-byte header"
        elif length > MAX_DESCRIPTOR_RECORD:
            problem = f"{field} claims {length} bytes, more than the largest message"
        else:
            fill(length)
            if len(buffer) < length:
                problem = (
                    f"{field} {length} runs past the end of the input ({len(buffer)} bytes left)"
                )
        if problem is not None:
            fill(MAX_REST + 1)  # bounded: one frame's worth, never the whole input
            whole = eof and len(buffer) <= MAX_REST
            yield _rest(buffer, number, origin, problem, whole)
            if not whole:
                raise TornInput(
                    f"{name}: message {number} at offset {offset}: {problem}; splitting stopped"
                )
            return
        yield Frame(index=number, data=bytes(buffer[:length]), origin=origin)
        del buffer[:length]
        offset += length


def _rest(buffer: bytearray, number: int, origin: str, problem: str, whole: bool) -> Frame:
    """The bytes at the bad size as one last frame (at most MAX_REST), with the reason.

    The rest of the input is not read: it may never end (``/dev/zero``), and
    the frame must be shown at once.  ``whole``: the buffer holds all that is left.
    """
    kept = bytes(buffer[:MAX_REST])
    if whole:
        message = (
            f"{problem}; splitting stopped, the remaining {len(kept)} bytes form this last frame"
        )
    else:
        message = f"{problem}; splitting stopped, this frame holds the next {len(kept)} bytes"
    return Frame(index=number, data=kept, origin=origin, findings=[RAW_SPLIT_STOPPED(message)])
