"""Reading an input to its end or to the error that stops it, for tests of torn inputs.

A torn input yields its whole frames (and a record cut inside the message),
then raises :class:`InputError`; tests want both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from dmdissect.sources.errors import InputError


def frames_and_error(frames: Iterable | Callable[[], Iterable]) -> tuple[list, str | None]:
    """Every frame the reader gave, and the text of the InputError that ended it (or None).

    Pass a callable (``lambda: open_frames(path)``) when opening itself may fail:
    ``open_frames`` reads the first frame before it returns.
    """
    out: list = []
    try:
        for frame in frames() if callable(frames) else frames:
            out.append(frame)
    except InputError as exc:
        return out, str(exc)
    return out, None
