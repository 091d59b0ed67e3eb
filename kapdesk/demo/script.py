"""Demo mode: a demo patient, an emulated patient on emulated monitors, a scripted session.

The script moves the session through its phases on the session clock, as a therapist
would, so a newcomer sees the whole arc; at ``--speed`` N it runs N times faster.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from kapdesk.domain.alarms import AlarmState
from kapdesk.domain.checklist import GateAnswer, Override, StaffRole
from kapdesk.domain.patients import Patient
from kapdesk.domain.schedule import CheckKind
from kapdesk.domain.session import EventKind
from kapdesk.live.session_controller import SessionController
from kapdesk.sim.patient_model import EmulatedPatient, PatientProfile

log = logging.getLogger(__name__)

DOSE_AT_S = 10 * 60.0


def demo_patient() -> Patient:
    return Patient(
        display_name="Demo Patient (emulated)",
        date_of_birth=date(1980, 5, 17),
        weight_kg=70.0,
        notes="Created by demo mode. Not a real person.",
        baseline={"heart_rate": 72, "nibp_systolic": 124, "nibp_diastolic": 78, "spo2": 98},
    )


def emulated_patient(seed: int = 1) -> EmulatedPatient:
    """The demo's patient: the usual arc plus a brief hypertensive surge 30 min after the
    dose (about 1 % of real sessions have one), so the alarm system shows itself."""
    return EmulatedPatient(
        PatientProfile(surge_after_dose_s=30 * 60.0), seed=seed, dose_at_s=DOSE_AT_S
    )


#: What the demo's staff write, in their words (a demo record, never advice).
DEMO_INTENTION = "To meet what comes with curiosity and kindness."
DEMO_CHECK_IN = "Nods; breathing slow and even"
DEMO_STAFF = "Demo RN"


class AlarmControls(Protocol):
    """What the demo's nurse uses of the alarm service."""

    def active_alarms(self) -> tuple[AlarmState, ...]: ...

    def acknowledge(self, by: str) -> object: ...


