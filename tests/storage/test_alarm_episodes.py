"""Alarm episodes in the database: recorded with every transition, in the export, and
filled in for records made before the column existed (migration 0003)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text

from kapdesk.domain.alarms import (
    AlarmEngine,
    AlarmLimits,
    AlarmSettings,
    ChannelTiming,
    Condition,
    LimitRule,
    Priority,
)
from kapdesk.domain.patients import Patient
from kapdesk.domain.readings import Reading
from kapdesk.domain.session import Session
from kapdesk.storage.database import create_db_engine, migrate, open_database
from kapdesk.storage.export import session_record
from kapdesk.storage.recorder import Recorder
from kapdesk.storage.records import add_patient, add_session

T0 = 1_795_957_200.0  # 2026-11-29T13:00:00Z

HR_HIGH = LimitRule("heart_rate", Condition.ABOVE_HIGH_LIMIT, Priority.HIGH, 140)


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


def test_every_transition_of_a_latched_alarm_is_recorded_with_its_episode(db_url: str) -> None:
    db = open_database(db_url)
    recorder = Recorder(db, flush_interval=0.05).start()
    try:
        sid = new_session(recorder)
        engine = AlarmEngine(
            AlarmLimits(
                (HR_HIGH,),
                {"heart_rate": ChannelTiming(expected_interval_s=3600)},
                default_delay_s=0,
            ),
            AlarmSettings(latching=True),
        )
        out = []
        for i, hr in enumerate([150, 150, 120, 120]):
            r = Reading("heart_rate", hr, "/min", T0 + i, "strap")
            out += engine.tick(r.t) + engine.on_reading(r)
        out += engine.acknowledge("RN Jones", T0 + 10)
        out += engine.tick(T0 + 11) + engine.on_reading(Reading("heart_rate", 160, "/min", T0 + 11))
        for tr in out:
            recorder.record_alarm(tr.to_dict(), tr.t)
        recorder.flush()
    finally:
        recorder.stop()
    with db.connect() as conn:
        rows = conn.execute(
            text("SELECT transition, episode, t FROM alarms WHERE session_id = :s ORDER BY id"),
            {"s": sid},
        ).all()
    first = out[0].episode
    second = out[-1].episode
    assert first and second and first != second
    assert [tuple(r) for r in rows] == [
        ("raised", first, T0),
        ("condition_ended", first, T0 + 2),  # HR was above 140 for 2 s
        ("acknowledged", first, T0 + 10),
        ("cleared", first, T0 + 10),  # the signal ended when acknowledged
        ("raised", second, T0 + 11),
    ]
    record = session_record(db, sid)
    assert [(a["transition"], a["episode"]) for a in record["alarms"]] == [
        (r[0], r[1]) for r in rows
    ]
    json.dumps(record)  # still JSON-ready


def test_migration_fills_in_episodes_of_older_records(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    db = create_db_engine(url)
    migrate(db, "0002")
    old_rows = [  # as 0.x recorded them: a "no data" clear stamped before its raise
        (T0 + 0.0, "spo2", "below_low_limit", "raised"),
        (T0 + 5.0, "spo2", "signal_lost", "raised"),
        (T0 + 4.9, "spo2", "signal_lost", "cleared"),
        (T0 + 6.0, "spo2", "below_low_limit", "acknowledged"),
        (T0 + 6.0, "spo2", "below_low_limit", "cleared"),
        (T0 + 7.0, "heart_rate", "above_high_limit", "limit_changed"),
        (T0 + 8.0, "spo2", "signal_lost", "raised"),
        (T0 + 9.0, "spo2", "signal_lost", "cleared"),
    ]
    with db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO patients (uid, display_name, allergies, medications, notes,"
                " baseline, created_at) VALUES ('p', 'Old', '', '', '', '{}', 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO sessions (uid, patient_id, protocol, state, clock_speed,"
                " created_at) VALUES ('s', 1, 'im-ketamine', 'completed', 1.0, 0)"
            )
        )
        for t, channel, condition, transition in old_rows:
            record = {"channel": channel, "condition": condition, "transition": transition}
            conn.execute(
                text(
                    "INSERT INTO alarms (session_id, t, kind, priority, channel, condition,"
                    " transition, value, data) VALUES (1, :t, 'technical', 'medium', :c,"
                    " :cond, :tr, NULL, :data)"
                ),
                {
                    "t": t,
                    "c": channel,
                    "cond": condition,
                    "tr": transition,
                    "data": json.dumps(record),
                },
            )
    db.dispose()
    db = open_database(url)
    with db.connect() as conn:
        episodes = conn.execute(text("SELECT episode FROM alarms ORDER BY id")).scalars().all()
    low, lost1, lost1_clear, low_ack, low_clear, limit, lost2, lost2_clear = episodes
    assert low == low_ack == low_clear
    assert lost1 == lost1_clear
    assert lost2 == lost2_clear
    assert len({low, lost1, lost2}) == 3 and None not in {low, lost1, lost2}
    assert limit is None
    exported = session_record(db, 1)["alarms"]
    assert {a["episode"] for a in exported} == {low, lost1, lost2, None}
