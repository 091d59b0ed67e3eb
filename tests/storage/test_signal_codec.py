"""A block of samples comes back exactly as every export shows it: times to the
microsecond (the same ISO 8601 text), every value bit for bit (NaN, infinities, -0.0,
values no integer scale holds), every sample's own flags, in any order of times."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapdesk.domain.clock import iso_utc
from kapdesk.storage.signals.codec import BlockFormatError, decode, encode

T0 = 1_796_000_000.0  # December 2026
FLAGS = st.frozensets(st.sampled_from(["sensor_off", "artifact", "invalid", "searching"]))

times = st.one_of(
    # a steady rate with jitter, gaps and repeats
    st.builds(
        lambda rate, n, jitter, seed: list(
            T0 + np.arange(n) / rate + np.random.default_rng(seed).normal(0, jitter, n)
        ),
        st.floats(0.01, 500),
        st.integers(0, 300),
        st.sampled_from([0.0, 1e-6, 1e-3, 0.05]),
        st.integers(0, 2**32 - 1),
    ),
    # anything at all, out of order (device timestamps, clock steps)
    st.lists(st.floats(0, 4e9, allow_nan=False), max_size=200),
)
values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**40), 2**40).map(float),
    st.integers(0, 4000).map(lambda k: k / 1024),  # RR intervals, 1/1024 s
    st.integers(0, 2550).map(lambda k: k / 10),
)


@settings(max_examples=400, deadline=None)
@given(st.data(), times)
def test_random_streams_round_trip(data: st.DataObject, t: list[float]) -> None:
    v = data.draw(st.lists(values, min_size=len(t), max_size=len(t)))
    f = data.draw(
        st.one_of(
            st.just([frozenset()] * len(t)),
            st.lists(FLAGS, min_size=len(t), max_size=len(t)),
        )
    )
    seq = data.draw(
        st.one_of(
            st.just(None),
            st.lists(st.integers(0, 2**62), min_size=len(t), max_size=len(t)).map(sorted),
        )
    )
    block = decode(encode(t, v, f, seq))
    assert len(block) == len(t)
    assert list(block.seq) == (list(range(len(t))) if seq is None else seq)
    assert [iso_utc(x) for x in block.t] == [iso_utc(x) for x in t]
    # to the microsecond: half a microsecond off at most (plus the float rounding of the
    # decoded value itself: 1.5546875 s is stored as 1554688 µs, read back as 1.554688)
    assert all(abs(a - b) <= 0.5e-6 + math.ulp(b) for a, b in zip(block.t, t, strict=True))
    assert [struct_bits(x) for x in block.value] == [struct_bits(x) for x in v]
    assert list(block.flags) == f


def struct_bits(x: float) -> bytes:
    import struct

    return struct.pack("<d", x)


def test_a_regular_waveform_costs_about_a_byte_a_sample() -> None:
    n = 100
    t = T0 + np.arange(n) / 100.0
    pleth = np.round(50 + 40 * np.sin(np.arange(n) / 8))
    size = len(encode(t, pleth, [frozenset()] * n))
    assert size < 1.5 * n, size


def test_an_empty_block_and_a_single_sample() -> None:
    assert len(decode(encode([], [], []))) == 0
    one = decode(encode([T0 + 0.5], [math.nan], [frozenset({"sensor_off"})]))
    assert math.isnan(one.value[0]) and one.flags == (frozenset({"sensor_off"}),)


def test_bytes_that_are_not_a_block_are_refused() -> None:
    with pytest.raises(BlockFormatError):
        decode(b"not a block")
    good = encode([T0, T0 + 1], [1.0, 2.0], [frozenset(), frozenset()])
    import zlib

    with pytest.raises(BlockFormatError):
        decode(zlib.compress(zlib.decompress(good)[:-3]))
    with pytest.raises(ValueError, match="2 times, 1 values, 2 flag sets"):
        encode([T0, T0 + 1], [1.0], [frozenset(), frozenset()])
