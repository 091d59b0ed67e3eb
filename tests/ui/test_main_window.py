from __future__ import annotations

import math

import pytest
from access_support import CLINICIAN
from pytestqt.qtbot import QtBot

from kapdesk.app import build_main_window
from kapdesk.demo.mode import start_demo
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import open_database
from kapdesk.ui.monitor.numerics import NO_VALUE
from kapdesk.ui.monitor.trend_plots import with_gaps


@pytest.fixture
def demo_window(qtbot: QtBot, qapp, db_url: str):
    rt = Runtime.build(open_database(db_url), speed=60.0, actor=CLINICIAN)
    start_demo(rt)
    win = build_main_window(qapp, rt, demo=True)
    qtbot.addWidget(win)
    win.show()
    yield rt, win
    win.close()
    rt.shutdown()


def test_demo_window_shows_live_values_and_moving_trends(qtbot: QtBot, demo_window) -> None:
    _rt, win = demo_window
    qtbot.waitUntil(lambda: win.monitor.numerics.hr.value.text() != NO_VALUE, timeout=5000)
    hr = int(win.monitor.numerics.hr.value.text())
    assert 40 <= hr <= 160
    plots = win.monitor.plots

    def points() -> int:
        return len(plots.shown("heart_rate")[0])

    qtbot.waitUntil(lambda: points() > 30, timeout=5000)
    first = points()
    qtbot.waitUntil(lambda: points() > first + 20, timeout=5000)
    assert win.patient_label.text() == "Demo Patient (emulated)"
    assert win.badge.text() == "DEMO \u00d760"
    assert win.session_timer.text().startswith("0:0")
    assert not win.grab().isNull()


def test_phase_changes_reach_timeline_and_plot_markers(qtbot: QtBot, demo_window) -> None:
    _rt, win = demo_window
    # At 60x the scripted session reaches intention setting (3 min) in 3 s.
    qtbot.waitUntil(lambda: win.phase_label.text() == "Intention setting", timeout=10000)

    def timeline_has_intention() -> bool:
        texts = [win.timeline.item(i).text() for i in range(win.timeline.count())]
        return any("Phase: Intention setting" in t for t in texts)

    # The event reaches the GUI thread through its inbox, on the next frame at the latest.
    qtbot.waitUntil(timeline_has_intention, timeout=1000)
    assert win.monitor.plots.marker_count >= 2
    qtbot.waitUntil(lambda: "mean" in win.monitor.numerics.nibp.status.text(), timeout=5000)


def test_gaps_break_the_line_instead_of_joining_or_dropping_to_zero() -> None:
    import numpy as np

    t = np.array([0.0, 1.0, 2.0, 10.0, 11.0])
    v = np.array([70.0, 71.0, 72.0, 80.0, 81.0])
    gt, gv = with_gaps(t, v, gap=3.0)
    assert len(gt) == 6 and math.isnan(gv[3])
    assert 0.0 not in gv[~np.isnan(gv)] and gt[3] == pytest.approx(3.5)
