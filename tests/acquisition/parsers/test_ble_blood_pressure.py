"""Blood pressure and intermediate cuff pressure: example, kPa, status, specials, round trip."""

from __future__ import annotations

import math
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapdesk.acquisition.parsers import ParseError
from kapdesk.acquisition.parsers.ble_blood_pressure import parse, parse_cuff
from kapdesk.sim.encoders import ble_blood_pressure as enc
from kapdesk.sim.encoders.sfloat import NAN, NRES, encode_sfloat


def test_published_example() -> None:
    readings = parse(bytes.fromhex("02 8C 00 5A 00 6E 00 E8 07 03 0F 0E 1E 2D"))
    assert [(r.channel, r.value, r.unit) for r in readings] == [
        ("nibp_systolic", 140.0, "mm[Hg]"),
        ("nibp_diastolic", 90.0, "mm[Hg]"),
        ("nibp_mean", 110.0, "mm[Hg]"),
    ]
    assert {r.device_time for r in readings} == {datetime(2024, 3, 15, 14, 30, 45)}
    assert all(r.original_unit is None for r in readings)


def test_kpa_is_converted_and_the_original_unit_kept() -> None:
    readings = parse(enc.encode(16.0, 10.7, 12.0, kpa=True, pulse_rate=64))
    systolic = readings[0]
    assert systolic.value == pytest.approx(16.0 * 7.50062)
    assert (systolic.unit, systolic.original_unit) == ("mm[Hg]", "kPa")
    pulse = readings[-1]
    assert (pulse.channel, pulse.value, pulse.unit, pulse.original_unit) == (
        "pulse_rate",
        64.0,
        "/min",
        None,
    )


@pytest.mark.parametrize(
    ("status", "flags"),
    [
        (enc.BODY_MOVEMENT | enc.IRREGULAR_PULSE, {"body_movement", "irregular_pulse"}),
        (enc.CUFF_TOO_LOOSE | enc.PULSE_ABOVE_RANGE, {"cuff_too_loose", "pulse_above_range"}),
        (enc.PULSE_BELOW_RANGE | enc.IMPROPER_POSITION, {"pulse_below_range", "improper_position"}),
        (0, set()),
    ],
)
def test_status_bits_become_flags(status: int, flags: set[str]) -> None:
    readings = parse(enc.encode(120, 80, 93, status=status, user_id=1))
    assert all(r.flags == flags for r in readings)


def test_unknown_timestamp_is_none() -> None:
    frame = bytes([0x02]) + encode_sfloat(120) + encode_sfloat(80) + encode_sfloat(93) + bytes(7)
    readings = parse(frame)
    assert readings and all(r.device_time is None for r in readings)


def test_impossible_date_is_rejected() -> None:
    frame = bytes([0x02]) + encode_sfloat(120) * 3 + bytes.fromhex("E8070D0F0E1E2D")
    with pytest.raises(ParseError, match="not a valid date"):
        parse(frame)


def test_special_values_are_gaps_not_numbers() -> None:
    frame = bytes([0x00]) + NAN + encode_sfloat(80) + NRES
    assert [(r.channel, r.value) for r in parse(frame)] == [("nibp_diastolic", 80.0)]


def test_all_special_is_an_empty_frame_not_an_error() -> None:
    assert parse(bytes([0x00]) + NAN * 3) == []


def test_intermediate_cuff_pressure() -> None:
    readings = parse_cuff(enc.encode_cuff(152))
    assert [(r.channel, r.value, r.unit) for r in readings] == [("cuff_pressure", 152.0, "mm[Hg]")]


@pytest.mark.parametrize(
    ("frame", "missing"),
    [
        ("00 8C 00 5A 00", "mean arterial pressure"),
        ("02 8C 00 5A 00 6E 00 E8 07 03", "timestamp"),
        ("04 8C 00 5A 00 6E 00", "pulse rate"),
        ("08 8C 00 5A 00 6E 00", "user id"),
        ("10 8C 00 5A 00 6E 00 01", "measurement status"),
    ],
)
def test_missing_fields_are_named(frame: str, missing: str) -> None:
    with pytest.raises(ParseError, match=missing):
        parse(bytes.fromhex(frame))


def test_trailing_bytes_are_rejected() -> None:
    with pytest.raises(ParseError, match="trailing"):
        parse(enc.encode(120, 80, 93) + b"\x00")


pressures = st.integers(20, 300).map(float)


@given(
    sys_=pressures,
    dia=pressures,
    mean=pressures,
    kpa=st.booleans(),
    when=st.none() | st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)),
    pulse=st.none() | st.integers(30, 250).map(float),
    user=st.none() | st.integers(0, 255),
    status=st.none() | st.integers(0, 0x3F),
)
def test_round_trip(
    sys_: float,
    dia: float,
    mean: float,
    kpa: bool,
    when: datetime | None,
    pulse: float | None,
    user: int | None,
    status: int | None,
) -> None:
    when = when.replace(microsecond=0) if when else None
    frame = enc.encode(
        sys_, dia, mean, kpa=kpa, timestamp=when, pulse_rate=pulse, user_id=user, status=status
    )
    readings = parse(frame)
    factor = 7.50062 if kpa else 1.0
    got = {r.channel: r.value for r in readings}
    assert got["nibp_systolic"] == pytest.approx(sys_ * factor)
    assert got["nibp_diastolic"] == pytest.approx(dia * factor)
    assert got["nibp_mean"] == pytest.approx(mean * factor)
    assert got.get("pulse_rate") == pulse
    assert all(r.device_time == when for r in readings)
    assert not any(math.isnan(r.value) for r in readings)
