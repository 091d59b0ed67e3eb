"""kill -9 a process that is recording, then reopen the database.

No session event that the app reported as recorded may be lost, at most the last second
of readings may be, and SQLite's integrity check must pass.
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

CHILD = """
import sys, time
from kapdesk.sim.emulated_monitor import EmulatedMonitor
from kapdesk.sim.direct_source import EmulatedSource
from kapdesk.demo.script import demo_patient, emulated_patient
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import open_database

rt = Runtime.build(open_database(sys.argv[1]), speed=1.0)
rt.controller.open(demo_patient(), "im-ketamine")
rt.controller.start()
newest = [0.0]
rt.hub.subscribe(lambda r: newest.__setitem__(0, max(newest[0], r.t)))
monitor = EmulatedMonitor(emulated_patient(), trend_interval_s=0.02)  # 150 readings/s
EmulatedSource(monitor, rt.hub, rt.clock, period=0.01).start()
k = 0
while True:
    rt.controller.record("note", {"k": k})  # returns once committed
    print(f"event {k}", flush=True)
    print(f"reading {newest[0]!r}", flush=True)
    k += 1
    time.sleep(0.02)
"""


def test_kill_9_loses_no_event_and_at_most_a_second_of_readings(tmp_path: Path) -> None:
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
    assert len(events_reported) > 40

    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        notes = {
            json.loads(d)["k"]
            for (d,) in conn.execute("SELECT data FROM session_events WHERE kind = 'note'")
        }
        newest_on_disk = conn.execute("SELECT max(t) FROM readings").fetchone()[0]
        n_readings = conn.execute("SELECT count(*) FROM readings").fetchone()[0]
    finally:
        conn.close()
    # Every event printed after the recorder said it was committed is there.
    assert set(events_reported) <= notes, sorted(set(events_reported) - notes)[:10]
    # Readings: at most the last second is missing.
    assert newest_on_disk is not None and n_readings > 300
    assert newest_reported - newest_on_disk <= 1.0
