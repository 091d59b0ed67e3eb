"""The session controller against a real runtime and database: gates, doses, checks,
discharge, resuming after a restart, and the JSON export carrying all of it."""

from __future__ import annotations

import json
import time

import pytest
from access_support import CLINICIAN
from session_test_support import SteppedClock, make_patient

from kapdesk.domain.checklist import ChecklistError, GateAnswer, Override, StaffRole
from kapdesk.domain.dosing import DoseEntryError
from kapdesk.domain.schedule import SlotState
from kapdesk.domain.session import SessionState, SessionStateError
from kapdesk.live.runtime import Runtime
from kapdesk.live.session_controller import DischargeNotReadyError, SessionController
from kapdesk.storage.database import open_database
from kapdesk.storage.export import session_record
from kapdesk.storage.records import find_open_sessions, load_events

ALDRETE_FULL = {"activity": 2, "respiration": 2, "circulation": 2, "consciousness": 2, "spo2": 2}
CALM = {"nibp_systolic": 126.0, "nibp_diastolic": 80.0, "heart_rate": 72.0, "spo2": 97.0}


def all_confirmed(c: SessionController, systolic: float = 128, diastolic: float = 82):
    answers = {g.id: GateAnswer(g.id, confirmed=True) for g in c.protocol.checklist}
    answers["predose_bp"] = GateAnswer("predose_bp", systolic=systolic, diastolic=diastolic)
    return answers


def opened(rt: Runtime, protocol: str = "im-ketamine") -> SessionController:
    c = rt.controller
    c.open(make_patient(), protocol)
    c.start()
    return c


def test_a_protocol_session_uses_the_protocols_phases(runtime: Runtime) -> None:
    c = opened(runtime, "iv-ketamine-infusion")
    assert c.session.phases[3].label == "Infusion: eye mask and music"
    assert c.protocol.id == "iv-ketamine-infusion" and "aldrete" in c.scales


def test_an_unknown_protocol_id_still_runs_on_the_standard_phases(runtime: Runtime) -> None:
    c = opened(runtime, "clinic-special")
    assert c.protocol is None and c.session.phase.id == "preparation"
    with pytest.raises(RuntimeError, match="no protocol file"):
        c.give_dose("IM", 50, "L")


def test_no_first_dose_before_the_checklist_is_cleared(runtime: Runtime, clock) -> None:
    c = opened(runtime)
    with pytest.raises(ChecklistError, match="complete the pre-dose checklist"):
        c.give_dose("IM", 50, "L1")
    outcome = c.record_checklist(all_confirmed(c, systolic=152))
    assert outcome.blocking == ("predose_bp",)
    with pytest.raises(ChecklistError, match=r"not cleared .*predose_bp"):
        c.give_dose("IM", 50, "L1")
    override = Override("predose_bp", "Dr. Osei", StaffRole.MEDICAL, "repeat 138/84 after rest")
    assert c.record_checklist(all_confirmed(c, systolic=152), [override]).cleared
    dose = c.give_dose("IM", 50, "L1")
    assert dose.mg_per_kg == 0.694 and dose.weight_kg == 72.0
    booster = c.give_dose("IM", 20, "L1")
    assert booster.booster and booster.number == 2
    kinds = [e.kind for e in load_events(runtime.engine, c.session.id)]
    assert kinds.count("checklist") == 2 and kinds.count("dose") == 2
    # The measured pre-dose BP became the alarm baseline, recorded as baseline events.
    assert c.baseline_vitals()["nibp_systolic"] == 152.0


def test_a_dose_without_weight_or_lot_is_refused(runtime: Runtime) -> None:
    c = runtime.controller
    patient = make_patient()
    patient.weight_kg = None
    c.open(patient, "im-ketamine")
    c.start()
    c.record_checklist(all_confirmed(c))
    with pytest.raises(DoseEntryError, match="body weight"):
        c.give_dose("IM", 50, "L")
    with pytest.raises(DoseEntryError, match="lot"):
        c.give_dose("IM", 50, "", weight_kg=70)
    assert c.doses == []


