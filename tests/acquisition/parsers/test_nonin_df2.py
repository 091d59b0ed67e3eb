"""Nonin OEM III format 2: packet sync, checksums, missing values, resync, round trip."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kapdesk.acquisition.parsers.nonin_df2 import Decoder
from kapdesk.domain.readings import SENSOR_OFF, SIGNAL_ARTIFACT
from kapdesk.sim.encoders import nonin_df2 as enc

PLETH = list(range(100, 125))
#: A frame 1: it closes the packet before it, whose values are published only then.
CLOSE = enc.encode_frame(0x01, 0, 0)


def trends(readings: list) -> list[tuple[str, float]]:  # type: ignore[type-arg]
    return [(r.channel, r.value) for r in readings if r.channel != "pleth"]


def test_one_packet_gives_25_pleth_samples_and_the_trend_values() -> None:
    readings = Decoder().feed(enc.encode_packet(300, 96, PLETH) + CLOSE)
    assert [r.value for r in readings if r.channel == "pleth"] == [*PLETH, 0]
    assert trends(readings) == [("pulse_rate", 300.0), ("spo2", 96.0)]


def test_checksum_is_the_sum_of_the_first_four_bytes() -> None:
    assert enc.encode_frame(0x01, 0x10, 0x20) == bytes.fromhex("01 81 10 20 B2")


def test_missing_values_are_gaps_and_flags_stay_on_pleth() -> None:
    packet = enc.encode_packet(None, None, PLETH, status=enc.SENSOR_DISCONNECT | enc.ARTIFACT)
    readings = Decoder().feed(packet + CLOSE)
    assert trends(readings) == []
    assert len(readings) == 26
    readings = readings[:25]
    assert all(r.flags == {SENSOR_OFF, SIGNAL_ARTIFACT} for r in readings)


def test_perfusion_bits() -> None:
    red = Decoder().feed(enc.encode_packet(70, 97, PLETH, status=enc.PERFUSION_RED))
    yellow = Decoder().feed(enc.encode_packet(70, 97, PLETH, status=enc.PERFUSION_YELLOW))
    assert red[0].flags == {"low_perfusion"} and yellow[0].flags == {"marginal_perfusion"}


def test_waits_for_frame_one_when_joining_mid_packet() -> None:
    packet = enc.encode_packet(70, 97, PLETH)
    decoder = Decoder()
    readings = decoder.feed(packet[5 * 10 :] + packet + CLOSE)
    assert trends(readings) == [("pulse_rate", 70.0), ("spo2", 97.0)]
    assert decoder.malformed == 0


def test_bad_checksum_is_counted_and_the_next_packet_decodes() -> None:
    good = enc.encode_packet(70, 97, PLETH)
    broken = bytearray(good)
    broken[4] ^= 0xFF  # frame 1 checksum
    decoder = Decoder()
    readings = decoder.feed(good + bytes(broken) + good + CLOSE)
    assert decoder.malformed == 1
    assert decoder.last_error is not None and "checksum" in decoder.last_error
    # The first packet's end is unknown (its closing frame 1 is the broken one), so
    # only the packet after the damage is published.
    assert trends(readings) == [("pulse_rate", 70.0), ("spo2", 97.0)]


def test_leading_garbage_is_one_problem() -> None:
    decoder = Decoder()
    readings = decoder.feed(b"\xff\x00\x01\x80" + enc.encode_packet(70, 97, PLETH) + CLOSE)
    assert decoder.malformed == 1
    assert trends(readings) == [("pulse_rate", 70.0), ("spo2", 97.0)]


def test_packet_without_its_sync_bit_is_reported() -> None:
    packet = enc.encode_packet(70, 97, PLETH)
    no_sync = enc.encode_frame(0x02, 0, 0)  # a frame 1 that lost its SYNC bit
    decoder = Decoder()
    decoder.feed(packet + no_sync + packet[5:] + packet)
    assert decoder.malformed == 1
    assert decoder.last_error is not None and "longer than 25" in decoder.last_error


@given(
    st.lists(
        st.tuples(st.none() | st.integers(20, 300), st.none() | st.integers(50, 100)),
        min_size=1,
        max_size=6,
    ),
    st.integers(1, 40),
)
def test_round_trip_in_any_chunking(
    packets: list[tuple[int | None, int | None]], step: int
) -> None:
    stream = b"".join(enc.encode_packet(hr, sat, PLETH) for hr, sat in packets) + CLOSE
    decoder = Decoder()
    readings = []
    for i in range(0, len(stream), step):
        readings += decoder.feed(stream[i : i + step])
    expected = []
    for hr, sat in packets:
        expected += ([("pulse_rate", float(hr))] if hr is not None else []) + (
            [("spo2", float(sat))] if sat is not None else []
        )
    assert trends(readings) == expected
    assert decoder.malformed == 0
