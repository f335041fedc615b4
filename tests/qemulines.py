"""QEMU hv_balloon trace lines shared by the log tests: (seconds from the start, event text).

The handshake as hv-balloon.c logs it: reset, the guest's version offer and
its acceptance (S_CAPS at 1.0005 s), its capabilities, then the 50-second
post-init wait (HV_BALLOON_POST_INIT_WAIT) before the device goes idle.
"""

HANDSHAKE = [
    (0.0, "state_change -> S_POST_RESET_CLOSED"),
    (1.0, "state_change -> S_VERSION"),
    (1.0, "incoming_version incoming proto version 2.0"),
    (1.0005, "state_change -> S_CAPS"),
    (1.001, "incoming_caps incoming caps 0x1f"),
    (1.0015, "state_change -> S_POST_INIT_WAIT"),
    (51.0015, "state_change -> S_IDLE"),
]


def balloon_posted(seconds: float, pages: int) -> list[tuple[float, str]]:
    """QEMU posting balloon request 0 for ``pages`` at ``seconds``, then waiting for the reply."""
    return [
        (seconds, "state_change -> S_BALLOON_RB_WAIT"),
        (seconds, "state_change -> S_BALLOON_POSTING"),
        (seconds, f"outgoing_balloon posting balloon 0 for {pages}, remaining {pages}"),
        (seconds, "state_change -> S_BALLOON_REPLY_WAIT"),
    ]
