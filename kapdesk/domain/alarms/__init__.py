"""Alarm rules and the engine that applies them (IEC 60601-1-8 conventions), pure Python."""

from kapdesk.domain.alarms.engine import AlarmEngine, EngineSnapshot
from kapdesk.domain.alarms.limits import (
    DEFAULT_EXPECTED_INTERVAL_S,
    LIMIT_CONDITIONS,
    AlarmLimits,
    AlarmSettings,
    ChannelTiming,
    LimitError,
    LimitRule,
)
from kapdesk.domain.alarms.model import (
    ALARM_SYSTEM,
    AlarmKind,
    AlarmState,
    AlarmTransition,
    AudioState,
    Condition,
    Priority,
    TransitionKind,
)
from kapdesk.domain.alarms.sources import (
    DEFAULT_EXPECTED_SOURCES,
    DEFAULT_SOURCE_GRACE_S,
    SOURCE_GROUPS,
    source_channels,
    source_label,
)

__all__ = [
    "ALARM_SYSTEM",
    "DEFAULT_EXPECTED_INTERVAL_S",
    "DEFAULT_EXPECTED_SOURCES",
    "DEFAULT_SOURCE_GRACE_S",
    "LIMIT_CONDITIONS",
    "SOURCE_GROUPS",
    "AlarmEngine",
    "AlarmKind",
    "AlarmLimits",
    "AlarmSettings",
    "AlarmState",
    "AlarmTransition",
    "AudioState",
    "ChannelTiming",
    "Condition",
    "EngineSnapshot",
    "LimitError",
    "LimitRule",
    "Priority",
    "TransitionKind",
    "source_channels",
    "source_label",
]