def test_checks_are_matched_to_their_slots_and_sedation_is_flagged(
    runtime: Runtime, clock: SteppedClock
) -> None:
    c = opened(runtime)
    c.record_checklist(all_confirmed(c))
    c.record_check("sedation", answers={"responsiveness": 5})
    c.give_dose("IM", 50, "L1")
    clock.minutes(15)
    assert {s.label for s in c.schedule().pending()} == {
        "Blood pressure at 15 min",
        "Sedation (MOAA/S) at 15 min",
    }
    ev = c.record_check("sedation", answers={"responsiveness": 4})
    assert ev.data["sedated"] is True and ev.data["pre_dose_score"] == 5
    assert ev.data["slot"] == "Sedation (MOAA/S) at 15 min"
    bp = c.record_check("bp", systolic=141, diastolic=88)
    assert bp.data["systolic"] == 141.0
    assert c.schedule().pending() == []
    with pytest.raises(ValueError, match="implausible"):
        c.record_check("bp", systolic=80, diastolic=120)


def test_eye_mask_and_check_in_reminders(runtime: Runtime, clock: SteppedClock) -> None:
    c = opened(runtime)
    assert c.check_in_due() is None
    mask = c.eye_mask(True)
    assert c.check_in_due() == pytest.approx(mask.t + 15 * 60)
    with pytest.raises(SessionStateError, match="already on"):
        c.eye_mask(True)
    clock.minutes(16)
    ci = c.check_in("nods, comfortable")
    assert c.check_in_due() == pytest.approx(ci.t + 15 * 60)
    c.eye_mask(False)
    assert c.check_in_due() is None and not c.eye_mask_on


def override_for(criterion: str) -> Override:
    return Override(criterion, "Dr. Osei", StaffRole.MEDICAL, "fully recovered")


def test_discharge_refuses_an_early_discharge_without_override(
    runtime: Runtime, clock: SteppedClock
) -> None:
    c = opened(runtime)
    c.record_checklist(all_confirmed(c))
    c.give_dose("IM", 50, "L1")
    clock.minutes(30)
    with pytest.raises(DischargeNotReadyError, match="observation"):
        c.discharge(ALDRETE_FULL, True, CALM)
    assert c.session.state is SessionState.IN_PROGRESS
    with pytest.raises(DischargeNotReadyError, match="checks"):  # none of its checks done
        c.discharge(ALDRETE_FULL, True, CALM, [override_for("observation")])
    override = Override("observation", "Dr. Osei", StaffRole.MEDICAL, "fully recovered")
    checks = Override("checks", "Dr. Osei", StaffRole.MEDICAL, "monitored continuously")
    result = c.discharge(ALDRETE_FULL, True, CALM, [override, checks])
    assert result.early and c.session.state is SessionState.COMPLETED
    events = load_events(runtime.engine, c.session.id)
    entered = [e.data for e in events if e.kind == "phase_entered"]
    assert entered[-1]["skipped"] == ["intention", "dosing", "experience", "recovery"]
    assert [e.kind for e in events][-3:] == ["discharge", "phase_ended", "session_completed"]


def test_resume_reloads_the_timeline_and_records_the_gap(db_url: str) -> None:
    engine = open_database(db_url)
    first = Runtime.build(engine, speed=1.0, actor=CLINICIAN)
    c = opened(first, "esketamine-nasal")
    c.record_checklist(all_confirmed(c))
    c.advance()
    c.set_intention("to let go")
    c.advance()
    c.give_dose("IN", 28, "ESK-9")
    c.eye_mask(True)
    before = list(c.events)
    sid = c.session.id
    first.shutdown()  # the app closes mid-session (a crash leaves the same rows)

    time.sleep(0.05)
    second = Runtime.build(open_database(db_url), speed=1.0, actor=CLINICIAN)
    try:
        c2 = second.controller
        stored = c2.find_open_session()
        assert stored is not None and stored.id == sid and stored.phase == "dosing"
        resumed = c2.resume(sid)
        assert resumed.kind == "session_resumed" and resumed.phase == "dosing"
        assert resumed.data["gap_s"] >= 0.05
        assert resumed.data["last_recorded_at"] == pytest.approx(before[-1].t)
        assert c2.events[: len(before)] == before  # the timeline is intact
        assert c2.session.phase.id == "dosing" and c2.session.started_at == before[0].t
        assert c2.eye_mask_on and c2.dose_t == c.dose_t and c2.intention == "to let go"
        assert c2.protocol.observation_min == 120
        c2.advance()  # and carries on from there
        assert c2.session.phase.id == "experience"
    finally:
        second.shutdown()


