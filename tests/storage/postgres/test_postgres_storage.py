"""The clinical record on a real PostgreSQL server, as a multi-room clinic runs it.

Migrations, the one-writer recorder, the session export and the CLI, then two
workstations (two runtimes, two engines, two writer threads) recording at the same time
into one database.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from access_support import CLINICIAN, sign_in_cli
from pg_cluster import PgServer
from sqlalchemy import Engine, inspect, text

from kapdesk.cli import main
from kapdesk.domain.clock import iso_utc
from kapdesk.domain.patients import Patient
from kapdesk.domain.readings import Reading
from kapdesk.domain.session import Session, SessionEvent
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import create_db_engine, current_revision, head_revision, migrate
from kapdesk.storage.database import open_database as _open_database
from kapdesk.storage.export import session_record, write_json
from kapdesk.storage.recorder import Recorder
from kapdesk.storage.records import add_patient, add_session, list_sessions
from kapdesk.storage.signals.reader import iter_samples


@pytest.fixture
def engines() -> Iterator[list[Engine]]:
    """Engines a test opens, disposed at its end (psycopg warns about unclosed ones)."""
    made: list[Engine] = []
    yield made
    for engine in made:
        engine.dispose()


OpenDb = Callable[[str], Engine]


@pytest.fixture
def open_db(engines: list[Engine]) -> OpenDb:
    """``open_database`` whose engines are disposed when the test ends."""

    def open_database(url: str) -> Engine:
        engine = _open_database(url)
        engines.append(engine)
        return engine

    return open_database


def count(engine: Engine, table: str, session_id: int | None = None) -> int:
    """Rows of ``table``; for "readings", the samples stored (in their blocks)."""
    where = "" if session_id is None else f" WHERE session_id = {int(session_id)}"
    what = "coalesce(sum(n), 0)" if table == "readings" else "count(*)"
    table = "reading_blocks" if table == "readings" else table
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT {what} FROM {table}{where}")).scalar_one())


def new_session(recorder: Recorder, name: str = "Test Patient") -> int:
    def create(s) -> int:  # type: ignore[no-untyped-def]
        p = Patient(name)
        add_patient(s, p)
        sess = Session(p.id, "im-ketamine")
        add_session(s, sess)
        assert sess.id is not None
        return sess.id

    sid = recorder.call(create)
    recorder.session_id = sid
    return sid


# -- migrations -----------------------------------------------------------------------------


def test_a_fresh_database_is_migrated_to_head_with_the_search_index(
    pg_url: str, open_db: OpenDb
) -> None:
    engine = open_db(pg_url)
    assert engine.dialect.name == "postgresql"
    assert current_revision(engine) == head_revision()
    insp = inspect(engine)
    tables = set(insp.get_table_names())
    assert {"patients", "sessions", "session_events", "reading_blocks", "alarms"} <= tables
    assert {"devices", "channels", "reading_minutes"} <= tables and "readings" not in tables
    assert {"journal_entries", "questionnaire_responses", "journal_safety_flags"} <= tables
    assert "journal_entries_fts" not in tables  # SQLite's FTS5 table has no place here
    with engine.connect() as conn:
        index = conn.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_journal_entries_fts'")
        ).scalar_one()
        # Epoch seconds at 100 Hz need double precision, not PostgreSQL's 4-byte real.
        types: dict[str, str] = dict(
            conn.execute(
                text(
                    "SELECT column_name, data_type FROM information_schema.columns"
                    " WHERE table_name = 'reading_blocks'"
                )
            ).all()
        )
        shared = conn.execute(
            text(
                "SELECT data_type FROM information_schema.columns"
                " WHERE table_name = 'journal_entries' AND column_name = 'shared'"
            )
        ).scalar_one()
    assert "gin" in index and "to_tsvector" in index
    assert types["t0"] == "double precision" and types["t1"] == "double precision"
    assert types["data"] == "bytea"
    assert shared == "boolean"
    engine.dispose()
    assert current_revision(open_db(pg_url)) == head_revision()  # opening again is harmless


def test_a_version_1_database_is_upgraded_in_place_keeping_its_data(
    pg_url: str, open_db: OpenDb
) -> None:
    old = create_db_engine(pg_url)
    try:
        migrate(old, "0001")
        with old.begin() as conn:
            pid = conn.execute(
                text(
                    "INSERT INTO patients (uid, display_name, allergies, medications, notes,"
                    " baseline, created_at) VALUES ('u1', 'Old Record', '', '', '',"
                    " '{\"heart_rate\": 64}', :t) RETURNING id"
                ),
                {"t": time.time()},
            ).scalar_one()
            sid = conn.execute(
                text(
                    "INSERT INTO sessions (uid, patient_id, protocol, state, clock_speed,"
                    " created_at) VALUES ('s1', :pid, 'im-ketamine', 'completed', 1, :t)"
                    " RETURNING id"
                ),
                {"pid": pid, "t": time.time()},
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO readings (session_id, t, channel, value, unit, device, flags)"
                    " VALUES (:sid, 1.5, 'heart_rate', 64, '/min', 'old', '')"
                ),
                {"sid": sid},
            )
        assert "journal_entries" not in inspect(old).get_table_names()
    finally:
        old.dispose()
    engine = open_db(pg_url)  # what start-up does
    assert current_revision(engine) == head_revision()
    assert "journal_entries" in inspect(engine).get_table_names()
    with engine.connect() as conn:  # and the journal's search index came with it
        assert (
            conn.execute(
                text("SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_journal_entries_fts'")
            ).scalar_one()
            == 1
        )
    [summary] = list_sessions(engine)
    assert (summary.id, summary.patient, summary.readings) == (sid, "Old Record", 1)
    rec = Recorder(engine).start()
    try:  # new rows after the upgrade get fresh ids from the same sequences
        new_sid = new_session(rec, "New Record")
    finally:
        rec.stop()
    assert new_sid > sid
    assert [s.patient for s in list_sessions(engine)] == ["Old Record", "New Record"]


# -- the recorder ---------------------------------------------------------------------------


def test_readings_are_committed_in_batches_within_the_flush_interval(
    pg_url: str, open_db: OpenDb
) -> None:
    engine = open_db(pg_url)
    rec = Recorder(engine, flush_interval=0.2).start()
    try:
        sid = new_session(rec)
        stop = threading.Event()

        def produce() -> None:  # a steady ~500 readings/s, as a busy device thread would
            i = 0
            while not stop.is_set():
                rec.record_reading(Reading("heart_rate", 60 + i % 40, "/min", t=time.time()))
                i += 1
                time.sleep(0.002)

        th = threading.Thread(target=produce)
        th.start()
        try:
            time.sleep(1.0)
            with engine.connect() as conn:  # another connection, as another workstation
                newest = conn.execute(text("SELECT max(t1) FROM reading_blocks")).scalar_one()
                batches = rec.commits
        finally:
            stop.set()
            th.join()
        assert newest is not None and time.time() - newest < 1.0
        assert batches >= 2  # several commits so far (batched, yet not held back)
    finally:
        rec.stop()
    assert count(engine, "readings", sid) == rec.readings_written > 100
    assert batches < rec.readings_written / 10  # many readings per transaction


def test_events_and_alarms_are_committed_at_once_with_their_json(
    pg_url: str, open_db: OpenDb
) -> None:
    engine = open_db(pg_url)
    rec = Recorder(engine, flush_interval=30.0).start()  # readings alone would wait 30 s
    try:
        sid = new_session(rec)
        rec.record_reading(Reading("spo2", 97, "%", t=1.0, flags=frozenset({"artifact", "b"})))
        rec.record_alarm(
            {"kind": "physiological", "priority": "high", "channel": "spo2",
             "condition": "low", "transition": "raised", "value": 87.0,
             "limits": [90, None], "note": "Sättigung ↓"},
            1.5,
        )  # fmt: skip
        data = {"amount_mg": 50, "route": "IM", "lot": "DEMO-1", "nested": {"ok": True}}
        fut = rec.record_event(sid, SessionEvent(2.0, "dose", "dosing", data))
        fut.result(timeout=5)
        # The event is committed, and so are the reading and alarm queued before it.
        assert count(engine, "session_events", sid) == 1
        assert count(engine, "readings", sid) == 1
        assert count(engine, "alarms", sid) == 1
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT data FROM session_events")).scalar_one()
            alarm = conn.execute(text("SELECT data FROM alarms")).scalar_one()
            (flags,) = [",".join(sorted(s.flags)) for s in iter_samples(conn, sid)]
            # JSON is queryable on the server, as a central station would read it.
            lot = conn.execute(text("SELECT data ->> 'lot' FROM session_events")).scalar_one()
    finally:
        rec.stop()
    assert stored == data and lot == "DEMO-1"
    assert alarm["limits"] == [90, None] and alarm["note"] == "Sättigung ↓"
    assert flags == "artifact,b"


def test_a_long_device_name_does_not_stall_recording(pg_url: str, open_db: OpenDb) -> None:
    """PostgreSQL enforces VARCHAR lengths that SQLite ignores; one over-long label must
    not turn a batch into one that fails and is retried for ever."""
    engine = open_db(pg_url)
    failures: list[str] = []
    rec = Recorder(engine, flush_interval=0.05, on_failure=failures.append).start()
    try:
        sid = new_session(rec)
        name = "Pulse oximeter " + "x" * 300
        rec.record_reading(Reading("spo2", 97, "%", t=1.0, device=name))
        rec.record_reading(Reading("spo2", 96, "%", t=2.0, device="short"))
        rec.flush()
        with engine.connect() as conn:
            devices = [s.series.device for s in iter_samples(conn, sid)]
    finally:
        rec.stop()
    assert failures == []
    assert count(engine, "readings", sid) == 2
    assert devices[0].startswith("Pulse oximeter xxx") and devices[1] == "short"


def test_a_server_restart_is_reported_and_nothing_is_lost(
    pg_url: str, pg_server: PgServer, open_db: OpenDb
) -> None:
    engine = open_db(pg_url)
    failures: list[str] = []
    recovered = threading.Event()
    rec = Recorder(
        engine, flush_interval=0.05, on_failure=failures.append, on_recovered=recovered.set
    ).start()
    try:
        sid = new_session(rec)
        rec.record_reading(Reading("heart_rate", 70, "/min", t=0.5))
        rec.flush()
        pg_server.stop()  # the clinic's server goes away mid-session
        try:
            for i in range(50):
                rec.record_reading(Reading("heart_rate", 70, "/min", t=1.0 + i))
            fut = rec.record_event(sid, SessionEvent(99.0, "note", None, {"text": "kept"}))
            deadline = time.monotonic() + 10
            while not failures and time.monotonic() < deadline:
                time.sleep(0.02)
            assert failures and "cannot be written" in failures[0] and "retried" in failures[0]
            assert not fut.done()
        finally:
            pg_server.start()
        assert recovered.wait(15)
        fut.result(timeout=5)
    finally:
        rec.stop()
    assert count(engine, "readings", sid) == 51
    assert count(engine, "session_events", sid) == 1
    assert len(failures) == 1  # told once per outage, not once per retry


def test_idle_connections_cut_by_the_server_are_replaced_without_an_alarm(
    pg_url: str, pg_server: PgServer, open_db: OpenDb
) -> None:
    """Servers and firewalls close idle connections; a workstation's next write must
    simply reconnect rather than raise a recording-failed alarm."""
    engine = open_db(pg_url)
    failures: list[str] = []
    rec = Recorder(engine, flush_interval=0.05, on_failure=failures.append).start()
    try:
        sid = new_session(rec)
        rec.flush()
        database = engine.url.database
        pg_server.admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            f" WHERE datname = '{database}' AND pid <> pg_backend_pid()"
        )
        rec.record_event(sid, SessionEvent(1.0, "note", None, {"text": "after"})).result(5)
    finally:
        rec.stop()
    assert failures == []
    assert count(engine, "session_events", sid) == 1


# -- export ---------------------------------------------------------------------------------


def test_a_session_exports_in_full(
    pg_url: str, open_db: OpenDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = open_db(pg_url)
    sign_in_cli(monkeypatch, pg_url)
    rec = Recorder(engine, flush_interval=0.05).start()
    try:
        sid = new_session(rec, "Export Patient")
        rec.record_event(sid, SessionEvent(10.0, "phase_entered", "prep", {"label": "Prep"}))
        for i in range(300):
            rec.record_reading(Reading("heart_rate", 60 + i % 30, "/min", t=10.0 + i * 0.01))
        rec.record_reading(
            Reading("nibp_systolic", 120, "mm[Hg]", t=12.0, original_unit="kPa", device="cuff")
        )
        rec.record_event(sid, SessionEvent(20.0, "phase_ended", "prep", {}))
        rec.flush()
    finally:
        rec.stop()
    out = io.StringIO()
    assert write_json(engine, sid, out) == 301
    streamed = json.loads(out.getvalue())
    record = session_record(engine, sid)
    assert streamed["readings"] == record["readings"]
    assert record["patient"]["display_name"] == "Export Patient"
    assert record["phases"] == [
        {
            "phase": "prep",
            "label": "Prep",
            "started_at": iso_utc(10.0),
            "ended_at": iso_utc(20.0),
        }
    ]
    times = [r["t"] for r in record["readings"]]
    assert times == sorted(times) and len(record["readings"]) == 301
    bp = [r for r in record["readings"] if r["channel"] == "nibp_systolic"]
    assert bp == [
        {
            "t": iso_utc(12.0),
            "channel": "nibp_systolic",
            "value": 120.0,
            "unit": "mm[Hg]",
            "device": "cuff",
            "flags": [],
            "original_unit": "kPa",
        }
    ]
    out_file = tmp_path / "session.json"
    assert (
        main(["export", "--session", str(sid), "-o", str(out_file), "--database-url", pg_url]) == 0
    )
    assert json.loads(out_file.read_text())["readings"] == record["readings"]


# -- two workstations, one database ---------------------------------------------------------


def _record_a_session(rt: Runtime, room: str, n: int, started: threading.Barrier) -> None:
    """What one room does: open a session, start it, stream readings, write notes."""
    rt.controller.open(Patient(f"Patient in {room}"), "im-ketamine")
    started.wait(10)  # both rooms have their session before either records
    rt.controller.start()
    for i in range(n):
        rt.hub.publish(Reading("heart_rate", 60 + i % 20, "/min", t=time.time(), device=room))
        if i % 100 == 0:
            rt.controller.record("note", {"room": room, "i": i})
        if i % 50 == 0:
            time.sleep(0.005)  # let the other room interleave


def test_two_workstations_record_two_sessions_at_once(pg_url: str, open_db: OpenDb) -> None:
    rooms = {"room-1": 1500, "room-2": 1100}
    runtimes = {
        room: Runtime.build(open_db(pg_url), flush_interval=0.05, actor=CLINICIAN) for room in rooms
    }
    barrier = threading.Barrier(len(rooms))
    errors: list[BaseException] = []

    def run(room: str) -> None:
        try:
            _record_a_session(runtimes[room], room, rooms[room], barrier)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(room,)) for room in rooms]
    try:
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
    finally:
        for rt in runtimes.values():
            rt.shutdown()
    assert errors == []
    sids: dict[str, int] = {}
    for room, rt in runtimes.items():
        assert rt.controller.session is not None and rt.controller.session.id is not None
        sids[room] = rt.controller.session.id
    assert len(set(sids.values())) == 2
    for rt in runtimes.values():  # every reading each workstation saw was written
        assert rt.recorder.failing is False
        assert rt.recorder.readings_written == rt.hub.counters.readings
    engine = open_db(pg_url)  # a third workstation looks at the shared record
    summaries = {s.id: s for s in list_sessions(engine)}
    assert set(summaries) == set(sids.values())
    for room, sid in sids.items():
        s = summaries[sid]
        assert (s.patient, s.readings, s.state) == (
            f"Patient in {room}",
            rooms[room],
            "in_progress",
        )
        record = session_record(engine, sid)
        assert {r["device"] for r in record["readings"]} == {room}  # only its own readings
        assert len(record["readings"]) == rooms[room]
        notes = [e["data"] for e in record["events"] if e["kind"] == "note"]
        assert [n["room"] for n in notes] == [room] * len(range(0, rooms[room], 100))
        assert [n["i"] for n in notes] == list(range(0, rooms[room], 100))
    assert count(engine, "readings") == sum(rooms.values())
    assert count(engine, "patients") == 2


def test_sessions_list_on_postgresql(
    pg_url: str, open_db: OpenDb, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    sign_in_cli(monkeypatch, pg_url)
    assert main(["sessions", "list", "--database-url", pg_url]) == 0
    assert "no sessions recorded" in capsys.readouterr().out
    engine = open_db(pg_url)
    rec = Recorder(engine, flush_interval=0.05).start()
    try:
        sid = new_session(rec, "Listed Patient")
        for i in range(7):
            rec.record_reading(Reading("spo2", 97, "%", t=float(i)))
        rec.flush()
    finally:
        rec.stop()
    assert main(["sessions", "list", "--json", "--database-url", pg_url]) == 0
    [line] = capsys.readouterr().out.splitlines()
    listed = json.loads(line)
    assert (listed["id"], listed["patient"], listed["readings"]) == (sid, "Listed Patient", 7)
    assert main(["sessions", "list", "--database-url", pg_url]) == 0
    table = capsys.readouterr().out
    assert "Listed Patient" in table and table.splitlines()[1].split()[-1] == "7"


STARTING_WORKSTATION = """
import sys
from kapdesk.storage.database import current_revision, open_database
print("ready", flush=True)
sys.stdin.readline()  # every room presses start at the same moment
engine = open_database(sys.argv[1])
print(current_revision(engine), flush=True)
engine.dispose()
"""


@pytest.mark.slow  # three interpreters import kapdesk: ~8 s on a busy 2-core machine
def test_workstations_starting_together_on_a_new_database_all_open_it(pg_url: str) -> None:
    """Monday morning: every room starts kapdesk at once on the new server. One migrates,
    the others wait for it and find the schema at head; none fails to start. (Separate
    processes, as workstations are: Alembic's context is process-global.)"""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", STARTING_WORKSTATION, pg_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        for proc in procs:  # wait until every interpreter has imported kapdesk
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            results.append((proc.returncode, out.strip(), err[-1500:]))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert [(code, out) for code, out, _ in results] == [(0, head_revision())] * 3, results
