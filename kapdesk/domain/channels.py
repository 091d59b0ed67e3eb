"""The one vocabulary of vital-sign channels, each with its UCUM unit.

Every parser, alarm rule, plot and export speaks these names, so a reading means the
same thing from the device to the FHIR export.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum


class Sampling(Enum):
    """How a channel arrives; it decides alarm timing (condition delay or immediate)."""

    CONTINUOUS = "continuous"  # a trend value every second or so (HR, SpO2)
    DISCRETE = "discrete"  # one measurement at a time (a cuff reading)
    WAVEFORM = "waveform"  # many samples per second (pleth)
    EVENT = "event"  # beat-to-beat values (RR intervals)


@dataclass(frozen=True, slots=True)
class Channel:
    name: str
    label: str
    unit: str  # UCUM code
    display_unit: str
    sampling: Sampling
    decimals: int = 0


# Channels in display order.
CHANNELS: dict[str, Channel] = {
    c.name: c
    for c in (
        Channel("heart_rate", "Heart rate", "/min", "bpm", Sampling.CONTINUOUS),
        Channel("pulse_rate", "Pulse rate", "/min", "bpm", Sampling.CONTINUOUS),
        Channel("spo2", "SpO\u2082", "%", "%", Sampling.CONTINUOUS),
        Channel("nibp_systolic", "NIBP systolic", "mm[Hg]", "mmHg", Sampling.DISCRETE),
        Channel("nibp_diastolic", "NIBP diastolic", "mm[Hg]", "mmHg", Sampling.DISCRETE),
        Channel("nibp_mean", "NIBP mean", "mm[Hg]", "mmHg", Sampling.DISCRETE),
        Channel("cuff_pressure", "Cuff pressure", "mm[Hg]", "mmHg", Sampling.CONTINUOUS),
        Channel("rr_interval", "RR interval", "s", "s", Sampling.EVENT, 3),
        Channel("pleth", "Pleth", "1", "", Sampling.WAVEFORM),
        Channel("perfusion_index", "Perfusion index", "%", "%", Sampling.CONTINUOUS, 1),
        Channel("energy_expended", "Energy expended", "kJ", "kJ", Sampling.EVENT),
        Channel("signal_strength", "Signal strength", "1", "", Sampling.CONTINUOUS),
    )
}


@dataclass(frozen=True, slots=True)
class PlausibleRange:
    """The values a channel can physically take, in its canonical unit (both ends in).

    Outside it a value is a decoding or line error, not a measurement: ingest flags it
    ``invalid`` so it is never drawn or alarmed. It is wider than any alarm limit, so a
    real deterioration still alarms long before its values leave the range.
    """

    low: float
    high: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"a range needs finite low < high, got [{self.low}, {self.high}]")

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


#: Clinic-editable defaults; a device profile's ``[ranges]`` table overrides a channel.
#: Sources: /work/shared/reference/clinical.md (alarm limits HR 40-140, SpO2 88-92 %,
#: systolic 180 / diastolic 110 severe: every range is well outside them) and
#: devices.md (CMS50D+ 7-bit SpO2 and 8-bit pulse rate, Nonin 9-bit HR and 8-bit pleth,
#: CMS50D+ 4-bit signal strength).
PLAUSIBLE_RANGES: dict[str, PlausibleRange] = {
    "heart_rate": PlausibleRange(20, 300),  # /min: adult brady- to tachyarrhythmia
    "pulse_rate": PlausibleRange(20, 300),  # /min
    # %: above 100 impossible. The floor is low on purpose: below ~50 % no oximeter is
    # accurate, but a real profound desaturation must still alarm, so only values no
    # living patient shows on a monitor (line noise's 7 %) are refused.
    "spo2": PlausibleRange(20, 100),
    "nibp_systolic": PlausibleRange(40, 300),  # mm[Hg]: cuff measuring range
    "nibp_diastolic": PlausibleRange(15, 200),  # mm[Hg]
    "nibp_mean": PlausibleRange(20, 250),  # mm[Hg]
    "cuff_pressure": PlausibleRange(0, 320),  # mm[Hg]: a cuff inflates to ~300
    "rr_interval": PlausibleRange(0.2, 3.0),  # s: 300 down to 20 beats/min
    "pleth": PlausibleRange(0, 255),  # 1: 7- or 8-bit waveform samples
    "perfusion_index": PlausibleRange(0, 20),  # %: PI spans 0.02-20 %
    "energy_expended": PlausibleRange(0, 65535),  # kJ: the uint16 field, no physiology
    "signal_strength": PlausibleRange(0, 15),  # 1: a 4-bit bar
}


def plausible(
    name: str, value: float, overrides: Mapping[str, PlausibleRange] | None = None
) -> bool:
    """Whether a value may be a measurement; non-finite values are gaps, not judged here."""
    if not math.isfinite(value):
        return True
    rng = (overrides or {}).get(name) or PLAUSIBLE_RANGES.get(name)
    return rng is None or rng.contains(value)


#: UCUM units a device may report in, with the factor to the channel's canonical unit.
UNIT_CONVERSIONS: dict[tuple[str, str], float] = {
    ("kPa", "mm[Hg]"): 7.50062,
    ("mm[Hg]", "mm[Hg]"): 1.0,
}


class UnknownChannelError(KeyError):
    """A channel name outside the vocabulary."""


def channel(name: str) -> Channel:
    try:
        return CHANNELS[name]
    except KeyError:
        raise UnknownChannelError(f"unknown channel {name!r}") from None


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert between the pressure units devices use; identity when units match."""
    if from_unit == to_unit:
        return value
    try:
        return value * UNIT_CONVERSIONS[(from_unit, to_unit)]
    except KeyError:
        raise ValueError(f"no conversion from {from_unit!r} to {to_unit!r}") from None
