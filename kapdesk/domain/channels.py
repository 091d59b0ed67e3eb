"""The one vocabulary of vital-sign channels, each with its UCUM unit.

Every parser, alarm rule, plot and export speaks these names, so a reading means the
same thing from the device to the FHIR export.
"""

from __future__ import annotations

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
