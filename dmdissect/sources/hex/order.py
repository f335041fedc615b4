"""Which way a message's multi-byte hex groups are read.

``"bytes"`` reads every group in memory order, as xxd and tcpdump print it;
``"le-words"`` reads each group as a little-endian word printed most
significant digit first, so its bytes are reversed, as the kernel (groupsize
2/4/8), ``xxd -e``, ``hexdump`` and ``od -x`` print them.  Per message, the
first of these decides: the user's override, the tool's fixed order, the
order in which the hex matches the ASCII column, the one under which the
header's size equals the message length, the tool's usual order, else the
context (a log prefix or an address means the kernel, so words; a bare line
means bytes), with a note on the frame.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dmdissect.sources.hex.columns import BYTES, LE_WORDS, ascii_matches
from dmdissect.sources.hex.row import Row
from dmdissect.sources.hex.sizes import HEADER_SIZE, header_size, split_records

if TYPE_CHECKING:
    from dmdissect.sources.hex.message import PendingMessage


@dataclass(slots=True)
class OrderChoice:
    order: str
    how: str
    conflict: bool = False


def row_slices(message: PendingMessage, data: bytes) -> Iterator[tuple[Row, bytes]]:
    """Each row with its bytes in the assembled message (so a last row whose word
    padding the final offset trimmed is compared without the padding)."""
    pos = 0
    for part in message.parts:
        if isinstance(part, Row):
            yield part, data[pos : pos + part.nbytes]
        pos += part.nbytes


def _ascii_votes(message: PendingMessage) -> dict[str, int]:
    """How many rows' ASCII column matches each group order (rows that tell them apart)."""
    votes = {BYTES: 0, LE_WORDS: 0}
    if not any(r.ascii is not None and r.multibyte for r in message.rows):
        return votes
    as_bytes = row_slices(message, message.assemble(BYTES))
    as_words = row_slices(message, message.assemble(LE_WORDS))
    for (row, data_b), (_, data_w) in zip(as_bytes, as_words):
        if row.ascii is None or not row.multibyte:
            continue
        match_b = ascii_matches(row.ascii, data_b)
        match_w = ascii_matches(row.ascii, data_w)
        if match_b != match_w:
            votes[BYTES if match_b else LE_WORDS] += 1
    return votes


def _header_fits(data: bytes) -> bool:
    """Whether the header's size counts the bytes, or the sizes of messages back to
    back lead exactly to the end."""
    if len(data) < HEADER_SIZE:
        return False
    return header_size(data) == len(data) or split_records(data) is not None


def choose_order(message: PendingMessage, override: str | None, final: bool) -> OrderChoice:
    """How to read the message's multi-byte groups (see the module documentation)."""
    rows = message.rows
    if not any(r.multibyte for r in rows):
        return OrderChoice(BYTES, "irrelevant")
    if override is not None:
        return OrderChoice(override, "override")
    for row in rows:
        if row.fixed and row.order is not None:
            return OrderChoice(row.order, "format")
    votes = _ascii_votes(message)
    if votes[BYTES] != votes[LE_WORDS]:
        winner = BYTES if votes[BYTES] > votes[LE_WORDS] else LE_WORDS
        return OrderChoice(winner, "ascii", conflict=min(votes.values()) > 0)
    if final:
        fits = {o: _header_fits(message.assemble(o)) for o in (BYTES, LE_WORDS)}
        if fits[BYTES] != fits[LE_WORDS]:
            return OrderChoice(BYTES if fits[BYTES] else LE_WORDS, "header")
    known = next((r.order for r in rows if r.order is not None), None)
    if known is not None:
        return OrderChoice(known, "format")
    return OrderChoice(message.context_order, "default")
