"""Demo mode: a demo patient, an emulated patient on emulated monitors, a scripted session.

The script moves the session through its phases on the session clock, as a therapist
would, so a newcomer sees the whole arc; at ``--speed`` N it runs N times faster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from devices.patient_model import EmulatedPatient, PatientProfile
from kapdesk.domain.patients import Patient
from kapdesk.session_controller import SessionController

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


@dataclass
class DemoScript:
    """What the demo 'therapist' does, and when (session seconds)."""

    controller: SessionController
    baseline: Callable[[], dict[str, float]] = dict
    steps: list[tuple[float, str]] = field(
        default_factory=lambda: [
            (0.0, "start"),
            (3 * 60.0, "advance"),  # intention setting
            (7 * 60.0, "intention"),
            (9 * 60.0, "advance"),  # dosing
            (9.5 * 60.0, "baseline"),
            (DOSE_AT_S, "dose"),
            (12 * 60.0, "advance"),  # eye mask and music
            (12.5 * 60.0, "mask_on"),
            (55 * 60.0, "mask_off"),
            (56 * 60.0, "advance"),  # recovery
            (100 * 60.0, "advance"),  # discharge
        ]
    )
    done: int = 0

    def poll(self, elapsed: float) -> None:
        """Carry out every step whose time has come."""
        while self.done < len(self.steps) and self.steps[self.done][0] <= elapsed:
            self._do(self.steps[self.done][1])
            self.done += 1

    def _do(self, step: str) -> None:
        c = self.controller
        if step == "start":
            c.start()
        elif step == "advance":
            c.advance()
        elif step == "intention":
            c.record("intention", {"text": "To meet what comes with curiosity and kindness."})
        elif step == "baseline":
            for channel, value in self.baseline().items():
                c.record("baseline", {"channel": channel, "value": value})
        elif step == "dose":
            weight = 70.0
            c.record(
                "dose",
                {
                    "route": "IM",
                    "amount_mg": 50.0,
                    "weight_kg": weight,
                    "mg_per_kg": round(50.0 / weight, 3),
                    "lot": "DEMO-0001",
                    "note": "demo record: amount entered by staff, never suggested by kapdesk",
                },
            )
        elif step == "mask_on":
            c.record("eye_mask_on")
        elif step == "mask_off":
            c.record("eye_mask_off")
