"""Blood Pressure Measurement (0x2A35) and Intermediate Cuff Pressure (0x2A36) frames."""

from __future__ import annotations

import math
from datetime import datetime

from kapdesk.sim.encoders.ble_datetime import encode_date_time
from kapdesk.sim.encoders.sfloat import encode_sfloat

# Measurement status bits (uint16).
BODY_MOVEMENT = 1 << 0
CUFF_TOO_LOOSE = 1 << 1
IRREGULAR_PULSE = 1 << 2
PULSE_ABOVE_RANGE = 0b01 << 3
PULSE_BELOW_RANGE = 0b10 << 3
IMPROPER_POSITION = 1 << 5


def encode(
    systolic: float,
    diastolic: float,
    mean: float,
    *,
    kpa: bool = False,
    timestamp: datetime | None = None,
    pulse_rate: float | None = None,
    user_id: int | None = None,
    status: int | None = None,
) -> bytes:
    """One indication. Pressures are in kPa when ``kpa``; NaN encodes the NaN code."""
    flags = (
        (0x01 if kpa else 0)
        | (0x02 if timestamp is not None else 0)
        | (0x04 if pulse_rate is not None else 0)
        | (0x08 if user_id is not None else 0)
        | (0x10 if status is not None else 0)
    )
    out = bytearray([flags])
    out += encode_sfloat(systolic) + encode_sfloat(diastolic) + encode_sfloat(mean)
    if timestamp is not None:
        out += encode_date_time(timestamp)
    if pulse_rate is not None:
        out += encode_sfloat(pulse_rate)
    if user_id is not None:
        out.append(user_id)
    if status is not None:
        out += status.to_bytes(2, "little")
    return bytes(out)


def encode_cuff(
    pressure: float,
    *,
    kpa: bool = False,
    timestamp: datetime | None = None,
    pulse_rate: float | None = None,
    user_id: int | None = None,
    status: int | None = None,
) -> bytes:
    """One intermediate cuff pressure notification (diastolic and MAP sent as NaN)."""
    return encode(
        pressure,
        math.nan,
        math.nan,
        kpa=kpa,
        timestamp=timestamp,
        pulse_rate=pulse_rate,
        user_id=user_id,
        status=status,
    )
