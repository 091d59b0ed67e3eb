"""IEEE 11073 16-bit SFLOAT encoding (exponent 4-bit two's complement, not biased)."""

from __future__ import annotations

import math

NAN = (0x07FF).to_bytes(2, "little")
NRES = (0x0800).to_bytes(2, "little")
POS_INF = (0x07FE).to_bytes(2, "little")
NEG_INF = (0x0802).to_bytes(2, "little")
RESERVED = (0x0801).to_bytes(2, "little")

MANTISSA_MIN, MANTISSA_MAX = -2048, 2047
EXPONENT_MIN, EXPONENT_MAX = -8, 7
_SPECIAL_MANTISSAS = {0x07FF, 0x0800, 0x07FE, 0x0802, 0x0801}


def pack_sfloat(mantissa: int, exponent: int) -> bytes:
    """The two bytes of mantissa * 10**exponent; raises ValueError when out of range."""
    if not MANTISSA_MIN <= mantissa <= MANTISSA_MAX:
        raise ValueError(f"SFLOAT mantissa {mantissa} outside {MANTISSA_MIN}..{MANTISSA_MAX}")
    if not EXPONENT_MIN <= exponent <= EXPONENT_MAX:
        raise ValueError(f"SFLOAT exponent {exponent} outside {EXPONENT_MIN}..{EXPONENT_MAX}")
    raw = (exponent & 0x0F) << 12 | (mantissa & 0x0FFF)
    if raw in _SPECIAL_MANTISSAS:  # only exponent 0 with these mantissas; cannot happen
        raise ValueError(f"mantissa {mantissa} with exponent 0 is a reserved SFLOAT code")
    return raw.to_bytes(2, "little")


def encode_sfloat(value: float) -> bytes:
    """The shortest exact SFLOAT for ``value`` (72 -> 72e0), else the most precise one.

    NaN and +/-inf become the special codes. Raises ValueError for magnitudes an SFLOAT
    cannot hold (above 2047e7).
    """
    if math.isnan(value):
        return NAN
    if math.isinf(value):
        return POS_INF if value > 0 else NEG_INF
    best: bytes | None = None
    for exponent in range(EXPONENT_MAX, EXPONENT_MIN - 1, -1):
        mantissa = round(value / 10.0**exponent)
        if not MANTISSA_MIN <= mantissa <= MANTISSA_MAX:
            break  # smaller exponents only make the mantissa larger
        if exponent == 0 and mantissa & 0x0FFF in _SPECIAL_MANTISSAS:
            continue  # e.g. 2047e0 is the NaN code
        best = pack_sfloat(mantissa, exponent)
        if math.isclose(mantissa * 10.0**exponent, value, rel_tol=1e-12, abs_tol=1e-12):
            return best
    if best is None:
        raise ValueError(f"{value} is too large for an SFLOAT")
    return best
