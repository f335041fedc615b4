"""The words every stage shares, one enum each; their values are what JSON and text show.

Kept free of Scapy so that sources, layers, analysis and views can all use
them (and ``--help`` imports nothing heavy).  Being ``StrEnum``s, each member
is its JSON string: ``Direction.GUEST_TO_HOST == "guest->host"``.
"""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    """One end of the channel: who sends a message, whose trans_id space an id is in."""

    HOST = "host"
    GUEST = "guest"

    @property
    def direction(self) -> Direction:
        """The way a message this side sends goes."""
        return Direction.GUEST_TO_HOST if self is Side.GUEST else Direction.HOST_TO_GUEST


class Direction(StrEnum):
    """The way one message went."""

    GUEST_TO_HOST = "guest->host"
    HOST_TO_GUEST = "host->guest"

    @property
    def sender(self) -> Side:
        return Side.GUEST if self is Direction.GUEST_TO_HOST else Side.HOST


class DirectionSource(StrEnum):
    """Who said which way a message went."""

    CAPTURE = "capture"  # pcapng per-packet flags
    TEXT = "text"  # an I/O preamble or a host->guest word in a hex dump
    LOG = "log"  # a log line that names the message ("incoming ...", "posting ...")
    INFERRED = "inferred"  # from the message type (set by the analysis stage)
    UNKNOWN = "unknown"


class Kind(StrEnum):
    """What a timeline row is: a transaction's kind, a series' kind, or the session."""

    VERSION = "version"
    CAPABILITIES = "capabilities"
    BALLOON = "balloon"
    UNBALLOON = "unballoon"
    HOT_ADD = "hot_add"
    HOT_REMOVE = "hot_remove"
    INFO = "info"
    #: A series of status reports between transactions.
    STATUS = "status"
    #: A series of messages that belong to no transaction.
    OTHER = "other"
    SESSION = "session"


class Outcome(StrEnum):
    """How a transaction ended, as far as the capture shows."""

    ACCEPTED = "accepted"
    REFUSED = "refused"
    PARTIAL = "partial"
    AT_FLOOR = "at_floor"
    TRANSIENT_FAILURE = "transient_failure"
    PERMANENT_FAILURE = "permanent_failure"
    #: A failure the input does not say was transient or permanent (a guest's log line).
    FAILED = "failed"
    SENT = "sent"
    UNKNOWN = "unknown"


class Role(StrEnum):
    """A message's place in its transaction or series."""

    REQUEST = "request"
    PART = "part"
    RESPONSE = "response"
    INFO = "info"
    REPORT = "report"
    OTHER = "other"
    #: A log's event line (a host or guest state change, range bookkeeping).
    EVENT = "event"


class Rule(StrEnum):
    """What linked a message to its transaction (see :mod:`dmdissect.analysis.transactions`)."""

    REQUEST = "request"
    STATE = "state"
    STATE_TRANS_ID = "state+trans_id"
    ORPHAN = "orphan"
    AFTER_FINAL = "after-final"
    STANDALONE = "standalone"
    SERIES = "series"
    TYPE7_UNBALLOON_RESPONSE = "state:type7-unballoon-response"
    #: A log's host state change settled the transaction.
    HOST_STATE = "host-state"
    #: The guest's own notes in its log (no host log).
    GUEST_NOTE = "guest-note"
    #: A log line that tells a whole exchange (the guest's "Using ... protocol version").
    LOG = "log"
    #: Another log's word for a transaction one log already settled.
    OTHER_LOG = "other-log"
