"""pcap and pcapng captures, read record by record with ``struct``.

Why not scapy.utils.RawPcapReader / RawPcapNgReader: on a torn file the pcapng
reader drops the last block without a word and the pcap reader hands back a
torn record as if it were whole; neither reports a record length that is
absurd.  A dissector must say what it could not read, so this module reads the
few fields it needs itself.

Rules every reader here follows:

* Memory stays flat: a length field is checked against :data:`MAX_PACKET` /
  :data:`MAX_BLOCK` before anything is read, and reads go in bounded chunks, so
  a record claiming 4 GiB costs nothing but an error finding.
* The file's own header (pcap file header, first pcapng section header) must be
  sound, else :class:`InputError`: nothing could be read at all.
* When the reader cannot go on (torn record, absurd length, broken block
  framing) it raises :class:`InputError` naming the record and its offset, as
  tshark stops with "appears to have been cut short": every whole record
  before it has been yielded already, so the CLI shows them, prints the one
  line and exits 2.  A record cut inside the message is yielded first with the
  bytes that arrived and ``record truncated: N of M bytes``; a record of which
  no byte of the message arrived is no frame at all.
* Damage inside a pcapng block whose framing is intact (caplen past the block
  end, unknown interface) is reported on that frame and reading goes on.

pcapng direction (``epb_flags`` bits 0-1, and ``pack_flags`` of the obsolete
Packet Block): 01 inbound -> ``guest->host``, 10 outbound -> ``host->guest``,
with ``direction_source = "capture"``.  A capture hook in the host sees guest
messages coming in and its own going out; :mod:`dmdissect.sources.writer`
writes the same mapping.

``Frame.origin`` is ``name#N@offset``: N counts packets (1..) across all
sections, offset is the byte offset of the record header or block.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO, Literal

from dmdissect import findings as ei
from dmdissect.findings import REGISTRY, Finding
from dmdissect.sources import markers
from dmdissect.sources.errors import InputError, TornInput
from dmdissect.sources.frame import Frame
from dmdissect.vocabulary import Direction, DirectionSource

#: Largest packet accepted, as Wireshark's WTAP_MAX_PACKET_SIZE_STANDARD.  A
#: Dynamic Memory message is at most 65535 bytes (u16 size) plus a descriptor.
MAX_PACKET = 262144
#: Largest pcapng block accepted (Wireshark's limit too).
MAX_BLOCK = 16 * 1024 * 1024
#: Reads go in chunks of this size so that memory follows the bytes present.
CHUNK = 64 * 1024

LINKTYPE_USER0 = 147
USER_LINKTYPES = range(LINKTYPE_USER0, LINKTYPE_USER0 + 16)

LINKTYPE_NAMES = {
    0: "NULL",
    1: "ETHERNET",
    101: "RAW",
    105: "IEEE802_11",
    113: "LINUX_SLL",
    127: "IEEE802_11_RADIOTAP",
    228: "IPV4",
    229: "IPV6",
    249: "USBPCAP",
    252: "WIRESHARK_UPPER_PDU",
    276: "LINUX_SLL2",
    **{number: f"USER{number - LINKTYPE_USER0}" for number in USER_LINKTYPES},
}

_BIG: Literal["big"] = "big"
_LITTLE: Literal["little"] = "little"
#: pcap's magic numbers for microsecond and nanosecond files, and its version.
PCAP_MAGIC_US, PCAP_MAGIC_NS = 0xA1B2C3D4, 0xA1B23C4D
PCAP_VERSION = (2, 4)
PCAP_MAGICS = {
    magic.to_bytes(4, order): (mark, 10**digits)
    for magic, digits in ((PCAP_MAGIC_US, 6), (PCAP_MAGIC_NS, 9))
    for order, mark in ((_BIG, ">"), (_LITTLE, "<"))
}
#: pcapng's block types, its byte-order magic and its version.
BLOCK_SHB, BLOCK_IDB, BLOCK_PB, BLOCK_SPB, BLOCK_EPB = 0x0A0D0D0A, 1, 2, 3, 6
BYTE_ORDER_MAGIC = 0x1A2B3C4D
PCAPNG_VERSION = (1, 0)
PCAPNG_SHB = BLOCK_SHB.to_bytes(4, "little")
PCAPNG_BOM = {BYTE_ORDER_MAGIC.to_bytes(4, "big"): ">", BYTE_ORDER_MAGIC.to_bytes(4, "little"): "<"}
#: A block's type and length before its body and the length again after it.
BLOCK_OVERHEAD = 12

#: Marker key of a finding the source of a converted capture made.
SOURCE_FINDING = "source.finding"
#: pcapng option codes: the end of options, a comment, packet flags, the
#: section's application, an interface's time resolution and offset.
OPT_ENDOFOPT, OPT_COMMENT, OPT_FLAGS, SHB_USERAPPL = 0, 1, 2, 4
IF_TSRESOL, IF_TSOFFSET = 9, 14
#: The direction bits of an EPB's packet flags.
FLAG_DIRECTIONS = {1: Direction.GUEST_TO_HOST, 2: Direction.HOST_TO_GUEST}


def linktype_text(linktype: int) -> str:
    name = LINKTYPE_NAMES.get(linktype)
    return f"link type {linktype} ({name})" if name else f"link type {linktype}"


def read_up_to(stream: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes, fewer only at end of input, read in bounded chunks.

    One ``read(size)`` may allocate ``size`` bytes before it knows how many
    exist; chunks keep the allocation to what the input really holds.
    """
    if size <= CHUNK:
        first = stream.read(size)
        if len(first) == size or not first:
            return first
        parts = [first]
        size -= len(first)
    else:
        parts = []
    while size > 0:
        part = stream.read(min(size, CHUNK))
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def skip(stream: BinaryIO, size: int) -> int:
    """Discard ``size`` bytes without keeping them; the number really skipped."""
    done = 0
    while done < size:
        part = stream.read(min(size - done, CHUNK))
        if not part:
            break
        done += len(part)
    return done


