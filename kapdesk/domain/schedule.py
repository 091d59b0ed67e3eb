"""Which scheduled checks are due when: BP, sedation and dissociation after the dose.

A protocol says, for each check: before dosing or not, at fixed minutes after the (first)
dose, then every N minutes, either until a limit or, for blood pressure, "until stable".
Stable means the last ``consecutive`` post-dose readings all lie within the protocol's
band of the pre-dose blood pressure (or of each other when no pre-dose value is known).

Each slot is matched to the first result recorded in its window: from ``early`` before
its time until the next slot's window opens. A slot not done is upcoming, due (from its
window until ``grace`` after its time), overdue (later, until the next slot opens), or
missed (a later slot has begun). The staff are prompted quietly; nothing here alarms.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from kapdesk.domain import config_errors as cf
from kapdesk.domain import setting_ranges as ranges
from kapdesk.domain.config_errors import ConfigError

EARLY_S = 5 * 60.0  # a check done up to 5 min before its time counts for it
PROMPT_BEFORE_S = 60.0  # ...but staff are prompted only from 1 min before it
MAX_SLOTS = 200  # a bound on repeating slots, so a bad file cannot loop forever


class CheckKind(Enum):
    BP = "bp"  # a blood pressure (from the cuff or entered)
    SCALE = "scale"  # a rating on one of the scales (MOAA/S, dissociation...)


@dataclass(frozen=True, slots=True)
class ScheduledCheck:
    id: str
    label: str
    kind: CheckKind
    scale: str | None = None
    before_dose: bool = False
    at_min: tuple[float, ...] = ()
    every_min: float | None = None
    until_min: float | None = None  # no repeating slot later than this after the dose
    until_stable: bool = False
    grace_min: float = 5.0


@dataclass(frozen=True, slots=True)
class StabilityBand:
    systolic_mmhg: float = 20.0
    diastolic_mmhg: float = 10.0
    consecutive: int = 2


@dataclass(frozen=True, slots=True)
class CheckResult:
    """A recorded check: ``t`` in session epoch seconds."""

    check: str
    t: float
    systolic: float | None = None
    diastolic: float | None = None
    score: int | None = None


class SlotState(Enum):
    DONE = "done"
    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class Slot:
    check: ScheduledCheck
    due_t: float | None  # None: "before dosing" (no fixed time)
    offset_min: float | None  # minutes after the dose
    state: SlotState
    done_t: float | None = None

    @property
    def label(self) -> str:
        when = "before dosing" if self.offset_min is None else f"at {self.offset_min:g} min"
        return f"{self.check.label} {when}"

    @property
    def pending(self) -> bool:
        return self.state in (SlotState.DUE, SlotState.OVERDUE)


@dataclass(frozen=True, slots=True)
class SchedulePlan:
    slots: tuple[Slot, ...]
    stable_at: float | None  # when BP was first judged stable (None: not yet / no BP)

    def pending(self) -> list[Slot]:
        """Due and overdue slots, most urgent (earliest) first."""
        return sorted(
            (s for s in self.slots if s.pending),
            key=lambda s: -1.0 if s.due_t is None else s.due_t,
        )

    def upcoming(self) -> list[Slot]:
        return sorted(
            (s for s in self.slots if s.state is SlotState.UPCOMING and s.due_t is not None),
            key=lambda s: s.due_t or 0.0,
        )

    def by_state(self, state: SlotState) -> list[Slot]:
        return [s for s in self.slots if s.state is state]

    def outstanding(self) -> list[Slot]:
        """Slots whose time came and that were not done: due, late or missed."""
        return sorted(
            (s for s in self.slots if s.pending or s.state is SlotState.MISSED),
            key=lambda s: -1.0 if s.due_t is None else s.due_t,
        )

    def closed(self) -> SchedulePlan:
        """The plan once the session has ended: what was due or late is missed, what was
        still to come is dropped; nothing prompts any more."""
        slots = tuple(
            replace(s, state=SlotState.MISSED) if s.pending else s
            for s in self.slots
            if s.state is not SlotState.UPCOMING
        )
        return SchedulePlan(slots, self.stable_at)


def bp_stable(
    bp_results: Sequence[CheckResult],
    baseline: tuple[float, float] | None,
    band: StabilityBand,
) -> bool:
    """The last ``band.consecutive`` readings within the band (see module docstring)."""
    readings = [r for r in bp_results if r.systolic is not None and r.diastolic is not None]
    if len(readings) < band.consecutive:
        return False
    last = readings[-band.consecutive :]

    def near(a: tuple[float, float], b: tuple[float, float]) -> bool:
        return abs(a[0] - b[0]) <= band.systolic_mmhg and abs(a[1] - b[1]) <= band.diastolic_mmhg

    values = [(float(r.systolic or 0.0), float(r.diastolic or 0.0)) for r in last]
    if baseline is not None:
        return all(near(v, baseline) for v in values)
    return all(near(a, b) for a, b in itertools.pairwise(values))


def plan(
    checks: Iterable[ScheduledCheck],
    dose_t: float | None,
    now: float,
    results: Iterable[CheckResult],
    baseline_bp: tuple[float, float] | None = None,
    band: StabilityBand | None = None,
) -> SchedulePlan:
    """Every slot of every check up to the next one still to come, with its state."""
    band = band or StabilityBand()
    all_results = sorted(results, key=lambda r: r.t)
    slots: list[Slot] = []
    stable_at: float | None = None
    for check in checks:
        mine = [r for r in all_results if r.check == check.id]
        if check.before_dose:
            slots.append(_pre_dose_slot(check, dose_t, mine))
        if dose_t is None:
            continue
        post = [r for r in mine if r.t >= dose_t]
        check_slots, check_stable = _post_dose_slots(check, dose_t, now, post, baseline_bp, band)
        slots += check_slots
        if check.kind is CheckKind.BP and check_stable is not None:
            stable_at = check_stable if stable_at is None else min(stable_at, check_stable)
    return SchedulePlan(tuple(slots), stable_at)


def _pre_dose_slot(
    check: ScheduledCheck, dose_t: float | None, results: Sequence[CheckResult]
) -> Slot:
    before = [r for r in results if dose_t is None or r.t < dose_t]
    if before:
        return Slot(check, None, None, SlotState.DONE, before[-1].t)
    return Slot(check, None, None, SlotState.DUE if dose_t is None else SlotState.MISSED)


def _post_dose_slots(
    check: ScheduledCheck,
    dose_t: float,
    now: float,
    results: Sequence[CheckResult],
    baseline_bp: tuple[float, float] | None,
    band: StabilityBand,
) -> tuple[list[Slot], float | None]:
    offsets = sorted(set(check.at_min))
    stable_at = _first_stable(results, baseline_bp, band) if check.until_stable else None
    if check.every_min:
        o = offsets[-1] if offsets else 0.0
        while len(offsets) < MAX_SLOTS:
            o += check.every_min
            if check.until_min is not None and o > check.until_min:
                break
            opens = dose_t + o * 60 - EARLY_S
            if stable_at is not None and stable_at <= opens:
                break  # stable before this slot's window opened: no more repeats
            offsets.append(o)
            if opens > now:
                break  # the next one still to come is enough
    times = [dose_t + o * 60 for o in offsets]
    opens_at = [t - EARLY_S for t in times]
    used: set[int] = set()
    out: list[Slot] = []
    for i, (o, t) in enumerate(zip(offsets, times, strict=True)):
        window_end = opens_at[i + 1] if i + 1 < len(times) else float("inf")
        match = next(
            (j for j, r in enumerate(results) if j not in used and opens_at[i] <= r.t < window_end),
            None,
        )
        if match is not None:
            used.add(match)
            out.append(Slot(check, t, o, SlotState.DONE, results[match].t))
            continue
        if now < t - PROMPT_BEFORE_S:
            state = SlotState.UPCOMING
        elif now <= t + check.grace_min * 60:
            state = SlotState.DUE
        elif now < window_end:
            state = SlotState.OVERDUE
        else:
            state = SlotState.MISSED
        out.append(Slot(check, t, o, state))
    return out, stable_at


def _first_stable(
    results: Sequence[CheckResult],
    baseline_bp: tuple[float, float] | None,
    band: StabilityBand,
) -> float | None:
    for i in range(len(results)):
        if bp_stable(results[: i + 1], baseline_bp, band):
            return results[i].t
    return None


def check_in_due_at(mask_on_t: float, last_check_in_t: float | None, every_s: float) -> float:
    """When the next gentle check-in is due while the eye mask is on."""
    since = mask_on_t if last_check_in_t is None else max(mask_on_t, last_check_in_t)
    return since + every_s


def checks_from(raw_items: list[Any], where: str = "checks") -> tuple[ScheduledCheck, ...]:
    """Scheduled checks from ``[[checks]]`` tables of a protocol file."""
    allowed = {
        "id", "label", "kind", "scale", "before_dose", "at_min", "every_min", "until_min",
        "until_stable", "grace_min",
    }  # fmt: skip
    out: list[ScheduledCheck] = []
    for i, raw in enumerate(raw_items):
        w = f"{where}[{i}]"
        cf.only(raw, w, allowed)
        kind = CheckKind(cf.choice(raw, w, "kind", [k.value for k in CheckKind]))
        scale = cf.text(raw, w, "scale") if kind is CheckKind.SCALE else None
        if kind is CheckKind.BP and "scale" in raw:
            raise ConfigError(f"{w}.scale", 'only a kind = "scale" check names a scale')
        until_stable = cf.flag(raw, w, "until_stable", False)
        if until_stable and kind is not CheckKind.BP:
            raise ConfigError(f"{w}.until_stable", "only a blood-pressure check can be")
        check = ScheduledCheck(
            id=cf.text(raw, w, "id"),
            label=cf.text(raw, w, "label"),
            kind=kind,
            scale=scale,
            before_dose=cf.flag(raw, w, "before_dose", False),
            at_min=tuple(
                ranges.CHECK_AT_MIN.check(v, f"{w}.at_min[{j}]")
                for j, v in enumerate(cf.numbers(raw, w, "at_min", positive=True))
            ),
            every_min=cf.optional_number(raw, w, "every_min", within=ranges.CHECK_EVERY_MIN),
            until_min=cf.optional_number(raw, w, "until_min", within=ranges.CHECK_AT_MIN),
            until_stable=until_stable,
            grace_min=cf.number(raw, w, "grace_min", default=5.0, within=ranges.CHECK_GRACE_MIN),
        )
        if not (check.before_dose or check.at_min or check.every_min):
            raise ConfigError(w, "say when: before_dose, at_min and/or every_min")
        out.append(check)
    ids = [c.id for c in out]
    if len(set(ids)) != len(ids):
        raise ConfigError(where, f"check ids repeat: {ids}")
    return tuple(out)


def band_from(data: Mapping[str, Any], where: str = "monitoring") -> StabilityBand:
    consecutive = cf.number(data, where, "stable_consecutive", default=2.0, minimum=1)
    if consecutive != int(consecutive):
        raise ConfigError(f"{where}.stable_consecutive", "must be a whole number")
    return StabilityBand(
        systolic_mmhg=cf.number(
            data, where, "stable_systolic_mmhg", default=20.0, within=ranges.STABLE_SYSTOLIC_MMHG
        ),
        diastolic_mmhg=cf.number(
            data, where, "stable_diastolic_mmhg", default=10.0, within=ranges.STABLE_DIASTOLIC_MMHG
        ),
        consecutive=int(consecutive),
    )
