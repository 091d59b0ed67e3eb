"""GE/Datex-Ohmeda S/5 Computer Interface ("DRI") physiological records over RS-232.

Public sources for the layout (no vendor document is stored here): the open-source
VSCapture (John George, LGPL; C# ``S5Protocol.cs`` and its struct declarations) and
``KaiWU17TUM/icu_devices`` (C ``datex.h``), which agree byte for byte.

Framing: 0x7E starts and ends a frame; inside, 0x7E and 0x7D are sent as 0x7D followed
by the byte XOR 0x20; the last unescaped byte is the 8-bit sum of the others. A record
is a 40-byte header (``r_len``, ``r_nbr``, ``dri_level``, ``plug_id``, ``r_time``,
``n_subnet``, reserved, reserved, ``r_maintype``, then 8 subrecord descriptors of
(int16 offset, uint8 type), type 0xFF ending the list) followed by subrecords at the
given offsets from the end of the header. A physiological (``r_maintype`` 0) subrecord
is 278 bytes: uint32 unix time, 270 bytes of one data class, marker, reserved, and
``cl_drilvl_subt`` (bits 8-11 the class, 0 = basic; bits 0-7 the subtype, 1 displayed,
2 10-s trend, 3 60-s trend). In the basic class, groups are a 6-byte header (uint32
status, bit0 "exists", bit1 "active"; uint16 label) and int16 values; values at or below
-32001 are the reserved "invalid / not updated / out of range" codes.

Decoded here: ECG heart rate (1/min), NIBP systolic/diastolic/mean (1/100 mmHg) and SpO2
(1/100 %). Waveform, alarm and network records are ignored (not malformed).
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime

from kapdesk.acquisition.parsers.stream_errors import ProblemCounter
from kapdesk.domain.readings import Reading

FLAG = 0x7E
ESCAPE = 0x7D
ESCAPE_XOR = 0x20
MAX_PENDING = 4096  # bytes without a delimiter before the buffer is declared garbage

HEADER = struct.Struct("<hBBHIBBHh" + "hB" * 8)
HEADER_SIZE = HEADER.size  # 40
SUBRECORD_LIST_END = 0xFF
MAINTYPE_PHDB = 0

SUBRECORD_SIZE = 278
PHYSDATA_OFFSET = 4  # after the uint32 time
CLASS_BASIC = 0
SUBTYPES = {1: "displayed", 2: "10s_trend", 3: "60s_trend"}

GROUP_EXISTS = 0x01
ECG_GROUP = 0  # offsets inside the 270-byte basic class
NIBP_GROUP = 72
SPO2_GROUP = 118
GROUP_HEADER_SIZE = 6

INVALID_LIMIT = -32001


class RecordError(ValueError):
    """A frame that passed its checksum but does not hold a valid record."""


def unescape(segment: bytes) -> bytes:
    out = bytearray()
    escaped = False
    for b in segment:
        if escaped:
            if b not in (FLAG ^ ESCAPE_XOR, ESCAPE ^ ESCAPE_XOR):
                raise RecordError(f"invalid escape sequence 0x7D 0x{b:02X}")
            out.append(b ^ ESCAPE_XOR)
            escaped = False
        elif b == ESCAPE:
            escaped = True
        else:
            out.append(b)
    if escaped:
        raise RecordError("frame ends inside an escape sequence")
    return bytes(out)


def _value(physdata: bytes, offset: int, scale: float) -> float | None:
    (raw,) = struct.unpack_from("<h", physdata, offset)
    if raw <= INVALID_LIMIT:
        return None
    return raw * scale if scale != 1 else float(raw)


def _group_exists(physdata: bytes, offset: int) -> bool:
    (status,) = struct.unpack_from("<I", physdata, offset)
    return bool(status & GROUP_EXISTS)


def decode_basic(physdata: bytes, device_time: datetime | None) -> list[Reading]:
    """Readings of a 270-byte basic-class block: ECG HR, NIBP, SpO2 (when the group exists)."""
    values: list[tuple[str, int, int, float, str]] = [
        ("heart_rate", ECG_GROUP, 0, 1, "/min"),
        ("nibp_systolic", NIBP_GROUP, 0, 0.01, "mm[Hg]"),
        ("nibp_diastolic", NIBP_GROUP, 2, 0.01, "mm[Hg]"),
        ("nibp_mean", NIBP_GROUP, 4, 0.01, "mm[Hg]"),
        ("spo2", SPO2_GROUP, 0, 0.01, "%"),
    ]
    readings = []
    for channel, group, field, scale, unit in values:
        if not _group_exists(physdata, group):
            continue
        value = _value(physdata, group + GROUP_HEADER_SIZE + field, scale)
        if value is not None:
            readings.append(Reading(channel, round(value, 2), unit, device_time=device_time))
    return readings


def decode_record(record: bytes) -> list[Reading]:
    """Readings of one unframed record; ``RecordError`` when its layout is inconsistent."""
    if len(record) < HEADER_SIZE:
        raise RecordError(f"record of {len(record)} byte(s) is shorter than its 40-byte header")
    fields = HEADER.unpack_from(record)
    maintype = fields[8]
    if maintype != MAINTYPE_PHDB:
        return []
    descriptors = list(zip(fields[9::2], fields[10::2], strict=True))
    readings: list[Reading] = []
    for index, (offset, sr_type) in enumerate(descriptors):
        if sr_type == SUBRECORD_LIST_END:
            break
        start = HEADER_SIZE + offset
        if offset < 0 or start + SUBRECORD_SIZE > len(record):
            raise RecordError(
                f"subrecord {index} at offset {offset} needs {SUBRECORD_SIZE} bytes but the "
                f"record has {len(record) - HEADER_SIZE} after its header"
            )
        sub = record[start : start + SUBRECORD_SIZE]
        (unix_time,) = struct.unpack_from("<I", sub, 0)
        (cl_drilvl_subt,) = struct.unpack_from("<H", sub, SUBRECORD_SIZE - 2)
        if (cl_drilvl_subt >> 8) & 0x0F != CLASS_BASIC or cl_drilvl_subt & 0xFF not in SUBTYPES:
            continue
        device_time = datetime.fromtimestamp(unix_time, UTC) if unix_time else None
        readings.extend(decode_basic(sub[PHYSDATA_OFFSET : PHYSDATA_OFFSET + 270], device_time))
    return readings


def decode_frame_body(segment: bytes) -> list[Reading]:
    """Readings of the bytes between two 0x7E delimiters: unescape, checksum, record."""
    payload = unescape(segment)
    if len(payload) < 2:
        raise RecordError(f"frame of {len(payload)} byte(s) is too short for a checksum")
    expected = sum(payload[:-1]) & 0xFF
    if payload[-1] != expected:
        raise RecordError(f"bad checksum 0x{payload[-1]:02X} (expected 0x{expected:02X})")
    return decode_record(payload[:-1])


class Decoder:
    """Splits an S/5 byte stream on 0x7E delimiters and decodes each frame; never raises.

    Everything between two delimiters is one candidate frame, so garbage is dropped by
    the next delimiter and counted once. The monitor repeats the last NIBP result in every
    record until a new measurement, so NIBP readings repeat too (same values).
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._problems = ProblemCounter()
        self._synced = False  # a delimiter has been seen

    @property
    def malformed(self) -> int:
        return self._problems.malformed

    @property
    def last_error(self) -> str | None:
        return self._problems.last_error

    def feed(self, data: bytes) -> list[Reading]:
        self._buffer += data
        buf = self._buffer
        readings: list[Reading] = []
        while (index := buf.find(FLAG)) >= 0:
            segment = bytes(buf[:index])
            del buf[: index + 1]
            if not self._synced:
                self._synced = True
                if segment:
                    self._problems.problem(
                        f"Datex S/5: skipped {len(segment)} byte(s) before the first 0x7E"
                    )
                continue
            if not segment:
                continue
            try:
                readings.extend(decode_frame_body(segment))
            except (RecordError, struct.error) as exc:
                self._problems.problem(f"Datex S/5: {exc}")
        if len(buf) > MAX_PENDING:
            self._problems.problem(f"Datex S/5: {len(buf)} bytes without a 0x7E delimiter")
            buf.clear()
            self._synced = False
        return readings