def _check_linktype(name: str, linktype: int, override: int | None) -> None:
    """Records are messages on the user link types, and on ``--linktype N`` when it is N."""
    if linktype in USER_LINKTYPES or linktype == override:
        return
    if override is None:
        raise InputError(
            f"{name}: {linktype_text(linktype)} is not a Dynamic Memory link type; "
            f"use --linktype {linktype} to force"
        )
    raise InputError(
        f"{name}: {linktype_text(linktype)} is neither a Dynamic Memory link type nor "
        f"--linktype {override}"
    )


def torn_error(name: str, number: int, offset: int, message: str) -> TornInput:
    """The error that ends a capture broken part-way, naming the record and its offset."""
    return TornInput(f"{name}: record {number} at offset {offset}: {message}; reading stopped")


def _snapped(caplen: int, wirelen: int) -> list[Finding]:
    if wirelen > caplen:
        return [
            ei.CAPTURE_SNAPLEN(
                f"packet cut by the capture's snap length: {caplen} of {wirelen} bytes"
            )
        ]
    return []


# --------------------------------------------------------------------- pcap


def iter_pcap(stream: BinaryIO, name: str, linktype: int | None = None) -> Iterator[Frame]:
    """Frames of a classic pcap file, either byte order, micro- or nanoseconds."""
    header = read_up_to(stream, 24)
    if not header:
        raise InputError(f"{name} is empty")
    magic = PCAP_MAGICS.get(header[:4])
    if magic is None:
        raise InputError(f"{name}: not a pcap file (magic 0x{header[:4].hex()})")
    if len(header) < 24:
        raise InputError(f"{name}: pcap file header truncated: {len(header)} of 24 bytes")
    endian, units = magic
    network = struct.unpack(endian + "I", header[20:24])[0] & 0xFFFF
    _check_linktype(name, network, linktype)
    record = struct.Struct(endian + "IIII")
    unknown = DirectionSource.UNKNOWN
    offset = 24
    number = 0
    while True:
        head = read_up_to(stream, 16)
        if not head:
            return
        number += 1
        if len(head) < 16:
            raise torn_error(
                name, number, offset, f"record header truncated: {len(head)} of 16 bytes"
            )
        sec, frac, caplen, wirelen = record.unpack(head)
        if caplen > MAX_PACKET:
            raise torn_error(
                name,
                number,
                offset,
                f"record claims {caplen} bytes, more than the {MAX_PACKET}-byte limit",
            )
        data = read_up_to(stream, caplen)
        # Positional, in Frame's order: this is the loop every record of a file takes.
        frame = Frame(
            number,
            data,
            (sec * units + frac) / units,
            None,
            unknown,
            (name, number, offset),
            None,
            _snapped(caplen, wirelen) if wirelen > caplen else [],
            wirelen if wirelen > caplen else None,
            name,
            0,
        )
        if len(data) < caplen:
            problem = f"record truncated: {len(data)} of {caplen} bytes"
            if data:
                frame.findings.insert(0, ei.CAPTURE_RECORD_TRUNCATED(problem))
                yield frame
            raise torn_error(name, number, offset, problem)
        yield frame
        offset += 16 + caplen


