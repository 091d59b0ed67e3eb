"""Field types shared by the BLE health profiles: SFLOAT values and the Date Time field."""

from __future__ import annotations

from datetime import datetime

from kapdesk.acquisition.parsers.errors import ParseError
from kapdesk.acquisition.parsers.frame_reader import FrameReader
from kapdesk.acquisition.parsers.sfloat import decode_sfloat

DATE_TIME_SIZE = 7


def read_sfloat(reader: FrameReader, field: str) -> float | None:
    """The next SFLOAT; None for NaN/NRes/INF/reserved, which callers treat as a gap."""
    return decode_sfloat(reader.u16(field))


def read_date_time(reader: FrameReader, field: str = "timestamp") -> datetime | None:
    """The 7-byte Date Time field; None when the device says a part is unknown (0).

    The device's clock has no time zone, so the result is naive local device time. A
    month, day or time that cannot exist means a corrupt frame and raises ``ParseError``.
    """
    raw = reader.take(DATE_TIME_SIZE, field)
    year = int.from_bytes(raw[0:2], "little")
    month, day, hour, minute, second = raw[2], raw[3], raw[4], raw[5], raw[6]
    if year == 0 or month == 0 or day == 0:
        return None
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise ParseError(
            f"{reader.what} {field} is not a valid date/time "
            f"({year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:{second:02d}): {exc}"
        ) from None


def bit_flags(value: int, names: dict[int, str]) -> set[str]:
    """The names of the set bits of a status field (bit number -> flag name)."""
    return {name for bit, name in names.items() if value >> bit & 1}
