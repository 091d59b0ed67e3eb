"""Reads alarm limits from protocol files and alarm settings from the clinic file.

Protocol files (``resources/protocols/*.toml``) are clinic-editable data; this loader
reads only their ``[protocol]`` and ``[alarms]`` tables, so other tables (phases,
schedules, discharge criteria) can live in the same files. Every error names the file,
the field path (``alarms.limits[2].high``) and the problem, because the person reading
it is a clinic administrator with a text editor.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

#: Where clinic data files live; KAPDESK_RESOURCES overrides (an installed clinic copy).
RESOURCES_ENV = "KAPDESK_RESOURCES"

_LIMIT_FIELDS = {
    "low": Condition.BELOW_LOW_LIMIT,
    "high": Condition.ABOVE_HIGH_LIMIT,
    "rise": Condition.RISE_FROM_BASELINE,
    "fall": Condition.FALL_FROM_BASELINE,
}
_TIMING_FIELDS = ("delay_s", "hysteresis", "clear_delay_s", "expected_interval_s")
_ALARMS_FIELDS = {"condition_delay_s", "hysteresis", "clear_delay_s", "channels", "limits"}
_TECHNICAL = (
    Condition.SIGNAL_LOST,
    Condition.SENSOR_OFF,
    Condition.DEVICE_DISCONNECTED,
    Condition.RECORDING_FAILED,
    Condition.AUDIO_UNAVAILABLE,
    Condition.NO_SOURCE,
)


class AlarmConfigError(ValueError):
    """A protocol or clinic file that cannot be used, with where and why."""

    def __init__(self, file: Path | str, where: str, problem: str) -> None:
        self.file = str(file)
        self.where = where
        self.problem = problem
        super().__init__(f"{self.file}: {where}: {problem}" if where else f"{file}: {problem}")


@dataclass(frozen=True)
class ProtocolAlarms:
    """A protocol's identity and its alarm limits."""

    id: str
    name: str
    route: str
    limits: AlarmLimits
    path: Path


def resources_dir() -> Path:
    override = os.environ.get(RESOURCES_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "resources"


def protocols_dir() -> Path:
    return resources_dir() / "protocols"


def clinic_file() -> Path:
    return resources_dir() / "clinic.toml"


def protocol_ids() -> list[str]:
    return sorted(p.stem for p in protocols_dir().glob("*.toml"))


def find_protocol(name: str) -> Path:
    """A protocol id (file stem in ``resources/protocols``) or a path to a ``.toml``."""
    candidate = Path(name)
    if candidate.suffix == ".toml" or os.sep in name:
        if not candidate.is_file():
            raise AlarmConfigError(candidate, "", "no such protocol file")
        return candidate
    path = protocols_dir() / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(protocol_ids()) or "none"
        raise AlarmConfigError(name, "", f"no protocol with this id (known: {known})")
    return path


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:  # its message carries "(at line L, column C)"
        raise AlarmConfigError(path, "", f"not valid TOML: {e}") from None
    except OSError as e:
        raise AlarmConfigError(path, "", e.strerror or str(e)) from None


def load_protocol_alarms(path: Path | str) -> ProtocolAlarms:
    path = Path(path)
    data = read_toml(path)
    return protocol_alarms_from(data, path)


def protocol_alarms_from(data: Mapping[str, Any], path: Path) -> ProtocolAlarms:
    """Build limits from parsed TOML; ``path`` is only used in messages."""
    fields = _Fields(path)
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
            raise AlarmConfigError(path, where, "must be a table")
        fields.only(raw, where, set(_TIMING_FIELDS))
        timing = ChannelTiming(
            **{k: fields.number(raw, where, k) for k in _TIMING_FIELDS if k in raw}
        )
        try:
            check_timing(channel, timing)
        except LimitError as e:
            raise AlarmConfigError(path, where, str(e)) from None
        timings[channel] = timing

    raw_limits = alarms.get("limits", [])
    if not isinstance(raw_limits, list):
        raise AlarmConfigError(
            path, "alarms.limits", "must be an array of tables [[alarms.limits]]"
        )
    rules: list[LimitRule] = []
    rule_paths: list[str] = []
    for i, raw in enumerate(raw_limits):
        where = f"alarms.limits[{i}]"
        if not isinstance(raw, dict):
            raise AlarmConfigError(path, where, "must be a table")
        fields.only(raw, where, {"channel", "priority", *_LIMIT_FIELDS})
        channel = fields.text(raw, where, "channel")
        if channel not in CHANNELS:
            known = ", ".join(CHANNELS)
            raise AlarmConfigError(
                path, f"{where}.channel", f"unknown channel {channel!r} (known: {known})"
            )
        priority = fields.choice(raw, where, "priority", Priority)
        given = [k for k in _LIMIT_FIELDS if k in raw]
        if not given:
            raise AlarmConfigError(path, where, "needs at least one of low, high, rise, fall")
        for key in given:
            threshold = fields.number(raw, where, key)
            rules.append(LimitRule(channel, _LIMIT_FIELDS[key], priority, threshold))
            rule_paths.append(f"{where}.{key}")

    defaults = {
        "default_delay_s": ("condition_delay_s", 10.0),
        "default_hysteresis": ("hysteresis", 2.0),
        "default_clear_delay_s": ("clear_delay_s", 0.0),
    }
    kwargs = {
        attr: fields.number(alarms, "alarms", key) if key in alarms else default
        for attr, (key, default) in defaults.items()
    }
    try:
        limits = AlarmLimits(tuple(rules), timings, **kwargs)
    except LimitError as e:
        where = "alarms" if e.rule_index is None else rule_paths[e.rule_index]
        raise AlarmConfigError(path, where, str(e)) from None
    return ProtocolAlarms(pid, name, route, limits, path)


def load_clinic_settings(path: Path | str | None = None) -> AlarmSettings:
    """Clinic-wide alarm settings; a clinic file without an [alarms] table gives defaults."""
    path = clinic_file() if path is None else Path(path)
    return clinic_settings_from(read_toml(path), path)


def clinic_settings_from(data: Mapping[str, Any], path: Path) -> AlarmSettings:
    fields = _Fields(path)
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
            seconds = fields.number(escalation_table, "alarms.escalation", key)
            if not seconds > 0:
                raise AlarmConfigError(path, f"alarms.escalation.{key}", "must be > 0")
            escalation[priority] = seconds
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
        pause = fields.number(alarms, "alarms", "audio_pause_s")
        if not pause > 0:
            raise AlarmConfigError(path, "alarms.audio_pause_s", "must be > 0")
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
    """Typed field access that names the file and field path in every error."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, problem: str) -> AlarmConfigError:
        return AlarmConfigError(self.path, where, problem)

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
                    f"{where}.{key}",
                    f"unknown field (expected one of {', '.join(sorted(allowed))})",
                )

    def text(self, data: Mapping[str, Any], where: str, key: str) -> str:
        value = data.get(key)
        if value is None:
            raise self.fail(f"{where}.{key}", "missing")
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{where}.{key}", f"must be a non-empty string, got {value!r}")
        return value

    def number(self, data: Mapping[str, Any], where: str, key: str) -> float:
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"{where}.{key}", f"must be a number, got {value!r}")
        if value != value or value in (float("inf"), float("-inf")):
            raise self.fail(f"{where}.{key}", f"must be a finite number, got {value!r}")
        return float(value)

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
