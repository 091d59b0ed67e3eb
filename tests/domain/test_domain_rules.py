"""Pure rules: scale scoring, the checklist and its overrides, dose entries, discharge
criteria, and which checks are due when."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapdesk.config.protocols import load_scale
from kapdesk.domain.checklist import (
    ChecklistError,
    Gate,
    GateAnswer,
    GateKind,
    Override,
    StaffRole,
    evaluate,
)
from kapdesk.domain.discharge import DischargeCriteria, assess
from kapdesk.domain.dosing import DoseEntryError, DosingRules, mg_per_kg, validate_dose
from kapdesk.domain.scales import ScaleAnswerError, is_sedated
from kapdesk.domain.schedule import (
    CheckKind,
    CheckResult,
    ScheduledCheck,
    SlotState,
    StabilityBand,
    check_in_due_at,
    plan,
)

MIN = 60.0
T0 = 1_800_000_000.0  # the dose time in these tests

# -- scales ------------------------------------------------------------------------------


def test_aldrete_sums_items_and_applies_the_pass_mark() -> None:
    aldrete = load_scale("aldrete")
    answers = {i.id: 2 for i in aldrete.items}
    assert aldrete.score(answers).passed is True
    answers["circulation"] = 1
    answers["consciousness"] = 1
    score = aldrete.score(answers)
    assert (score.total, score.max_total, score.passed) == (8, 10, False)


def test_a_scale_refuses_missing_or_impossible_answers() -> None:
    padss = load_scale("padss")
    with pytest.raises(ScaleAnswerError, match="not answered"):
        padss.score({"vitals": 2})
    with pytest.raises(ScaleAnswerError, match="must be one of"):
        padss.score({i.id: 3 for i in padss.items})


def test_any_drop_in_moaas_from_pre_dose_is_sedation() -> None:
    assert is_sedated(5, 4) and is_sedated(4, 3)
    assert not is_sedated(4, 4)
    assert is_sedated(None, 4)  # no pre-dose score: compared with fully alert (5)


# -- checklist ---------------------------------------------------------------------------

GATES = (
    Gate("consent", "Consent signed"),
    Gate("predose_bp", "Pre-dose BP", GateKind.BP, max_systolic=140, max_diastolic=90),
)


def test_gates_pass_and_fail_on_the_answers() -> None:
    ok = evaluate(
        GATES,
        {
            "consent": GateAnswer("consent", confirmed=True),
            "predose_bp": GateAnswer("predose_bp", systolic=128, diastolic=82),
        },
    )
    assert ok.cleared and not ok.blocking
    high = evaluate(GATES, {"predose_bp": GateAnswer("predose_bp", systolic=152, diastolic=95)})
    assert high.blocking == ("consent", "predose_bp")
    assert "systolic above 140, diastolic above 90" in high.results[1].detail


def test_only_medical_staff_with_a_reason_may_override() -> None:
    answers = {
        "consent": GateAnswer("consent", confirmed=True),
        "predose_bp": GateAnswer("predose_bp", systolic=150, diastolic=85),
    }
    with pytest.raises(ChecklistError, match="only medical staff"):
        evaluate(GATES, answers, [Override("predose_bp", "Sam", StaffRole.THERAPIST, "fine")])
    with pytest.raises(ChecklistError, match="needs a reason"):
        evaluate(GATES, answers, [Override("predose_bp", "Dr A", StaffRole.MEDICAL, " ")])
    with pytest.raises(ChecklistError, match="nothing to override"):
        evaluate(GATES, answers, [Override("consent", "Dr A", StaffRole.MEDICAL, "x")])
    out = evaluate(GATES, answers, [Override("predose_bp", "Dr A", StaffRole.MEDICAL, "recheck")])
    assert out.cleared and out.overridden == ("predose_bp",)
    item = out.to_dict()["items"][1]
    assert item["passed"] is False
    assert item["override"] == {"gate": "predose_bp", "by": "Dr A", "role": "medical",
                                "reason": "recheck"}  # fmt: skip


# -- dosing ------------------------------------------------------------------------------

IM = DosingRules(routes=("IM",), lot_required=True, boosters=True)


def test_dose_computes_mg_per_kg_from_what_was_entered() -> None:
    dose = validate_dose(IM, "IM", 50.0, 72.0, lot="K-1")
    assert dose.mg_per_kg == 0.694 and not dose.booster
    booster = validate_dose(IM, "IM", 25.0, 72.0, lot="K-1", number=2)
    assert booster.booster and booster.number == 2


@given(
    amount=st.floats(min_value=0.1, max_value=5000, allow_nan=False),
    weight=st.floats(min_value=1, max_value=500, allow_nan=False),
)
def test_mg_per_kg_is_amount_over_weight_and_never_judged(amount: float, weight: float) -> None:
    dose = validate_dose(IM, "IM", amount, weight, lot="L")
    assert dose.mg_per_kg == pytest.approx(amount / weight, abs=0.0005 + 1e-9)  # 3 places
    assert dose.amount_mg == amount  # recorded as entered: no rounding, no limit


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"route": "IV"}, "route 'IV'"),
        ({"amount_mg": 0.0}, "positive number of mg"),
        ({"amount_mg": float("nan")}, "positive number of mg"),
        ({"weight_kg": 0.5}, "body weight"),
        ({"lot": " "}, "lot number"),
        ({"infusion_min": 40.0}, "only to an infusion"),
    ],
)
def test_incomplete_dose_entries_are_refused(kwargs: dict, message: str) -> None:
    entry = {"route": "IM", "amount_mg": 50.0, "weight_kg": 70.0, "lot": "K"} | kwargs
    with pytest.raises(DoseEntryError, match=message):
        validate_dose(IM, **entry)


def test_an_infusion_needs_its_duration_and_no_boosters_when_the_protocol_says_so() -> None:
    iv = DosingRules(routes=("IV",), boosters=False, infusion=True)
    with pytest.raises(DoseEntryError, match="duration"):
        validate_dose(iv, "IV", 35.0, 70.0, lot="L")
    assert validate_dose(iv, "IV", 35.0, 70.0, lot="L", infusion_min=40).infusion_min == 40
    with pytest.raises(DoseEntryError, match="boosters"):
        validate_dose(iv, "IV", 10.0, 70.0, lot="L", number=2, infusion_min=10)


def test_mg_per_kg_rounds_to_three_decimals() -> None:
    assert mg_per_kg(35, 70) == 0.5 and mg_per_kg(50, 3) == 16.667


# -- discharge ---------------------------------------------------------------------------

CRITERIA = DischargeCriteria("aldrete", 9, min_observation_s=60 * MIN)
BASELINE = {"nibp_systolic": 120.0, "nibp_diastolic": 80.0, "heart_rate": 70.0}


def full_marks():
    aldrete = load_scale("aldrete")
    return aldrete.score({i.id: 2 for i in aldrete.items})


def test_discharge_ready_when_every_criterion_is_met() -> None:
    vitals = {"nibp_systolic": 140.0, "nibp_diastolic": 90.0, "heart_rate": 80.0}
    a = assess(CRITERIA, full_marks(), vitals, BASELINE, 61 * MIN, ride_home=True)
    assert a.ready and not a.early
    assert [c.id for c in a.criteria] == [
        "score", "vitals.nibp_systolic", "vitals.nibp_diastolic", "vitals.heart_rate",
        "observation", "ride_home", "checks",
    ]  # fmt: skip


def test_outstanding_scheduled_checks_block_discharge_until_overridden_with_a_reason() -> None:
    vitals = dict(BASELINE)
    late = ["BP at 30 min", "MOAA/S at 45 min"]
    a = assess(CRITERIA, full_marks(), vitals, BASELINE, 61 * MIN, True, outstanding_checks=late)
    assert not a.ready and a.unmet == ("checks",)
    assert "BP at 30 min" in a.criteria[-1].detail and "MOAA/S" in a.criteria[-1].detail
    ov = Override("checks", "Dr A", StaffRole.MEDICAL, "cuff failed; manual BP in chart")
    a = assess(
        CRITERIA, full_marks(), vitals, BASELINE, 61 * MIN, True, [ov], outstanding_checks=late
    )
    assert a.ready
    assert a.to_dict()["criteria"][-1]["override"]["reason"].startswith("cuff failed")


def test_vitals_beyond_20_percent_of_baseline_are_unmet() -> None:
    vitals = {"nibp_systolic": 145.0, "nibp_diastolic": 80.0, "heart_rate": 70.0}  # +20.8 %
    a = assess(CRITERIA, full_marks(), vitals, BASELINE, 90 * MIN, ride_home=True)
    assert a.unmet == ("vitals.nibp_systolic",)
    assert "+21 %" in a.criteria[1].detail


def test_early_discharge_needs_a_medical_override_with_a_reason() -> None:
    vitals = dict(BASELINE)
    a = assess(CRITERIA, full_marks(), vitals, BASELINE, 45 * MIN, ride_home=True)
    assert not a.ready and a.unmet == ("observation",)
    ov = Override("observation", "Dr A", StaffRole.MEDICAL, "recovered fully; escort waiting")
    a = assess(CRITERIA, full_marks(), vitals, BASELINE, 45 * MIN, True, [ov])
    assert a.ready and a.early
    assert a.to_dict()["criteria"][4]["override"]["reason"].startswith("recovered")
    with pytest.raises(ChecklistError, match="medical"):
        assess(CRITERIA, full_marks(), vitals, BASELINE, 45 * MIN, True,
               [Override("observation", "T", StaffRole.THERAPIST, "x")])  # fmt: skip


def test_no_ride_home_and_low_score_are_unmet() -> None:
    aldrete = load_scale("aldrete")
    low = aldrete.score({i.id: 2 for i in aldrete.items} | {"activity": 0})
    a = assess(CRITERIA, low, dict(BASELINE), BASELINE, 90 * MIN, ride_home=False)
    assert a.unmet == ("score", "ride_home")


# -- schedule ----------------------------------------------------------------------------

BP = ScheduledCheck(
    "bp", "BP", CheckKind.BP, before_dose=True, at_min=(15, 30, 40), every_min=15,
    until_stable=True,
)  # fmt: skip
MOAAS = ScheduledCheck("sedation", "MOAA/S", CheckKind.SCALE, scale="moaas", at_min=(15, 30))


def states(p, check: str = "bp") -> list[tuple[float | None, str]]:
    return [(s.offset_min, s.state.value) for s in p.slots if s.check.id == check]


def test_before_the_dose_only_pre_dose_checks_are_due() -> None:
    p = plan([BP, MOAAS], None, T0, [])
    assert states(p) == [(None, "due")]
    assert states(p, "sedation") == []


def test_slots_become_due_then_overdue_then_missed() -> None:
    pre = CheckResult("bp", T0 - 5 * MIN, 120, 80)
    assert states(plan([BP], T0, T0 + 10 * MIN, [pre]))[:2] == [(None, "done"), (15, "upcoming")]
    assert states(plan([BP], T0, T0 + 15 * MIN, [pre]))[1] == (15, "due")
    assert states(plan([BP], T0, T0 + 21 * MIN, [pre]))[1] == (15, "overdue")
    assert states(plan([BP], T0, T0 + 26 * MIN, [pre]))[1] == (15, "missed")


def test_a_result_a_little_early_counts_for_its_slot() -> None:
    results = [CheckResult("bp", T0 + 13 * MIN, 150, 95)]
    p = plan([BP], T0, T0 + 16 * MIN, results)
    assert states(p)[:2] == [(None, "missed"), (15, "done")]


def test_bp_repeats_every_15_min_until_two_readings_are_stable() -> None:
    base = (120.0, 80.0)
    high = [CheckResult("bp", T0 + m * MIN, 165, 98) for m in (15, 30, 40)]
    p = plan([BP], T0, T0 + 41 * MIN, high, base)
    assert [o for o, _ in states(p)] == [None, 15, 30, 40, 55]
    assert p.stable_at is None
    # two readings within 20/10 mmHg of the pre-dose value at 55 and 70 min: stable
    calm = high + [CheckResult("bp", T0 + m * MIN, 132, 85) for m in (55, 70)]
    p = plan([BP], T0, T0 + 120 * MIN, calm, base)
    assert [o for o, _ in states(p)] == [None, 15, 30, 40, 55, 70]
    assert p.stable_at == T0 + 70 * MIN
    assert not p.pending()


def test_stability_without_a_baseline_compares_consecutive_readings() -> None:
    results = [CheckResult("bp", T0 + m * MIN, s, d) for m, s, d in
               ((15, 150, 90), (30, 140, 88), (40, 139, 87))]  # fmt: skip
    band = StabilityBand(systolic_mmhg=5, diastolic_mmhg=5)
    p = plan([BP], T0, T0 + 60 * MIN, results, None, band)
    assert p.stable_at == T0 + 40 * MIN
    assert [o for o, _ in states(p)] == [None, 15, 30, 40]


def test_pending_lists_due_and_overdue_slots_earliest_first() -> None:
    p = plan([BP, MOAAS], T0, T0 + 31 * MIN, [CheckResult("bp", T0 - MIN, 120, 80)])
    assert [(s.check.id, s.offset_min, s.state) for s in p.pending()] == [
        ("bp", 30, SlotState.DUE),
        ("sedation", 30, SlotState.DUE),
    ]


def test_check_in_reminders_count_from_the_mask_or_the_last_check_in() -> None:
    assert check_in_due_at(T0, None, 15 * MIN) == T0 + 15 * MIN
    assert check_in_due_at(T0, T0 + 20 * MIN, 15 * MIN) == T0 + 35 * MIN
    assert check_in_due_at(T0, T0 - 100, 15 * MIN) == T0 + 15 * MIN
