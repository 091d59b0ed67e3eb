"""How the trend plots draw what the store holds: cuff readings as dots, dense traces as
a peak envelope that ends at the newest sample, and each frame redrawing only the tail
of a trace (a narrow strip), not the whole plot."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QObject, QRect
from PySide6.QtWidgets import QGraphicsRectItem
from pytestqt.qtbot import QtBot

from kapdesk.domain.alarms import AlarmLimits, Condition, LimitRule, Priority
from kapdesk.domain.readings import Reading
from kapdesk.live.trend_store import TrendStore
from kapdesk.ui.common.theme import DARK
from kapdesk.ui.monitor.trend_plots import AXIS_STEP_PX, TrendPlots


def shown_plots(qtbot: QtBot) -> TrendPlots:
    plots = TrendPlots(DARK)
    qtbot.addWidget(plots)
    plots.resize(1000, 700)
    plots.show()
    qtbot.waitExposed(plots)
    return plots


class PaintRegions(QObject):
    """Records the region of each paint of a view's viewport."""

    def __init__(self, plots: TrendPlots) -> None:
        super().__init__()
        self.rects: list[QRect] = []
        plots.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.rects.append(event.region().boundingRect())  # type: ignore[attr-defined]
        return False


def test_cuff_readings_are_dots_and_a_dense_pressure_trace_is_a_line(qtbot: QtBot) -> None:
    plots = shown_plots(qtbot)
    store = TrendStore()
    for i, sys_mmhg in enumerate((118.0, 131.0, 124.0)):  # a cuff every 3 minutes
        store.add(Reading("nibp_systolic", sys_mmhg, "mm[Hg]", t=1000.0 + 180 * i))
    plots.refresh(store, now=1400.0)
    x, y = plots.shown("nibp_systolic")
    assert list(y) == [118.0, 131.0, 124.0]
    trace = plots.traces["nibp_systolic"]
    assert trace.dots and trace.history.opts["symbol"] == "o"
    store.add(Reading("nibp_systolic", 127.0, "mm[Hg]", t=1540.0))  # the next cuff
    plots.refresh(store, now=1541.0)
    assert list(plots.shown("nibp_systolic")[1]) == [118.0, 131.0, 124.0, 127.0]

    # An arterial line (or the benchmark's stress load): 250 readings a second.
    t0 = 1600.0
    for i in range(60 * 250):
        store.add(Reading("nibp_systolic", 120.0 + (i % 50), "mm[Hg]", t=t0 + i / 250))
    now = t0 + 60.0
    plots.refresh(store, now=now)
    x, y = plots.shown("nibp_systolic")
    assert not trace.dots and trace.history.opts["symbol"] is None  # no dots: a trace
    width = plots.plots[0].vb.width()
    assert len(x) <= 2 * width + 8  # a peak envelope, about two points a pixel
    assert np.nanmax(y) == 169.0 and np.nanmin(y) == 120.0  # every peak kept
    assert x[-1] == t0 + (60 * 250 - 1) / 250  # ends at the newest sample
    assert plots.newest_shown("nibp_systolic") == x[-1]


