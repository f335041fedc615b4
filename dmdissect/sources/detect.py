"""Which reader fits an input, told from its first bytes, never from its name.

Captures announce themselves with magic numbers; text is left to the hex
reader's own judgement (:func:`looks_like_hex_text`); whatever is neither is
taken for raw messages, the one format with no signature.  No Dynamic Memory
message can be mistaken for a capture: the magics read as message types
0xb2a1, 0xc3d4, 0x3c4d, 0xd0a and so on, none of which exists.
"""

from __future__ import annotations

from dmdissect.sources.capture import PCAP_MAGICS, PCAPNG_BOM, PCAPNG_SHB

#: How many leading bytes :func:`detect_format` wants to see.
HEAD_SIZE = 65536

#: Compressed files are not read; left undetected they would pass for raw messages.
COMPRESSED = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd", b"\x04\x22\x4d\x18": "lz4",
              b"\xfd7zXZ\x00": "xz", b"BZh": "bzip2"}


def compression(head: bytes) -> str | None:
    """The name of the compressor whose magic starts ``head``, if any."""
    for magic, name in COMPRESSED.items():
        if head.startswith(magic):
            return name
    return None


def detect_format(head: bytes) -> str:
    """``pcap``, ``pcapng``, ``hex`` or ``raw`` for an input starting with ``head``.

    A pcapng file needs its section header type and, when the head is long
    enough to show it, a valid byte-order magic; a head cut before the magic
    still counts as pcapng, so that the reader can say it is truncated.
    """
    if head[:4] in PCAP_MAGICS:
        return "pcap"
    if head[:4] == PCAPNG_SHB and (len(head) < 12 or head[8:12] in PCAPNG_BOM):
        return "pcapng"
    from dmdissect.sources.hexdump import looks_like_hex_text

    if looks_like_hex_text(head):
        return "hex"
    return "raw"
