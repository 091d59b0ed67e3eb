"""A dosing protocol as data: phases, monitoring schedule, checks, checklist, discharge.

Clinics edit protocols as TOML files (``resources/protocols``, format in
docs/protocols-format.md). This module builds the model from the parsed mapping and
validates every field, raising ``ConfigError`` with the field path; the file loader adds
the file name and line. The ``[alarms]`` table is the alarm loader's and is not read here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kapdesk.domain import config_errors as cf
from kapdesk.domain import setting_ranges as ranges
from kapdesk.domain.alarms.sources import (
    DEFAULT_EXPECTED_SOURCES,
    DEFAULT_SOURCE_GRACE_S,
    source_channels,
)
from kapdesk.domain.channels import CHANNELS
from kapdesk.domain.checklist import Gate, gates_from
from kapdesk.domain.config_errors import ConfigError
from kapdesk.domain.discharge import DischargeCriteria, criteria_from
from kapdesk.domain.dosing import DosingRules, dosing_rules_from
from kapdesk.domain.schedule import (
    CheckKind,
    ScheduledCheck,
    StabilityBand,
    band_from,
    checks_from,
)
from kapdesk.domain.session import Phase

TOP_LEVEL = {
    "protocol", "alarms", "session", "phases", "dosing", "monitoring", "checks",
    "checklist", "discharge",
    "music",  # [music.phases]: read and checked by the music library (config/music.py)
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Protocol:
    id: str
    name: str
    route: str
    phases: tuple[Phase, ...]
    dose_phase: str  # the phase in which the dose is given
    observation_min: float  # minimum observation after the first dose
    dosing: DosingRules
    checks: tuple[ScheduledCheck, ...]
    stability: StabilityBand
    checklist: tuple[Gate, ...]
    discharge: DischargeCriteria
    continuous: tuple[str, ...] = ("spo2", "heart_rate")
    #: sources a running session needs a connected device for ("No SpO₂ source" otherwise)
    expected_sources: tuple[str, ...] = DEFAULT_EXPECTED_SOURCES
    source_grace_s: float = DEFAULT_SOURCE_GRACE_S
    eye_mask_check_in_min: float | None = 15.0
    description: str = ""

    def phase(self, phase_id: str) -> Phase:
        for p in self.phases:
            if p.id == phase_id:
                return p
        raise KeyError(phase_id)

    def check(self, check_id: str) -> ScheduledCheck:
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(check_id)

    @property
    def scales_used(self) -> tuple[str, ...]:
        """Scale ids this protocol refers to (checks and the discharge score)."""
        ids = [c.scale for c in self.checks if c.scale] + [self.discharge.score_scale]
        return tuple(dict.fromkeys(ids))

    @property
    def expected_total_min(self) -> float:
        return sum(p.expected_s for p in self.phases) / 60


def protocol_from_mapping(data: Mapping[str, Any]) -> Protocol:
    """Build and validate a protocol from a parsed file (see module docstring)."""
    cf.only(data, "", TOP_LEVEL)
    head = cf.table(data, "", "protocol", required=True)
    session = cf.table(data, "", "session", required=True)
    cf.only(
        session,
        "session",
        {"observation_min", "dose_phase", "eye_mask_check_in_min", "description"},
    )
    phases = _phases(cf.tables(data, "", "phases", required=True))
    dose_phase = cf.text(session, "session", "dose_phase")
    if dose_phase not in {p.id for p in phases}:
        ids = ", ".join(p.id for p in phases)
        raise ConfigError("session.dose_phase", f"{dose_phase!r} is not a phase (phases: {ids})")
    observation_min = cf.number(
        session, "session", "observation_min", within=ranges.OBSERVATION_MIN
    )

    monitoring = cf.table(data, "", "monitoring")
    cf.only(
        monitoring,
        "monitoring",
        {
            "continuous",
            "stable_systolic_mmhg",
            "stable_diastolic_mmhg",
            "stable_consecutive",
            "expected_sources",
            "source_grace_s",
        },
    )
    continuous = cf.strings(monitoring, "monitoring", "continuous")
    for i, ch in enumerate(continuous):
        if ch not in CHANNELS:
            known = ", ".join(CHANNELS)
            raise ConfigError(f"monitoring.continuous[{i}]", f"unknown channel {ch!r} ({known})")
    expected = _expected_sources(monitoring)
    grace = cf.number(
        monitoring,
        "monitoring",
        "source_grace_s",
        default=DEFAULT_SOURCE_GRACE_S,
        within=ranges.SOURCE_GRACE_S,
    )
    checks = checks_from(cf.tables(data, "", "checks"))
    if any(c.until_stable for c in checks) and not any(c.kind is CheckKind.BP for c in checks):
        raise ConfigError("checks", "until_stable needs a blood-pressure check")

    eye_mask = cf.optional_number(
        session, "session", "eye_mask_check_in_min", within=ranges.EYE_MASK_CHECK_IN_MIN
    )
    return Protocol(
        id=cf.text(head, "protocol", "id"),
        name=cf.text(head, "protocol", "name"),
        route=cf.text(head, "protocol", "route"),
        phases=phases,
        dose_phase=dose_phase,
        observation_min=observation_min,
        dosing=dosing_rules_from(cf.table(data, "", "dosing", required=True)),
        checks=checks,
        stability=band_from(monitoring),
        checklist=gates_from(cf.tables(data, "", "checklist")),
        discharge=criteria_from(
            cf.table(data, "", "discharge", required=True), observation_min * 60
        ),
        continuous=tuple(continuous),
        expected_sources=expected,
        source_grace_s=grace,
        eye_mask_check_in_min=eye_mask,
        description=str(session.get("description", "")).strip(),
    )


def _expected_sources(monitoring: Mapping[str, Any]) -> tuple[str, ...]:
    """``[monitoring] expected_sources``: channel names or groups (``nibp``); absent means
    the default, ``[]`` means none (no "No ... source" alarm)."""
    if "expected_sources" not in monitoring:
        return DEFAULT_EXPECTED_SOURCES
    names = cf.strings(monitoring, "monitoring", "expected_sources")
    for i, name in enumerate(names):
        try:
            source_channels(name)
        except ValueError as e:
            raise ConfigError(f"monitoring.expected_sources[{i}]", str(e)) from None
    if len(set(names)) != len(names):
        raise ConfigError("monitoring.expected_sources", f"a source is named twice: {names}")
    return tuple(names)


def _phases(raw_items: list[Any]) -> tuple[Phase, ...]:
    if not raw_items:
        raise ConfigError("phases", "a protocol needs at least one phase")
    phases: list[Phase] = []
    for i, raw in enumerate(raw_items):
        w = f"phases[{i}]"
        cf.only(raw, w, {"id", "label", "expected_min"})
        pid = cf.text(raw, w, "id")
        if not pid.replace("_", "").isalnum():
            raise ConfigError(f"{w}.id", f"use letters, digits and _ only, got {pid!r}")
        minutes = cf.number(raw, w, "expected_min", within=ranges.PHASE_EXPECTED_MIN)
        phases.append(Phase(pid, cf.text(raw, w, "label"), minutes * 60))
    ids = [p.id for p in phases]
    if len(set(ids)) != len(ids):
        raise ConfigError("phases", f"phase ids repeat: {ids}")
    return tuple(phases)
