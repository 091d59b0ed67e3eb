"""Alarm limits and clinic settings as plain values, validated once when built.

Limits come from a protocol file and may be changed for one session by medical staff
(:meth:`AlarmLimits.with_threshold`); clinic settings (latching, audio pause,
escalation) are the administrator's and apply to every session.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from kapdesk.domain.alarms.model import Condition, Priority
from kapdesk.domain.channels import CHANNELS, Sampling

#: Conditions a limit rule can express, and whether the value alarms above (True) or
#: below (False) its threshold.
LIMIT_CONDITIONS: Mapping[Condition, bool] = MappingProxyType(
    {
        Condition.ABOVE_HIGH_LIMIT: True,
        Condition.BELOW_LOW_LIMIT: False,
        Condition.RISE_FROM_BASELINE: True,
        Condition.FALL_FROM_BASELINE: False,
    }
)

#: Channels watched for "no data" unless a protocol says otherwise (seconds between values).
DEFAULT_EXPECTED_INTERVAL_S: Mapping[str, float] = MappingProxyType(
    {"heart_rate": 1.0, "pulse_rate": 1.0, "spo2": 1.0}
)


class LimitError(ValueError):
    """A limit set that makes no sense; ``rule_index`` points at the offending rule."""

    def __init__(self, message: str, rule_index: int | None = None, channel: str = "") -> None:
        super().__init__(message)
        self.rule_index = rule_index
        self.channel = channel


@dataclass(frozen=True, slots=True)
class LimitRule:
    """One threshold of one channel at one priority.

    For baseline-relative conditions ``threshold`` is the allowed change from the
    patient's pre-dose baseline (``rise`` 40 means "more than baseline + 40").
    """

    channel: str
    condition: Condition
    priority: Priority
    threshold: float

    @property
    def alarms_above(self) -> bool:
        return LIMIT_CONDITIONS[self.condition]

    @property
    def relative(self) -> bool:
        return self.condition in (Condition.RISE_FROM_BASELINE, Condition.FALL_FROM_BASELINE)

    def absolute(self, baseline: float | None) -> float | None:
        """The threshold in the channel's unit; None while a relative rule has no baseline."""
        if not self.relative:
            return self.threshold
        if baseline is None:
            return None
        if self.condition is Condition.RISE_FROM_BASELINE:
            return baseline + self.threshold
        return baseline - self.threshold


@dataclass(frozen=True, slots=True)
class ChannelTiming:
    """Per-channel timing; None means "the limit set's default"."""

    delay_s: float | None = None
    hysteresis: float | None = None
    clear_delay_s: float | None = None
    expected_interval_s: float | None = None


@dataclass(frozen=True)
class AlarmLimits:
    """The rules in force for a session, with their timing."""

    rules: tuple[LimitRule, ...]
    channels: Mapping[str, ChannelTiming] = field(default_factory=dict)
    default_delay_s: float = 10.0
    default_hysteresis: float = 2.0
    default_clear_delay_s: float = 0.0

    def __post_init__(self) -> None:
        check_rules(self.rules)
        for name, timing in self.channels.items():
            check_timing(name, timing)
        for what, x in (
            ("default_delay_s", self.default_delay_s),
            ("default_hysteresis", self.default_hysteresis),
            ("default_clear_delay_s", self.default_clear_delay_s),
        ):
            if not (math.isfinite(x) and x >= 0):
                raise LimitError(f"{what} must be a number >= 0, got {x!r}")

    def _timing(self, channel: str) -> ChannelTiming:
        return self.channels.get(channel, ChannelTiming())

    def delay_for(self, channel: str) -> float:
        """Condition delay: none for discrete channels (one NIBP reading alarms at once)."""
        info = CHANNELS.get(channel)
        if info is not None and info.sampling is Sampling.DISCRETE:
            return 0.0
        delay = self._timing(channel).delay_s
        return self.default_delay_s if delay is None else delay

    def hysteresis_for(self, channel: str) -> float:
        margin = self._timing(channel).hysteresis
        return self.default_hysteresis if margin is None else margin

    def clear_delay_for(self, channel: str) -> float:
        delay = self._timing(channel).clear_delay_s
        return self.default_clear_delay_s if delay is None else delay

    def expected_interval_for(self, channel: str) -> float | None:
        """Seconds between values, for "no data"; None for periodic discrete channels."""
        info = CHANNELS.get(channel)
        if info is None or info.sampling is Sampling.DISCRETE:
            return None
        interval = self._timing(channel).expected_interval_s
        return DEFAULT_EXPECTED_INTERVAL_S.get(channel) if interval is None else interval

    def rule(self, channel: str, condition: Condition, priority: Priority) -> LimitRule | None:
        for r in self.rules:
            if (r.channel, r.condition, r.priority) == (channel, condition, priority):
                return r
        return None

    def with_threshold(
        self, channel: str, condition: Condition, priority: Priority, threshold: float | None
    ) -> AlarmLimits:
        """A copy with one rule changed, added (new key) or removed (``threshold`` None)."""
        if condition not in LIMIT_CONDITIONS:
            raise LimitError(f"{condition.value} is not a limit condition", channel=channel)
        rules: list[LimitRule] = []
        found = False
        for r in self.rules:
            if (r.channel, r.condition, r.priority) == (channel, condition, priority):
                found = True
                if threshold is not None:
                    rules.append(replace(r, threshold=threshold))
            else:
                rules.append(r)
        if not found and threshold is not None:
            rules.append(LimitRule(channel, condition, priority, threshold))
        return replace(self, rules=tuple(rules))


