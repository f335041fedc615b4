"""Building a session: the profiles' builders on one timeline, and what they planned."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from dmdissect.sources.frame import Frame
from dmdissect.synth import DEFAULT_DURATIONS, MAX_DURATION, faulty, linux_qemu, windows_hyperv
from dmdissect.synth.timeline import BOOT_EPOCH, US, Fault, Planned, Timeline

_BUILDERS = {
    "linux-qemu": linux_qemu.build,
    "windows-hyperv": windows_hyperv.build,
    "faulty": faulty.build,
}
#: Profile name -> (builder, default duration in seconds).
PROFILES = {name: (_BUILDERS[name], default) for name, default in DEFAULT_DURATIONS.items()}


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


__all__ = ["PROFILES", "Fault", "Planned", "Session", "generate"]
