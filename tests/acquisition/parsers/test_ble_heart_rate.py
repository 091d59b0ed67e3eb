"""Heart Rate Measurement: published examples, flags, malformed frames, round trip."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapdesk.acquisition.parsers import ParseError
from kapdesk.acquisition.parsers.ble_heart_rate import parse
from kapdesk.domain.readings import SENSOR_OFF
from kapdesk.sim.encoders.ble_heart_rate import encode


def values(frame: str) -> list[tuple[str, float, str]]:
    return [(r.channel, r.value, r.unit) for r in parse(bytes.fromhex(frame))]


def test_published_uint16_example() -> None:
    assert values("01 C8 00") == [("heart_rate", 200.0, "/min")]


def test_published_contact_and_energy_example() -> None:
    readings = parse(bytes.fromhex("0E4B8000"))
    assert [(r.channel, r.value) for r in readings] == [
        ("heart_rate", 75),
        ("energy_expended", 128),
    ]
    assert all(r.flags == {"contact_detected"} for r in readings)
    assert readings[1].unit == "kJ"


def test_published_rr_example() -> None:
    assert values("10 5A 00 08 00 10") == [
        ("heart_rate", 90.0, "/min"),
        ("rr_interval", 2.0, "s"),
        ("rr_interval", 4.0, "s"),
    ]


def test_contact_supported_but_lost_is_sensor_off() -> None:
    (reading,) = parse(bytes.fromhex("044B"))
    assert reading.flags == {SENSOR_OFF}


def test_parser_leaves_time_and_device_to_ingest() -> None:
    (reading,) = parse(bytes.fromhex("004B"))
    assert (reading.t, reading.device, reading.device_time) == (0.0, "", None)


def test_zero_heart_rate_is_a_gap_not_asystole() -> None:
    readings = parse(bytes.fromhex("1000" + "0004"))
    assert [r.channel for r in readings] == ["rr_interval"]


@pytest.mark.parametrize(
    ("frame", "missing"),
    [
        ("", "flags"),
        ("01C8", "heart rate (uint16"),
        ("084B80", "energy expended"),
        ("104B", "RR interval"),
    ],
)
def test_frame_shorter_than_its_flags_is_rejected_naming_the_field(
    frame: str, missing: str
) -> None:
    with pytest.raises(ParseError, match=r"too short: " + missing.replace("(", r"\(")):
        parse(bytes.fromhex(frame))


@pytest.mark.parametrize("frame", ["004B00", "104B000401"])
def test_trailing_bytes_are_rejected(frame: str) -> None:
    with pytest.raises(ParseError, match="trailing"):
        parse(bytes.fromhex(frame))


@given(
    hr=st.integers(1, 400),
    contact=st.sampled_from([None, True, False]),
    energy=st.none() | st.integers(0, 0xFFFF),
    rr=st.lists(st.integers(1, 0xFFFF), max_size=8),
    uint16=st.booleans(),
)
def test_round_trip(
    hr: int, contact: bool | None, energy: int | None, rr: list[int], uint16: bool
) -> None:
    rr_s = [raw / 1024 for raw in rr]
    readings = parse(encode(hr, contact=contact, energy_kj=energy, rr_s=rr_s, uint16=uint16))
    assert readings[0].channel == "heart_rate" and readings[0].value == hr
    energies = [r.value for r in readings if r.channel == "energy_expended"]
    assert energies == ([] if energy is None else [energy])
    assert [r.value for r in readings if r.channel == "rr_interval"] == rr_s
    expected = set() if contact is None else {"contact_detected" if contact else SENSOR_OFF}
    assert all(r.flags == expected for r in readings)
