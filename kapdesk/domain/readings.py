"""A single timestamped value from a monitor: what flows from parser to alarms, disk and plots."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Reading:
    """One value of one channel.

    ``t`` is seconds since the Unix epoch (UTC) on the session clock, which is anchored
    once to the wall clock and then advanced by the monotonic clock, so a wall-clock
    change never reorders readings. ``device_time`` is the monitor's own timestamp when
    it sends one (a cuff's measurement time). ``flags`` carries status bits such as
    ``sensor_off`` or ``irregular_pulse``; ``original_unit`` keeps the unit the device
    reported in when it was converted (kPa -> mm[Hg]).
    """

    channel: str
    value: float
    unit: str
    t: float = 0.0
    device: str = ""
    flags: frozenset[str] = field(default_factory=frozenset)
    original_unit: str | None = None
    device_time: datetime | None = None

    def at(self, t: float, device: str | None = None) -> Reading:
        """The same reading stamped with arrival time (and device), as ingest does."""
        return Reading(
            self.channel,
            self.value,
            self.unit,
            t,
            self.device if device is None else device,
            self.flags,
            self.original_unit,
            self.device_time,
        )


#: Quality flags shared by all parsers, so alarms and plots can act on them alike.
SENSOR_OFF = "sensor_off"
SIGNAL_ARTIFACT = "artifact"
QUESTIONABLE = "questionable"
INVALID = "invalid"
SEARCHING = "searching"  # CMS50D+: the oximeter is still looking for a pulse
PROBE_ERROR = "probe_error"  # CMS50D+: the probe reports a fault
#: Flags that make a value no measurement: alarms treat it as a gap (never as a value).
NOT_A_MEASUREMENT = frozenset({INVALID, SEARCHING, PROBE_ERROR})