def check_rules(rules: tuple[LimitRule, ...]) -> None:
    """Reject unknown channels, bad numbers, duplicates, and priorities out of order.

    Out of order means a higher priority limit that is less severe than a lower one
    (a high-priority SpO2 low limit of 93 above a medium one of 92): the escalation
    from medium to high would then never happen.
    """
    seen: dict[tuple[str, Condition, Priority], int] = {}
    for i, r in enumerate(rules):
        info = CHANNELS.get(r.channel)
        if info is None:
            raise LimitError(f"unknown channel {r.channel!r}", i, r.channel)
        if info.sampling is Sampling.WAVEFORM:
            raise LimitError(f"{r.channel} is a waveform channel: no alarm limits", i, r.channel)
        if r.condition not in LIMIT_CONDITIONS:
            raise LimitError(f"{r.condition.value} is not a limit condition", i, r.channel)
        if isinstance(r.threshold, bool) or not math.isfinite(r.threshold):
            raise LimitError(f"limit must be a finite number, got {r.threshold!r}", i, r.channel)
        if r.relative and r.threshold <= 0:
            raise LimitError(
                f"a change from baseline must be greater than 0, got {r.threshold:g}", i, r.channel
            )
        key = (r.channel, r.condition, r.priority)
        if key in seen:
            raise LimitError(
                f"{r.channel} {r.condition.value} at {r.priority.value} priority is given twice",
                i,
                r.channel,
            )
        seen[key] = i
    for i, r in enumerate(rules):
        for other in rules:
            if (other.channel, other.condition) != (r.channel, r.condition):
                continue
            if other.priority.rank >= r.priority.rank:
                continue
            # r outranks other: it must be at least as far out.
            further_out = r.alarms_above == (r.condition is not Condition.FALL_FROM_BASELINE)
            ok = r.threshold >= other.threshold if further_out else r.threshold <= other.threshold
            if not ok:
                raise LimitError(
                    f"{r.channel} {r.condition.value}: the {r.priority.value}-priority limit"
                    f" {r.threshold:g} is less severe than the {other.priority.value}-priority"
                    f" limit {other.threshold:g}",
                    i,
                    r.channel,
                )


def check_timing(channel: str, timing: ChannelTiming) -> None:
    if channel not in CHANNELS:
        raise LimitError(f"unknown channel {channel!r}", channel=channel)
    for what, x in (
        ("delay_s", timing.delay_s),
        ("hysteresis", timing.hysteresis),
        ("clear_delay_s", timing.clear_delay_s),
    ):
        if x is not None and not (math.isfinite(x) and x >= 0):
            raise LimitError(f"{what} must be a number >= 0, got {x!r}", channel=channel)
    interval = timing.expected_interval_s
    if interval is not None and not (math.isfinite(interval) and interval > 0):
        raise LimitError(
            f"expected_interval_s must be a number > 0, got {interval!r}", channel=channel
        )


def _default_technical_priorities() -> Mapping[Condition, Priority]:
    return MappingProxyType(
        {
            Condition.SIGNAL_LOST: Priority.MEDIUM,
            Condition.SENSOR_OFF: Priority.MEDIUM,
            Condition.DEVICE_DISCONNECTED: Priority.MEDIUM,
            Condition.RECORDING_FAILED: Priority.HIGH,
            Condition.AUDIO_UNAVAILABLE: Priority.HIGH,
            Condition.NO_SOURCE: Priority.MEDIUM,
        }
    )


@dataclass(frozen=True)
class AlarmSettings:
    """Clinic-wide alarm behaviour, set by the administrator, not per user.

    ``escalate_after_s`` maps a priority to the seconds a physiological condition may
    persist at it before it escalates one step (medium -> high); absent = never.
    ``new_alarm_ends_audio_pause``: a new or escalated alarm sounds at once even while
    audio is paused, so a pause cannot hide a fresh emergency.
    """

    latching: bool = False
    audio_pause_s: float = 120.0
    escalate_after_s: Mapping[Priority, float] = field(default_factory=dict)
    new_alarm_ends_audio_pause: bool = True
    technical_priority: Mapping[Condition, Priority] = field(
        default_factory=_default_technical_priorities
    )

    def __post_init__(self) -> None:
        if not (math.isfinite(self.audio_pause_s) and self.audio_pause_s > 0):
            raise ValueError(f"audio_pause_s must be a number > 0, got {self.audio_pause_s!r}")
        for priority, after in self.escalate_after_s.items():
            if priority.next_higher() is None:
                raise ValueError(f"{priority.value} priority cannot escalate further")
            if not (math.isfinite(after) and after > 0):
                raise ValueError(f"escalation after {after!r} s: must be a number > 0")

    def priority_of(self, condition: Condition) -> Priority:
        return self.technical_priority.get(condition, Priority.MEDIUM)
