"""The emulated strap's RR intervals are one unbroken rhythm: a seam between two
notifications must not make an ectopic 0.1 s interval, which the plausibility check
(issue 11 point 5) would rightly flag, so the demo would record "invalid" beats."""

from __future__ import annotations

from kapdesk.domain.channels import PLAUSIBLE_RANGES
from kapdesk.sim.emulators.ble_peripherals import HeartRateStrap
from kapdesk.sim.patient_model import EmulatedPatient


def test_rr_intervals_across_three_hours_of_notifications_are_all_plausible() -> None:
    patient = EmulatedPatient()
    strap = HeartRateStrap(patient=patient, session_time=lambda: 0.0)
    rr: list[float] = []
    for tick in range(1, 3 * 3600 + 1):
        rr += strap.rr_intervals(tick * 1.013)  # at demo speed ticks fall between seconds
    hr_from_rr = 60.0 * len(rr) / sum(rr)
    assert 50 < hr_from_rr < 110  # the patient model's own rate, not a doubled one
    rng = PLAUSIBLE_RANGES["rr_interval"]
    assert [x for x in rr if not rng.contains(x)] == []
    assert max(rr) / min(rr) < 2.0  # no seam shorter than half a normal beat


def test_rhythm_starts_afresh_after_a_long_gap_without_one_huge_interval() -> None:
    strap = HeartRateStrap(patient=EmulatedPatient(), session_time=lambda: 0.0)
    for second in range(1, 30):
        strap.rr_intervals(float(second))
    later = strap.rr_intervals(120.0) + strap.rr_intervals(121.0)  # contact was lost
    assert later and max(later) < 2.0
