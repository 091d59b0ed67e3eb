"""GE/Datex-Ohmeda S/5 computer-interface frames: the physiological records a monitor sends.

The framing and the request kapdesk writes are acquisition's (``datex_request``).

Layout as in kapdesk/acquisition/parsers/datex_s5.py (see docs/protocols.md for the
public sources); written separately so the round-trip tests compare two readings.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from kapdesk.acquisition.datex_request import DRI_MT_PHDB, DRI_PH_DISPL, frame, header
from kapdesk.acquisition.datex_request import phdb_request as phdb_request  # the emulator's tests

DATA_INVALID = -32767
CLASS_BASIC = 0
SUBRECORD_SIZE = 278
BASIC_SIZE = 270


def _group(values: Sequence[int], exists: bool) -> bytes:
    status = 0x03 if exists else 0  # exists | active
    return struct.pack("<IH", status, 0) + struct.pack(f"<{len(values)}h", *values)


def _scaled(value: float | None, scale: int) -> int:
    return DATA_INVALID if value is None else round(value * scale)


def basic_class(
    *,
    heart_rate: int | None = None,
    nibp: tuple[float | None, float | None, float | None] | None = None,
    spo2: float | None = None,
) -> bytes:
    """A 270-byte basic class with the ECG, NIBP and SpO2 groups filled (others absent)."""
    data = bytearray(BASIC_SIZE)
    ecg = _group([_scaled(heart_rate, 1), 0, 0, 0, 0], heart_rate is not None)
    data[0 : len(ecg)] = ecg
    sys_, dia, mean = nibp if nibp is not None else (None, None, None)
    nibp_group = _group(
        [_scaled(sys_, 100), _scaled(dia, 100), _scaled(mean, 100), DATA_INVALID],
        nibp is not None,
    )
    data[72 : 72 + len(nibp_group)] = nibp_group
    spo2_group = _group([_scaled(spo2, 100), DATA_INVALID, 0, DATA_INVALID], spo2 is not None)
    data[118 : 118 + len(spo2_group)] = spo2_group
    return bytes(data)


def phdb_record(
    *,
    unix_time: int,
    heart_rate: int | None = None,
    nibp: tuple[float | None, float | None, float | None] | None = None,
    spo2: float | None = None,
    subtype: int = DRI_PH_DISPL,
) -> bytes:
    """An unframed physiological record with one basic-class subrecord."""
    sub = (
        struct.pack("<I", unix_time)
        + basic_class(heart_rate=heart_rate, nibp=nibp, spo2=spo2)
        + struct.pack("<BBH", 0, 0, CLASS_BASIC << 8 | subtype)
    )
    hdr = header(DRI_MT_PHDB, [(0, subtype)], r_len=40 + len(sub), r_time=unix_time)
    return hdr + sub


def phdb_frame(
    *,
    unix_time: int,
    heart_rate: int | None = None,
    nibp: tuple[float | None, float | None, float | None] | None = None,
    spo2: float | None = None,
    subtype: int = DRI_PH_DISPL,
) -> bytes:
    """``frame(phdb_record(...))``: what the monitor sends every 5-60 s."""
    return frame(
        phdb_record(
            unix_time=unix_time, heart_rate=heart_rate, nibp=nibp, spo2=spo2, subtype=subtype
        )
    )
