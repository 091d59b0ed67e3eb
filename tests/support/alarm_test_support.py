"""Small builders shared by the alarm tests (limits, readings, transition filters)."""

from __future__ import annotations

from collections.abc import Iterable

from kapdesk.domain.alarms import (
    AlarmLimits,
    AlarmSettings,
    AlarmTransition,
    ChannelTiming,
    Condition,
    LimitRule,
    Priority,
    TransitionKind,
)
from kapdesk.domain.readings import Reading

T0 = 1_795_957_200.0  # 2026-11-29T13:00:00Z: realistic epoch magnitudes, as sessions have

SPO2_MEDIUM = LimitRule("spo2", Condition.BELOW_LOW_LIMIT, Priority.MEDIUM, 92)
SPO2_HIGH = LimitRule("spo2", Condition.BELOW_LOW_LIMIT, Priority.HIGH, 88)
HR_MEDIUM = LimitRule("heart_rate", Condition.ABOVE_HIGH_LIMIT, Priority.MEDIUM, 120)
HR_HIGH = LimitRule("heart_rate", Condition.ABOVE_HIGH_LIMIT, Priority.HIGH, 140)
SYS_HIGH = LimitRule("nibp_systolic", Condition.ABOVE_HIGH_LIMIT, Priority.HIGH, 180)
SYS_RISE = LimitRule("nibp_systolic", Condition.RISE_FROM_BASELINE, Priority.MEDIUM, 40)


def limits(
    *rules: LimitRule, delay_s: float = 10.0, hysteresis: float = 2.0, **timing: ChannelTiming
) -> AlarmLimits:
    """Limits for tests; "no data" is pushed out to an hour unless a test sets it, so
    tests that jump the clock see only the behaviour they are about."""
    channels = {c: ChannelTiming(expected_interval_s=3600) for c in ("spo2", "heart_rate")}
    channels.update(timing)
    return AlarmLimits(
        rules or (SPO2_MEDIUM, SPO2_HIGH, HR_MEDIUM, HR_HIGH, SYS_HIGH, SYS_RISE),
        channels,
        default_delay_s=delay_s,
        default_hysteresis=hysteresis,
    )


def settings(**kwargs: object) -> AlarmSettings:
    return AlarmSettings(**kwargs)  # type: ignore[arg-type]


def reading(channel: str, value: float, dt: float, *flags: str, device: str = "") -> Reading:
    units = {"spo2": "%", "heart_rate": "/min", "pulse_rate": "/min"}
    return Reading(channel, value, units.get(channel, "mm[Hg]"), T0 + dt, device, frozenset(flags))


def only(transitions: Iterable[AlarmTransition], kind: TransitionKind) -> list[AlarmTransition]:
    return [t for t in transitions if t.transition is kind]
