"""PLX spot-check and continuous: example, status flags, specials, short frames, round trip."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapdesk.acquisition.parsers import ParseError
from kapdesk.acquisition.parsers.ble_plx import parse_continuous, parse_spot
from kapdesk.domain.readings import INVALID, QUESTIONABLE, SENSOR_OFF
from kapdesk.sim.encoders import ble_plx as enc
from kapdesk.sim.encoders.sfloat import NAN


def test_published_continuous_example() -> None:
    readings = parse_continuous(bytes.fromhex("00 62 00 48 00"))
    assert [(r.channel, r.value, r.unit) for r in readings] == [
        ("spo2", 98.0, "%"),
        ("pulse_rate", 72.0, "/min"),
    ]


def test_continuous_with_status_and_pai() -> None:
    frame = enc.encode_continuous(
        95,
        80,
        fast=(96, 81),
        slow=(94, 79),
        measurement_status=enc.QUESTIONABLE | enc.EARLY_ESTIMATE,
        device_status=enc.LOW_PERFUSION,
        pai=1.5,
    )
    readings = parse_continuous(frame)
    assert [(r.channel, r.value) for r in readings] == [
        ("spo2", 95),
        ("pulse_rate", 80),
        ("perfusion_index", 1.5),
    ]
    assert readings[0].flags == {QUESTIONABLE, "early_estimate", "low_perfusion"}


@pytest.mark.parametrize("bit", [enc.SENSOR_UNCONNECTED, enc.SENSOR_DISCONNECTED])
def test_sensor_off_bits_raise_the_shared_flag(bit: int) -> None:
    readings = parse_spot(enc.encode_spot(97, 70, device_status=bit))
    assert all(SENSOR_OFF in r.flags for r in readings)


def test_spot_check_timestamp_and_clock_not_set() -> None:
    when = datetime(2025, 1, 2, 3, 4, 5)
    (spo2, _pr) = parse_spot(enc.encode_spot(97, 70, timestamp=when))
    assert spo2.device_time == when
    (spo2, _pr) = parse_spot(enc.encode_spot(97, 70, timestamp=when, clock_not_set=True))
    assert spo2.device_time is None


def test_invalid_status_is_flagged_and_nan_is_a_gap() -> None:
    frame = bytes([0x04]) + NAN + bytes.fromhex("4800") + (1 << 15).to_bytes(2, "little")
    assert [(r.channel, r.flags) for r in parse_continuous(frame)] == [
        ("pulse_rate", frozenset({INVALID}))
    ]


@pytest.mark.parametrize(
    ("parser", "frame", "missing"),
    [
        (parse_continuous, "01 62 00 48 00 62 00", "SpO2PR-Fast"),
        (parse_continuous, "08 62 00 48 00 00 00", "device and sensor status"),
        (parse_continuous, "10 62 00 48 00", "pulse amplitude index"),
        (parse_spot, "01 62 00 48 00 E8 07", "timestamp"),
        (parse_spot, "02 62 00 48 00", "measurement status"),
        (parse_spot, "00 62 00", "pulse rate"),
    ],
)
def test_missing_fields_are_named(parser, frame: str, missing: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ParseError, match=missing):
        parser(bytes.fromhex(frame))


@given(
    spo2=st.integers(50, 100),
    pr=st.integers(25, 250),
    pai=st.none() | st.integers(1, 200).map(lambda v: v / 10),
    mstatus=st.none() | st.integers(0, 0xFFFF),
    dstatus=st.none() | st.integers(0, 0xFFFFFF),
)
def test_round_trip_continuous(
    spo2: int, pr: int, pai: float | None, mstatus: int | None, dstatus: int | None
) -> None:
    readings = parse_continuous(
        enc.encode_continuous(spo2, pr, measurement_status=mstatus, device_status=dstatus, pai=pai)
    )
    got = {r.channel: r.value for r in readings}
    assert got == {"spo2": spo2, "pulse_rate": pr} | (
        {} if pai is None else {"perfusion_index": pai}
    )
    assert (INVALID in readings[0].flags) == bool(mstatus and mstatus & 0x8000)
    assert (SENSOR_OFF in readings[0].flags) == bool(dstatus and dstatus & 0x8800)
