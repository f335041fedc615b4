"""English for counts and sizes: how every stage writes "1 page" and "2.50 MiB".

One home for the wording rules, free of Scapy and of the protocol, so that
sources, layers, analysis, views and the CLI all import it without an import
cycle (the layers' summaries need it as much as the views do).  What a count
*is* (pages of the protocol's page size) is the layers' business:
``dmdissect.layers.mib`` turns pages into MiB and writes them with
:func:`mib_text`.
"""

from __future__ import annotations


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 range``, ``3 ranges``: counts in messages read as English.

    ``words`` is the plural when it is not ``word`` + s (``entry``, ``entries``).
    """
    return f"{count} {word}" if count == 1 else f"{count} {words or word + 's'}"


def mib_text(count: int, per_mib: int) -> str:
    """``count`` units, ``per_mib`` of which make a MiB, as a reader expects the size.

    ``2 MiB``, ``2.50 MiB``, ``< 0.01 MiB``: whole sizes without a pointless
    fraction (an exact test on the integers, for any count), others to two
    decimals; a size too small for two decimals (one 4 KiB page) is
    ``< 0.01 MiB``, never a ``0.00 MiB`` that reads as nothing.
    """
    if count % per_mib == 0:
        return f"{count // per_mib} MiB"
    size = count / per_mib
    if abs(size) < 0.005:
        return "< 0.01 MiB" if size > 0 else "> -0.01 MiB"
    return f"{size:.2f} MiB"
