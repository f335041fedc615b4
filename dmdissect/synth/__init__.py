"""Realistic Dynamic Memory sessions on demand, built with the project's own Scapy layers.

Developers need sessions to test against and new users need captures to try
the tool on; both must look like what the real peers send, so each profile
follows protocol-notes.md.  Everything comes from one ``random.Random(seed)``
and a fixed boot epoch: the same seed gives the same bytes.

    >>> session = generate("linux-qemu", seed=1, duration=120)
    >>> session.frames[0].direction
    'guest->host'

:attr:`Session.transactions` is the plan (kind, pages, parts, outcome, frame
indices) and :attr:`Session.faults` the malformations of ``faulty``, so that
tests can compare what the analysis finds with what was meant.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from dmdissect.sources.frame import Frame
from dmdissect.synth import faulty, linux_qemu, windows_hyperv
from dmdissect.synth.timeline import BOOT_EPOCH, US, Fault, Planned, Timeline

#: Profile name -> (builder, default duration in seconds).
PROFILES = {
    "linux-qemu": (linux_qemu.build, 120.0),
    "windows-hyperv": (windows_hyperv.build, 120.0),
    "faulty": (faulty.build, 40.0),
}

#: Longest session accepted: a day, 86400 status reports, takes a couple of minutes to build.
MAX_DURATION = 24 * 3600.0


@dataclass
class Session:
    """A generated session: its frames in order, and what the generator meant by them.

    ``boot_time`` is the epoch time of the guest's boot: frame times minus it
    are the seconds since boot a dmesg line shows.
    """

    profile: str
    seed: int
    duration: float
    vmbus: bool
    boot_time: float
    frames: list[Frame]
    transactions: list[Planned] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)


def generate(
    profile: str, seed: int = 0, duration: float | None = None, vmbus: bool = False
) -> Session:
    """The session of ``profile`` for ``seed``, lasting ``duration`` seconds from the first message.

    The first message (the guest's version offer) comes a few seconds after
    boot, as a driver loads.  Raises ValueError for an unknown profile or a
    duration outside 1 s .. :data:`MAX_DURATION`.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}")
    builder, default = PROFILES[profile]
    duration = default if duration is None else float(duration)
    if not 1.0 <= duration <= MAX_DURATION:
        raise ValueError(f"duration {duration:g} s is outside 1 s .. {MAX_DURATION:g} s")
    rng = random.Random(seed)
    start = rng.randint(US * 3 // 2, US * 9 // 2)
    timeline = Timeline(vmbus)
    builder(rng, timeline, start, start + round(duration * US))
    frames = timeline.frames()
    faults = [event.fault for event in timeline.events if event.fault is not None]
    planned = sorted(timeline.planned, key=lambda plan: plan.frames[0])
    return Session(
        profile,
        seed,
        duration,
        vmbus,
        float(BOOT_EPOCH),
        frames,
        planned,
        sorted(faults, key=lambda fault: fault.frame),
    )


__all__ = ["MAX_DURATION", "PROFILES", "Fault", "Planned", "Session", "generate"]
