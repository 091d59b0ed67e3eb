"""SFLOAT decoding against the spec example and the special values; encode round trip."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kapdesk.acquisition.parsers.sfloat import decode_sfloat, special_name
from kapdesk.sim.encoders.sfloat import (
    NAN,
    NEG_INF,
    NRES,
    POS_INF,
    RESERVED,
    encode_sfloat,
    pack_sfloat,
)


def raw(b: bytes) -> int:
    return int.from_bytes(b, "little")


def test_published_example_exponent_is_not_biased() -> None:
    assert decode_sfloat(raw(bytes.fromhex("BDF0"))) == 18.9


@pytest.mark.parametrize(
    ("data", "name"),
    [(NAN, "NaN"), (NRES, "NRes"), (POS_INF, "+INF"), (NEG_INF, "-INF"), (RESERVED, "reserved")],
)
def test_special_values_are_not_numbers(data: bytes, name: str) -> None:
    assert decode_sfloat(raw(data)) is None
    assert special_name(raw(data)) == name


def test_negative_mantissa_and_positive_exponent() -> None:
    assert decode_sfloat(raw(pack_sfloat(-5, 2))) == -500.0
    assert decode_sfloat(raw(pack_sfloat(2047, -8))) == pytest.approx(2047e-8)


def test_encoder_prefers_the_shortest_exact_form() -> None:
    assert encode_sfloat(72) == bytes.fromhex("4800")
    assert encode_sfloat(18.9) == bytes.fromhex("BDF0")
    assert encode_sfloat(math.nan) == NAN


def test_encoder_refuses_what_does_not_fit() -> None:
    with pytest.raises(ValueError, match="too large"):
        encode_sfloat(3e10)


SPECIAL_MANTISSAS_AT_EXPONENT_0 = {2047, 2046, -2048, -2047, -2046}


@given(st.integers(-2048, 2047), st.integers(-8, 7))
def test_every_mantissa_exponent_decodes(mantissa: int, exponent: int) -> None:
    assume(exponent != 0 or mantissa not in SPECIAL_MANTISSAS_AT_EXPONENT_0)
    data = pack_sfloat(mantissa, exponent)
    assert decode_sfloat(raw(data)) == pytest.approx(mantissa * 10.0**exponent, rel=1e-12)


@given(st.integers(-2048, 2047), st.integers(-3, 3))
def test_encoded_values_decode_to_themselves(mantissa: int, exponent: int) -> None:
    assume(exponent != 0 or mantissa not in SPECIAL_MANTISSAS_AT_EXPONENT_0)
    value = mantissa * 10.0**exponent
    assert decode_sfloat(raw(encode_sfloat(value))) == pytest.approx(value, rel=1e-12)


def test_the_nan_code_is_never_produced_for_a_number() -> None:
    assert encode_sfloat(2047) != NAN
    assert decode_sfloat(raw(encode_sfloat(2047))) == pytest.approx(2047, rel=0.01)