# ------------------------------------------------------------------- pcapng


class _Interface:
    """What an Interface Description Block says that a packet needs."""

    __slots__ = ("linktype", "snaplen", "divisor", "offset", "checked")

    def __init__(self, linktype: int, snaplen: int) -> None:
        self.linktype = linktype
        self.snaplen = snaplen
        self.divisor = 10**6
        self.offset = 0
        self.checked = False

    def time(self, ticks: int) -> float:
        """Seconds as a float, rounded once from the exact tick count."""
        return (ticks + self.offset * self.divisor) / self.divisor


class _Section:
    """A section's byte order, its interfaces, and its structs compiled once."""

    __slots__ = ("endian", "interfaces", "block", "epb", "trailer", "flags_option", "flags_only")

    def __init__(self, endian: str) -> None:
        self.endian = endian
        self.interfaces: list[_Interface] = []
        self.block = struct.Struct(endian + "II")
        self.epb = struct.Struct(endian + "IIIII")
        self.trailer = struct.Struct(endian + "I")
        self.flags_option = struct.pack(endian + "HH", OPT_FLAGS, 4)
        #: Options that are the direction flags alone: code, length, flags, end of options.
        self.flags_only = struct.Struct(endian + "HHIHH")


#: Bytes of the fixed fields of each packet block.
_FIXED = {BLOCK_EPB: 20, BLOCK_PB: 20, BLOCK_SPB: 4}
#: The smallest enhanced packet block: its 8-byte head, fixed part and trailer.
_PLAIN_EPB_MIN = 12 + _FIXED[BLOCK_EPB]
_BLOCK_NAMES = {BLOCK_IDB: "IDB", BLOCK_EPB: "EPB", BLOCK_PB: "PB", BLOCK_SPB: "SPB"}


def _options(body: bytes, start: int, endian: str) -> tuple[list[tuple[int, bytes]], list[Finding]]:
    """The (code, value) options from ``start`` to the end of a block body."""
    out: list[tuple[int, bytes]] = []
    pos = start
    while pos + 4 <= len(body):
        code, length = struct.unpack_from(endian + "HH", body, pos)
        if code == 0:
            return out, []
        end = pos + 4 + length
        if end > len(body):
            return out, [
                ei.CAPTURE_OPTION_OVERRUN(
                    f"option {code} runs past the end of its block; options ignored from there"
                )
            ]
        out.append((code, body[pos + 4 : end]))
        pos = end + (-length % 4)
    return out, []


