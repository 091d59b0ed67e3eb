"""kill -9 a process that is recording, then reopen the database.

No session event that the app reported as recorded may be lost; of the readings, none
older than the recorder's bound (a block is committed at most 0.25 s after its first
sample, plus the commit itself) may be; and SQLite's integrity check must pass.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine

from kapdesk.domain.clock import iso_utc
from kapdesk.storage.signals.reader import iter_samples

CHILD = """
import sys, threading, time
from kapdesk.sim.emulated_monitor import EmulatedMonitor
from kapdesk.sim.direct_source import EmulatedSource
from kapdesk.demo.script import demo_patient, emulated_patient
from kapdesk.domain.access import Actor, Role
CLINICIAN = Actor({Role.THERAPIST, Role.MEDICAL_STAFF}, 'Test Clinician', username='clinician')
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import open_database

rt = Runtime.build(open_database(sys.argv[1]), speed=1.0, actor=CLINICIAN)
rt.controller.open(demo_patient(), "im-ketamine")
rt.controller.start()
newest = [0.0]
rt.hub.subscribe(lambda r: newest.__setitem__(0, max(newest[0], r.t)))
say = threading.Lock()  # two threads print: whole lines only


def line(text):
    with say:
        sys.stdout.write(text + "\\n")
        sys.stdout.flush()


rt.hub.subscribe(lambda r: line(f"r {r.channel} {r.t!r}"))  # every sample published
monitor = EmulatedMonitor(emulated_patient(), trend_interval_s=0.02)  # 150 readings/s
EmulatedSource(monitor, rt.hub, rt.clock, period=0.01).start()
k = 0
while True:
    rt.controller.record("note", {"k": k})  # returns once committed
    line(f"event {k}")
    line(f"reading {newest[0]!r}")
    k += 1
    time.sleep(0.02)
"""


#: The recorder's bound (0.25 s) and what a commit of one flush may take on a busy machine.
BOUND_S = 0.25
COMMIT_ALLOWANCE_S = 0.1


def test_kill_9_loses_no_event_and_no_reading_older_than_the_bound(tmp_path: Path) -> None:
    db = tmp_path / "crash.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, f"sqlite:///{db}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # wait until it is recording in earnest
            line = proc.stdout.readline() if proc.stdout else ""
            if line.startswith("event 20"):
                break
            assert line or proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(2.0)
        os.kill(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL, err
    lines = out.splitlines()
    events_reported = [int(x.split()[1]) for x in lines if x.startswith("event ")]
    newest_reported = max(float(x.split()[1]) for x in lines if x.startswith("reading "))
    published = [(x.split()[1], float(x.split()[2])) for x in lines if x.startswith("r ")]
    assert len(events_reported) > 40

    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        notes = {
            json.loads(d)["k"]
            for (d,) in conn.execute("SELECT data FROM session_events WHERE kind = 'note'")
        }
    finally:
        conn.close()
    engine = create_engine(f"sqlite:///{db}")
    try:
        stored = {(s.channel, iso_utc(s.t)) for s in iter_samples(engine, 1)}
    finally:
        engine.dispose()
    # Every event printed after the recorder said it was committed is there.
    assert set(events_reported) <= notes, sorted(set(events_reported) - notes)[:10]
    # Every reading published more than the bound before the end is there.
    newest = max(newest_reported, max(t for _, t in published))
    due = [(ch, t) for ch, t in published if t < newest - BOUND_S - COMMIT_ALLOWANCE_S]
    missing = [(ch, t) for ch, t in due if (ch, iso_utc(t)) not in stored]
    assert len(due) > 150 and not missing, (len(due), missing[:5])
