"""What the alarm engine says: priorities, kinds, conditions and transition records.

The transition record is the one shape alarms take everywhere (live log, session export,
replay output), so a replay can be compared line by line with what a session recorded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kapdesk.domain.clock import iso_utc, parse_iso_utc


class Priority(StrEnum):
    """IEC 60601-1-8 priorities; ``rank`` orders them (high beats medium beats low)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def marker(self) -> str:
        """The ``*``/``**``/``***`` prefix displays use, so colour is never the only cue."""
        return "*" * self.rank

    def next_higher(self) -> Priority | None:
        return {Priority.LOW: Priority.MEDIUM, Priority.MEDIUM: Priority.HIGH}.get(self)


_RANK = {Priority.LOW: 1, Priority.MEDIUM: 2, Priority.HIGH: 3}


class AlarmKind(StrEnum):
    """Physiological (the patient) and technical (the equipment) alarms are kept apart."""

    PHYSIOLOGICAL = "physiological"
    TECHNICAL = "technical"


class Condition(StrEnum):
    ABOVE_HIGH_LIMIT = "above_high_limit"
    BELOW_LOW_LIMIT = "below_low_limit"
    RISE_FROM_BASELINE = "rise_from_baseline"
    FALL_FROM_BASELINE = "fall_from_baseline"
    SIGNAL_LOST = "signal_lost"
    SENSOR_OFF = "sensor_off"
    DEVICE_DISCONNECTED = "device_disconnected"
    RECORDING_FAILED = "recording_failed"
    AUDIO_UNAVAILABLE = "audio_unavailable"
    #: A running session's protocol expects a channel that no connected device provides.
    NO_SOURCE = "no_source"
    #: Not a condition but a control state; named here so its record has the same shape.
    AUDIO_PAUSED = "audio_paused"

    @property
    def is_physiological(self) -> bool:
        return self in PHYSIOLOGICAL_CONDITIONS


PHYSIOLOGICAL_CONDITIONS = frozenset(
    {
        Condition.ABOVE_HIGH_LIMIT,
        Condition.BELOW_LOW_LIMIT,
        Condition.RISE_FROM_BASELINE,
        Condition.FALL_FROM_BASELINE,
    }
)


class TransitionKind(StrEnum):
    RAISED = "raised"
    ESCALATED = "escalated"
    #: A latched alarm's condition ended (the value came back); the signal goes on.
    CONDITION_ENDED = "condition_ended"
    #: The condition came back while its alarm was still latched: the same episode.
    CONDITION_RETURNED = "condition_returned"
    CLEARED = "cleared"
    ACKNOWLEDGED = "acknowledged"
    AUDIO_PAUSED = "audio_paused"
    LIMIT_CHANGED = "limit_changed"


#: The source name used for records about the alarm system itself (audio pause).
ALARM_SYSTEM = "alarm_system"


def _json_number(x: float | None) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return x


@dataclass(frozen=True, slots=True)
class AlarmTransition:
    """One change in the alarm state: what the log, the GUI and the export receive.

    ``channel`` names the channel for physiological alarms and channel-level technical
    ones (signal lost); the device or source for the others (device disconnected,
    recording failed). ``value`` is what triggered the change (None when there is none);
    ``limit`` the threshold in force (absolute, also for baseline-relative limits);
    ``by`` who acknowledged, paused or changed a limit. ``episode`` ties together every
    transition of one alarm, from raised to cleared (None for records that belong to no
    alarm: limit changes, audio pauses).
    """

    t: float
    channel: str
    priority: Priority
    kind: AlarmKind
    condition: Condition
    transition: TransitionKind
    value: float | None
    limit: float | None
    message: str
    by: str | None = None
    episode: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "t": iso_utc(self.t),
            "channel": self.channel,
            "priority": self.priority.value,
            "kind": self.kind.value,
            "condition": self.condition.value,
            "transition": self.transition.value,
            "value": _json_number(self.value),
            "limit": _json_number(self.limit),
            "message": self.message,
            "by": self.by,
            "episode": self.episode,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlarmTransition:
        """Read back a record written by :meth:`to_dict` (raises KeyError/ValueError)."""
        value = data.get("value")
        limit = data.get("limit")
        return cls(
            t=parse_iso_utc(str(data["t"])),
            channel=str(data["channel"]),
            priority=Priority(data["priority"]),
            kind=AlarmKind(data["kind"]),
            condition=Condition(data["condition"]),
            transition=TransitionKind(data["transition"]),
            value=None if value is None else float(value),
            limit=None if limit is None else float(limit),
            message=str(data.get("message", "")),
            by=None if data.get("by") is None else str(data["by"]),
            episode=None if data.get("episode") is None else str(data["episode"]),
        )


@dataclass(frozen=True, slots=True)
class AlarmState:
    """A snapshot of one active alarm, for lists on screen.

    ``latched``: the condition has ended but the alarm keeps signalling until someone
    acknowledges it (since ``condition_ended_at``). ``audible``: it contributes to the
    sound (not yet acknowledged). ``episode``: the id its transitions carry.
    """

    channel: str
    priority: Priority
    kind: AlarmKind
    condition: Condition
    message: str
    value: float | None
    limit: float | None
    started: float
    acknowledged_by: str | None
    acknowledged_at: float | None
    latched: bool
    audible: bool
    episode: str = ""
    condition_ended_at: float | None = None


@dataclass(frozen=True, slots=True)
class AudioState:
    """What the speaker should do.

    ``highest_audible`` is the highest priority among unacknowledged alarms, paused or
    not (the screen shows it either way); ``sounding`` is what to play right now.
    """

    highest_audible: Priority | None
    paused_until: float | None

    @property
    def paused(self) -> bool:
        return self.paused_until is not None

    @property
    def sounding(self) -> Priority | None:
        return None if self.paused else self.highest_audible
