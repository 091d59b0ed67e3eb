"""The plausible range of every number a clinic may edit, in one typed table.

A clinic administrator types these into text files, and one slip (``low = 8`` meant as
88, ``audio_pause_s = 86400``) would silently weaken monitoring. Every loader checks
its numbers against the ranges here, so the values a clinic may choose are documented
in one place. Defaults stay in the data files (``resources/``); the ranges are wide
enough for any reasonable clinic policy and narrow enough to catch a typo.
Sources: /work/shared/reference/clinical.md (limit defaults), alarms.md (IEC 60601-1-8
conventions; published SpO2 alarm delays 0-30 s; audio pause typically 2 min).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from kapdesk.domain.config_errors import ConfigError


@dataclass(frozen=True, slots=True)
class Range:
    """Inclusive plausible bounds of one setting, with its unit and why these bounds."""

    low: float
    high: float
    unit: str
    why: str = ""

    def check(self, value: Any, where: str) -> float:
        """The value as a float, or a ConfigError naming ``where`` and the range."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(where, f"must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ConfigError(where, f"must be a finite number, got {value!r}")
        if not self.low <= value <= self.high:
            raise ConfigError(where, f"{value!r} is outside the plausible range {self}")
        return float(value)

    def __str__(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        why = f" ({self.why})" if self.why else ""
        return f"{self.low:g} to {self.high:g}{unit}{why}"


@dataclass(frozen=True, slots=True)
class LimitRanges:
    """Where a channel's alarm limits may lie: ``absolute`` for low/high limits,
    ``change`` for rise/fall from the patient's baseline."""

    absolute: Range
    change: Range


# --- Alarm limits in protocol files ([[alarms.limits]]) ------------------------------
#: Per channel. Channels missing here (waveforms) take no alarm limits.
LIMITS: MappingProxyType[str, LimitRanges] = MappingProxyType(
    {
        "spo2": LimitRanges(Range(70, 100, "%", "defaults 92 medium / 88 high"), Range(1, 30, "%")),
        "heart_rate": LimitRanges(
            Range(25, 250, "/min", "defaults 50/120 medium, 40/140 high"), Range(5, 100, "/min")
        ),
        "pulse_rate": LimitRanges(
            Range(25, 250, "/min", "defaults 50/120 medium, 40/140 high"), Range(5, 100, "/min")
        ),
        "nibp_systolic": LimitRanges(
            Range(60, 260, "mmHg", "severe > 180"), Range(5, 100, "mmHg", "default rise 40")
        ),
        "nibp_diastolic": LimitRanges(
            Range(30, 160, "mmHg", "severe > 110"), Range(5, 80, "mmHg", "default rise 25")
        ),
        "nibp_mean": LimitRanges(Range(40, 200, "mmHg"), Range(5, 80, "mmHg")),
        "cuff_pressure": LimitRanges(Range(0, 300, "mmHg"), Range(5, 100, "mmHg")),
        "rr_interval": LimitRanges(Range(0.2, 3, "s"), Range(0.05, 1, "s")),
        "perfusion_index": LimitRanges(Range(0.01, 20, "%"), Range(0.1, 10, "%")),
        "energy_expended": LimitRanges(Range(0, 100_000, "kJ"), Range(1, 10_000, "kJ")),
        "signal_strength": LimitRanges(Range(0, 100, ""), Range(1, 100, "")),
    }
)

# --- Alarm timing in protocol files ([alarms], [alarms.channels.<name>]) -------------
CONDITION_DELAY_S = Range(0, 30, "s", "published SpO2 alarm delays are 0-30 s")
HYSTERESIS = Range(0, 20, "channel units", "default 2; 5 for blood pressure")
CLEAR_DELAY_S = Range(0, 60, "s")
EXPECTED_INTERVAL_S = Range(0.1, 60, "s", '"no data" after twice this')

# --- Clinic-wide alarm settings (clinic.toml [alarms]) -------------------------------
AUDIO_PAUSE_S = Range(10, 300, "s", "typically 2 min, then the sound returns")
ESCALATE_AFTER_S = Range(10, 1800, "s", "default 120 s from medium to high")

# --- Journal (clinic.toml [journal]) -------------------------------------------------
AUTOSAVE_DELAY_MS = Range(50, 10_000, "ms", "default 400")
PIN_MAX_ATTEMPTS = Range(1, 20, "tries", "default 5")
PIN_LOCKOUT_S = Range(0, 3600, "s", "default 60")

# --- Sign-in and locking (clinic.toml [security]) ----------------------------------
MIN_PASSWORD_LENGTH = Range(8, 64, "characters", "default 10")
MAX_SIGN_IN_FAILURES = Range(3, 20, "tries", "default 5")
SIGN_IN_LOCKOUT_MIN = Range(1, 120, "min", "default 5")
IDLE_LOCK_MIN = Range(1, 60, "min", "default 10 (HIPAA automatic logoff)")

# --- Music (music.toml [music]) ------------------------------------------------------
MUSIC_VOLUME = Range(0, 1, "", "0 silent, 1 full")
MUSIC_FADE_S = Range(0, 30, "s", "default 3")

# --- Sessions in protocol files --------------------------------------------------------
OBSERVATION_MIN = Range(15, 720, "min", "at least 2 h for esketamine")
PHASE_EXPECTED_MIN = Range(1, 600, "min")
EYE_MASK_CHECK_IN_MIN = Range(1, 120, "min", "chaperone check-in every 15 min")
SOURCE_GRACE_S = Range(0, 300, "s", "default 20")
STABLE_SYSTOLIC_MMHG = Range(1, 60, "mmHg", "default 20")
STABLE_DIASTOLIC_MMHG = Range(1, 40, "mmHg", "default 10")
CHECK_AT_MIN = Range(0, 720, "min after the dose")
CHECK_EVERY_MIN = Range(1, 120, "min", "check-ins every 15 min")
CHECK_GRACE_MIN = Range(0, 60, "min", "default 5")
PRE_DOSE_MAX_SYSTOLIC = Range(90, 220, "mmHg", "hold above 140/90")
PRE_DOSE_MAX_DIASTOLIC = Range(50, 130, "mmHg", "hold above 140/90")
VITALS_WITHIN_PCT = Range(5, 50, "%", "Aldrete/PADSS: within 20 % of pre-dose")


def integer(value: Any, where: str, within: Range) -> int:
    """A whole number within ``within`` (a count, milliseconds)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(where, f"must be a whole number, got {value!r}")
    within.check(value, where)
    return value
