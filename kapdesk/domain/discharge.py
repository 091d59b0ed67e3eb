"""Discharge: the protocol's criteria checked against scores, vitals, time and a ride home.

Criteria are a checklist the clinician reads, not a decision made for them: each one says
whether it is met and why. An unmet criterion (most often the minimum observation time,
i.e. an early discharge) can be overridden only by medical staff with a reason, and the
override is recorded with the discharge.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kapdesk.domain import config_errors as cf
from kapdesk.domain import setting_ranges as ranges
from kapdesk.domain import time_text
from kapdesk.domain.channels import CHANNELS
from kapdesk.domain.checklist import ChecklistError, Override, StaffRole
from kapdesk.domain.config_errors import ConfigError
from kapdesk.domain.scales import ScaleScore

VITAL_LABELS = {
    "nibp_systolic": "Systolic BP",
    "nibp_diastolic": "Diastolic BP",
    "nibp_mean": "Mean BP",
    "heart_rate": "Heart rate",
    "pulse_rate": "Pulse rate",
    "spo2": "SpO2",
    "resp_rate": "Respiratory rate",
}

DEFAULT_VITALS = ("nibp_systolic", "nibp_diastolic", "heart_rate")


@dataclass(frozen=True, slots=True)
class DischargeCriteria:
    score_scale: str  # id of the scale in resources/scales ("aldrete" or "padss")
    score_min: int
    min_observation_s: float  # counted from the first dose
    vitals_within_pct: float = 20.0
    vitals: tuple[str, ...] = DEFAULT_VITALS
    ride_home_required: bool = True


@dataclass(frozen=True, slots=True)
class Criterion:
    id: str
    label: str
    met: bool
    detail: str
    override: Override | None = None

    @property
    def cleared(self) -> bool:
        return self.met or self.override is not None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "criterion": self.id,
            "label": self.label,
            "met": self.met,
            "detail": self.detail,
        }
        if self.override is not None:
            out["override"] = self.override.to_dict()
        return out


@dataclass(frozen=True, slots=True)
class DischargeAssessment:
    criteria: tuple[Criterion, ...]
    score: ScaleScore | None
    observed_s: float | None

    @property
    def ready(self) -> bool:
        """Every criterion met or overridden."""
        return all(c.cleared for c in self.criteria)

    @property
    def early(self) -> bool:
        """Discharged before the protocol's minimum observation time (by override)."""
        return any(c.id == "observation" and not c.met for c in self.criteria)

    @property
    def unmet(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.criteria if not c.cleared)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ready": self.ready,
            "early": self.early,
            "observed_min": None if self.observed_s is None else round(self.observed_s / 60, 1),
            "score": None if self.score is None else self.score.to_dict(),
            "criteria": [c.to_dict() for c in self.criteria],
        }


def within_pct(value: float, baseline: float, pct: float) -> bool:
    return abs(value - baseline) <= abs(baseline) * pct / 100.0