def _direction(flags: int) -> Direction | None:
    return FLAG_DIRECTIONS.get(flags & 3)


def _apply_packet_options(frame: Frame, options: list[tuple[int, bytes]], endian: str) -> None:
    """Direction from the flags, comments into ``comment``; our own marker back in place.

    :mod:`dmdissect.sources.writer` stores a frame's origin and source findings in
    a marker comment (:mod:`dmdissect.sources.markers`); a marker sealed for this
    packet's bytes returns here to the origin and the findings, so that a
    conversion round trip is lossless.  Any other comment, one that merely looks
    like a marker included, stays a comment with its text.
    """
    comments = []
    every = []
    for code, value in options:
        if code == OPT_COMMENT:
            text = value.decode("utf-8", errors="replace")
            every.append(text)
            items = markers.decode(frame.data, text)
            if items is None:
                comments.append(text)
                continue
            for key, item in items:
                if key == "origin":
                    frame.origin += f" (from {item})"
                elif key == SOURCE_FINDING and (restored := _finding_from_item(item)):
                    frame.findings.append(restored)
        elif code == OPT_FLAGS:
            if len(value) != 4:
                frame.findings.append(
                    ei.CAPTURE_FLAGS_SIZE(f"packet flags option is {len(value)} bytes, not 4")
                )
                continue
            direction = _direction(struct.unpack(endian + "I", value)[0])
            if direction is not None:
                frame.direction = direction
                frame.direction_source = DirectionSource.CAPTURE
    if comments:
        frame.comment = "\n".join(comments)
    if every:
        frame.comments = tuple(every)


def _finding_from_item(item: str) -> Finding | None:
    """``severity id message`` back to the finding, when the id is registered as that severity."""
    severity, _, rest = item.partition(" ")
    expert_id, _, message = rest.partition(" ")
    expert = REGISTRY.get(expert_id)
    if expert is None or expert.severity != severity:
        return None
    return expert(message)


def _read_interface(body: bytes, endian: str) -> _Interface:
    linktype, _reserved, snaplen = struct.unpack_from(endian + "HHI", body, 0)
    interface = _Interface(linktype, snaplen)
    options, _ = _options(body, 8, endian)
    for code, value in options:
        if code == IF_TSRESOL and len(value) >= 1:
            exponent = value[0] & 0x7F
            interface.divisor = 2**exponent if value[0] & 0x80 else 10**exponent
        elif code == IF_TSOFFSET and len(value) == 8:
            interface.offset = struct.unpack(endian + "q", value)[0]
    return interface


