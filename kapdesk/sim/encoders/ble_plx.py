"""PLX Spot-check (0x2A5E) and Continuous (0x2A5F) measurement frames."""

from __future__ import annotations

from datetime import datetime

from kapdesk.sim.encoders.ble_datetime import encode_date_time
from kapdesk.sim.encoders.sfloat import encode_sfloat

# Measurement status (uint16) bits.
EARLY_ESTIMATE = 1 << 6
VALIDATED = 1 << 7
QUESTIONABLE = 1 << 14
INVALID = 1 << 15
# Device and sensor status (uint24) bits.
LOW_PERFUSION = 1 << 5
SENSOR_UNCONNECTED = 1 << 11
SENSOR_DISCONNECTED = 1 << 15


def _status(measurement_status: int | None, device_status: int | None) -> bytes:
    out = b""
    if measurement_status is not None:
        out += measurement_status.to_bytes(2, "little")
    if device_status is not None:
        out += device_status.to_bytes(3, "little")
    return out


def encode_spot(
    spo2: float,
    pulse_rate: float,
    *,
    timestamp: datetime | None = None,
    measurement_status: int | None = None,
    device_status: int | None = None,
    pai: float | None = None,
    clock_not_set: bool = False,
) -> bytes:
    flags = (
        (0x01 if timestamp is not None else 0)
        | (0x02 if measurement_status is not None else 0)
        | (0x04 if device_status is not None else 0)
        | (0x08 if pai is not None else 0)
        | (0x10 if clock_not_set else 0)
    )
    out = bytes([flags]) + encode_sfloat(spo2) + encode_sfloat(pulse_rate)
    if timestamp is not None:
        out += encode_date_time(timestamp)
    out += _status(measurement_status, device_status)
    if pai is not None:
        out += encode_sfloat(pai)
    return out


def encode_continuous(
    spo2: float,
    pulse_rate: float,
    *,
    fast: tuple[float, float] | None = None,
    slow: tuple[float, float] | None = None,
    measurement_status: int | None = None,
    device_status: int | None = None,
    pai: float | None = None,
) -> bytes:
    flags = (
        (0x01 if fast is not None else 0)
        | (0x02 if slow is not None else 0)
        | (0x04 if measurement_status is not None else 0)
        | (0x08 if device_status is not None else 0)
        | (0x10 if pai is not None else 0)
    )
    out = bytes([flags]) + encode_sfloat(spo2) + encode_sfloat(pulse_rate)
    for pair in (fast, slow):
        if pair is not None:
            out += encode_sfloat(pair[0]) + encode_sfloat(pair[1])
    out += _status(measurement_status, device_status)
    if pai is not None:
        out += encode_sfloat(pai)
    return out
