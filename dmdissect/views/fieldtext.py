"""How the ``read -V`` tree words a field's value, from the generated field plans, without Scapy.

The walk (:mod:`dmdissect.views.fields`) and the compiled plain writers
(:mod:`dmdissect.views.fieldlines`) both take their texts from here, so a
page count, a start page or a nested range reads the same in both.  What a
field is (plain integer, hex integer, enumeration, structure...) comes from
the plans :mod:`dmdissect.layers.generate` writes into
:mod:`dmdissect.layers.tables` from ``fields_desc``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

from dmdissect.layers.exports import HEX, INT, OWN_TEXT
from dmdissect.views.english import plural
from dmdissect.views.phrases import mib, summarize

#: Fields that count 4 KiB pages: shown with their size in MiB.
PAGE_COUNTS = {
    "num_avail",
    "num_committed",
    "page_file_size",
    "zero_free",
    "page_file_writes",
    "io_diff",
    "num_pages",
    "page_cnt",
    "page_count",
    "min_page_cnt",
    "max_page_cnt",
}

#: Entries of a list shown in the ``read -V`` tree; the rest are counted on one line.
LIST_LIMIT = 256
#: What the entries of a list are called in "... N more ranges" (one, several).
ENTRY_WORDS = {"range_array": ("range", "ranges")}
OTHER_ENTRIES = ("entry", "entries")

#: The layer of a page range: its line is its start and size.
RANGE_LAYER = "DMPageRange"


def more_text(name: str, more: int) -> str:
    """The line after the entries of list ``name`` that a display limit left out."""
    one, several = ENTRY_WORDS.get(name, OTHER_ENTRIES)
    return f"... {more} more {one if more == 1 else several} (every one in -T json)"


def bits_text(bit: int | None, bits: int | None) -> str:
    """``bit 0`` or ``bits 1-31`` inside the field's storage unit; empty for whole fields."""
    if bit is None or bits is None:
        return ""
    if bits == 1:
        return f"bit {bit}"
    return f"bits {bit}-{bit + bits - 1}"


#: Sizes of page counts (:func:`~dmdissect.views.phrases.mib`); a session repeats a few
#: counts, so they are kept.
cached_mib = lru_cache(maxsize=1 << 12)(mib)


@lru_cache(maxsize=1 << 12)
def pages_text(value: int) -> str:
    """A count of pages with its size."""
    return f"{plural(value, 'page')} ({mib(value)})"


def _start_page_text(value: int) -> str:
    return f"{value:#x} ({value})"


def range_text(pkt: Any) -> str:
    return f"start_page {pkt.start_page:#x}, page_cnt {pkt.page_cnt} ({cached_mib(pkt.page_cnt)})"


#: The texts above written inline in a compiled writer's f-string: for each, the
#: template of ``text(expression)`` (as :func:`inline` makes it); the tests hold the
#: writers' lines equal to the walk's, which calls the functions.
_INLINE: dict[Any, str] = {
    str: "{{{0}}}",
    hex: "{{{0}:#x}}",
    _start_page_text: "{{{0}:#x}} ({{{0}}})",
    range_text: (
        "start_page {{{0}.start_page:#x}}, page_cnt {{{0}.page_cnt}} ({{{1}({0}.page_cnt)}})"
    ),
}


def inline(text: Callable[[Any], str], expression: str, mib_name: str) -> str | None:
    """The f-string body that writes ``text(expression)`` without calling ``text``, or None;
    ``mib_name`` names :func:`cached_mib` where the body runs."""
    template = _INLINE.get(text)
    return None if template is None else template.format(expression, mib_name)


def int_text(name: str, kind: str) -> Callable[[int], str] | None:
    """How the tree shows an integer of field ``name``, of plan kind ``kind``,
    or None when only the walk knows (flags, enumerations, fields that change type,
    integers with a text of their own)."""
    if kind not in (INT, HEX, OWN_TEXT):
        return None
    if name in PAGE_COUNTS:
        return pages_text
    if name == "start_page":
        return _start_page_text
    if name == "hot_add_alignment" or kind == OWN_TEXT:
        return None
    return str if kind == INT else hex  # Scapy's lhex of an int


@cache
def struct_text_of(layer: str) -> Callable[[Any], str]:
    """The line of a nested structure of ``layer``: a page range's start and size, else
    its summary."""
    return range_text if layer == RANGE_LAYER else summarize