class _PcapNg:
    """One pcapng file being read; state that spans blocks and sections."""

    def __init__(self, stream: BinaryIO, name: str, linktype: int | None) -> None:
        self.stream = stream
        self.name = name
        self.linktype = linktype
        self.offset = 0
        self.number = 0
        self.section: _Section | None = None
        #: Interfaces described by earlier sections: interface numbers run on across sections.
        self.interfaces_before = 0

    def frames(self) -> Iterator[Frame]:
        head = read_up_to(self.stream, 12)
        if not head:
            raise InputError(f"{self.name} is empty")
        if head[:4] != PCAPNG_SHB:
            raise InputError(
                f"{self.name}: not a pcapng file (first block type 0x{head[:4].hex()})"
            )
        if len(head) < 12:
            raise InputError(
                f"{self.name}: pcapng section header truncated: {len(head)} of 12 bytes"
            )
        problem = self._section(head)
        if problem:
            raise InputError(f"{self.name}: {problem}")
        read = self.stream.read
        name = self.name
        section = self.section
        assert section is not None
        unpack_block, unpack_epb = section.block.unpack, section.epb.unpack_from
        unpack_word, unpack_flags = section.trailer.unpack_from, section.flags_only.unpack_from
        capture, unknown = DirectionSource.CAPTURE, DirectionSource.UNKNOWN
        while True:
            start = self.offset
            head = read(8)
            if len(head) < 8:
                if not head:
                    return
                raise self._torn(start, f"block header truncated: {len(head)} of 8 bytes")
            kind, length = unpack_block(head)
            # The section header's type reads the same in either byte order.
            if kind == BLOCK_SHB:
                more = read_up_to(self.stream, 4)
                if len(more) < 4:
                    raise self._torn(
                        start, f"section header truncated: {8 + len(more)} of 12 bytes"
                    )
                problem = self._section(head + more)
                if problem:
                    raise self._torn(start, problem)
                section = self.section
                assert section is not None
                unpack_block, unpack_epb = section.block.unpack, section.epb.unpack_from
                unpack_word = section.trailer.unpack_from
                unpack_flags = section.flags_only.unpack_from
                continue
            if kind != BLOCK_EPB or not _PLAIN_EPB_MIN <= length <= CHUNK or length % 4:
                yield from self._block(head, start)
                continue
            # The common block, in line (see _plain_epb, which the other paths use): a
            # whole enhanced packet block on a known interface, not snapped, with no
            # options or only the direction flags.
            body = read(length - 8)
            limit = length - 12
            if len(body) == length - 8 and unpack_word(body, limit)[0] == length:
                ifid, high, low, caplen, wirelen = unpack_epb(body, 0)
                end = 20 + caplen
                options_at = end + (-caplen % 4)
                interfaces = section.interfaces
                if caplen == wirelen and ifid < len(interfaces) and end <= limit:
                    interface = interfaces[ifid]
                    direction = None
                    plain = interface.checked
                    if plain and options_at != limit:
                        plain = limit - options_at == 12
                        if plain:
                            code, size, flags, end_code, end_size = unpack_flags(body, options_at)
                            plain = code == OPT_FLAGS and size == 4 and not end_code | end_size
                            direction = FLAG_DIRECTIONS.get(flags & 3) if plain else None
                    if plain:
                        number = self.number = self.number + 1
                        self.offset = start + length
                        divisor = interface.divisor
                        # Positional, in Frame's order: this is the loop every packet takes.
                        yield Frame(
                            number,
                            body[20:end],
                            # _Interface.time, in line
                            ((high << 32 | low) + interface.offset * divisor) / divisor,
                            direction,
                            capture if direction else unknown,
                            (name, number, start),
                            None,
                            [],
                            None,
                            name,
                            self.interfaces_before + ifid,
                        )
                        continue
            yield from self._block(head, start, body)

    def _torn(self, offset: int, message: str) -> TornInput:
        """The error for a block the reader cannot go on from (the next packet's number)."""
        return torn_error(self.name, self.number + 1, offset, message)

    def _section(self, head: bytes) -> str | None:
        """Start a section from its first 12 bytes; an error text if it cannot be read."""
        endian = PCAPNG_BOM.get(head[8:12])
        if endian is None:
            return f"bad pcapng byte-order magic 0x{head[8:12].hex()}"
        length = struct.unpack(endian + "I", head[4:8])[0]
        if length < 28 or length % 4 or length > MAX_BLOCK:
            return f"section header block length {length} is invalid"
        body = read_up_to(self.stream, length - 12)
        if len(body) < length - 12:
            return f"section header truncated: {12 + len(body)} of {length} bytes"
        major = struct.unpack(endian + "H", body[0:2])[0]
        if major != 1:
            return f"pcapng version {major} is not supported"
        trailer = struct.unpack(endian + "I", body[-4:])[0]
        if trailer != length:
            return f"section header block length {length} differs from its trailer {trailer}"
        if self.section is not None:
            self.interfaces_before += len(self.section.interfaces)
        self.section = _Section(endian)
        self.offset += length
        return None

    def _block(self, head: bytes, start: int, body: bytes | None = None) -> Iterator[Frame]:
        """One block from its first 8 bytes; ``body``: the rest, when the caller read it."""
        assert self.section is not None
        endian = self.section.endian
        kind, length = self.section.block.unpack(head)
        if length < 12 or length % 4 or length > MAX_BLOCK:
            raise self._torn(
                start,
                f"block type {kind} claims {length} bytes, not a valid block "
                f"length (12 to {MAX_BLOCK}, multiple of 4)",
            )
        if kind not in (BLOCK_IDB, BLOCK_PB, BLOCK_SPB, BLOCK_EPB):
            got = skip(self.stream, length - 8)
            if got < length - 8:
                raise self._torn(start, f"block type {kind} truncated: {8 + got} of {length} bytes")
            self.offset += length
            return
        minimum = 12 + _FIXED.get(kind, 8)
        if length < minimum:
            # tshark: "block length N is less than the minimum EPB size"
            raise self._torn(
                start,
                f"block length {length} is less than the minimum {_BLOCK_NAMES[kind]} size "
                f"({minimum} bytes)",
            )
        if body is None:
            body = (
                self.stream.read(length - 8)
                if length <= CHUNK
                else read_up_to(self.stream, length - 8)
            )
        torn = len(body) < length - 8
        if not torn:
            trailer = self.section.trailer.unpack_from(body, len(body) - 4)[0]
            body = body[:-4]
            if trailer != length:
                problem = f"block length {length} differs from its trailer {trailer}"
                if kind == BLOCK_IDB:
                    raise self._torn(start, problem)
                frame = self._packet(kind, body, start, length)
                if frame.data:
                    frame.findings.insert(
                        0, ei.CAPTURE_TRAILER_MISMATCH(problem + "; reading stopped")
                    )
                    yield frame
                raise torn_error(self.name, frame.index, start, problem)
        if kind == BLOCK_IDB:
            if torn:
                raise self._torn(
                    start, f"interface block truncated: {8 + len(body)} of {length} bytes"
                )
            self.section.interfaces.append(_read_interface(body, endian))
            self.offset += length
            return
        plain = self._plain_epb(body, start) if kind == BLOCK_EPB and not torn else None
        frame = plain if plain is not None else self._packet(kind, body, start, length, torn)
        self.offset += length
        if not torn:
            yield frame
            return
        if frame.data:
            yield frame
        raise torn_error(
            self.name, frame.index, start, f"block truncated: {8 + len(body)} of {length} bytes"
        )

    def _plain_epb(self, body: bytes, start: int) -> Frame | None:
        """The common enhanced packet block, read in one go; None for anything unusual.

        Whole, on a known interface, not snapped, with no options or only the
        direction flags: what capture hooks and ``convert`` write for every
        message.  Everything else takes :meth:`_packet`, which reports damage.
        """
        section = self.section
        assert section is not None
        ifid, high, low, caplen, wirelen = section.epb.unpack_from(body, 0)
        end = 20 + caplen
        options_at = end + (-caplen % 4)
        if caplen != wirelen or ifid >= len(section.interfaces) or end > len(body):
            return None
        interface = section.interfaces[ifid]
        if not interface.checked:
            return None
        direction = None
        rest = len(body) - options_at
        if rest:
            if rest < 12 or body[options_at : options_at + 4] != section.flags_option:
                return None
            if rest != 12 or body[options_at + 8 :] != b"\0\0\0\0":
                return None
            direction = FLAG_DIRECTIONS.get(
                section.trailer.unpack_from(body, options_at + 4)[0] & 3
            )
        self.number += 1
        return Frame(
            self.number,
            body[20:end],
            interface.time(high << 32 | low),
            direction,
            DirectionSource.CAPTURE if direction else DirectionSource.UNKNOWN,
            (self.name, self.number, start),
            file=self.name,
            interface=self.interfaces_before + ifid,
        )

    def _packet(self, kind: int, body: bytes, start: int, length: int, torn: bool = False) -> Frame:
        """A packet block (EPB, SPB or obsolete PB) as a frame; damage as findings on it."""
        assert self.section is not None
        endian = self.section.endian
        self.number += 1
        frame = Frame(
            index=self.number,
            data=b"",
            origin=(self.name, self.number, start),
            file=self.name,
        )
        fixed = _FIXED[kind]
        if len(body) < fixed:
            what = "block truncated" if torn else "block too short for its fixed fields"
            frame.findings.append(
                ei.CAPTURE_BLOCK_TRUNCATED(f"{what}: {8 + len(body)} of {length} bytes")
            )
            return frame
        if kind == BLOCK_SPB:
            ifid, ticks = 0, None
            wirelen = struct.unpack_from(endian + "I", body, 0)[0]
            caplen = wirelen
        elif kind == BLOCK_EPB:
            ifid, high, low, caplen, wirelen = self.section.epb.unpack_from(body, 0)
            ticks = high << 32 | low
        else:
            ifid, _drops, high, low, caplen, wirelen = struct.unpack_from(endian + "HHIIII", body)
            ticks = high << 32 | low
        frame.interface = self.interfaces_before + ifid
        interface = self._interface(ifid, frame)
        if kind == BLOCK_SPB and interface is not None and interface.snaplen:
            caplen = min(caplen, interface.snaplen)
        if kind == BLOCK_SPB and not torn:
            needs = caplen + (-caplen % 4)
            if len(body) - fixed > needs:
                # An SPB has no options: tshark reads its trailer right after the padded
                # packet, finds other bytes there and calls the file damaged.
                raise torn_error(
                    self.name,
                    frame.index,
                    start,
                    f"SPB block length {length} is more than its packet of {caplen} bytes "
                    f"needs ({fixed + needs + 12} bytes)",
                )
            caplen = min(caplen, len(body) - fixed)
        room = len(body) - fixed
        frame.data = body[fixed : fixed + caplen]
        if torn and room < caplen:
            frame.findings.append(
                ei.CAPTURE_RECORD_TRUNCATED(
                    f"record truncated: {len(frame.data)} of {caplen} bytes"
                )
            )
        elif torn:
            frame.findings.append(
                ei.CAPTURE_BLOCK_TRUNCATED(
                    f"block truncated after the packet bytes: {8 + len(body)} of {length} bytes"
                )
            )
        elif room < caplen:
            frame.findings.append(
                ei.CAPTURE_CAPLEN_OVERRUN(
                    f"captured length {caplen} runs past the block end; {room} bytes kept"
                )
            )
        frame.findings.extend(_snapped(caplen, wirelen))
        if wirelen > caplen:
            frame.wire_length = wirelen
        if interface is not None and ticks is not None:
            frame.time = interface.time(ticks)
        options_at = fixed + caplen + (-caplen % 4)
        if kind != BLOCK_SPB and not torn and options_at + 4 <= len(body):
            options, problems = _options(body, options_at, endian)
            frame.findings.extend(problems)
            _apply_packet_options(frame, options, endian)
        return frame

    def _interface(self, ifid: int, frame: Frame) -> _Interface | None:
        assert self.section is not None
        interfaces = self.section.interfaces
        if ifid >= len(interfaces):
            frame.findings.append(
                ei.CAPTURE_INTERFACE_UNKNOWN(
                    f"packet on interface {ifid}, but the section describes "
                    f"{len(interfaces)} interface(s)"
                )
            )
            return None
        interface = interfaces[ifid]
        if not interface.checked:
            _check_linktype(self.name, interface.linktype, self.linktype)
            interface.checked = True
        return interface


def iter_pcapng(stream: BinaryIO, name: str, linktype: int | None = None) -> Iterator[Frame]:
    """Frames of a pcapng file: every section, interface and packet block, in order."""
    return _PcapNg(stream, name, linktype).frames()
