"""Issue 13's storage figures: what a realistic session costs on disk, and how fast it
comes back, in blocks next to the row-per-sample schema it replaced (revision 0003).

The same ``hours`` of the realistic load (``loads.REALISTIC``, values as the devices
send them: whole beats per minute and percent, RR intervals in 1/1024 s, an 8-bit pleth,
whole mmHg) are written twice:

- through the real ``Recorder`` into a database at head: its size per session hour, the
  JSON export of the session (``write_json``), the whole-session trend of four vitals
  from the minute summaries (``minute_trend``), and the trends a resume reads back;
- as a row per sample into a database at revision 0003 (the schema before blocks): its
  size per session hour and its export (the old query, one ``json.dumps`` a row), then
  the migration of that database to head, conversion and check included.

Sizes are the SQLite file after a checkpoint, less the file of an empty database.
"""

from __future__ import annotations

import io
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import text

from benchmarks.loads import REALISTIC, normal_value
from kapdesk.domain.channels import CHANNELS, Sampling
from kapdesk.domain.clock import iso_utc
from kapdesk.domain.patients import Patient
from kapdesk.domain.readings import Reading
from kapdesk.domain.session import Session
from kapdesk.storage.database import create_db_engine, migrate, open_database
from kapdesk.storage.export import write_json
from kapdesk.storage.recorder import Recorder
from kapdesk.storage.records import add_patient, add_session
from kapdesk.storage.signals.reader import channel_names, iter_samples, minute_trend

T0 = 1_796_000_000.0
TREND_CHANNELS = ("heart_rate", "spo2", "pulse_rate", "nibp_systolic")


def device_value(channel: str, s: float) -> float:
    """``normal_value`` at the resolution the device sends it."""
    v = normal_value(channel, s)
    if channel == "rr_interval":
        return round(v * 1024) / 1024
    return float(round(v))


def realistic(hours: float) -> Iterator[Reading]:
    """The realistic load's readings for ``hours``, in time order."""
    streams = REALISTIC.streams
    end = hours * 3600
    index = [0] * len(streams)
    while True:
        due = [(s.phase_s + index[i] / s.rate_hz, i) for i, s in enumerate(streams)]
        t, i = min(due)
        if t >= end:
            return
        s = streams[i]
        index[i] += 1
        yield Reading(s.channel, device_value(s.channel, t), s.unit, T0 + t, s.device)


def _size(path: Path) -> int:
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return path.stat().st_size


def _empty_size(workdir: Path) -> int:
    path = workdir / "empty.sqlite3"
    open_database(f"sqlite:///{path}").dispose()
    return _size(path)


def _timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def measure_blocks(workdir: Path, hours: float, empty: int) -> dict[str, Any]:
    path = workdir / "blocks.sqlite3"
    engine = open_database(f"sqlite:///{path}")
    rec = Recorder(engine).start()

    def new_session(s: Any) -> int:
        p = Patient("Benchmark")
        add_patient(s, p)
        sess = Session(p.id, "im-ketamine")
        add_session(s, sess)
        assert sess.id is not None
        return sess.id

    sid = rec.call(new_session)
    rec.session_id = sid
    n = 0
    cpu0 = time.process_time()
    for r in realistic(hours):
        rec.record_reading(r)
        n += 1
    rec.flush(timeout=600)
    write_cpu = time.process_time() - cpu0
    rec.stop()
    size = _size(path) - empty
    export_s, exported = _timed(lambda: write_json(engine, sid, io.StringIO()))
    trend_s, trends = _timed(lambda: [minute_trend(engine, sid, c) for c in TREND_CHANNELS])
    waveforms = {c.name for c in CHANNELS.values() if c.sampling is Sampling.WAVEFORM}
    resume_s, restored = _timed(
        lambda: sum(1 for _ in iter_samples(engine, sid, channel_names(engine) - waveforms))
    )
    with engine.connect() as conn:
        blocks = conn.execute(text("SELECT count(*) FROM reading_blocks")).scalar_one()
    engine.dispose()
    assert exported == n, (exported, n)
    return {
        "readings": n,
        "blocks": blocks,
        "bytes": size,
        "mb_per_hour": size / hours / 1e6,
        "bytes_per_reading": size / n,
        "feed_cpu_s_per_hour": write_cpu / hours,  # this process: producer, writer, codec
        "export_s": export_s,
        "export_s_per_2h": export_s * 2 / hours,
        "trend_ms": trend_s * 1000,
        "trend_points": sum(len(t.t) for t in trends),
        "resume_trend_ms": resume_s * 1000,
        "resume_trend_samples": restored,
    }


def measure_rows(workdir: Path, hours: float, empty: int) -> dict[str, Any]:
    path = workdir / "rows.sqlite3"
    url = f"sqlite:///{path}"
    engine = create_db_engine(url)
    migrate(engine, "0003")
    engine.dispose()
    con = sqlite3.connect(path)
    con.execute(
        "INSERT INTO patients (uid, display_name, allergies, medications, notes, baseline,"
        " created_at) VALUES ('p', 'Benchmark', '', '', '', '{}', 0)"
    )
    con.execute(
        "INSERT INTO sessions (uid, patient_id, protocol, state, clock_speed, created_at)"
        " VALUES ('s', 1, 'im-ketamine', 'completed', 1.0, 0)"
    )
    con.executemany(
        "INSERT INTO readings (session_id, t, channel, value, unit, device, flags)"
        " VALUES (1, ?, ?, ?, ?, ?, '')",
        ((r.t, r.channel, r.value, r.unit, r.device) for r in realistic(hours)),
    )
    con.commit()
    n = con.execute("SELECT count(*) FROM readings").fetchone()[0]
    con.close()
    size = _size(path) - empty

    def old_export() -> int:  # export.py's reading loop before issue 13
        out = io.StringIO()
        con = sqlite3.connect(path)
        k = 0
        for t, ch, v, unit, dev, flags, orig in con.execute(
            "SELECT t, channel, value, unit, device, flags, original_unit FROM readings"
            " WHERE session_id = 1 ORDER BY t, id"
        ):
            item: dict[str, Any] = {"t": iso_utc(t), "channel": ch, "value": v, "unit": unit}
            item |= {"device": dev, "flags": flags.split(",") if flags else []}
            if orig:
                item["original_unit"] = orig
            out.write(",\n  " + json.dumps(item, ensure_ascii=False))
            k += 1
        con.close()
        return k

    export_s, exported = _timed(old_export)
    assert exported == n
    engine = create_db_engine(url)
    migrate_s, _ = _timed(lambda: migrate(engine, "head"))
    engine.dispose()
    return {
        "readings": n,
        "bytes": size,
        "mb_per_hour": size / hours / 1e6,
        "bytes_per_reading": size / n,
        "export_s": export_s,
        "export_s_per_2h": export_s * 2 / hours,
        "migration_s": migrate_s,
        "migration_s_per_2h": migrate_s * 2 / hours,
    }


def measure_storage(workdir: Path, hours: float) -> dict[str, Any]:
    empty = _empty_size(workdir)
    return {
        "session_hours": hours,
        "blocks": measure_blocks(workdir, hours, empty),
        "rows": measure_rows(workdir, hours, empty),
    }
