"""The emulated patient read as a simple multi-parameter monitor would report it.

This is the schedule of readings (which channel, when), kept apart from any wire format:
the protocol emulators encode the same values into real frames, and demo mode without
device emulation uses these readings directly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kapdesk.domain.readings import SIGNAL_ARTIFACT, Reading
from kapdesk.sim.patient_model import EmulatedPatient

DEVICE_NAME = "emulated-monitor"
#: Every channel it sends (its link's channels, as a real monitor's profile lists them).
CHANNELS_SENT = (
    "heart_rate",
    "pulse_rate",
    "spo2",
    "nibp_systolic",
    "nibp_diastolic",
    "nibp_mean",
)


@dataclass
class EmulatedMonitor:
    """Yields readings due in a span of session time: HR, pulse rate and SpO2 every
    ``trend_interval_s``, a cuff measurement every ``nibp_interval_s`` (first one at
    ``first_nibp_s``)."""

    patient: EmulatedPatient
    trend_interval_s: float = 1.0
    nibp_interval_s: float = 5 * 60
    first_nibp_s: float = 30.0

    def readings_between(self, t0: float, t1: float) -> list[tuple[float, Reading]]:
        """(session time, reading) for every reading due in [t0, t1), in time order."""
        out: list[tuple[float, Reading]] = []
        k = math.ceil(t0 / self.trend_interval_s)
        while (t := k * self.trend_interval_s) < t1:
            flags = frozenset({SIGNAL_ARTIFACT}) if self.patient.in_artefact(t) else frozenset()
            hr = round(self.patient.heart_rate(t))
            spo2 = round(self.patient.spo2(t))
            out.append((t, Reading("heart_rate", hr, "/min", device=DEVICE_NAME, flags=flags)))
            out.append((t, Reading("pulse_rate", hr, "/min", device=DEVICE_NAME, flags=flags)))
            out.append((t, Reading("spo2", spo2, "%", device=DEVICE_NAME, flags=flags)))
            k += 1
        j = max(0, math.ceil((t0 - self.first_nibp_s) / self.nibp_interval_s))
        while (t := self.first_nibp_s + j * self.nibp_interval_s) < t1:
            s, d, m = self.patient.blood_pressure(t)
            for name, v in (("nibp_systolic", s), ("nibp_diastolic", d), ("nibp_mean", m)):
                out.append((t, Reading(name, v, "mm[Hg]", device=DEVICE_NAME)))
            j += 1
        out.sort(key=lambda item: item[0])
        return out
