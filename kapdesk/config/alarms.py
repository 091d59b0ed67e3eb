"""Reads alarm limits from protocol files and alarm settings from the clinic file.

Protocol files (``resources/protocols/*.toml``) are clinic-editable data; this loader
reads only their ``[protocol]`` and ``[alarms]`` tables, so other tables (phases,
schedules, discharge criteria) can live in the same files. Every error names the file,
the line, the field path (``alarms.limits[2].high``) and the problem, because the person
reading it is a clinic administrator with a text editor. Every number is checked against
its plausible range in ``kapdesk.domain.setting_ranges``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kapdesk.config.errors import ConfigFileError
from kapdesk.config.files import read_clinic_toml
from kapdesk.config.paths import clinic_file
from kapdesk.domain import setting_ranges as ranges
from kapdesk.domain.alarms import (
    AlarmLimits,
    AlarmSettings,
    ChannelTiming,
    Condition,
    LimitError,
    LimitRule,
    Priority,
)
from kapdesk.domain.alarms.limits import check_timing
from kapdesk.domain.channels import CHANNELS
from kapdesk.domain.config_errors import ConfigError, locate

_LIMIT_FIELDS = {
    "low": Condition.BELOW_LOW_LIMIT,
    "high": Condition.ABOVE_HIGH_LIMIT,
    "rise": Condition.RISE_FROM_BASELINE,
    "fall": Condition.FALL_FROM_BASELINE,
}
_TIMING_FIELDS = ("delay_s", "hysteresis", "clear_delay_s", "expected_interval_s")
_TIMING_RANGES = {
    "delay_s": ranges.CONDITION_DELAY_S,
    "hysteresis": ranges.HYSTERESIS,
    "clear_delay_s": ranges.CLEAR_DELAY_S,
    "expected_interval_s": ranges.EXPECTED_INTERVAL_S,
}
#: The tables of clinic.toml and their loaders: any other top-level key is refused.
CLINIC_TABLES = ("alarms", "journal", "sessions", "security")
_ALARMS_FIELDS = {"condition_delay_s", "hysteresis", "clear_delay_s", "channels", "limits"}
_TECHNICAL = (
    Condition.SIGNAL_LOST,
    Condition.SENSOR_OFF,
    Condition.DEVICE_DISCONNECTED,
    Condition.RECORDING_FAILED,
    Condition.AUDIO_UNAVAILABLE,
    Condition.NO_SOURCE,
)


@dataclass(frozen=True)
class ProtocolAlarms:
    """A protocol's identity and its alarm limits."""

    id: str
    name: str
    route: str
    limits: AlarmLimits
    path: Path


def read_toml(path: Path) -> dict[str, Any]:
    return read_clinic_toml(path)[1]


def load_protocol_alarms(path: Path | str) -> ProtocolAlarms:
    path = Path(path)
    text, data = read_clinic_toml(path)
    return protocol_alarms_from(data, path, text)


def protocol_alarms_from(data: Mapping[str, Any], path: Path, text: str = "") -> ProtocolAlarms:
    """Build limits from parsed TOML; ``path`` and ``text`` are only used in messages."""
    fields = _Fields(path, text)
    protocol = fields.table(data, "protocol", required=True)
    pid = fields.text(protocol, "protocol", "id")
    name = fields.text(protocol, "protocol", "name")
    route = fields.text(protocol, "protocol", "route")
    alarms = fields.table(data, "alarms", required=True)
    fields.only(alarms, "alarms", _ALARMS_FIELDS)

    channels_table = fields.table(alarms, "alarms.channels")
    timings: dict[str, ChannelTiming] = {}
    for channel, raw in channels_table.items():
        where = f"alarms.channels.{channel}"
        if not isinstance(raw, dict):
            raise fields.fail(where, "must be a table")
        fields.only(raw, where, set(_TIMING_FIELDS))
        timing = ChannelTiming(
            **{
                k: fields.number(raw, where, k, _TIMING_RANGES[k])
                for k in _TIMING_FIELDS
                if k in raw
            }
        )
        try:
            check_timing(channel, timing)
        except LimitError as e:
            raise fields.fail(where, str(e)) from None
        timings[channel] = timing

    raw_limits = alarms.get("limits", [])
    if not isinstance(raw_limits, list):
        raise fields.fail("alarms.limits", "must be an array of tables [[alarms.limits]]")
    rules: list[LimitRule] = []
    rule_paths: list[str] = []
    for i, raw in enumerate(raw_limits):
        where = f"alarms.limits[{i}]"
        if not isinstance(raw, dict):
            raise fields.fail(where, "must be a table")
        fields.only(raw, where, {"channel", "priority", *_LIMIT_FIELDS})
        channel = fields.text(raw, where, "channel")
        if channel not in CHANNELS:
            known = ", ".join(CHANNELS)
            raise fields.fail(f"{where}.channel", f"unknown channel {channel!r} (known: {known})")
        priority = fields.choice(raw, where, "priority", Priority)
        given = [k for k in _LIMIT_FIELDS if k in raw]
        if not given:
            raise fields.fail(where, "needs at least one of low, high, rise, fall")
        plausible = ranges.LIMITS.get(channel)
        if plausible is None:
            raise fields.fail(f"{where}.channel", f"{channel} takes no alarm limits")
        for key in given:
            relative = key in ("rise", "fall")
            threshold = fields.number(
                raw, where, key, plausible.change if relative else plausible.absolute
            )
            rules.append(LimitRule(channel, _LIMIT_FIELDS[key], priority, threshold))
            rule_paths.append(f"{where}.{key}")

    defaults = {
        "default_delay_s": ("condition_delay_s", 10.0, ranges.CONDITION_DELAY_S),
        "default_hysteresis": ("hysteresis", 2.0, ranges.HYSTERESIS),
        "default_clear_delay_s": ("clear_delay_s", 0.0, ranges.CLEAR_DELAY_S),
    }
    kwargs = {
        attr: fields.number(alarms, "alarms", key, within) if key in alarms else default
        for attr, (key, default, within) in defaults.items()
    }
    try:
        limits = AlarmLimits(tuple(rules), timings, **kwargs)
    except LimitError as e:
        where = "alarms" if e.rule_index is None else rule_paths[e.rule_index]
        raise fields.fail(where, str(e)) from None
    return ProtocolAlarms(pid, name, route, limits, path)


