"""Heart Rate Measurement (0x2A37, Heart Rate service 0x180D, notify).

Layout: flags (uint8), HR (uint8 or uint16), [energy expended uint16 kJ], [RR uint16...].
Flags: bit0 HR is uint16; bit1 contact detected; bit2 contact supported; bit3 energy
present; bit4 RR intervals present (1/1024 s each).
"""

from __future__ import annotations

from kapdesk.acquisition.parsers.errors import ParseError
from kapdesk.acquisition.parsers.frame_reader import FrameReader
from kapdesk.domain.readings import SENSOR_OFF, Reading

HR_UINT16 = 0x01
CONTACT_DETECTED = 0x02
CONTACT_SUPPORTED = 0x04
ENERGY_PRESENT = 0x08
RR_PRESENT = 0x10

CONTACT_DETECTED_FLAG = "contact_detected"
RR_UNITS_PER_SECOND = 1024


def parse(frame: bytes) -> list[Reading]:
    """Readings of one notification: heart rate, energy expended, then each RR interval.

    A heart rate of 0 is a gap, not a reading: straps send 0 while they find no beat
    (typically off the chest), and a 0 must never reach the alarms as asystole. Flags and
    payload must agree exactly: missing fields and trailing bytes raise ``ParseError``.
    """
    reader = FrameReader(frame, "heart rate")
    flags_byte = reader.u8("flags")
    if flags_byte & HR_UINT16:
        hr = reader.u16("heart rate (uint16, flags bit 0)")
    else:
        hr = reader.u8("heart rate (uint8)")
    energy = reader.u16("energy expended (flags bit 3)") if flags_byte & ENERGY_PRESENT else None
    rr_raw: list[int] = []
    if flags_byte & RR_PRESENT:
        rr_raw.append(reader.u16("RR interval (flags bit 4)"))
        while reader.remaining >= 2:
            rr_raw.append(reader.u16("RR interval"))
    reader.expect_end()

    flags: set[str] = set()
    if flags_byte & CONTACT_SUPPORTED:
        flags.add(CONTACT_DETECTED_FLAG if flags_byte & CONTACT_DETECTED else SENSOR_OFF)
    quality = frozenset(flags)

    readings: list[Reading] = []
    if hr:
        readings.append(Reading("heart_rate", float(hr), "/min", flags=quality))
    if energy is not None:
        readings.append(Reading("energy_expended", float(energy), "kJ", flags=quality))
    readings.extend(
        Reading("rr_interval", raw / RR_UNITS_PER_SECOND, "s", flags=quality) for raw in rr_raw
    )
    return readings


__all__ = ["ParseError", "parse"]
