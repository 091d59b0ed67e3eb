"""Issue 11 point 7: a full disk, on a real (small) tmpfs, under the real main window.

What is on screen is what is recorded or is marked unsaved; the status bar says it is not
recording; the outage and its end are recorded once the disk has room; at exit, what is
still queued goes to a rescue file that the next start imports, never dropped silently.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from access_support import CLINICIAN
from pytestqt.qtbot import QtBot

from kapdesk.app import build_main_window
from kapdesk.demo.script import demo_patient
from kapdesk.domain.alarms import Condition
from kapdesk.domain.readings import Reading
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import open_database
from kapdesk.ui.main_window import UNSAVED_MARK


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs of its own (CI runs as root, as a clinic's installer would not)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path) -> Path:
    junk = disk / "junk"
    fd = os.open(junk, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
        while True:  # the last few blocks too
            try:
                os.write(fd, b"\0" * 512)
            except OSError:
                break
    finally:
        os.close(fd)
    return junk


def _publish(rt: Runtime, n: int) -> None:
    for _ in range(n):
        rt.hub.publish(Reading("heart_rate", 72, "/min", t=rt.clock.now(), device="strap"))


def _timeline(win) -> list[str]:
    return [win.timeline.item(i).text() for i in range(win.timeline.count())]


def _failing_alarm(rt: Runtime) -> bool:
    return any(a.condition is Condition.RECORDING_FAILED for a in rt.alarms.active_alarms())


def test_point7_full_disk_is_shown_recorded_and_loses_nothing(
    qtbot: QtBot, qapp, small_disk: Path
) -> None:
    db = small_disk / "kapdesk.sqlite3"
    rt = Runtime.build(open_database(f"sqlite:///{db}"), actor=CLINICIAN)
    win = build_main_window(qapp, rt)
    qtbot.addWidget(win)
    win.show()
    rt.controller.open(demo_patient(), "im-ketamine")
    rt.controller.start()
    sid = rt.controller.session.id
    _publish(rt, 200)
    rt.recorder.flush()

    junk = _fill(small_disk)
    _publish(rt, 3000)
    rt.controller.note("written while the disk is full")
    qtbot.waitUntil(lambda: rt.recorder.failing, timeout=5000)
    # the screen says it: the line is marked, the status bar, the technical alarm
    qtbot.waitUntil(
        lambda: any("while the disk is full" in t for t in _timeline(win)), timeout=3000
    )
    line = next(t for t in _timeline(win) if "while the disk is full" in t)
    assert line.endswith(UNSAVED_MARK)
    qtbot.waitUntil(
        lambda: win.statusBar().currentMessage().startswith("NOT RECORDING"), timeout=3000
    )
    assert "disk the database is on is full" in win.statusBar().currentMessage()
    qtbot.waitUntil(lambda: _failing_alarm(rt), timeout=3000)

    junk.unlink()  # room again: everything kept is written, the mark goes
    qtbot.waitUntil(lambda: not rt.recorder.failing, timeout=5000)
    qtbot.waitUntil(
        lambda: (
            not any(UNSAVED_MARK in t for t in _timeline(win))
            and win.statusBar().currentMessage().startswith("Recording")
        ),
        timeout=3000,
    )
    qtbot.waitUntil(lambda: not _failing_alarm(rt), timeout=3000)
    rt.recorder.flush()
    con = sqlite3.connect(db)
    try:
        notes = [r[0] for r in con.execute("SELECT data FROM session_events WHERE kind='note'")]
        assert any("while the disk is full" in n for n in notes)
        outage = con.execute(
            "SELECT transition FROM alarms WHERE condition='recording_failed' ORDER BY id"
        ).fetchall()
        assert [t for (t,) in outage] == ["raised", "cleared"]
        assert con.execute("SELECT sum(n) FROM reading_blocks").fetchone()[0] == 3200
    finally:
        con.close()

    # Full again, and staff close the app: told, then the rest goes to a rescue file.
    junk = _fill(small_disk)
    _publish(rt, 500)
    rt.controller.note("written just before closing")
    qtbot.waitUntil(lambda: rt.recorder.failing, timeout=5000)
    qtbot.waitUntil(lambda: _failing_alarm(rt), timeout=3000)
    win.close()
    assert win.isVisible() and win.quit_box is not None  # not closed: asked first
    assert "not yet saved" in win.quit_box.text() and "rescue file" in win.quit_box.text()
    quit_button = next(b for b in win.quit_box.buttons() if "Quit" in b.text())
    quit_button.click()
    qtbot.waitUntil(lambda: not win.isVisible(), timeout=3000)
    rt.shutdown()
    assert rt.recorder.rescued_to is not None and rt.recorder.rescued_to.is_file()
    assert not str(rt.recorder.rescued_to).startswith(str(small_disk))
    readings, records = rt.recorder.rescued
    assert readings == 500 and records >= 2  # the note, the outage's raise, ...

    junk.unlink()
    rt2 = Runtime.build(open_database(f"sqlite:///{db}"), actor=CLINICIAN)
    try:
        assert [n for _, n in rt2.rescued_imported] == [readings + records]
        assert not rt.recorder.rescued_to.exists()
    finally:
        rt2.shutdown()
    con = sqlite3.connect(db)
    try:
        notes = [r[0] for r in con.execute("SELECT data FROM session_events WHERE kind='note'")]
        assert any("just before closing" in n for n in notes)
        n_readings = con.execute(
            "SELECT sum(n) FROM reading_blocks WHERE session_id = ?", (sid,)
        ).fetchone()[0]
        assert n_readings == 3700
        raised = con.execute(
            "SELECT count(*) FROM alarms WHERE condition='recording_failed' AND transition='raised'"
        ).fetchone()[0]
        assert raised == 2
    finally:
        con.close()
