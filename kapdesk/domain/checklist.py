"""The pre-dose checklist: gates that must pass before dosing, and recorded overrides.

Each gate either passes on the staff's answer or fails; a failed gate blocks dosing
unless medical staff override it with a reason. Who overrode what, and why, goes into
the record, because an override is a clinical decision somebody must be able to trace.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from kapdesk.domain import config_errors as cf
from kapdesk.domain import setting_ranges as ranges
from kapdesk.domain.access import Actor, Role
from kapdesk.domain.config_errors import ConfigError


class GateKind(Enum):
    CONFIRM = "confirm"  # staff confirm it (consent signed, ride home arranged...)
    BP = "bp"  # a measured pre-dose blood pressure within the item's limits


class StaffRole(Enum):
    MEDICAL = "medical"  # physician, nurse practitioner, nurse: may override a gate
    THERAPIST = "therapist"
    OTHER = "other"


def staff_role_of(actor: Actor) -> StaffRole:
    """The role an override is recorded with: what the signed-in actor's roles make them."""
    if actor.has(Role.MEDICAL_STAFF):
        return StaffRole.MEDICAL
    if actor.has(Role.THERAPIST):
        return StaffRole.THERAPIST
    return StaffRole.OTHER


@dataclass(frozen=True, slots=True)
class Gate:
    id: str
    label: str
    kind: GateKind = GateKind.CONFIRM
    max_systolic: float | None = None
    max_diastolic: float | None = None
    help: str = ""


@dataclass(frozen=True, slots=True)
class GateAnswer:
    """What staff entered for one gate: a confirmation, or a measured BP."""

    gate: str
    confirmed: bool = False
    systolic: float | None = None
    diastolic: float | None = None


@dataclass(frozen=True, slots=True)
class Override:
    gate: str
    by: str
    role: StaffRole
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"gate": self.gate, "by": self.by, "role": self.role.value, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class GateResult:
    gate: Gate
    passed: bool
    detail: str
    override: Override | None = None

    @property
    def cleared(self) -> bool:
        return self.passed or self.override is not None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "gate": self.gate.id,
            "label": self.gate.label,
            "passed": self.passed,
            "detail": self.detail,
        }
        if self.override is not None:
            out["override"] = self.override.to_dict()
        return out


@dataclass(frozen=True, slots=True)
class ChecklistOutcome:
    results: tuple[GateResult, ...]

    @property
    def cleared(self) -> bool:
        """Every gate passed or was overridden: dosing may go ahead."""
        return all(r.cleared for r in self.results)

    @property
    def blocking(self) -> tuple[str, ...]:
        return tuple(r.gate.id for r in self.results if not r.cleared)

    @property
    def overridden(self) -> tuple[str, ...]:
        return tuple(r.gate.id for r in self.results if r.override is not None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cleared": self.cleared,
            "blocking": list(self.blocking),
            "overridden": list(self.overridden),
            "items": [r.to_dict() for r in self.results],
        }


class ChecklistError(ValueError):
    """An override that is not allowed (not medical staff, no reason, gate not failed)."""


def check_gate(gate: Gate, answer: GateAnswer | None) -> tuple[bool, str]:
    """Whether one gate passes on this answer, and a short reason shown to staff."""
    if answer is None:
        return False, "not answered"
    if gate.kind is GateKind.CONFIRM:
        return (True, "confirmed") if answer.confirmed else (False, "not confirmed")
    if answer.systolic is None or answer.diastolic is None:
        return False, "no blood pressure entered"
    bp = f"{answer.systolic:g}/{answer.diastolic:g} mmHg"
    over = []
    if gate.max_systolic is not None and answer.systolic > gate.max_systolic:
        over.append(f"systolic above {gate.max_systolic:g}")
    if gate.max_diastolic is not None and answer.diastolic > gate.max_diastolic:
        over.append(f"diastolic above {gate.max_diastolic:g}")
    return (False, f"{bp}: {', '.join(over)}") if over else (True, f"{bp} within limits")


def evaluate(
    gates: Iterable[Gate],
    answers: Mapping[str, GateAnswer],
    overrides: Iterable[Override] = (),
) -> ChecklistOutcome:
    """Check every gate; apply overrides, which only medical staff with a reason may give,
    and only to a gate that failed (an override of a passing gate would be noise)."""
    gate_list = list(gates)
    by_gate: dict[str, Override] = {}
    for ov in overrides:
        if ov.role is not StaffRole.MEDICAL:
            raise ChecklistError(
                f"only medical staff may override a gate ({ov.by} is {ov.role.value})"
            )
        if not ov.reason.strip():
            raise ChecklistError(f"overriding {ov.gate!r} needs a reason")
        if not ov.by.strip():
            raise ChecklistError(f"overriding {ov.gate!r} needs the name of who overrides")
        by_gate[ov.gate] = ov
    unknown = sorted(set(by_gate) - {g.id for g in gate_list})
    if unknown:
        raise ChecklistError(f"override of unknown gate(s): {', '.join(unknown)}")
    results = []
    for gate in gate_list:
        passed, detail = check_gate(gate, answers.get(gate.id))
        given = by_gate.get(gate.id)
        if given is not None and passed:
            raise ChecklistError(f"{gate.label!r} passed; there is nothing to override")
        results.append(GateResult(gate, passed, detail, given))
    return ChecklistOutcome(tuple(results))


def gates_from(raw_items: list[Any], where: str = "checklist") -> tuple[Gate, ...]:
    """Gates from ``[[checklist]]`` tables of a protocol file."""
    gates: list[Gate] = []
    for i, raw in enumerate(raw_items):
        w = f"{where}[{i}]"
        cf.only(raw, w, {"id", "label", "kind", "max_systolic", "max_diastolic", "help"})
        kind = GateKind(cf.choice(raw, w, "kind", [k.value for k in GateKind]))
        gate = Gate(
            id=cf.text(raw, w, "id"),
            label=cf.text(raw, w, "label"),
            kind=kind,
            max_systolic=cf.optional_number(
                raw, w, "max_systolic", within=ranges.PRE_DOSE_MAX_SYSTOLIC
            ),
            max_diastolic=cf.optional_number(
                raw, w, "max_diastolic", within=ranges.PRE_DOSE_MAX_DIASTOLIC
            ),
            help=str(raw.get("help", "")).strip(),
        )
        if kind is GateKind.BP and gate.max_systolic is None and gate.max_diastolic is None:
            raise ConfigError(w, "a bp gate needs max_systolic and/or max_diastolic")
        if kind is GateKind.CONFIRM and (gate.max_systolic or gate.max_diastolic):
            raise ConfigError(w, 'max_systolic/max_diastolic belong to a kind = "bp" gate')
        gates.append(gate)
    ids = [g.id for g in gates]
    if len(set(ids)) != len(ids):
        raise ConfigError(where, f"gate ids repeat: {ids}")
    return tuple(gates)