def load_clinic_settings(path: Path | str | None = None) -> AlarmSettings:
    """Clinic-wide alarm settings; a clinic file without an [alarms] table gives defaults."""
    path = clinic_file() if path is None else Path(path)
    text, data = read_clinic_toml(path)
    return clinic_settings_from(data, path, text)


def clinic_settings_from(data: Mapping[str, Any], path: Path, text: str = "") -> AlarmSettings:
    fields = _Fields(path, text)
    fields.only(data, "", set(CLINIC_TABLES))
    alarms = fields.table(data, "alarms")
    fields.only(
        alarms,
        "alarms",
        {
            "latching",
            "audio_pause_s",
            "new_alarm_ends_audio_pause",
            "escalation",
            "technical_priority",
        },
    )
    escalation_table = fields.table(alarms, "alarms.escalation")
    fields.only(
        escalation_table, "alarms.escalation", {"low_to_medium_after_s", "medium_to_high_after_s"}
    )
    escalation: dict[Priority, float] = {}
    for key, priority in (
        ("low_to_medium_after_s", Priority.LOW),
        ("medium_to_high_after_s", Priority.MEDIUM),
    ):
        if key in escalation_table:
            escalation[priority] = fields.number(
                escalation_table, "alarms.escalation", key, ranges.ESCALATE_AFTER_S
            )
    technical_table = fields.table(alarms, "alarms.technical_priority")
    fields.only(technical_table, "alarms.technical_priority", {c.value for c in _TECHNICAL})
    defaults = AlarmSettings()
    technical = dict(defaults.technical_priority)
    for key in technical_table:
        technical[Condition(key)] = fields.choice(
            technical_table, "alarms.technical_priority", key, Priority
        )
    pause = defaults.audio_pause_s
    if "audio_pause_s" in alarms:
        pause = fields.number(alarms, "alarms", "audio_pause_s", ranges.AUDIO_PAUSE_S)
    return AlarmSettings(
        latching=fields.flag(alarms, "alarms", "latching", defaults.latching),
        audio_pause_s=pause,
        escalate_after_s=escalation,
        new_alarm_ends_audio_pause=fields.flag(
            alarms, "alarms", "new_alarm_ends_audio_pause", defaults.new_alarm_ends_audio_pause
        ),
        technical_priority=technical,
    )


class _Fields:
    """Typed field access that names the file, line and field path in every error."""

    def __init__(self, path: Path, text: str = "") -> None:
        self.path = path
        self.source = text

    def fail(self, where: str, problem: str) -> ConfigFileError:
        return ConfigFileError(self.path, where, problem, locate(self.source, where))

    def table(self, data: Mapping[str, Any], where: str, required: bool = False) -> dict[str, Any]:
        key = where.rsplit(".", 1)[-1]
        value = data.get(key)
        if value is None:
            if required:
                raise self.fail(where, f"missing [{where}] table")
            return {}
        if not isinstance(value, dict):
            raise self.fail(where, "must be a table")
        return value

    def only(self, data: Mapping[str, Any], where: str, allowed: set[str]) -> None:
        for key in data:
            if key not in allowed:
                raise self.fail(
                    f"{where}.{key}" if where else key,
                    f"unknown field (expected one of {', '.join(sorted(allowed))})",
                )

    def text(self, data: Mapping[str, Any], where: str, key: str) -> str:
        value = data.get(key)
        if value is None:
            raise self.fail(f"{where}.{key}", "missing")
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{where}.{key}", f"must be a non-empty string, got {value!r}")
        return value

    def number(self, data: Mapping[str, Any], where: str, key: str, within: ranges.Range) -> float:
        """A finite number within its plausible range (``setting_ranges``)."""
        try:
            return within.check(data.get(key), f"{where}.{key}")
        except ConfigError as e:
            raise self.fail(e.where, e.problem) from None

    def flag(self, data: Mapping[str, Any], where: str, key: str, default: bool) -> bool:
        if key not in data:
            return default
        value = data[key]
        if not isinstance(value, bool):
            raise self.fail(f"{where}.{key}", f"must be true or false, got {value!r}")
        return value

    def choice(
        self, data: Mapping[str, Any], where: str, key: str, enum: type[Priority]
    ) -> Priority:
        value = data.get(key)
        try:
            if not isinstance(value, str):
                raise ValueError(value)
            return enum(value)
        except ValueError:
            options = ", ".join(m.value for m in enum)
            raise self.fail(f"{where}.{key}", f"must be one of {options}, got {value!r}") from None
