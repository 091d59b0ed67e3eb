"""Pulse oximetry (PLX service 0x1822): spot-check 0x2A5E and continuous 0x2A5F.

Spot-check: flags (uint8), SpO2, PR (SFLOAT), then by flag: bit0 timestamp, bit1
measurement status (uint16), bit2 device and sensor status (uint24), bit3 pulse amplitude
index (SFLOAT %); bit4 says the device clock is not set (timestamp not trustworthy).
Continuous: flags (uint8), SpO2, PR, then by flag: bit0 SpO2PR-Fast pair, bit1
SpO2PR-Slow pair, bit2 measurement status, bit3 device and sensor status, bit4 PAI.
"""

from __future__ import annotations

from datetime import datetime

from kapdesk.acquisition.parsers.ble_fields import bit_flags, read_date_time, read_sfloat
from kapdesk.acquisition.parsers.errors import ParseError
from kapdesk.acquisition.parsers.frame_reader import FrameReader
from kapdesk.domain.readings import INVALID, QUESTIONABLE, SENSOR_OFF, Reading

MEASUREMENT_STATUS_FLAGS: dict[int, str] = {
    5: "measurement_ongoing",
    6: "early_estimate",
    7: "validated",
    8: "fully_qualified",
    9: "from_storage",
    10: "demo_data",
    11: "testing",
    12: "calibration",
    13: "unavailable",
    14: QUESTIONABLE,
    15: INVALID,
}
# Bits 11 (sensor not connected to the user) and 15 (sensor disconnected) both mean the
# value does not come from the patient, so both raise the shared SENSOR_OFF flag too.
DEVICE_STATUS_FLAGS: dict[int, str] = {
    0: "extended_display_update",
    1: "equipment_malfunction",
    2: "signal_processing_irregularity",
    3: "inadequate_signal",
    4: "poor_signal",
    5: "low_perfusion",
    6: "erratic_signal",
    7: "nonpulsatile_signal",
    8: "questionable_pulse",
    9: "signal_analysis_ongoing",
    10: "sensor_interference",
    11: "sensor_unconnected",
    12: "unknown_sensor",
    13: "sensor_displaced",
    14: "sensor_malfunction",
    15: "sensor_disconnected",
}
SENSOR_OFF_BITS = (1 << 11) | (1 << 15)

SPOT_TIMESTAMP = 0x01
SPOT_MEASUREMENT_STATUS = 0x02
SPOT_DEVICE_STATUS = 0x04
SPOT_PAI = 0x08
SPOT_CLOCK_NOT_SET = 0x10

CONT_FAST = 0x01
CONT_SLOW = 0x02
CONT_MEASUREMENT_STATUS = 0x04
CONT_DEVICE_STATUS = 0x08
CONT_PAI = 0x10


def _status_flags(reader: FrameReader, measurement: bool, device: bool, bit: str) -> set[str]:
    flags: set[str] = set()
    if measurement:
        status = reader.u16(f"measurement status (flags bit {bit[0]})")
        flags |= bit_flags(status, MEASUREMENT_STATUS_FLAGS)
    if device:
        status = reader.u24(f"device and sensor status (flags bit {bit[1]})")
        flags |= bit_flags(status, DEVICE_STATUS_FLAGS)
        if status & SENSOR_OFF_BITS:
            flags.add(SENSOR_OFF)
    return flags


def _readings(
    spo2: float | None,
    pr: float | None,
    pai: float | None,
    flags: set[str],
    device_time: datetime | None,
) -> list[Reading]:
    quality = frozenset(flags)
    values = (("spo2", spo2, "%"), ("pulse_rate", pr, "/min"), ("perfusion_index", pai, "%"))
    return [
        Reading(channel, value, unit, flags=quality, device_time=device_time)
        for channel, value, unit in values
        if value is not None
    ]


def parse_spot(frame: bytes) -> list[Reading]:
    """A spot-check measurement: SpO2, pulse rate, [perfusion index], with status flags.

    Special SFLOAT values are gaps (the reading is left out), never numbers.
    """
    reader = FrameReader(frame, "PLX spot-check")
    flags_byte = reader.u8("flags")
    spo2 = read_sfloat(reader, "SpO2")
    pr = read_sfloat(reader, "pulse rate")
    device_time = None
    if flags_byte & SPOT_TIMESTAMP:
        device_time = read_date_time(reader, "timestamp (flags bit 0)")
        if flags_byte & SPOT_CLOCK_NOT_SET:
            device_time = None  # the device itself says its clock is not set
    flags = _status_flags(
        reader,
        bool(flags_byte & SPOT_MEASUREMENT_STATUS),
        bool(flags_byte & SPOT_DEVICE_STATUS),
        "12",
    )
    pai = (
        read_sfloat(reader, "pulse amplitude index (flags bit 3)")
        if flags_byte & SPOT_PAI
        else None
    )
    reader.expect_end()
    return _readings(spo2, pr, pai, flags, device_time)


def parse_continuous(frame: bytes) -> list[Reading]:
    """A continuous measurement: the normal SpO2/PR pair, [perfusion index], with flags.

    The optional Fast and Slow pairs are checked for length but not emitted: they are
    other averagings of the same quantities, and two values per channel per frame would
    make the trend and the alarms ambiguous.
    """
    reader = FrameReader(frame, "PLX continuous")
    flags_byte = reader.u8("flags")
    spo2 = read_sfloat(reader, "SpO2")
    pr = read_sfloat(reader, "pulse rate")
    if flags_byte & CONT_FAST:
        reader.take(4, "SpO2PR-Fast pair (flags bit 0)")
    if flags_byte & CONT_SLOW:
        reader.take(4, "SpO2PR-Slow pair (flags bit 1)")
    flags = _status_flags(
        reader,
        bool(flags_byte & CONT_MEASUREMENT_STATUS),
        bool(flags_byte & CONT_DEVICE_STATUS),
        "23",
    )
    pai = (
        read_sfloat(reader, "pulse amplitude index (flags bit 4)")
        if flags_byte & CONT_PAI
        else None
    )
    reader.expect_end()
    return _readings(spo2, pr, pai, flags, None)


__all__ = ["ParseError", "parse_continuous", "parse_spot"]
