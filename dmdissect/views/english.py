"""English for counts and sizes: how every stage writes "1 page" and "2.50 MiB".

One home for the wording rules, with the views, whose job is what the user
reads.  It imports nothing (neither Scapy nor the protocol, and
``dmdissect/views/__init__.py`` imports nothing either), so the stages that
write a sentence of their own (a source's note on a broken dump, an expert
finding, a filter error) use it without pulling in the views or making an
import cycle.  What a count *is* (pages of the protocol's page size) is the
layers' business: :func:`dmdissect.views.phrases.mib` turns pages into MiB
with the layers' page size and writes them with :func:`mib_text`.
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
