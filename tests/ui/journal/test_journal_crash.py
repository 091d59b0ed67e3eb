"""kill -9 patient mode while the patient types: what was saved before is on disk."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from journal_support import make_world

CHILD = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from kapdesk.config.journal import JournalSettings
from kapdesk.domain.access import Actor, Role
CLINICIAN = Actor({Role.THERAPIST, Role.MEDICAL_STAFF}, 'Test Clinician', username='clinician')
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import open_database
from kapdesk.ui.journal.patient_mode import PatientJournalWindow

app = QApplication([])
rt = Runtime.build(open_database(sys.argv[1]), actor=CLINICIAN)
win = PatientJournalWindow(
    rt.journal, int(sys.argv[2]), settings=JournalSettings(autosave_delay_ms=50)
)
win.show()
words = iter(f"w{k:04d} " for k in range(100000))
reported = [0]

def type_word():
    win.editor.insertPlainText(next(words))  # as if typed

def report():
    if win.saves_committed != reported[0] and win.last_saved_text is not None:
        reported[0] = win.saves_committed
        print("saved", len(win.last_saved_text), win.entry.id, flush=True)

typing = QTimer(); typing.timeout.connect(type_word); typing.start(30)
def toggle():
    typing.stop() if typing.isActive() else typing.start(30)

pause = QTimer(); pause.timeout.connect(toggle)
pause.start(200)  # type for 0.2 s, pause for 0.2 s: each pause autosaves
reporter = QTimer(); reporter.timeout.connect(report); reporter.start(5)
app.exec()
"""


def test_kill_9_while_typing_keeps_every_autosaved_word(tmp_path: Path) -> None:
    db = tmp_path / "journal-crash.sqlite3"
    world = make_world(f"sqlite:///{db}")
    world.engine.dispose()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, f"sqlite:///{db}", str(world.alice)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    saves: list[tuple[int, int]] = []
    try:
        deadline = time.monotonic() + 30
        while len(saves) < 6 and time.monotonic() < deadline:
            line = proc.stdout.readline() if proc.stdout else ""
            if line.startswith("saved"):
                _, n, eid = line.split()
                saves.append((int(n), int(eid)))
            assert line or proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.35)  # keep typing: the kill lands mid-word or mid-pause
        os.kill(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL, err
    for line in out.splitlines():
        if line.startswith("saved"):
            _, n, eid = line.split()
            saves.append((int(n), int(eid)))
    assert len(saves) >= 6, err
    longest, entry_id = max(saves)

    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        (body,) = conn.execute(
            "SELECT body FROM journal_entries WHERE id = ?", (entry_id,)
        ).fetchone()
        fts = conn.execute(
            "SELECT count(*) FROM journal_entries_fts WHERE journal_entries_fts MATCH 'w0001'"
        ).fetchone()[0]
    finally:
        conn.close()
    expected = "".join(f"w{k:04d} " for k in range(100000))
    assert len(body) >= longest  # everything reported saved is on disk...
    assert body == expected[: len(body)]  # ...in order, nothing garbled
    assert fts == 1  # and the search index committed with it
