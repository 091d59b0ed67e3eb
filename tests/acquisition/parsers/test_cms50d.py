"""CMS50D+ stream: published example, no-value codes, resync after garbage, round trip."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kapdesk.acquisition.parsers.cms50d import Decoder
from kapdesk.domain.readings import SENSOR_OFF
from kapdesk.sim.encoders.cms50d import encode


def test_published_example() -> None:
    readings = Decoder().feed(bytes.fromhex("C5 3A 08 48 61"))
    assert [(r.channel, r.value, r.unit) for r in readings] == [
        ("pleth", 58.0, "1"),
        ("signal_strength", 5.0, "1"),
        ("pulse_rate", 72.0, "/min"),
        ("spo2", 97.0, "%"),
    ]
    assert all(r.flags == {"pulse_beep"} for r in readings)


def test_no_value_codes_are_gaps_but_flags_stay_visible() -> None:
    readings = Decoder().feed(encode(None, None, 0, finger_out=True, searching=True))
    assert [r.channel for r in readings] == ["pleth", "signal_strength"]
    assert all(r.flags == {SENSOR_OFF, "searching"} for r in readings)


def test_pulse_rate_bit_7_comes_from_byte_2() -> None:
    (pr,) = [r for r in Decoder().feed(encode(95, 200, 10)) if r.channel == "pulse_rate"]
    assert pr.value == 200


def test_frames_split_across_chunks() -> None:
    decoder = Decoder()
    frame = encode(97, 72, 40)
    assert decoder.feed(frame[:2]) == []
    assert len(decoder.feed(frame[2:] + frame[:1])) == 4
    assert len(decoder.feed(frame[1:])) == 4
    assert decoder.malformed == 0


def test_resyncs_after_garbage_and_counts_each_problem_once() -> None:
    decoder = Decoder()
    good = encode(97, 72, 40)
    stream = b"\x01\x02\x03" + good + good[:3] + good + good
    readings = decoder.feed(stream)
    assert [r.value for r in readings if r.channel == "spo2"] == [97, 97, 97]
    assert decoder.malformed == 2  # leading garbage, then the cut-short frame
    assert decoder.last_error is not None and "cut short" in decoder.last_error


@given(
    st.lists(
        st.tuples(st.integers(0, 126), st.integers(0, 254), st.integers(0, 127), st.booleans()),
        min_size=1,
        max_size=20,
    ),
    st.integers(1, 7),
)
def test_round_trip_in_any_chunking(frames: list[tuple[int, int, int, bool]], step: int) -> None:
    stream = b"".join(encode(s, p, pl, finger_out=off) for s, p, pl, off in frames)
    decoder = Decoder()
    readings = []
    for i in range(0, len(stream), step):
        readings += decoder.feed(stream[i : i + step])
    assert [r.value for r in readings if r.channel == "spo2"] == [f[0] for f in frames]
    assert [r.value for r in readings if r.channel == "pulse_rate"] == [f[1] for f in frames]
    assert [r.value for r in readings if r.channel == "pleth"] == [f[2] for f in frames]
    assert decoder.malformed == 0
