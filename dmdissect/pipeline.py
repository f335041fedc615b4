"""The stages in order: frames -> dissected messages -> transactions.

Every command that reads messages goes through here, so all of them see the
same findings and the same transaction links.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from dmdissect.analysis.message import Message, dissect
from dmdissect.sources.frame import Frame


def messages_of(frames: Iterable[Frame]) -> Iterator[Message]:
    """Dissect frames lazily, in order; memory stays flat however long the input."""
    for frame in frames:
        yield dissect(frame)