@dataclass
class DemoScript:
    """What the demo's careful clinic does, and when (session seconds): the whole arc a
    newcomer should see, through the same controller calls the panel's buttons make, so
    the demo never records what the app would refuse. Besides the timed steps it records
    each scheduled check a minute after it falls due, and a check-in when one is due
    while the eye mask is on; at the end it discharges with the protocol's score."""

    controller: SessionController
    baseline: Callable[[], dict[str, float]] = dict
    steps: list[tuple[float, str]] = field(
        default_factory=lambda: [
            (0.0, "start"),
            (3 * 60.0, "advance"),  # intention setting
            (6 * 60.0, "intention"),
            (8 * 60.0, "checklist"),  # the pre-dose gate, with a measured BP
            (8.5 * 60.0, "baseline"),
            (9 * 60.0, "advance"),  # dosing
            (DOSE_AT_S, "dose"),
            (12 * 60.0, "advance"),  # eye mask and music
            (12.5 * 60.0, "mask_on"),
            (55 * 60.0, "mask_off"),
            (56 * 60.0, "advance"),  # recovery
            (100 * 60.0, "advance"),  # discharge phase
            (104 * 60.0, "discharge"),
        ]
    )
    done: int = 0
    #: after a due check, how long the demo's staff take to record it
    check_delay_s: float = 60.0
    problems: list[str] = field(default_factory=list)
    #: the alarm service: the demo's nurse acknowledges an alarm after ``ack_after_s``,
    #: so a newcomer sees latching, the condition's end and the acknowledgement recorded
    alarms: AlarmControls | None = None
    ack_after_s: float = 90.0

    def resume_at(self, elapsed: float) -> None:
        """A resumed demo session: the steps due before ``elapsed`` were done by the
        process that ran it, as its timeline shows; carry on with the next."""
        self.done = sum(1 for at, _ in self.steps if at <= elapsed)

    def poll(self, elapsed: float) -> None:
        """Carry out every step whose time has come, then any due check or check-in."""
        while self.done < len(self.steps) and self.steps[self.done][0] <= elapsed:
            step = self.steps[self.done][1]
            self.done += 1
            self._safely(step, functools.partial(self._do, step))
        if self.done >= 1:  # the session has started
            self._safely("checks", self._due_checks)
            self._safely("alarms", self._acknowledge_old_alarms)

    def _acknowledge_old_alarms(self) -> None:
        if self.alarms is None:
            return
        now = self.controller.clock.now()
        if any(
            a.audible and now - a.started >= self.ack_after_s for a in self.alarms.active_alarms()
        ):
            self.alarms.acknowledge(by=DEMO_STAFF)

    def _safely(self, what: str, action: Callable[[], object]) -> None:
        """A step the session refuses is logged and skipped: the demo never stops."""
        try:
            action()
        except (RuntimeError, ValueError, KeyError) as e:
            self.problems.append(f"{what}: {e}")
            log.warning("demo step %s: %s", what, e)

    def _bp(self) -> tuple[float, float]:
        b = self.baseline()
        return b.get("nibp_systolic", 124.0), b.get("nibp_diastolic", 78.0)

    def _best_answers(self, scale_id: str) -> dict[str, int]:
        scale = self.controller.scales[scale_id]
        return {item.id: item.max_score for item in scale.items}

    def _due_checks(self) -> None:
        c = self.controller
        session = c.session
        if session is None or session.ended_at is not None or c.protocol is None:
            return
        now = c.clock.now()
        for slot in c.schedule(now).pending():
            due = slot.due_t if slot.due_t is not None else now - self.check_delay_s
            if now - due < self.check_delay_s:
                continue
            if slot.check.kind is CheckKind.BP:
                systolic, diastolic = self._bp()
                c.record_check(slot.check.id, systolic=systolic, diastolic=diastolic)
            else:
                c.record_check(slot.check.id, answers=self._best_answers(str(slot.check.scale)))
        due_in = c.check_in_due()
        if due_in is not None and now - due_in >= 30.0:
            c.check_in(DEMO_CHECK_IN)

    def _do(self, step: str) -> None:
        c = self.controller
        if step == "start":
            c.start()
        elif step == "advance":
            c.advance()
        elif step == "intention":
            c.set_intention(DEMO_INTENTION)
        elif step == "checklist":
            assert c.protocol is not None
            answers = {g.id: GateAnswer(g.id, confirmed=True) for g in c.protocol.checklist}
            systolic, diastolic = self._bp()
            answers["predose_bp"] = GateAnswer("predose_bp", systolic=systolic, diastolic=diastolic)
            c.record_checklist(answers)
        elif step == "baseline":
            for channel, value in self.baseline().items():
                c.record(EventKind.BASELINE, {"channel": channel, "value": value})
        elif step == "dose":
            c.give_dose(
                "IM",
                50.0,
                "DEMO-0001",
                note="demo record: amount entered by staff, never suggested by kapdesk",
            )
        elif step == "mask_on":
            c.eye_mask(True)
        elif step == "mask_off":
            c.eye_mask(False)
        elif step == "discharge":
            self._discharge()

    def _discharge(self) -> None:
        """Discharge with the protocol's score; anything unmet (a demo patient's cuff
        may read a little high) is overridden with a reason, as medical staff would."""
        c = self.controller
        assert c.protocol is not None
        answers = self._best_answers(c.protocol.discharge.score_scale)
        b = self.baseline()
        vitals = {ch: b[ch] for ch in c.protocol.discharge.vitals if ch in b}
        assessment = c.assess_discharge(answers, True, vitals)
        overrides = [
            Override(cid, "Demo MD", StaffRole.MEDICAL, "demo: reviewed at the bedside")
            for cid in assessment.unmet
        ]
        c.discharge(answers, True, vitals, overrides, note="Demo discharge, escorted home.")