def test_a_frame_redraws_only_the_tail_of_a_dense_trace(qtbot: QtBot) -> None:
    plots = shown_plots(qtbot)
    qtbot.wait(200)  # laid out and painted once, as the app's window is before data comes
    store = TrendStore()
    t = 10_000.0
    for i in range(120 * 250):  # two minutes of a 250 Hz heart-rate channel
        store.add(Reading("heart_rate", 70.0 + (i % 25), "/min", t=t + i / 250))
    now = t + 120.0
    plots.refresh(store, now)
    trace = plots.traces["heart_rate"]
    history_x = trace.history.getData()[0].copy()
    regions = PaintRegions(plots)
    qtbot.waitUntil(lambda: len(regions.rects) > 0, timeout=2000)
    qtbot.wait(300)  # the rebuild's repaints (and the layout's, for new axis labels) done
    regions.rects.clear()

    # Less than an axis step later (no axis move): a spike arrives.
    step_s = AXIS_STEP_PX * plots.window_s / plots.plots[0].vb.width()
    later = now + step_s / 3
    n = int(step_s / 3 * 250)
    for i in range(n):
        value = 188.0 if i == n // 2 else 80.0
        store.add(Reading("heart_rate", value, "/min", t=now + i / 250))
    plots.refresh(store, later)
    qtbot.waitUntil(lambda: bool(regions.rects), timeout=2000)

    assert np.array_equal(trace.history.getData()[0], history_x)  # history untouched
    tail_x, tail_y = trace.tail.getData()
    assert tail_x[0] == history_x[-1]  # the tail joins the history's last point
    assert np.nanmax(tail_y) == 188.0 and tail_x[-1] == now + (n - 1) / 250
    _x, y = plots.shown("heart_rate")
    assert np.nanmax(y) == 188.0 and np.nanmin(y) == 70.0
    assert plots.newest_shown("heart_rate") == now + (n - 1) / 250
    # What was repainted is a strip at the right edge, not the plot.
    viewport_width = plots.viewport().width()
    assert max(r.width() for r in regions.rects) < viewport_width / 10
    assert min(r.left() for r in regions.rects) > viewport_width / 2

    # An axis step later: the traces are rebuilt, the tail is folded into the history.
    plots.refresh(store, now + 2 * step_s)
    assert len(trace.tail.getData()[0]) == 0
    assert np.nanmax(trace.history.getData()[1]) == 188.0


def test_a_silent_stretch_breaks_the_tail_from_the_history(qtbot: QtBot) -> None:
    plots = shown_plots(qtbot)
    store = TrendStore()
    for i in range(60):
        store.add(Reading("spo2", 97.0, "%", t=5000.0 + i))
    plots.refresh(store, 5060.0)
    store.add(Reading("spo2", 95.0, "%", t=5064.0))  # four seconds of silence first
    plots.refresh(store, 5064.5)  # less than an axis step later: a tail
    _x, y = plots.traces["spo2"].tail.getData()
    assert list(y[:1]) == [97.0] and np.isnan(y[1]) and y[-1] == 95.0


def test_limit_bands_follow_the_time_axis(qtbot: QtBot) -> None:
    plots = shown_plots(qtbot)
    limits = AlarmLimits(
        rules=(
            LimitRule("heart_rate", Condition.ABOVE_HIGH_LIMIT, Priority.HIGH, 120.0),
            LimitRule("nibp_diastolic", Condition.ABOVE_HIGH_LIMIT, Priority.MEDIUM, 100.0),
        )
    )
    plots.show_limits(limits)
    store = TrendStore()
    for now in (3600.0, 3600.0 + 3 * plots.window_s):
        plots.refresh(store, now)
        x0, x1 = plots.plots[0].vb.viewRange()[0]
        bands = [item for _plot, item in plots._limit_items]
        assert len(bands) == 2
        for item in bands:
            span = item.mapRectToParent(item.boundingRect())
            assert span.left() <= x0 and span.right() >= x1  # across the whole window
        band = next(b for b in bands if isinstance(b, QGraphicsRectItem))
        assert band.rect().top() == 120.0


def test_pleth_strip_keeps_its_range_while_the_waveform_stays_in_it(qtbot: QtBot) -> None:
    plots = shown_plots(qtbot)
    store = TrendStore()
    t = 100.0
    ranges = []
    for _frame in range(20):
        for _ in range(3):  # 100 Hz, 30 ms frames
            store.add(Reading("pleth", 50.0 + 40.0 * np.sin(t * 7.0), "1", t=t))
            t += 0.01
        plots.refresh(store, t)
        ranges.append(tuple(plots.pleth_plot.vb.viewRange()[1]))
        assert plots.newest_shown("pleth") == store.last("pleth")[0]  # type: ignore[index]
    assert plots.pleth_plot.isVisible()
    assert len(set(ranges[10:])) == 1  # steady once the waveform has been seen
    x, _y = plots.pleth_curve.getData()
    assert x[-1] == 0.0 and x[0] >= -plots.pleth_window_s  # seconds before the newest
    for _ in range(5):  # the signal doubles: the strip refits
        store.add(Reading("pleth", 300.0, "1", t=t))
        t += 0.01
    plots.refresh(store, t)
    assert plots.pleth_plot.vb.viewRange()[1][1] >= 300.0
