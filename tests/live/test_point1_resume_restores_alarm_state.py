"""Issue 11 point 1: everything the alarm engine knew of a session comes back on resume.

Protocol limits, pre-dose baselines, limit changes made in the session, active and
latched alarms (acknowledged or not) and the audio pause are rebuilt from the session's
record. Shown twice: on the pure engine (restore from another engine's transitions), and
end to end (a real app process killed with SIGKILL, then a new one resumes the session).
"""

from __future__ import annotations

import base64
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

from access_support import CLINICIAN
from alarm_test_support import HR_HIGH, HR_MEDIUM, SPO2_HIGH, SPO2_MEDIUM, SYS_RISE, T0, limits

from kapdesk.domain.alarms import (
    AlarmEngine,
    AlarmSettings,
    AlarmTransition,
    Condition,
    Priority,
    TransitionKind,
)
from kapdesk.domain.readings import Reading
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import open_database
from kapdesk.storage.records import load_alarm_transitions


def _r(channel: str, value: float, t: float) -> Reading:
    unit = {"spo2": "%", "heart_rate": "/min"}.get(channel, "mmHg")
    return Reading(channel, value, unit, t=t, device="monitor")


def _session(engine: AlarmEngine) -> list[AlarmTransition]:
    """A session's worth of alarm history: every kind of state the engine keeps."""
    out: list[AlarmTransition] = []
    engine.set_baseline("nibp_systolic", 120)
    out += engine.change_limit(
        "heart_rate", Condition.ABOVE_HIGH_LIMIT, Priority.MEDIUM, 110, "dr a", T0
    )
    for k in range(15):  # HR 115 for 14 s: over the changed 110 limit, under 120
        out += engine.on_reading(_r("heart_rate", 115, T0 + k), T0 + k)
    out += engine.acknowledge("nurse b", T0 + 15, channel="heart_rate")
    for k in range(12):  # SpO2 90 for 11 s, then back: latched, not acknowledged
        out += engine.on_reading(_r("spo2", 90, T0 + 16 + k), T0 + 16 + k)
    out += engine.on_reading(_r("spo2", 97, T0 + 30), T0 + 30)
    out += engine.on_reading(_r("nibp_systolic", 165, T0 + 31), T0 + 31)  # +45: raised
    out.append(engine.pause_audio("nurse b", T0 + 32, 300))
    return out


def test_point1_restore_from_the_record_gives_the_same_engine_state() -> None:
    rules = (SPO2_MEDIUM, SPO2_HIGH, HR_MEDIUM, HR_HIGH, SYS_RISE)
    before = AlarmEngine(limits(*rules), AlarmSettings(latching=True))
    record = _session(before)
    kinds = {tr.transition for tr in record}
    assert {TransitionKind.LIMIT_CHANGED, TransitionKind.ACKNOWLEDGED} <= kinds
    assert TransitionKind.CONDITION_ENDED in kinds and TransitionKind.AUDIO_PAUSED in kinds
    snap = before.snapshot()
    assert len(snap.alarms) == 3 and snap.audio_paused_until == T0 + 332
    assert snap.baselines == (("nibp_systolic", 120.0),)

    after = AlarmEngine(limits(*rules), AlarmSettings(latching=True))
    assert after.snapshot() != snap  # a fresh engine knows none of it
    assert after.restore({"nibp_systolic": 120.0}, record, T0 + 60) == []
    assert after.snapshot() == snap

    # ... and it behaves as the old engine would: the changed HR limit still holds,
    # NIBP is still judged against the patient's baseline, the ack still silences.
    states = {s.channel: s for s in after.active_alarms()}
    assert states["heart_rate"].acknowledged_by == "nurse b"
    assert states["spo2"].latched and states["spo2"].audible
    assert after.acknowledge("nurse c", T0 + 61, channel="spo2")[-1].transition == (
        TransitionKind.CLEARED
    )
    new_ids = {tr.episode for tr in after.on_reading(_r("nibp_systolic", 200, T0 + 62), T0 + 62)}
    assert new_ids.isdisjoint({tr.episode for tr in record if tr.episode})


def test_point1_a_technical_alarm_of_the_dead_process_is_closed_in_the_record() -> None:
    before = AlarmEngine(limits(HR_MEDIUM))
    record = before.technical(Condition.RECORDING_FAILED, "recorder", T0, "disk full")
    after = AlarmEngine(limits(HR_MEDIUM))
    closed = after.restore({}, record, T0 + 5)
    assert [(c.transition, c.episode, c.by) for c in closed] == [
        (TransitionKind.CLEARED, record[0].episode, "resume")
    ]
    assert after.active_alarms() == []


