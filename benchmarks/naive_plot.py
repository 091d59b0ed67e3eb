"""The naive way to draw live vitals, kept only as the benchmark's point of comparison.

Every reading is sent to the GUI thread (a queued signal), appended to the channel's
history, and the whole history is handed to ``setData``: no ring buffer, no frame timer,
no clipping or downsampling. This is what the issue asks kapdesk to be compared with.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from kapdesk.domain.readings import Reading
from kapdesk.live.trend_store import TrendStore
from kapdesk.ui.common.theme import Theme

#: Rows as in kapdesk's monitor: HR, SpO2, NIBP trends, then the pleth strip.
ROWS: tuple[tuple[str, ...], ...] = (
    ("pulse_rate", "heart_rate"),
    ("spo2",),
    ("nibp_systolic", "nibp_diastolic", "nibp_mean"),
    ("pleth",),
)


class NaivePlot(pg.GraphicsLayoutWidget):
    reading_arrived = Signal(object)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(theme.plot_background)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._history: dict[str, tuple[list[float], list[float]]] = {}
        # The same look as kapdesk's plots (time axes, grid, 1 px pens, cuff symbols), so
        # that only the way data reaches them differs; pyqtgraph's defaults otherwise.
        for row, channels in enumerate(ROWS):
            plot = self.addPlot(row=row, col=0, axisItems={"bottom": pg.DateAxisItem()})
            plot.showGrid(x=True, y=True, alpha=theme.grid_alpha)
            for name in channels:
                colour = theme.channel.get(name, theme.text)
                symbol = {"symbol": "o", "symbolSize": 6} if name.startswith("nibp_") else {}
                self.curves[name] = plot.plot(pen=pg.mkPen(colour, width=1), **symbol)
                self._history[name] = ([], [])
        self.accepting = True
        self.drawn = 0
        self.dropped = 0  # readings still queued when the comparison ended
        self.set_data_s = 0.0
        self.reading_arrived.connect(self._draw)

    def submit(self, reading: Reading) -> None:
        """Hub subscriber (producer thread): one queued signal per reading."""
        if self.accepting:
            self.reading_arrived.emit(reading)

    def _draw(self, reading: Reading) -> None:
        if not self.accepting:
            self.dropped += 1
            return
        history = self._history.get(reading.channel)
        if history is None:
            return
        xs, ys = history
        xs.append(reading.t)
        ys.append(reading.value)
        start = time.perf_counter()
        self.curves[reading.channel].setData(np.asarray(xs), np.asarray(ys))
        self.set_data_s += time.perf_counter() - start
        self.drawn += 1

    def load_history(self, store: TrendStore) -> None:
        """Start from what ``store`` holds (the history kapdesk's trends start from)."""
        for name, curve in self.curves.items():
            t, v = store.since(name, -math.inf)
            self._history[name] = (t.tolist(), v.tolist())
            curve.setData(t, v)

    def newest_shown(self, channel: str) -> float:
        """Time of the newest sample on ``channel``'s curve (NaN when none)."""
        x = self.curves[channel].getOriginalDataset()[0]
        return float(x[-1]) if x is not None and len(x) else math.nan
