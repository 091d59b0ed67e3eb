"""The one module that puts times and durations into words: each format, for fixed inputs."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from kapdesk.domain import time_text

#: Monday 07 December 2026, 14:05:09 UTC.
T = 1_796_652_309.0
#: Thursday 31 December 2026, 23:30:00 UTC: two hours east it is already 2027.
NEW_YEAR = 1_798_759_800.0


@pytest.fixture
def tz(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The local zone is UTC (a test may change it); the real zone comes back after."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def set_zone(monkeypatch: pytest.MonkeyPatch, zone: str) -> None:
    monkeypatch.setenv("TZ", zone)
    time.tzset()


def test_moments_in_local_time(tz: None) -> None:
    assert time_text.clock_time(T) == "14:05"
    assert time_text.clock_time_s(T) == "14:05:09"
    assert time_text.day(T) == "Monday 07 December 2026"
    assert time_text.date_and_time(T) == "Mon 07 Dec 2026, 14:05"
    assert time_text.short_date_and_time(T) == "07 Dec, 14:05"


def test_moments_follow_the_workstation_zone(tz: None, monkeypatch: pytest.MonkeyPatch) -> None:
    set_zone(monkeypatch, "XST-2")  # POSIX: two hours east of UTC, no tz database needed
    assert time_text.clock_time(T) == "16:05"
    assert time_text.clock_time_s(NEW_YEAR) == "01:30:00"
    assert time_text.day(NEW_YEAR) == "Friday 01 January 2027"
    assert time_text.date_and_time(NEW_YEAR) == "Fri 01 Jan 2027, 01:30"
    assert time_text.short_date_and_time(NEW_YEAR) == "01 Jan, 01:30"


def test_clock_times_drop_fractions_of_a_second(tz: None) -> None:
    assert time_text.clock_time_s(T + 0.999) == "14:05:09"
    assert time_text.clock_time(T + 50.9) == "14:05"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00:00"), (59.9, "0:00:59"), (245, "0:04:05"), (3723.9, "1:02:03"),
     (36_000, "10:00:00"), (-5, "0:00:00"), (-0.5, "0:00:00")],
)  # fmt: skip
def test_elapsed_always_shows_hours_and_is_never_negative(seconds: float, text: str) -> None:
    assert time_text.elapsed(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00"), (83.4, "1:23"), (599.99, "9:59"), (3599, "59:59"), (3600, "1:00:00"),
     (3725, "1:02:05"), (-30, "0:00")],
)  # fmt: skip
def test_short_elapsed_shows_hours_only_when_there_are_some(seconds: float, text: str) -> None:
    assert time_text.short_elapsed(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00"), (120, "2:00"), (119.7, "1:59"), (4500, "75:00"), (-1, "0:00")],
)
def test_minutes_seconds_never_rolls_into_hours(seconds: float, text: str) -> None:
    assert time_text.minutes_seconds(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 min"), (29, "0 min"), (31, "1 min"), (720, "12 min"),
     (90, "2 min"), (150, "2 min"),  # halves round to even, as round() always did
     (3540, "59 min"), (3570, "1 h 00 min"), (3900, "1 h 05 min"), (8130, "2 h 16 min")],
)  # fmt: skip
def test_duration_to_the_nearest_minute(seconds: float, text: str) -> None:
    assert time_text.duration(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 min"), (720, "12 min"), (90, "2 min"), (150, "2 min"), (7500, "125 min")],
)
def test_minutes_never_become_hours(seconds: float, text: str) -> None:
    assert time_text.minutes(seconds) == text


def test_seconds_or_minutes_and_ago() -> None:
    assert time_text.seconds_or_minutes(0) == "0 s"
    assert time_text.seconds_or_minutes(45) == "45 s"
    assert time_text.seconds_or_minutes(59.4) == "59 s"
    assert time_text.seconds_or_minutes(60) == "1 min"
    assert time_text.seconds_or_minutes(200) == "3 min"
    assert time_text.seconds_or_minutes(75, minutes_from=90) == "75 s"
    assert time_text.seconds_or_minutes(90, minutes_from=90) == "2 min"
    assert time_text.ago(12) == "12 s ago"
    assert time_text.ago(180) == "3 min ago"
