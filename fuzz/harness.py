"""Run every stage on arbitrary bytes: the one property is that nothing escapes.

Unreadable input may raise :class:`InputError` (the CLI turns it into one
line and exit status 2); anything else escaping is a bug.  Used by
``tests/test_robustness.py`` through hypothesis and by ``fuzz/fuzz_inputs.py``
through atheris.
"""

from __future__ import annotations

import io
import json

from rich.console import Console

from dmdissect.analysis.transactions import Tracker
from dmdissect.pipeline import messages_of, transactions_of
from dmdissect.sources import FORMATS, read_frames
from dmdissect.sources.errors import InputError
from dmdissect.views.jsonout import message_object
from dmdissect.views.records import row_object, session_object
from dmdissect.views.session import session_lines
from dmdissect.views.summary import summary_line
from dmdissect.views.tree import message_tree

#: Field trees are slow to render; the first ones of an input are enough.
TREES = 20


def exercise(data: bytes, fmt: str | None = None) -> int:
    """Read, dissect, track and render ``data``; returns the number of messages."""
    console = Console(file=io.StringIO(), width=200)
    count = 0
    try:
        tracker = Tracker()
        for count, message in enumerate(
            messages_of(read_frames(io.BytesIO(data), "fuzz", fmt), tracker), 1
        ):
            summary_line(message, 0.0)
            json.dumps(message_object(message))
            if count <= TREES:
                console.print(message_tree(message, 0.0))
        session_lines(tracker.session)
        tracker = Tracker()
        for row in transactions_of(read_frames(io.BytesIO(data), "fuzz", fmt), tracker):
            json.dumps(row_object(row))
        json.dumps(session_object(tracker.session))
    except InputError:
        pass
    return count


def exercise_every_format(data: bytes) -> None:
    for fmt in (None, *FORMATS):
        exercise(data, fmt)
