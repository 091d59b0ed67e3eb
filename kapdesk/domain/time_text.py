"""Every way a time or a duration is put into words for people, in one place.

Times are epoch seconds shown in the workstation's local time, as the clinic reads its
wall clock; durations are seconds. Screens used to format times each their own way
(issue 12, point 6); they now all call these functions, so one screen cannot drift from
another and a format is changed, and tested, here. Exports and device clocks are not
for people: they use ``clock.iso_utc`` and the acquisition code.

Each function keeps the format its screens already showed: where two screens use
different formats for the same thing (``elapsed`` and ``short_elapsed``, ``duration``
and ``minutes``) both are kept, by name, rather than one screen changing.
"""

from __future__ import annotations

from datetime import datetime


def _local(t: float, fmt: str) -> str:
    return datetime.fromtimestamp(t).strftime(fmt)


# -- moments (epoch seconds, local time) -----------------------------------------------


def clock_time(t: float) -> str:
    """The local time of day to the minute: ``"14:05"``."""
    return _local(t, "%H:%M")


def clock_time_s(t: float) -> str:
    """The local time of day to the second: ``"14:05:09"`` (timeline, alarms, readings)."""
    return _local(t, "%H:%M:%S")


def day(t: float) -> str:
    """The local date in full: ``"Monday 07 December 2026"``."""
    return _local(t, "%A %d %B %Y")


def date_and_time(t: float) -> str:
    """Local date and time as on a clinic laptop: ``"Mon 07 Dec 2026, 14:05"``."""
    return _local(t, "%a %d %b %Y, %H:%M")


def short_date_and_time(t: float) -> str:
    """Local date without the year, and time: ``"07 Dec, 14:05"``."""
    return _local(t, "%d %b, %H:%M")


# -- durations (seconds) ---------------------------------------------------------------


def _whole_seconds(seconds: float) -> int:
    return max(0, int(seconds))


def elapsed(seconds: float) -> str:
    """A running clock, always with hours: ``"0:04:05"``, ``"1:02:03"``; never negative."""
    s = _whole_seconds(seconds)
    return f"{s // 3600:d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def short_elapsed(seconds: float) -> str:
    """A running clock, hours only when there are some: ``"4:05"``, ``"1:02:03"``;
    never negative."""
    s = _whole_seconds(seconds)
    h, m = divmod(s // 60, 60)
    return f"{h}:{m:02d}:{s % 60:02d}" if h else f"{m}:{s % 60:02d}"


def minutes_seconds(seconds: float) -> str:
    """Minutes and seconds, the minutes never rolled into hours: ``"2:00"``, ``"75:00"``;
    never negative (the alarm audio pause)."""
    s = _whole_seconds(seconds)
    return f"{s // 60}:{s % 60:02d}"


def duration(seconds: float) -> str:
    """A span to the nearest minute: ``"12 min"``, ``"1 h 05 min"``."""
    m = round(seconds / 60)
    return f"{m // 60} h {m % 60:02d} min" if m >= 60 else f"{m} min"


def minutes(seconds: float) -> str:
    """A span in whole minutes, however long: ``"12 min"``, ``"125 min"``."""
    return f"{seconds / 60:.0f} min"


def seconds_or_minutes(seconds: float, minutes_from: float = 60.0) -> str:
    """``"45 s"`` below ``minutes_from`` seconds, else whole minutes: ``"3 min"``."""
    return f"{seconds:.0f} s" if seconds < minutes_from else minutes(seconds)


def ago(seconds: float) -> str:
    """How old something is: ``"45 s ago"``, ``"3 min ago"``."""
    return f"{seconds_or_minutes(seconds)} ago"
