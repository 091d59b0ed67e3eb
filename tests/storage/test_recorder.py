from __future__ import annotations

import threading
import time

from sqlalchemy import text

from kapdesk.domain.patients import Patient
from kapdesk.domain.readings import Reading
from kapdesk.domain.session import Session, SessionEvent
from kapdesk.storage.database import open_database
from kapdesk.storage.recorder import Recorder
from kapdesk.storage.records import add_patient, add_session


def new_session(recorder: Recorder) -> int:
    def create(s) -> int:
        p = Patient("Test Patient")
        add_patient(s, p)
        sess = Session(p.id, "im-ketamine")
        add_session(s, sess)
        assert sess.id is not None
        return sess.id

    sid = recorder.call(create)
    recorder.session_id = sid
    return sid


def count(engine, table: str) -> int:
    """Rows of ``table``; for "readings", the samples stored (in their blocks)."""
    query = SAMPLES if table == "readings" else f"SELECT count(*) FROM {table}"
    with engine.connect() as conn:
        return int(conn.execute(text(query)).scalar_one())


SAMPLES = "SELECT coalesce(sum(n), 0) FROM reading_blocks"  # samples stored, in blocks


def test_readings_are_committed_in_batches_within_the_flush_interval(db_url: str) -> None:
    engine = open_database(db_url)
    rec = Recorder(engine, flush_interval=0.2).start()
    try:
        new_session(rec)
        stop = threading.Event()

        def produce() -> None:  # a steady 500 readings/s, as a busy device thread would
            i = 0
            while not stop.is_set():
                rec.record_reading(Reading("heart_rate", 60 + i % 40, "/min", t=time.time()))
                i += 1
                time.sleep(0.002)

        th = threading.Thread(target=produce)
        th.start()
        time.sleep(1.0)
        # Under continuous load, what is on disk lags what was produced by < 1 s.
        with engine.connect() as conn:
            newest = conn.execute(text("SELECT max(t1) FROM reading_blocks")).scalar_one()
        assert newest is not None and time.time() - newest < 1.0
        stop.set()
        th.join()
    finally:
        rec.stop()
    assert count(engine, "readings") == rec.readings_written > 100


def test_session_events_are_committed_at_once(db_url: str) -> None:
    engine = open_database(db_url)
    rec = Recorder(engine, flush_interval=30.0).start()  # readings would wait 30 s
    try:
        sid = new_session(rec)
        rec.record_reading(Reading("spo2", 97, "%", t=1.0))
        fut = rec.record_event(sid, SessionEvent(2.0, "dose", "dosing", {"amount_mg": 50}))
        fut.result(timeout=2)
        # The event is on disk, and so is the reading queued before it (order kept).
        assert count(engine, "session_events") == 1
        assert count(engine, "readings") == 1
    finally:
        rec.stop()


def test_a_failing_write_is_reported_kept_and_retried(db_url: str) -> None:
    engine = open_database(db_url)
    failures: list[str] = []
    recovered = threading.Event()
    rec = Recorder(
        engine, flush_interval=0.05, on_failure=failures.append, on_recovered=recovered.set
    ).start()
    try:
        sid = new_session(rec)
        # Storage breaks underneath the recorder (as a full disk or lost server would).
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE reading_blocks RENAME TO reading_blocks_away"))
        for i in range(50):
            rec.record_reading(Reading("heart_rate", 70, "/min", t=float(i)))
        fut = rec.record_event(sid, SessionEvent(99.0, "note", None, {"text": "kept"}))
        deadline = time.monotonic() + 5
        while not failures and time.monotonic() < deadline:
            time.sleep(0.02)
        assert failures and "cannot be written" in failures[0]
        assert not fut.done()
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE reading_blocks_away RENAME TO reading_blocks"))
        assert recovered.wait(5)
        fut.result(timeout=5)
    finally:
        rec.stop()
    assert count(engine, "readings") == 50
    assert count(engine, "session_events") == 1
    assert len(failures) == 1  # told once per outage, not once per retry