CHILD = """
import base64, pickle, sys, threading, time
from kapdesk.demo.script import demo_patient
from kapdesk.domain.alarms import Condition, Priority
from kapdesk.domain.readings import Reading
from kapdesk.domain.access import Actor, Role
CLINICIAN = Actor({Role.THERAPIST, Role.MEDICAL_STAFF}, 'Test Clinician', username='clinician')
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import open_database

rt = Runtime.build(open_database(sys.argv[1]), speed=20.0, actor=CLINICIAN)
c = rt.controller
c.open(demo_patient(), "im-ketamine")
c.start()
for ch, v in (("nibp_systolic", 120.0), ("nibp_diastolic", 80.0)):
    c.record("baseline", {"channel": ch, "value": v, "source": "test"})
rt.alarms.change_limit(
    "heart_rate", Condition.ABOVE_HIGH_LIMIT, Priority.MEDIUM, 110, "dr a"
).result(5)
values = {"heart_rate": 115.0, "spo2": 90.0}
units = {"heart_rate": "/min", "spo2": "%"}

def feed():  # a monitor that keeps sending until the kill: no "no data" here
    while True:
        for ch, v in list(values.items()):
            rt.hub.publish(Reading(ch, v, units[ch], t=rt.clock.now(), device="monitor"))
        time.sleep(0.05)

threading.Thread(target=feed, daemon=True).start()

def active():
    return {(a.channel, a.condition.value) for a in rt.alarms.active_alarms()}

def wait_for(key):
    end = time.monotonic() + 20
    while key not in active():
        assert time.monotonic() < end, active()
        time.sleep(0.02)

wait_for(("heart_rate", "above_high_limit"))
wait_for(("spo2", "below_low_limit"))
rt.alarms.acknowledge("nurse b", channel="heart_rate").result(5)
values["spo2"] = 97.0  # back: latched until acknowledged
end = time.monotonic() + 20
while not any(a.latched for a in rt.alarms.active_alarms()):
    assert time.monotonic() < end
    time.sleep(0.02)
def cuff(v):
    rt.hub.publish(Reading("nibp_systolic", v, "mmHg", t=rt.clock.now(), device="cuff"))
cuff(165.0)  # +45 over the 120 baseline: medium, at once
wait_for(("nibp_systolic", "rise_from_baseline"))
cuff(118.0)
rt.alarms.acknowledge("nurse b", channel="nibp_systolic").result(5)
rt.alarms.pause_audio("nurse b", 3000).result(5)
rt.recorder.flush()
snap = rt.alarms.snapshot().result(5)
print("SNAP " + base64.b64encode(pickle.dumps(snap)).decode(), flush=True)
print(f"SESSION {c.session.id}", flush=True)
time.sleep(600)
"""


def _run_and_kill(db: Path) -> tuple[object, int]:
    """Run the child until it has printed its snapshot, then SIGKILL it. Its output goes
    to files (a full pipe would stall a chatty child)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out_path, err_path = db.with_suffix(".out"), db.with_suffix(".err")
    with out_path.open("w") as out, err_path.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, f"sqlite:///{db}"], stdout=out, stderr=err, env=env
        )
    snap: object = None
    sid = 0
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not sid:
            assert proc.poll() is None, err_path.read_text()[-3000:]
            for line in out_path.read_text().splitlines():
                if line.startswith("SNAP "):
                    snap = pickle.loads(base64.b64decode(line.split()[1]))
                elif line.startswith("SESSION "):
                    sid = int(line.split()[1])
            time.sleep(0.05)
        assert sid, "the child never reached its snapshot: " + err_path.read_text()[-3000:]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    return snap, sid


def test_point1_engine_state_before_kill_9_equals_state_after_resume(tmp_path: Path) -> None:
    db = tmp_path / "kill.sqlite3"
    before, sid = _run_and_kill(db)
    assert len(before.alarms) == 2  # HR (acknowledged), SpO2 (latched)
    assert dict(before.baselines)["nibp_systolic"] == 120.0
    assert before.audio_paused_until is not None

    rt = Runtime.build(open_database(f"sqlite:///{db}"), speed=20.0, actor=CLINICIAN)
    try:
        rt.controller.resume(sid)
        after = rt.alarms.snapshot().result(5)
        assert after == before

        # The case: +50 over the 120 baseline must alarm after the resume.
        rt.hub.publish(Reading("nibp_systolic", 170.0, "mmHg", t=rt.clock.now(), device="cuff"))
        end = time.monotonic() + 5
        while time.monotonic() < end:
            raised = [
                a
                for a in rt.alarms.active_alarms()
                if a.channel == "nibp_systolic" and a.condition is Condition.RISE_FROM_BASELINE
            ]
            if raised:
                break
            time.sleep(0.02)
        assert raised and raised[0].priority is Priority.MEDIUM
        assert "baseline 120" in raised[0].message
        rt.recorder.flush()
        record = load_alarm_transitions(rt.engine, sid)
        assert record[-1].channel == "nibp_systolic"
    finally:
        rt.shutdown()
