from __future__ import annotations

import pytest

from kapdesk.domain.channels import CHANNELS, Sampling, UnknownChannelError, channel, convert
from kapdesk.domain.clock import SessionClock, iso_utc, parse_iso_utc
from kapdesk.domain.patients import Patient


class FakeTime:
    """A controllable time source (the clock takes injected sources by design)."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_clock_is_anchored_once_then_monotonic_and_scaled() -> None:
    mono, wall = FakeTime(1000.0), FakeTime(1_700_000_000.0)
    clock = SessionClock(mono, wall, speed=20)
    mono.t += 3.0
    wall.t -= 3600  # someone sets the wall clock back an hour
    assert clock.elapsed() == pytest.approx(60.0)
    assert clock.now() == pytest.approx(1_700_000_060.0)
    assert clock.real_seconds(60) == pytest.approx(3.0)


def test_clock_rejects_non_positive_speed() -> None:
    with pytest.raises(ValueError):
        SessionClock(FakeTime(0), FakeTime(0), speed=0)


def test_iso_round_trip() -> None:
    t = 1_763_900_000.123456
    text = iso_utc(t)
    assert text.endswith("Z") and "T" in text
    assert parse_iso_utc(text) == pytest.approx(t, abs=1e-6)
    assert parse_iso_utc("2025-01-01T00:00:00") == parse_iso_utc("2025-01-01T00:00:00Z")


def test_channels_use_ucum_units() -> None:
    assert channel("heart_rate").unit == "/min"
    assert channel("spo2").unit == "%"
    assert channel("nibp_systolic").unit == "mm[Hg]"
    assert channel("nibp_systolic").sampling is Sampling.DISCRETE
    assert channel("spo2").sampling is Sampling.CONTINUOUS
    assert all(c.name == k for k, c in CHANNELS.items())
    with pytest.raises(UnknownChannelError):
        channel("temperature_of_the_moon")


def test_kpa_converts_to_mmhg() -> None:
    assert convert(16.0, "kPa", "mm[Hg]") == pytest.approx(120.01, abs=0.01)
    assert convert(120, "mm[Hg]", "mm[Hg]") == 120
    with pytest.raises(ValueError):
        convert(1, "bar", "mm[Hg]")


def test_patient_validation() -> None:
    with pytest.raises(ValueError, match="name"):
        Patient(display_name="  ")
    with pytest.raises(ValueError, match="weight"):
        Patient(display_name="A", weight_kg=0.2)
    assert Patient(display_name="A", weight_kg=70).weight_kg == 70
