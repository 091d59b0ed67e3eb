"""Fuzzing: no input makes a packet parser raise anything but ParseError, or a stream
decoder raise at all, hang, or grow its buffer without bound; and (issue 11 point 5) no
value outside its channel's range leaves the ingest hub unflagged. Full-range noise at
volume (2,000 / 100,000 inputs per parser) is in test_point5_plausibility.py."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kapdesk.acquisition.ingest import IngestHub
from kapdesk.acquisition.parsers import ParseError
from kapdesk.acquisition.parsers.registry import PROTOCOLS
from kapdesk.domain.channels import CHANNELS, PLAUSIBLE_RANGES
from kapdesk.domain.readings import INVALID, Reading
from kapdesk.sim.encoders import (
    ble_blood_pressure,
    ble_heart_rate,
    ble_plx,
    cms50d,
    datex_s5,
    nonin_df2,
)

PACKET_PROTOCOLS = sorted(n for n, p in PROTOCOLS.items() if p.parse_frame is not None)
STREAM_PROTOCOLS = sorted(n for n, p in PROTOCOLS.items() if p.new_decoder is not None)

VALID_FRAMES: dict[str, bytes] = {
    "ble-heart-rate": ble_heart_rate.encode(72, contact=True, energy_kj=12, rr_s=[0.8, 0.81]),
    "ble-blood-pressure": ble_blood_pressure.encode(
        120, 80, 93, timestamp=None, pulse_rate=60, user_id=1, status=4
    ),
    "ble-cuff-pressure": ble_blood_pressure.encode_cuff(150, status=1),
    "ble-plx-spot": ble_plx.encode_spot(97, 70, measurement_status=0x80, device_status=0, pai=2),
    "ble-plx-continuous": ble_plx.encode_continuous(
        97, 70, fast=(96, 71), slow=(98, 69), measurement_status=0, device_status=0, pai=2.5
    ),
}
VALID_STREAMS: dict[str, bytes] = {
    "cms50d": b"".join(cms50d.encode(97, 72, i) for i in range(10)),
    "nonin-df2": nonin_df2.encode_packet(72, 97, list(range(25))) * 2,
    "datex-s5": datex_s5.phdb_frame(
        unix_time=1_700_000_000, heart_rate=60, nibp=(120, 80, 93), spo2=97
    )
    * 2,
}

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_readings(readings: list[Reading]) -> None:
    for r in readings:
        assert r.channel in CHANNELS
        assert r.unit == CHANNELS[r.channel].unit
        assert r.value == r.value  # never NaN
        assert abs(r.value) != float("inf")
    published: list[Reading] = []
    hub = IngestHub()
    hub.subscribe(published.append)
    hub.publish_many(readings)
    for r in published:  # point 5: implausible means flagged invalid, never a value
        assert INVALID in r.flags or PLAUSIBLE_RANGES[r.channel].contains(r.value)


@st.composite
def mutated(draw: st.DrawFn, valid: bytes) -> bytes:
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "drop", "insert", "truncate"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if action == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif action == "drop" and data:
            del data[pos]
        elif action == "insert":
            data.insert(pos, draw(st.integers(0, 255)))
        elif action == "truncate":
            del data[pos:]
    return bytes(data)


@pytest.mark.parametrize("name", PACKET_PROTOCOLS)
def test_valid_frames_of_each_packet_protocol_decode(name: str) -> None:
    readings = PROTOCOLS[name].parse_frame(VALID_FRAMES[name])  # type: ignore[misc]
    assert readings
    check_readings(readings)


@pytest.mark.parametrize("name", PACKET_PROTOCOLS)
@FUZZ
@given(data=st.data())
def test_packet_parsers_raise_only_parse_error(name: str, data: st.DataObject) -> None:
    frame = data.draw(st.binary(max_size=40) | mutated(VALID_FRAMES[name]))
    parse = PROTOCOLS[name].parse_frame
    assert parse is not None
    try:
        readings = parse(frame)
    except ParseError as exc:
        assert str(exc)  # a message that names the problem
    else:
        check_readings(readings)


@pytest.mark.parametrize("name", STREAM_PROTOCOLS)
@FUZZ
@given(data=st.data())
def test_stream_decoders_never_raise_and_recover(name: str, data: st.DataObject) -> None:
    valid = VALID_STREAMS[name]
    junk = data.draw(st.binary(max_size=600) | mutated(valid))
    step = data.draw(st.integers(1, 64))
    info = PROTOCOLS[name]
    assert info.new_decoder is not None
    decoder = info.new_decoder()
    for i in range(0, len(junk), step):
        check_readings(decoder.feed(junk[i : i + step]))
    before = decoder.malformed
    assert before >= 0
    # After any garbage, two clean copies of valid data must decode again.
    recovered = decoder.feed(valid + valid)
    check_readings(recovered)
    assert any(r.channel != "pleth" for r in recovered)
    assert len(decoder._buffer) <= max(len(valid), 4096)  # bounded memory
