"""Expected sources: the channels a session's protocol expects some device to provide.

A protocol names them (``[monitoring] expected_sources``); while a session runs, an
expected source that no connected device provides for longer than a short grace period
is a technical alarm of its own, "No SpO₂ source", as a bedside monitor says "No SpO2
sensor", so a missing monitor is never just a quiet tile reading "no data".

A source name is a channel name, or one of the groups below: ``nibp`` is any of the cuff's
pressures; ``heart_rate`` is also provided by a pulse rate (an oximeter's pulse rate is
the heart rate a KAP session watches when no ECG or strap is used).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from kapdesk.domain.channels import CHANNELS

#: Source names that stand for more than one channel, and the channels that provide them.
SOURCE_GROUPS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "nibp": ("nibp_systolic", "nibp_diastolic", "nibp_mean"),
        "heart_rate": ("heart_rate", "pulse_rate"),
    }
)
_GROUP_LABELS = {"nibp": "NIBP"}

#: What a protocol expects unless it says otherwise (the shipped KAP protocols' sources).
DEFAULT_EXPECTED_SOURCES: tuple[str, ...] = ("heart_rate", "spo2", "nibp")
#: Real seconds an expected source may be missing before it alarms (connecting a monitor,
#: a reconnection's backoff) unless the protocol says otherwise.
DEFAULT_SOURCE_GRACE_S = 20.0


def source_channels(name: str) -> tuple[str, ...]:
    """The channels that provide source ``name``; ValueError for an unknown name."""
    group = SOURCE_GROUPS.get(name)
    if group is not None:
        return group
    if name in CHANNELS:
        return (name,)
    known = ", ".join([*SOURCE_GROUPS, *(c for c in CHANNELS if c not in SOURCE_GROUPS)])
    raise ValueError(f"unknown source {name!r} (a channel or group: {known})")


def source_label(name: str) -> str:
    """How a source is named on screen: "SpO₂", "NIBP", "Heart rate"."""
    if name in _GROUP_LABELS:
        return _GROUP_LABELS[name]
    info = CHANNELS.get(name)
    return info.label if info is not None else name
