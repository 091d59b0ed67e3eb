"""Issue 11 point 3: a resumed session is monitored.

Resume reconnects the session's monitors (not those staff took off), raises "no data"
for every channel its protocol expects until it flows, carries on at the session's own
clock speed with the gap in real seconds, offers every session left open, and works in
demo mode. Real runtimes on a real SQLite file, a real pty monitor.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from access_support import CLINICIAN
from session_test_support import make_patient

from kapdesk.acquisition.catalog import profile_for_protocol
from kapdesk.demo.mode import resume_demo, start_demo
from kapdesk.demo.monitors import pty_profile
from kapdesk.domain.alarms import Condition
from kapdesk.domain.readings import Reading
from kapdesk.live.runtime import Runtime
from kapdesk.sim.emulators.serial_pty import PtySerialEmulator
from kapdesk.sim.patient_model import EmulatedPatient
from kapdesk.storage.database import open_database
from kapdesk.storage.records import get_stored_session, load_events
from kapdesk.ui.session.resume import close_unresumed, pending_resumes, resume


def _wait(predicate, timeout: float = 8.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def _no_data(rt: Runtime) -> set[str]:
    return {a.channel for a in rt.alarms.active_alarms() if a.condition is Condition.SIGNAL_LOST}


def _leave_open(db_url: str, speed: float = 1.0) -> int:
    rt = Runtime.build(open_database(db_url), speed=speed, actor=CLINICIAN)
    rt.controller.open(make_patient(), "im-ketamine")
    rt.controller.start()
    rt.controller.note("before the crash")
    sid = rt.controller.session.id
    rt.shutdown()
    return sid


def test_point3_a_resumed_session_with_no_monitor_raises_no_data(db_url: str) -> None:
    sid = _leave_open(db_url)
    rt = Runtime.build(open_database(db_url), actor=CLINICIAN)
    try:
        started = time.monotonic()
        resume(rt, pending_resumes(rt)[0])
        # HR and SpO2 are expected every second: "no data" within 2 s and a bit, long
        # before the 20 s "no source" grace.
        assert _wait(lambda: {"heart_rate", "spo2"} <= _no_data(rt), timeout=6)
        assert time.monotonic() - started < 6
        messages = [a.message for a in rt.alarms.active_alarms()]
        assert any("nothing received since the resume" in m for m in messages), messages
        # A pulse rate is a heart-rate source: its first value clears that "no data".
        rt.hub.publish(Reading("pulse_rate", 72, "/min", t=rt.clock.now(), device="ox"))
        assert _wait(lambda: "heart_rate" not in _no_data(rt))
        assert "spo2" in _no_data(rt)
        rt.recorder.flush()
        assert get_stored_session(rt.engine, sid).state == "in_progress"
    finally:
        rt.shutdown()


def test_point3_resume_reconnects_the_monitors_but_not_those_taken_off(
    db_url: str, tmp_path: Path
) -> None:
    patient = EmulatedPatient()
    t0 = time.monotonic()
    oximeter = PtySerialEmulator(
        "cms50d", patient, lambda: time.monotonic() - t0, str(tmp_path / "tty-oximeter")
    ).start()
    other = PtySerialEmulator(
        "cms50d", patient, lambda: time.monotonic() - t0, str(tmp_path / "tty-other")
    ).start()
    try:
        rt = Runtime.build(open_database(db_url), actor=CLINICIAN)
        profile = pty_profile("cms50d")
        rt.devices.connect_serial(profile, str(tmp_path / "tty-oximeter"), name="Oximeter")
        rt.controller.open(make_patient(), "im-ketamine")
        rt.controller.start()  # records the monitor it starts with
        rt.devices.connect_serial(profile, str(tmp_path / "tty-other"), name="Spare")
        assert _wait(lambda: rt.trends.last("spo2") is not None)
        rt.devices.disconnect("Spare")  # staff took it off: not to come back
        sid = rt.controller.session.id
        rt.shutdown()  # the app went away; the monitors stay plugged in

        rt = Runtime.build(open_database(db_url), actor=CLINICIAN)
        try:
            resume(rt, pending_resumes(rt)[0])
            assert [e.name for e in rt.devices.entries()] == ["Oximeter"]
            fresh = rt.clock.now()
            assert _wait(lambda: (rt.trends.last("spo2") or (0, 0))[0] >= fresh)
            assert _wait(lambda: "spo2" not in _no_data(rt))
            kinds = [e.kind for e in load_events(rt.engine, sid)]
            assert kinds.count("device_connected") == 3  # at start, the spare, on resume
            assert kinds.count("device_disconnected") == 1
        finally:
            rt.shutdown()
    finally:
        oximeter.stop()
        other.stop()


def test_point3_resume_keeps_the_sessions_clock_speed_and_real_gap(db_url: str) -> None:
    sid = _leave_open(db_url, speed=20.0)
    last = get_stored_session(open_database(db_url), sid).last_recorded_at
    time.sleep(0.5)
    rt = Runtime.build(open_database(db_url), speed=1.0, actor=CLINICIAN)
    try:
        offer = pending_resumes(rt)[0]
        assert offer.gap_s is not None and 0.4 < offer.gap_s < 5  # real seconds, not -11 min
        assert re.search(r"for the last (second|\d+ s)\.", offer.text) and "x20" in offer.text
        event = resume(rt, offer)
        assert rt.clock.speed == 20.0
        assert 0.4 < event.data["gap_s"] < 5
        # the session's time ran on at x20 through the gap: no jump back, no gap of 0
        assert event.t >= last + 0.4 * 20
        t1 = rt.clock.now()
        time.sleep(0.2)
        assert 3.0 < rt.clock.now() - t1 < 8.0  # x20 from here on
    finally:
        rt.shutdown()


def test_point3_every_open_session_is_offered(db_url: str) -> None:
    ids = [_leave_open(db_url) for _ in range(3)]
    rt = Runtime.build(open_database(db_url), actor=CLINICIAN)
    try:
        offers = pending_resumes(rt)
        assert [o.stored.id for o in offers] == ids[::-1]
        assert [(o.number, o.of) for o in offers] == [(1, 3), (2, 3), (3, 3)]
        assert "Open session 2 of 3" in offers[1].text
        close_unresumed(rt, offers[0], "test: patient already left")
        resume(rt, offers[1])  # the next one can still be resumed
        assert rt.controller.session.id == ids[1]
    finally:
        rt.shutdown()
    rt = Runtime.build(open_database(db_url), actor=CLINICIAN)
    try:
        states = [get_stored_session(rt.engine, i).state for i in ids]
        assert states == ["in_progress", "in_progress", "aborted"]
        assert [o.stored.id for o in pending_resumes(rt)] == [ids[1], ids[0]]
    finally:
        rt.shutdown()


def test_point3_a_demo_session_resumes_with_its_emulators_and_script(db_url: str) -> None:
    rt = Runtime.build(open_database(db_url), speed=60.0, actor=CLINICIAN)
    demo = start_demo(rt, devices="direct")
    assert _wait(lambda: (rt.tick(), demo.script.done >= 2)[1], timeout=20)
    sid = rt.controller.session.id
    done = demo.script.done
    rt.shutdown()

    rt = Runtime.build(open_database(db_url), speed=1.0, actor=CLINICIAN)
    try:
        offer = pending_resumes(rt)[0]
        assert offer.stored.id == sid
        demo, _ = resume_demo(rt, sid)
        assert rt.clock.speed == 60.0
        assert demo.script.done >= done
        names = {e.name for e in rt.devices.entries()}
        assert len(names) == 3 and all("emulated" in n for n in names)
        assert _wait(lambda: {"heart_rate", "spo2"}.isdisjoint(_no_data(rt)), timeout=20)
        assert _wait(lambda: rt.trends.last("spo2") is not None, timeout=20)
        steps_before = demo.script.done
        assert _wait(lambda: (rt.tick(), demo.script.done > steps_before)[1], timeout=20)
        kinds = [e.kind for e in load_events(rt.engine, sid)]
        assert kinds.count("session_started") == 1 and "session_resumed" in kinds
    finally:
        rt.shutdown()


def test_point3_profile_lookup_for_reconnect_uses_the_catalog_key() -> None:
    # the recorded profile is the catalog key; the pty variant keeps it
    assert pty_profile("cms50d").key == profile_for_protocol("cms50d").key


def test_point3_the_app_in_demo_mode_offers_and_resumes_a_killed_demo_session(
    qapp, db_url: str
) -> None:
    """The real start-up path (``kapdesk --demo``): the prompt comes, "Resume session" is
    clicked, and the window shows the resumed demo session with its emulators."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from kapdesk.app import run_app
    from kapdesk.cli import build_parser
    from kapdesk.ui.main_window import MainWindow

    sid = _leave_open(db_url, speed=20.0)
    seen: dict[str, object] = {}

    def click_resume() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, SignInDialog):  # the demo's accounts: the clinician signs in
            box.password.setText(DEMO_PASSWORD)
            assert box.try_sign_in(), box.message.text()
            QTimer.singleShot(100, click_resume)
            return
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(100, click_resume)
            return
        seen["prompt"] = box.text()
        next(b for b in box.buttons() if b.text() == "Resume session").click()

    def look() -> None:
        wins = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        if not wins or len(wins[0].runtime.devices.entries()) < 3:
            QTimer.singleShot(200, look)
            return
        rt = wins[0].runtime
        seen["session"] = rt.controller.session.id
        seen["speed"] = rt.clock.speed
        seen["timeline"] = [
            wins[0].timeline.item(i).text() for i in range(wins[0].timeline.count())
        ]
        QApplication.quit()

    from kapdesk.demo.accounts import DEMO_PASSWORD
    from kapdesk.ui.common.sign_in import SignInDialog

    QTimer.singleShot(200, click_resume)
    QTimer.singleShot(400, look)
    args = build_parser().parse_args(["--demo", "--database-url", db_url])
    qapp.setQuitOnLastWindowClosed(False)  # one quit (ours), none left for the next test
    try:
        assert run_app(args) == 0
    finally:
        qapp.setQuitOnLastWindowClosed(True)
    assert "R. K. (test)" in str(seen["prompt"])
    assert seen["session"] == sid and seen["speed"] == 20.0
    assert any("Resumed after a restart" in line for line in seen["timeline"])
    assert any("Monitor connected" in line for line in seen["timeline"])
