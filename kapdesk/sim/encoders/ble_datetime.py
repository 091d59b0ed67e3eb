"""The 7-byte BLE Date Time field (uint16 year, month, day, hour, minute, second)."""

from __future__ import annotations

from datetime import datetime


def encode_date_time(moment: datetime | None) -> bytes:
    """Seven bytes; None encodes "unknown" (all zero)."""
    if moment is None:
        return bytes(7)
    return moment.year.to_bytes(2, "little") + bytes(
        (moment.month, moment.day, moment.hour, moment.minute, moment.second)
    )
