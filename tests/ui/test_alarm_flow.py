"""Issue 4's 'done means' with the real window: a blood-pressure spike above the high
limit gives a high-priority alarm with sound, flashing and a log entry; acknowledging
silences it; pulling an emulated device raises a technical alarm."""

from __future__ import annotations

import time

import pytest
from access_support import CLINICIAN
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kapdesk.acquisition.catalog import profile_for_protocol
from kapdesk.acquisition.serial_transport import SerialMonitorConnection
from kapdesk.app import build_main_window
from kapdesk.demo.script import demo_patient
from kapdesk.domain.access import Actor, Role
from kapdesk.domain.alarms import AlarmKind, Condition, Priority
from kapdesk.domain.readings import Reading
from kapdesk.live.runtime import Runtime
from kapdesk.sim.emulators.serial_pty import PtySerialEmulator
from kapdesk.sim.patient_model import EmulatedPatient
from kapdesk.storage.database import open_database
from kapdesk.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot: QtBot, qapp, db_url: str):
    rt = Runtime.build(open_database(db_url), speed=1.0, actor=CLINICIAN)
    rt.desk.enter(Actor(Role.MEDICAL_STAFF, "Kim", username="nurse.kim"), "test")
    rt.controller.open(demo_patient(), "im-ketamine")
    rt.controller.start()
    win = build_main_window(qapp, rt)
    qtbot.addWidget(win)
    win.show()
    # This machine has no audio output: that is itself a (high) technical alarm. Staff
    # acknowledge it first, so what follows sounds only for the patient.
    qtbot.waitUntil(lambda: rt.alarms.audio_state().sounding is not None, timeout=3000)
    rt.alarms.acknowledge(by="nurse.kim").result(2)
    qtbot.waitUntil(lambda: win.sounder.sounding is None, timeout=2000)
    yield rt, win
    win.close()
    rt.shutdown()


def log_lines(win: MainWindow) -> list[str]:
    return [win.alarm_log.item(i).text() for i in range(win.alarm_log.count())]


def test_bp_spike_sounds_flashes_logs_and_acknowledge_silences(qtbot: QtBot, window) -> None:
    rt, win = window
    bursts_before = len(win.sounder.bursts)
    rt.hub.publish(Reading("nibp_systolic", 207, "mm[Hg]", t=rt.clock.now(), device="cuff"))

    # High priority at once (a cuff reading is discrete: no condition delay).
    qtbot.waitUntil(lambda: "207" in win.monitor.banner.message.text(), timeout=2000)
    assert win.monitor.banner.priority is Priority.HIGH
    assert win.monitor.banner.message.text().startswith("***")
    # Sound: the high-priority burst is played on the real QMediaPlayer.
    qtbot.waitUntil(lambda: win.sounder.sounding is Priority.HIGH, timeout=2000)
    assert len(win.sounder.bursts) > bursts_before
    assert win.sounder.bursts[-1][1] is Priority.HIGH
    # Flashing: the banner alternates while the alarm is unacknowledged.
    seen = set()
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        qtbot.wait(60)
        seen.add(win.monitor.banner.flash_on)
    assert seen == {True, False}
    # The NIBP tile is outlined; the log has the raise with its value.
    assert win.monitor.numerics.nibp._alarm is Priority.HIGH
    qtbot.waitUntil(  # the log hears of it through its inbox, within a frame
        lambda: any("raised" in line and "207" in line for line in log_lines(win)), timeout=1000
    )
    assert any("207" in win.physiological.item(i).text() for i in range(win.physiological.count()))

    # Acknowledge by clicking: the sound stops, the log says who.
    qtbot.mouseClick(win.monitor.banner.ack, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.sounder.sounding is None, timeout=2000)
    qtbot.waitUntil(
        lambda: any("acknowledged" in x and "nurse.kim" in x for x in log_lines(win)), timeout=2000
    )
    # Acknowledged: the flashing stops and the banner tones down to its unlit look,
    # the message still there in full.
    qtbot.wait(700)
    assert win.monitor.banner.look_name() == "high-off"
    assert "207" in win.monitor.banner.message.text()


def test_pulling_an_emulated_device_raises_a_technical_alarm(qtbot: QtBot, window) -> None:
    rt, win = window
    emu = PtySerialEmulator("cms50d", EmulatedPatient(), rt.clock.elapsed).start()
    conn = SerialMonitorConnection(
        emu.port, profile_for_protocol("cms50d"), rt.hub, rt.clock.now, "Oximeter"
    )
    conn.start()
    try:
        qtbot.waitUntil(lambda: rt.trends.last("spo2") is not None, timeout=5000)
        emu.pull_cable(30)
        qtbot.waitUntil(
            lambda: any(
                a.kind is AlarmKind.TECHNICAL and a.condition is Condition.DEVICE_DISCONNECTED
                for a in rt.alarms.active_alarms()
            ),
            timeout=5000,
        )
        qtbot.waitUntil(
            lambda: any(
                "Oximeter" in win.technical.item(i).text() for i in range(win.technical.count())
            ),
            timeout=2000,
        )
        qtbot.waitUntil(lambda: any("disconnected" in x for x in log_lines(win)), timeout=1000)
    finally:
        conn.stop()
        emu.stop()
