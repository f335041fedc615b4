"""Realistic Dynamic Memory sessions on demand, built with the project's own Scapy layers.

Developers need sessions to test against and new users need captures to try
the tool on; both must look like what the real peers send, so each profile
follows docs/protocol.md.  Everything comes from one ``random.Random(seed)``
and a fixed boot epoch: the same seed gives the same bytes.

    >>> session = generate("linux-qemu", seed=1, duration=120)
    >>> session.frames[0].direction
    'guest->host'

:attr:`Session.transactions` is the plan (kind, pages, parts, outcome, frame
indices) and :attr:`Session.faults` the malformations of ``faulty``, so that
tests can compare what the analysis finds with what was meant.
"""

from __future__ import annotations

from typing import Any

#: Profile name -> default duration in seconds (names and defaults are all ``--help`` needs).
DEFAULT_DURATIONS = {"linux-qemu": 120.0, "windows-hyperv": 120.0, "faulty": 40.0}

#: Longest session accepted: a day, 86400 status reports, takes a couple of minutes to build.
MAX_DURATION = 24 * 3600.0

#: Names loaded from :mod:`dmdissect.synth.session` on first use, so that ``--help`` and the
#: option checks need neither the builders nor Scapy.
_LAZY = ("PROFILES", "Fault", "Planned", "Session", "generate")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from dmdissect.synth import session

        return getattr(session, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["DEFAULT_DURATIONS", "MAX_DURATION", *_LAZY]
