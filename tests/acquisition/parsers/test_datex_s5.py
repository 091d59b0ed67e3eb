"""Datex-Ohmeda S/5 records: framing, escaping, checksum, invalid values, resync."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from kapdesk.acquisition.parsers.datex_s5 import Decoder, unescape
from kapdesk.sim.encoders import datex_s5 as enc

T0 = 1_700_000_000


def values(readings: list) -> dict[str, float]:  # type: ignore[type-arg]
    return {r.channel: r.value for r in readings}


def test_phdb_record_decodes_nibp_spo2_and_hr_with_device_time() -> None:
    frame = enc.phdb_frame(unix_time=T0, heart_rate=64, nibp=(118.5, 76, 90.25), spo2=98.5)
    readings = Decoder().feed(frame)
    assert values(readings) == {
        "heart_rate": 64,
        "nibp_systolic": 118.5,
        "nibp_diastolic": 76,
        "nibp_mean": 90.25,
        "spo2": 98.5,
    }
    assert {r.device_time for r in readings} == {datetime.fromtimestamp(T0, UTC)}
    assert next(r for r in readings if r.channel == "nibp_mean").unit == "mm[Hg]"


def test_invalid_values_and_absent_groups_are_gaps() -> None:
    frame = enc.phdb_frame(unix_time=T0, heart_rate=None, nibp=(None, None, None), spo2=None)
    decoder = Decoder()
    assert decoder.feed(frame) == []
    assert decoder.malformed == 0


def test_escaping_of_flag_and_escape_bytes() -> None:
    record = enc.phdb_record(unix_time=0x7E7D7E7D, heart_rate=0x7E, spo2=None)
    frame = enc.frame(record)
    assert 0x7E not in frame[1:-1]
    assert unescape(frame[1:-1])[:-1] == record
    (hr,) = Decoder().feed(frame)
    assert hr.value == 0x7E


def test_bad_checksum_and_garbage_are_counted_and_skipped() -> None:
    good = enc.phdb_frame(unix_time=T0, heart_rate=70)
    bad = bytearray(good)
    bad[60] ^= 0x01
    decoder = Decoder()
    readings = decoder.feed(b"noise" + good + bytes(bad) + b"\x7e\x01\x02\x7e" + good)
    assert [r.value for r in readings] == [70, 70]
    assert decoder.malformed == 3  # leading noise, bad checksum, a 2-byte frame
    assert decoder.last_error is not None


def test_truncated_subrecord_is_malformed() -> None:
    record = enc.phdb_record(unix_time=T0, heart_rate=70)[:-10]
    decoder = Decoder()
    assert decoder.feed(enc.frame(record)) == []
    assert decoder.last_error is not None and "subrecord 0" in decoder.last_error


def test_non_physiological_records_are_ignored_quietly() -> None:
    wave = enc.header(1, [(0, 1)], r_len=40) + struct.pack("<hHH", 0, 0, 0)
    decoder = Decoder()
    assert decoder.feed(enc.frame(wave)) == []
    assert decoder.malformed == 0


def test_request_frame_is_well_formed() -> None:
    request = enc.phdb_request(10)
    payload = unescape(request[1:-1])
    assert sum(payload[:-1]) & 0xFF == payload[-1]
    assert struct.unpack_from("<h", payload)[0] == 49  # r_len: header + request


@given(
    st.lists(
        st.tuples(st.integers(20, 250), st.integers(40, 250), st.integers(500, 10000)),
        min_size=1,
        max_size=4,
    ),
    st.integers(1, 97),
)
def test_round_trip_in_any_chunking(records: list[tuple[int, int, int]], step: int) -> None:
    stream = b"".join(
        enc.phdb_frame(
            unix_time=T0 + i, heart_rate=hr, nibp=(sys_, sys_ / 2, sys_ * 2 / 3), spo2=sat / 100
        )
        for i, (hr, sys_, sat) in enumerate(records)
    )
    decoder = Decoder()
    readings = []
    for i in range(0, len(stream), step):
        readings += decoder.feed(stream[i : i + step])
    assert [r.value for r in readings if r.channel == "heart_rate"] == [r[0] for r in records]
    assert [r.value for r in readings if r.channel == "spo2"] == [r[2] / 100 for r in records]
    assert [r.value for r in readings if r.channel == "nibp_systolic"] == [r[1] for r in records]
    assert decoder.malformed == 0
