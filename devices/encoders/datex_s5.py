"""GE/Datex-Ohmeda S/5 computer-interface frames: physiological records and requests.

Layout as in kapdesk/acquisition/parsers/datex_s5.py (see docs/protocols.md for the
public sources); written separately so the round-trip tests compare two readings.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

FLAG = 0x7E
ESCAPE = 0x7D
DATA_INVALID = -32767
DRI_MT_PHDB = 0
DRI_PH_DISPL = 1
CLASS_BASIC = 0
SUBRECORD_SIZE = 278
BASIC_SIZE = 270


def frame(record: bytes) -> bytes:
    """0x7E, the record and its 8-bit sum with 0x7E/0x7D escaped, 0x7E."""
    payload = record + bytes((sum(record) & 0xFF,))
    body = bytearray()
    for b in payload:
        if b in (FLAG, ESCAPE):
            body += bytes((ESCAPE, b ^ 0x20))
        else:
            body.append(b)
    return bytes((FLAG,)) + bytes(body) + bytes((FLAG,))


def header(
    maintype: int, subrecords: Sequence[tuple[int, int]], *, r_len: int, r_time: int = 0
) -> bytes:
    """The 40-byte record header; ``subrecords`` are (offset, type) pairs (at most 7)."""
    descs = [*subrecords, (0, 0xFF)] + [(0, 0)] * (7 - len(subrecords))
    flat = [v for pair in descs for v in pair]
    return struct.pack("<hBBHIBBHh" + "hB" * 8, r_len, 0, 0, 0, r_time, 0, 0, 0, maintype, *flat)


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


def phdb_request(interval_s: int = 10, record_type: int = DRI_PH_DISPL) -> bytes:
    """The framed request that starts (interval > 0) or stops (0) physiological records."""
    body = struct.pack("<BhIh", record_type, interval_s, 0, 0)
    return frame(header(DRI_MT_PHDB, [(0, 0)], r_len=40 + len(body)) + body)