def test_a_completed_session_is_not_offered_for_resume(runtime: Runtime, clock) -> None:
    c = opened(runtime)
    c.abort("patient declined on the day")
    assert find_open_sessions(runtime.engine) == []
    assert c.find_open_session() is None
    with pytest.raises(SessionStateError, match="aborted"):
        c.resume(c.session.id)


def test_the_export_carries_the_whole_dosing_record(runtime: Runtime, clock) -> None:
    c = opened(runtime)
    override = Override("predose_bp", "Dr. Osei", StaffRole.MEDICAL, "rechecked")
    c.record_checklist(all_confirmed(c, systolic=150), [override])
    c.set_intention("curiosity")
    c.give_dose("IM", 50, "L1")
    c.eye_mask(True)
    clock.minutes(15)
    c.record_check("bp", systolic=140, diastolic=85)
    c.note("tearful, then calm")
    c.eye_mask(False)
    clock.minutes(50)
    c.discharge(ALDRETE_FULL, True, CALM, [override_for("checks")])  # most checks not done
    record = json.loads(json.dumps(session_record(runtime.engine, c.session.id)))
    by_kind = {}
    for e in record["events"]:
        by_kind.setdefault(e["kind"], []).append(e["data"])
    # the signed-in user, not the name a screen gave:
    assert by_kind["checklist"][0]["items"][-1]["override"]["by"] == "clinician"
    assert by_kind["intention"][0]["text"] == "curiosity"
    assert by_kind["dose"][0] == {
        "route": "IM", "amount_mg": 50.0, "weight_kg": 72.0, "mg_per_kg": 0.694,
        "lot": "L1", "booster": False, "number": 1, "by": "clinician",
    }  # fmt: skip
    assert by_kind["check"][0]["slot"] == "Blood pressure at 15 min"
    assert by_kind["note"][0]["text"] == "tearful, then calm"
    assert by_kind["discharge"][0]["ready"] is True
    assert by_kind["discharge"][0]["score"]["total"] == 10
    checks = next(x for x in by_kind["discharge"][0]["criteria"] if x["criterion"] == "checks")
    assert "Blood pressure at 30 min" in checks["detail"] and checks["override"]["reason"]
    # After discharge nothing is due any more: what was not done stays missed.
    clock.minutes(30)
    plan = c.schedule()
    assert not plan.pending() and not plan.upcoming()
    assert "Blood pressure at 30 min" in [s.label for s in plan.by_state(SlotState.MISSED)]
    assert record["session"]["state"] == "completed"


def test_a_failing_listener_does_not_turn_a_recorded_dose_into_an_error(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    c = opened(runtime)
    c.record_checklist(all_confirmed(c, systolic=120))
    heard: list[str] = []

    def broken(event: object) -> None:
        raise RuntimeError("a window that fails")

    c.add_listener(broken)
    c.add_listener(lambda ev: heard.append(ev.kind))
    dose = c.give_dose("IM", 50, "L1")  # raises nothing: the dose is recorded
    assert dose.number == 1
    assert "dose" in heard  # the listener after the broken one is still told
    kinds = [e.kind for e in load_events(runtime.engine, c.session.id)]
    assert kinds.count("dose") == 1
    assert "session event listener" in caplog.text and "failed" in caplog.text