def assess(
    criteria: DischargeCriteria,
    score: ScaleScore | None,
    vitals: Mapping[str, float],
    baseline: Mapping[str, float],
    observed_s: float | None,
    ride_home: bool,
    overrides: Iterable[Override] = (),
    score_label: str = "Recovery score",
    outstanding_checks: Sequence[str] = (),
) -> DischargeAssessment:
    """Each criterion met or not, with the reason; ``observed_s`` is time since the first
    dose (None when no dose was given: nothing to observe). ``outstanding_checks`` are the
    scheduled checks not done (due, late or missed): discharging with any needs an
    override with a reason, so a missed check is a decision on the record, never silence."""
    out: list[Criterion] = []
    if score is None:
        out.append(Criterion("score", score_label, False, "not scored"))
    else:
        met = score.scale == criteria.score_scale and score.total >= criteria.score_min
        detail = f"{score.total}/{score.max_total} (needs \u2265 {criteria.score_min})"
        if score.scale != criteria.score_scale:
            detail = f"scored with {score.scale}, the protocol uses {criteria.score_scale}"
        out.append(Criterion("score", score_label, met, detail))
    for ch in criteria.vitals:
        label = VITAL_LABELS.get(ch, ch)
        now, base = vitals.get(ch), baseline.get(ch)
        if now is None:
            out.append(Criterion(f"vitals.{ch}", label, False, "no current value"))
        elif base is None:
            out.append(Criterion(f"vitals.{ch}", label, False, f"{now:g} now; no baseline"))
        else:
            met = within_pct(now, base, criteria.vitals_within_pct)
            change = (now - base) / base * 100 if base else 0.0
            detail = (
                f"{now:g} now, {base:g} before dosing ({change:+.0f} %, "
                f"limit \u00b1{criteria.vitals_within_pct:g} %)"
            )
            out.append(Criterion(f"vitals.{ch}", label, met, detail))
    need_min = criteria.min_observation_s / 60
    if observed_s is None:
        out.append(Criterion("observation", "Minimum observation", True, "no dose recorded"))
    else:
        met = observed_s >= criteria.min_observation_s
        detail = f"{time_text.minutes(observed_s)} since the dose (minimum {need_min:g} min)"
        out.append(Criterion("observation", "Minimum observation", met, detail))
    if criteria.ride_home_required:
        out.append(
            Criterion(
                "ride_home",
                "Ride home",
                ride_home,
                "confirmed" if ride_home else "not confirmed",
            )
        )
    if outstanding_checks:
        detail = "not done: " + "; ".join(outstanding_checks)
        out.append(Criterion("checks", "Scheduled checks", False, detail))
    else:
        out.append(Criterion("checks", "Scheduled checks", True, "all done"))
    out = _apply_overrides(out, overrides)
    return DischargeAssessment(tuple(out), score, observed_s)


def _apply_overrides(criteria: list[Criterion], overrides: Iterable[Override]) -> list[Criterion]:
    by_id = {c.id: c for c in criteria}
    result = {c.id: c for c in criteria}
    for ov in overrides:
        if ov.role is not StaffRole.MEDICAL:
            raise ChecklistError(f"only medical staff may override discharge criteria ({ov.by})")
        if not ov.reason.strip() or not ov.by.strip():
            raise ChecklistError(f"overriding {ov.gate!r} needs who and a reason")
        c = by_id.get(ov.gate)
        if c is None:
            raise ChecklistError(f"no discharge criterion {ov.gate!r}")
        if c.met:
            raise ChecklistError(f"{c.label!r} is met; there is nothing to override")
        result[c.id] = Criterion(c.id, c.label, c.met, c.detail, ov)
    return [result[c.id] for c in criteria]


def criteria_from(
    data: Mapping[str, Any], min_observation_s: float, where: str = "discharge"
) -> DischargeCriteria:
    cf.only(
        data, where, {"score", "score_min", "vitals_within_pct", "vitals", "ride_home_required"}
    )
    vitals = cf.strings(data, where, "vitals") if "vitals" in data else None
    for i, ch in enumerate(vitals or ()):
        if ch not in CHANNELS:
            raise ConfigError(f"{where}.vitals[{i}]", f"unknown channel {ch!r}")
    score_min = cf.number(data, where, "score_min", minimum=0)
    if score_min != int(score_min):
        raise ConfigError(f"{where}.score_min", f"must be a whole number, got {score_min:g}")
    return DischargeCriteria(
        score_scale=cf.text(data, where, "score"),
        score_min=int(score_min),
        min_observation_s=min_observation_s,
        vitals_within_pct=cf.number(
            data, where, "vitals_within_pct", default=20.0, within=ranges.VITALS_WITHIN_PCT
        ),
        vitals=tuple(vitals) if vitals is not None else DEFAULT_VITALS,
        ride_home_required=cf.flag(data, where, "ride_home_required", True),
    )
