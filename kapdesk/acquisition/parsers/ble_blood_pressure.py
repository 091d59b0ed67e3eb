"""Blood Pressure Measurement (0x2A35, indicate) and Intermediate Cuff Pressure (0x2A36).

Both share one layout: flags (uint8), three SFLOATs (systolic, diastolic, MAP; for the
cuff characteristic the first is the current cuff pressure and the other two are unused),
then in flag order: timestamp (bit1, 7 bytes), pulse rate (bit2, SFLOAT), user id (bit3,
uint8), measurement status (bit4, uint16). Bit0 means the pressures are in kPa.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kapdesk.acquisition.parsers.ble_fields import bit_flags, read_date_time, read_sfloat
from kapdesk.acquisition.parsers.errors import ParseError
from kapdesk.acquisition.parsers.frame_reader import FrameReader
from kapdesk.domain.channels import convert
from kapdesk.domain.readings import Reading

UNITS_KPA = 0x01
TIMESTAMP_PRESENT = 0x02
PULSE_RATE_PRESENT = 0x04
USER_ID_PRESENT = 0x08
STATUS_PRESENT = 0x10

STATUS_FLAGS: dict[int, str] = {
    0: "body_movement",
    1: "cuff_too_loose",
    2: "irregular_pulse",
    5: "improper_position",
}
PULSE_RANGE_FLAGS: dict[int, str] = {0b01: "pulse_above_range", 0b10: "pulse_below_range"}

MMHG = "mm[Hg]"
KPA = "kPa"


@dataclass(frozen=True, slots=True)
class _Measurement:
    pressures: tuple[float | None, float | None, float | None]
    kpa: bool
    device_time: datetime | None
    pulse_rate: float | None
    flags: frozenset[str]


def _read(frame: bytes, what: str) -> _Measurement:
    reader = FrameReader(frame, what)
    flags_byte = reader.u8("flags")
    first = read_sfloat(reader, "systolic" if what == "blood pressure" else "cuff pressure")
    second = read_sfloat(reader, "diastolic")
    third = read_sfloat(reader, "mean arterial pressure")
    device_time = None
    if flags_byte & TIMESTAMP_PRESENT:
        device_time = read_date_time(reader, "timestamp (flags bit 1)")
    pulse_rate = None
    if flags_byte & PULSE_RATE_PRESENT:
        pulse_rate = read_sfloat(reader, "pulse rate (flags bit 2)")
    if flags_byte & USER_ID_PRESENT:
        reader.u8("user id (flags bit 3)")  # read to keep the layout; not a vital sign
    flags: set[str] = set()
    if flags_byte & STATUS_PRESENT:
        status = reader.u16("measurement status (flags bit 4)")
        flags |= bit_flags(status, STATUS_FLAGS)
        pulse_range = PULSE_RANGE_FLAGS.get(status >> 3 & 0b11)
        if pulse_range:
            flags.add(pulse_range)
    reader.expect_end()
    return _Measurement(
        (first, second, third),
        bool(flags_byte & UNITS_KPA),
        device_time,
        pulse_rate,
        frozenset(flags),
    )


def _pressure(channel: str, value: float, m: _Measurement) -> Reading:
    if m.kpa:
        return Reading(
            channel,
            convert(value, KPA, MMHG),
            MMHG,
            flags=m.flags,
            original_unit=KPA,
            device_time=m.device_time,
        )
    return Reading(channel, value, MMHG, flags=m.flags, device_time=m.device_time)


def _pulse(m: _Measurement) -> list[Reading]:
    if m.pulse_rate is None:
        return []
    return [Reading("pulse_rate", m.pulse_rate, "/min", flags=m.flags, device_time=m.device_time)]


def parse(frame: bytes) -> list[Reading]:
    """A finished cuff measurement (0x2A35): systolic, diastolic, mean, [pulse rate].

    A special SFLOAT (NaN, NRes, INF) in any field is a gap: that reading is left out and
    the rest of the frame is kept; it is not a malformed frame.
    """
    m = _read(frame, "blood pressure")
    channels = ("nibp_systolic", "nibp_diastolic", "nibp_mean")
    readings = [
        _pressure(channel, value, m)
        for channel, value in zip(channels, m.pressures, strict=True)
        if value is not None
    ]
    return readings + _pulse(m)


def parse_cuff(frame: bytes) -> list[Reading]:
    """Intermediate cuff pressure (0x2A36): the inflating cuff's pressure, [pulse rate].

    The diastolic and MAP fields must be present (same layout) but are ignored.
    """
    m = _read(frame, "cuff pressure")
    cuff = m.pressures[0]
    readings = [] if cuff is None else [_pressure("cuff_pressure", cuff, m)]
    return readings + _pulse(m)


__all__ = ["ParseError", "parse", "parse_cuff"]
