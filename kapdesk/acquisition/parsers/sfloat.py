"""IEEE 11073-20601 16-bit SFLOAT, the number format of the BLE health profiles.

Hand-written (a dozen lines) because the open-source GATT libraries we looked at either
pull in a whole BLE stack or get the exponent wrong (treat it as biased); it is not.
"""

from __future__ import annotations

#: Reserved raw values (exponent 0): none of these is a number.
SFLOAT_NAN = 0x07FF
SFLOAT_NRES = 0x0800
SFLOAT_POS_INF = 0x07FE
SFLOAT_NEG_INF = 0x0802
SFLOAT_RESERVED = 0x0801

SPECIAL_VALUES: dict[int, str] = {
    SFLOAT_NAN: "NaN",
    SFLOAT_NRES: "NRes",
    SFLOAT_POS_INF: "+INF",
    SFLOAT_NEG_INF: "-INF",
    SFLOAT_RESERVED: "reserved",
}


def special_name(raw: int) -> str | None:
    """The name of a special value ("NaN", "NRes", ...), or None for an ordinary number."""
    return SPECIAL_VALUES.get(raw & 0xFFFF)


def decode_sfloat(raw: int) -> float | None:
    """The value of a raw uint16 SFLOAT, or None for a special value (never a fake number).

    Bits 15-12: exponent, 4-bit two's complement (-8..7, NOT biased); bits 11-0: mantissa,
    12-bit two's complement. Negative exponents divide by a power of ten so that e.g.
    189e-1 is exactly 18.9 rather than 18.900000000000002.
    """
    raw &= 0xFFFF
    if raw in SPECIAL_VALUES:
        return None
    exponent = raw >> 12
    if exponent >= 0x8:
        exponent -= 0x10
    mantissa = raw & 0x0FFF
    if mantissa >= 0x0800:
        mantissa -= 0x1000
    if exponent < 0:
        return mantissa / 10.0 ** (-exponent)
    return float(mantissa * 10**exponent)
