"""Shared helpers of the dosing-session tests (imported by name, like the other suites)."""

from __future__ import annotations

from dataclasses import dataclass

from kapdesk.domain.patients import Patient
from kapdesk.live.runtime import Runtime

SPEED = 60.0  # one session minute per real second, as in an accelerated demo


@dataclass
class SteppedClock:
    """Replaces the runtime clock's monotonic source; ``minutes`` moves session time."""

    runtime: Runtime
    mono: float

    def __call__(self) -> float:
        self.mono += 1e-6  # time still passes between two actions, as it does for real
        return self.mono

    def minutes(self, n: float) -> None:
        self.mono += n * 60 / self.runtime.clock.speed


def make_patient() -> Patient:
    return Patient(
        display_name="R. K. (test)",
        weight_kg=72.0,
        baseline={"heart_rate": 70, "nibp_systolic": 122, "nibp_diastolic": 78, "spo2": 98},
    )
