"""An emulated patient whose vitals follow a ketamine session's arc.

Used by demo mode, training and tests. Values are pure functions of session time (seconds
since the session started) and a seed, so any emulator can ask for any moment in any order
and get the same answer: a BLE strap, a serial oximeter and a cuff emulator all describe
the same patient.

The arc follows ../shared/reference/clinical.md: blood pressure rises after the dose to a
peak about 40 minutes later (mean +16/+11 mmHg in a large review of IV infusions) and
returns over the next hour; heart rate rises earlier and less; SpO2 stays high with a
slight dip near the peak. On top: slow drift, per-sample noise, and occasional motion
artefacts (short implausible values flagged as such), as a real recording has.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class PatientProfile:
    """Physiology of one emulated patient; every number can be changed for a scenario."""

    heart_rate: float = 72.0
    systolic: float = 124.0
    diastolic: float = 78.0
    spo2: float = 98.0
    hr_rise: float = 10.0  # beats/min at the heart-rate peak
    hr_peak_after_dose_s: float = 15 * 60
    bp_rise_systolic: float = 16.0
    bp_rise_diastolic: float = 11.0
    bp_peak_after_dose_s: float = 40 * 60
    spo2_dip: float = 1.0
    artefacts_per_hour: float = 6.0
    artefact_duration_s: float = 4.0
    # Optional hypertensive episode (training scenario): extra systolic/diastolic at its
    # peak, centred at this time after the dose.
    surge_after_dose_s: float | None = None
    surge_systolic: float = 70.0
    surge_diastolic: float = 35.0
    surge_duration_s: float = 6 * 60


@dataclass(frozen=True, slots=True)
class Vitals:
    heart_rate: float
    spo2: float
    systolic: float
    diastolic: float
    mean: float
    artefact: bool


def _rise(t_after_dose: float, peak_s: float) -> float:
    """0 before the dose, 1 at the peak, then back toward 0: a gamma-shaped response.

    x * e^(1-x) with x = t/peak peaks at exactly 1 when t == peak and has faded to
    about a third at three times the peak time.
    """
    if t_after_dose <= 0:
        return 0.0
    x = t_after_dose / peak_s
    return x * math.exp(1.0 - x)


@dataclass
class EmulatedPatient:
    """Vitals as functions of session time; ``dose_at_s`` is when the medicine is given."""

    profile: PatientProfile = field(default_factory=PatientProfile)
    seed: int = 1
    dose_at_s: float = 10 * 60

    def __post_init__(self) -> None:
        rnd = random.Random(self.seed)
        # Slow drift: a few incommensurate sines with random phases, deterministic in t.
        self._drift = [(rnd.uniform(0, 2 * math.pi), p) for p in (97.0, 331.0, 911.0)]
        # Artefacts spread evenly with jitter (one per slot), not uniformly at random,
        # which would cluster them: "occasional" should look occasional in any hour.
        rate = self.profile.artefacts_per_hour
        slot = 3600.0 / rate if rate > 0 else float("inf")
        n = int(12 * rate)  # twelve hours' worth
        self._artefacts = [k * slot + rnd.uniform(0.1, 0.9) * slot for k in range(n)]

    # -- pieces ---------------------------------------------------------------------------

    def _drift_at(self, t: float, scale: float) -> float:
        return scale * sum(math.sin(2 * math.pi * t / p + ph) for ph, p in self._drift) / 3

    def _noise(self, channel: str, t: float, scale: float) -> float:
        # Seeded by (seed, channel, millisecond) so the value at a moment never changes.
        return random.Random(f"{self.seed}:{channel}:{round(t * 1000)}").gauss(0.0, scale)

    def in_artefact(self, t: float) -> bool:
        """True during a short motion artefact (continuous channels read nonsense)."""
        i = bisect.bisect_right(self._artefacts, t)
        return i > 0 and t < self._artefacts[i - 1] + self.profile.artefact_duration_s

    def _surge(self, t: float) -> float:
        p = self.profile
        if p.surge_after_dose_s is None:
            return 0.0
        x = (t - self.dose_at_s - p.surge_after_dose_s) / (p.surge_duration_s / 2)
        return math.exp(-x * x * 2)

    # -- vitals ---------------------------------------------------------------------------

    def heart_rate(self, t: float) -> float:
        p = self.profile
        hr = p.heart_rate + p.hr_rise * _rise(t - self.dose_at_s, p.hr_peak_after_dose_s)
        hr += self._drift_at(t, 2.5) + self._noise("hr", t, 1.2) + 8 * self._surge(t)
        if self.in_artefact(t):
            hr += 45 + 20 * abs(self._noise("hr-art", t, 1.0))
        return max(30.0, hr)

    def spo2(self, t: float) -> float:
        p = self.profile
        s = p.spo2 - p.spo2_dip * _rise(t - self.dose_at_s, p.bp_peak_after_dose_s)
        s += self._drift_at(t + 17, 0.4) + self._noise("spo2", t, 0.35)
        if self.in_artefact(t):
            s -= 9 + 4 * abs(self._noise("spo2-art", t, 1.0))
        return min(100.0, s)

    def blood_pressure(self, t: float) -> tuple[float, float, float]:
        """A cuff measurement (systolic, diastolic, mean) taken at session time t."""
        p = self.profile
        r = _rise(t - self.dose_at_s, p.bp_peak_after_dose_s)
        surge = self._surge(t)
        sys_ = p.systolic + p.bp_rise_systolic * r + p.surge_systolic * surge
        dia = p.diastolic + p.bp_rise_diastolic * r + p.surge_diastolic * surge
        sys_ += self._drift_at(t + 5, 3.0) + self._noise("sys", t, 3.0)
        dia += self._drift_at(t + 9, 2.0) + self._noise("dia", t, 2.0)
        mean = dia + (sys_ - dia) / 3
        return round(sys_), round(dia), round(mean)

    def vitals_at(self, t: float) -> Vitals:
        s, d, m = self.blood_pressure(t)
        return Vitals(self.heart_rate(t), self.spo2(t), s, d, m, self.in_artefact(t))

    def beat_times(self, t0: float, t1: float, after: float | None = None) -> list[float]:
        """Heartbeat times in [t0, t1), spaced by the current heart rate with variability.

        ``after`` is the last beat already given out: the beats carry on from it, so
        successive calls make one unbroken rhythm (no ectopic 0.1 s interval at the seam).
        """
        beats: list[float] = []
        start = math.floor(t0) if t0 > 0 else 0.0
        t = after if after is not None else start
        while t < t1:
            hr = min(180.0, max(35.0, self.heart_rate(t) if not self.in_artefact(t) else 75.0))
            rr = 60.0 / hr * (1 + 0.04 * math.sin(2 * math.pi * t / 4.5))  # respiratory HRV
            t += rr
            if t0 <= t < t1:
                beats.append(t)
        return beats

    def pleth(self, t: float) -> float:
        """Plethysmograph sample in 0..1: a systolic peak and dicrotic notch per beat."""
        hr = min(180.0, max(35.0, self.heart_rate(t) if not self.in_artefact(t) else 75.0))
        period = 60.0 / hr
        phase = (t % period) / period
        wave = math.exp(-(((phase - 0.18) / 0.08) ** 2)) + 0.35 * math.exp(
            -(((phase - 0.45) / 0.1) ** 2)
        )
        return max(0.0, min(1.0, 0.1 + 0.75 * wave))
