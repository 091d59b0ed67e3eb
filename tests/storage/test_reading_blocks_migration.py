"""Issue 13 point 5: a database made by the row-per-sample schema (revision 0003) is
converted into blocks, and its export comes out the same, sample for sample and byte for
byte; a conversion that would not give the rows back is refused and leaves the old
readings as they were."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from kapdesk.domain.clock import iso_utc
from kapdesk.storage import database
from kapdesk.storage.database import create_db_engine, current_revision, head_revision, migrate
from kapdesk.storage.export import iter_readings
from kapdesk.storage.signals import codec
from kapdesk.storage.signals.reader import iter_record_json, minute_trend

T0 = 1_796_000_000.0


def realistic_rows(session_id: int | None, start: float, minutes: float) -> list[tuple[Any, ...]]:
    """Ten minutes as the demo's monitors record them: a strap (heart rate 1 Hz, RR
    intervals in 1/1024 s), an oximeter (SpO2 and pulse rate stamped together, pleth
    60 Hz, sensor-off moments), a cuff every 2 min (three values at one time,
    one in kPa converted), jittered arrival times, a long device name."""
    rng = random.Random(f"rows-{session_id}")
    rows: list[tuple[Any, ...]] = []
    t = start
    end = start + minutes * 60
    strap, oxi, cuff = "Polar H10 " + "x" * 90, "CMS50D+", "A&D UA-651BLE"
    next_beat, next_nibp = start, start + 30
    while t < end:
        t += 1 / 60 + rng.gauss(0, 0.002)
        off = int(t - start) % 97 < 3
        value = 0.0 if off else float(rng.randint(0, 100))  # SQLite cannot hold a NaN
        rows.append((session_id, t, "pleth", value, "1", oxi, "sensor_off" * off, None))
        if int(t) != int(t - 1 / 60):
            rows.append((session_id, t, "spo2", 97.0 - (t % 3), "%", oxi, "", None))
            rows.append((session_id, t, "pulse_rate", 71.0, "/min", oxi, "", None))
            flags = "artifact" if rng.random() < 0.02 else ""
            rows.append(
                (session_id, t + 0.003, "heart_rate", 72.0 + rng.randint(-3, 3), "/min", strap,
                 flags, None)
            )  # fmt: skip
        if t >= next_beat:
            rr = rng.randint(700, 1000) / 1024
            rows.append((session_id, t + 0.001, "rr_interval", rr, "s", strap, "", None))
            next_beat += rr
        if t >= next_nibp:
            for channel, value in (("nibp_systolic", 121.0), ("nibp_diastolic", 79.0),
                                   ("nibp_mean", 93.0)):  # fmt: skip
                rows.append((session_id, t, channel, value, "mm[Hg]", cuff, "", "kPa"))
            next_nibp += 120
    return rows


def old_database(path: Path) -> str:
    url = f"sqlite:///{path}"
    engine = create_db_engine(url)
    migrate(engine, "0003")
    engine.dispose()
    con = sqlite3.connect(path)
    con.execute(
        "INSERT INTO patients (uid, display_name, allergies, medications, notes, baseline,"
        " created_at) VALUES ('p', 'Old', '', '', '', '{}', 0)"
    )
    for sid in (1, 2):
        con.execute(
            "INSERT INTO sessions (uid, patient_id, protocol, state, clock_speed, created_at)"
            f" VALUES ('s{sid}', 1, 'im-ketamine', 'completed', 1.0, 0)"
        )
    rows = realistic_rows(1, T0, 10) + realistic_rows(2, T0 + 3600, 4)
    rows += realistic_rows(None, T0 - 600, 0.5)  # before any session
    con.executemany(
        "INSERT INTO readings (session_id, t, channel, value, unit, device, flags,"
        " original_unit) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    con.commit()
    con.close()
    return url


def export_as_0003_wrote_it(path: Path, session_id: int) -> list[dict[str, Any]]:
    """The readings of the export as the row-per-sample schema's exporter made them
    (``kapdesk/storage/export.py`` before issue 13): ORDER BY t, id, one dict a row."""
    con = sqlite3.connect(path)
    out = []
    for t, ch, v, unit, dev, flags, orig in con.execute(
        "SELECT t, channel, value, unit, device, flags, original_unit FROM readings"
        " WHERE session_id = ? ORDER BY t, id",
        (session_id,),
    ):
        item: dict[str, Any] = {"t": iso_utc(t), "channel": ch, "value": v, "unit": unit}
        item |= {"device": dev, "flags": flags.split(",") if flags else []}
        if orig:
            item["original_unit"] = orig
        out.append(item)
    con.close()
    return out


def same(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    """Equal, NaN included (json.dumps writes NaN the same either way)."""
    return [json.dumps(x) for x in a] == [json.dumps(x) for x in b]


def test_point5_a_row_per_sample_database_converts_and_exports_the_same(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    url = old_database(path)
    before = {sid: export_as_0003_wrote_it(path, sid) for sid in (1, 2)}
    assert len(before[1]) > 35_000 and any(r["flags"] == ["sensor_off"] for r in before[1])
    engine = database.open_database(url)  # start-up migrates to head
    try:
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            tables = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master"))}
            blocks = conn.execute(text("SELECT count(*) FROM reading_blocks")).scalar_one()
        assert "readings" not in tables
        assert blocks < len(before[1]) / 20  # a block holds many samples
        for sid in (1, 2):
            after = list(iter_readings(engine, sid))
            assert len(after) == len(before[sid])
            assert same(after, before[sid])
            # the JSON export's text, byte for byte, as json.dumps made it per reading
            assert list(iter_record_json(engine, sid)) == [
                json.dumps(x, ensure_ascii=False) for x in before[sid]
            ]
        trend = minute_trend(engine, 1, "spo2")
        assert 10 <= len(trend.t) <= 11 and (trend.low <= trend.mean).all()  # 10 min, unaligned
        assert (trend.mean <= trend.high).all() and (trend.high <= 97.0).all()
    finally:
        engine.dispose()
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_point5_a_conversion_that_would_change_a_value_is_refused_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite3"
    url = old_database(path)
    rows_before = sqlite3.connect(path).execute("SELECT count(*) FROM readings").fetchone()[0]
    real_encode = codec.encode

    def lossy(t: Any, values: Any, flags: Any, seq: Any = None) -> bytes:
        values = [round(v) if v == v else v for v in values]  # drops the decimals
        return real_encode(t, values, flags, seq)

    monkeypatch.setattr(codec, "encode", lossy)
    with pytest.raises(database.DatabaseError, match="differ from the rows"):
        database.open_database(url)
    con = sqlite3.connect(path)
    try:
        assert con.execute("SELECT version_num FROM alembic_version").fetchone() == ("0003",)
        assert con.execute("SELECT count(*) FROM readings").fetchone()[0] == rows_before
        assert not con.execute(
            "SELECT name FROM sqlite_master WHERE name = 'reading_blocks'"
        ).fetchall()
    finally:
        con.close()
