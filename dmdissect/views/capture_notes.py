"""What convert (and ``read -w``) note on each packet for Wireshark: the tracker's view.

A capture file has no field for the transaction a message belongs to, its
links or the findings only the sequence shows.  These become items of the
packet's marker comment (:mod:`dmdissect.sources.markers`), under the field
registry's names (``transaction.kind``, ``transaction.request_frame``, ...),
plus the summary line's transaction text (``label``) and the findings.  The Wireshark plugin
shows them as generated fields, so ``hvdm.transaction.kind == "balloon"``
filters a converted capture; dmdissect itself recomputes them when it reads
the capture, and ignores these.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from dmdissect.analysis.records import Link, SeriesLink
from dmdissect.sources.writer import finding_item
from dmdissect.views.records import link_label, link_object


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def notes(message: Any) -> list[tuple[str, str]]:
    """The marker items of one message: its transaction and its findings.

    Every finding goes in (the source's are already in the marker): the plugin
    raises those it computes from the bytes itself and adds the others (the
    tracker's, and those that need more than the bytes) from here.
    """
    # The frame number in what dmdissect read: the links below count frames as it
    # did, which differ from the written capture's when -Y left frames out.
    items: list[tuple[str, str]] = [("input_frame", str(message.frame.index))]
    link = message.transaction
    if isinstance(link, (Link, SeriesLink)):
        items += [
            (f"transaction.{key}", _text(v))
            for key, v in link_object(link).items()
            if v is not None
        ]
    if isinstance(link, Link):
        items.append(("label", link_label(link)))
    source = len(message.frame.findings)
    for finding in message.findings[source:]:
        items.append(finding_item("finding", finding))
        # The field it concerns, for the plugin's hvdm.expert.field (an item of its own:
        # a reader that does not know it passes over it).
        if finding.field:
            items.append(("finding.field", finding.field))
    return items


def annotated(messages: Iterable[Any]) -> Iterator[tuple[Any, list[tuple[str, str]]]]:
    """(frame, marker items) of each message: what ``write_annotated`` writes.

    ``convert`` and ``read -w`` both write through this, so a capture written
    by either carries the same notes.
    """
    for message in messages:
        yield message.frame, notes(message)
