"""Dose records: what staff entered, checked for completeness, with mg/kg computed.

kapdesk records and reminds; it never suggests, limits or judges a dose amount. The only
arithmetic here is mg/kg from the amount and the body weight that staff entered, and
the only checks are that the entry is complete and physically possible (a positive
amount, a plausible body weight, a route the protocol uses, a lot number if required).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kapdesk.domain import config_errors as cf
from kapdesk.domain.config_errors import ConfigError

WEIGHT_RANGE_KG = (1.0, 500.0)  # the same plausibility range as a patient record


@dataclass(frozen=True, slots=True)
class DosingRules:
    """What a protocol's dose entries need; nothing about how much."""

    routes: tuple[str, ...]
    lot_required: bool = True
    boosters: bool = True
    infusion: bool = False  # an IV infusion also records its planned duration


@dataclass(frozen=True, slots=True)
class Dose:
    route: str
    amount_mg: float
    weight_kg: float
    mg_per_kg: float
    lot: str
    booster: bool = False
    number: int = 1  # 1 for the first dose, 2 for the first booster...
    infusion_min: float | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "route": self.route,
            "amount_mg": self.amount_mg,
            "weight_kg": self.weight_kg,
            "mg_per_kg": self.mg_per_kg,
            "lot": self.lot,
            "booster": self.booster,
            "number": self.number,
        }
        if self.infusion_min is not None:
            out["infusion_min"] = self.infusion_min
        if self.note:
            out["note"] = self.note
        return out


class DoseEntryError(ValueError):
    """An incomplete or impossible dose entry; the message says which field."""


def mg_per_kg(amount_mg: float, weight_kg: float) -> float:
    """Amount per body weight, rounded to 3 decimals as it is shown and recorded."""
    return round(amount_mg / weight_kg, 3)


def validate_dose(
    rules: DosingRules,
    route: str,
    amount_mg: float,
    weight_kg: float,
    lot: str = "",
    number: int = 1,
    infusion_min: float | None = None,
    note: str = "",
) -> Dose:
    """Check an entry and compute mg/kg; ``number`` > 1 makes it a booster."""
    if route not in rules.routes:
        raise DoseEntryError(
            f"route {route!r} is not used by this protocol ({', '.join(rules.routes)})"
        )
    if isinstance(amount_mg, bool) or not math.isfinite(amount_mg) or amount_mg <= 0:
        raise DoseEntryError(f"amount must be a positive number of mg, got {amount_mg!r}")
    low, high = WEIGHT_RANGE_KG
    if isinstance(weight_kg, bool) or not math.isfinite(weight_kg) or not low <= weight_kg <= high:
        raise DoseEntryError(f"body weight must be {low:g}-{high:g} kg, got {weight_kg!r}")
    lot = lot.strip()
    if rules.lot_required and not lot:
        raise DoseEntryError("the lot number is required")
    if number < 1:
        raise DoseEntryError(f"dose number must be >= 1, got {number}")
    if number > 1 and not rules.boosters:
        raise DoseEntryError("this protocol does not use boosters")
    if rules.infusion:
        if infusion_min is None or not math.isfinite(infusion_min) or infusion_min <= 0:
            raise DoseEntryError("an infusion needs its duration in minutes")
    elif infusion_min is not None:
        raise DoseEntryError("an infusion duration applies only to an infusion protocol")
    return Dose(
        route=route,
        amount_mg=float(amount_mg),
        weight_kg=float(weight_kg),
        mg_per_kg=mg_per_kg(amount_mg, weight_kg),
        lot=lot,
        booster=number > 1,
        number=number,
        infusion_min=None if infusion_min is None else float(infusion_min),
        note=note.strip(),
    )


def dosing_rules_from(data: Mapping[str, Any], where: str = "dosing") -> DosingRules:
    cf.only(data, where, {"routes", "lot_required", "boosters", "infusion"})
    routes = cf.strings(data, where, "routes")
    if not routes:
        raise ConfigError(f"{where}.routes", 'list at least one route, e.g. ["IM"]')
    return DosingRules(
        routes=tuple(routes),
        lot_required=cf.flag(data, where, "lot_required", True),
        boosters=cf.flag(data, where, "boosters", True),
        infusion=cf.flag(data, where, "infusion", False),
    )


#: How a dose route code (``[dosing] routes`` in a protocol file, stored as is in the
#: record) is spelled out wherever staff pick or read it: "IN" and "IM" differ by one
#: letter, so no screen shows the bare code.
ROUTE_LABELS: dict[str, str] = {
    "IN": "Intranasal (nasal spray)",
    "IM": "Intramuscular (IM)",
    "IV": "Intravenous (IV)",
    "SL": "Sublingual lozenge",
    "SC": "Subcutaneous (SC)",
    "PO": "Oral (by mouth)",
    "BUC": "Buccal",
}


def route_label(code: str) -> str:
    """The spelled-out route for a code ("IN" -> "Intranasal (nasal spray)"); a code the
    table does not know is shown as the clinic wrote it."""
    return ROUTE_LABELS.get(code.strip().upper(), code)


def route_phrase(code: str) -> str:
    """The route inside a sentence ("Record 60 mg intranasal (nasal spray), ...")."""
    label = route_label(code)
    if label == code or label[:2].isupper():  # an unknown code or an acronym: as written
        return label
    return label[0].lower() + label[1:]
