"""How the trend plots draw what the store holds: cuff readings as dots, dense traces as
a peak envelope that ends at the newest sample."""

from __future__ import annotations

import numpy as np
from pytestqt.qtbot import QtBot

from kapdesk.domain.readings import Reading
from kapdesk.trends import TrendStore
from kapdesk.ui.theme import DARK
from kapdesk.ui.trend_plots import TrendPlots


def shown(plots: TrendPlots, channel: str) -> tuple[np.ndarray, np.ndarray]:
    curve = plots._curves[channel]
    x, y = getattr(curve, "getOriginalDataset", curve.getData)()
    assert x is not None and y is not None
    return x, y


def test_cuff_readings_are_dots_and_a_dense_pressure_trace_is_a_line(qtbot: QtBot) -> None:
    plots = TrendPlots(DARK)
    qtbot.addWidget(plots)
    plots.resize(1000, 700)
    plots.show()
    qtbot.waitExposed(plots)
    store = TrendStore()
    for i, sys_mmhg in enumerate((118.0, 131.0, 124.0)):  # a cuff every 3 minutes
        store.add(Reading("nibp_systolic", sys_mmhg, "mm[Hg]", t=1000.0 + 180 * i))
    plots.refresh(store, now=1400.0)
    x, y = shown(plots, "nibp_systolic")
    assert list(y) == [118.0, 131.0, 124.0]
    assert plots._curves["nibp_systolic"].opts["symbol"] == "o"

    # An arterial line (or the benchmark's stress load): 250 readings a second.
    t0 = 1400.0
    for i in range(60 * 250):
        store.add(Reading("nibp_systolic", 120.0 + (i % 50), "mm[Hg]", t=t0 + i / 250))
    now = t0 + 60.0
    plots.refresh(store, now=now)
    x, y = shown(plots, "nibp_systolic")
    assert plots._curves["nibp_systolic"].opts["symbol"] is None  # no dots: a trace
    width = plots.plots[0].vb.width()
    assert len(x) <= 2 * width + 8  # a peak envelope, about two points a pixel
    assert np.nanmax(y) == 169.0 and np.nanmin(y) == 120.0  # every peak kept
    assert x[-1] == t0 + (60 * 250 - 1) / 250  # ends at the newest sample
