"""One channel's line on a trend plot, drawn as a settled history plus a live tail.

Why two items: a curve that gets new data is repainted whole, and a curve spanning the
plot repaints the whole plot (every other item under it too). A dense channel gets new
samples every frame, so one curve per channel made every frame a full repaint of every
trend: the stress load's latency tail. Here the history (everything up to the last
rebuild) is redrawn only on a rebuild, when the time axis steps anyway, and each frame
only the tail changes: the samples since, a few pixels wide at the right edge, so a frame
repaints that strip and nothing else.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from kapdesk.live.trend_store import FloatArray, TrendStore, peak_envelope

#: A continuous channel silent for longer than this (session seconds) is drawn as a gap.
GAP_AFTER_S = 3.0
#: Cuff readings are drawn as dots only while the dots would be this far apart on average.
MIN_SYMBOL_SPACING_PX = 8


def with_gaps(t: FloatArray, v: FloatArray, gap: float) -> tuple[FloatArray, FloatArray]:
    """Insert a NaN between samples further apart than ``gap`` so the line breaks there."""
    if len(t) < 2:
        return t, v
    breaks = np.flatnonzero(np.diff(t) > gap) + 1
    if not len(breaks):
        return t, v
    return np.insert(t, breaks, t[breaks - 1] + gap / 2), np.insert(v, breaks, np.nan)


class TrendTrace:
    """A channel's history (one peak-envelope point pair per pixel column at most) and
    its live tail, which starts at the history's last point so the line runs on."""

    def __init__(self, plot: pg.PlotItem, name: str, colour: QColor | str, discrete: bool):
        self.name = name
        self.discrete = discrete  # cuff readings: dots while they are sparse
        pen = pg.mkPen(colour, width=1)
        self.history: pg.PlotDataItem | pg.PlotCurveItem
        if discrete:
            self.history = plot.plot(
                pen=pen, symbol="o", symbolSize=6, symbolBrush=colour, symbolPen=None
            )
        else:
            # A bare curve item: the data comes reduced already, and PlotDataItem's layers
            # (clipping, downsampling, symbols) cost ~0.25 ms a setData for nothing.
            self.history = pg.PlotCurveItem(pen=pen, connect="finite")
            plot.addItem(self.history)
        self.tail = pg.PlotCurveItem(pen=pen, connect="finite")
        plot.addItem(self.tail)
        self.dots = discrete
        self._t0 = 0.0
        self._bucket_s = 0.0
        self._width = 100
        self._built_at: int | None = None  # store version the history was built at
        self._drawn: int | None = None  # store version the tail was drawn at
        self._joint: tuple[FloatArray, FloatArray] = (np.empty(0), np.empty(0))
        self._tail_empty = True
        self.newest_t = math.nan  # time of the newest sample on screen (NaN: none yet)

    @property
    def gap_s(self) -> float:
        """Samples further apart than this are drawn with a break (at least GAP_AFTER_S,
        and a few buckets when a pixel holds more time than that)."""
        return max(GAP_AFTER_S, 2.5 * self._bucket_s)

    def stale(self, store: TrendStore) -> bool:
        """True when the store holds samples not drawn yet."""
        return store.version(self.name) != self._drawn

    def rebuild(self, store: TrendStore, t0: float, bucket_s: float, width: int) -> None:
        """Redraw the history from ``t0`` (buckets of ``bucket_s``, a pixel's worth of
        time) and empty the tail: the costly redraw, done when the view moves anyway."""
        self._t0, self._bucket_s, self._width = t0, bucket_s, width
        t, v, version = store.envelope(self.name, t0, bucket_s)
        self._built_at = self._drawn = version
        if self.discrete:
            # Dots while the readings are few and each has a pixel column of its own.
            dots = len(t) * MIN_SYMBOL_SPACING_PX <= width and bool(
                len(t) < 2 or np.min(np.diff(t)) >= bucket_s
            )
            if dots != self.dots:
                self.dots = dots
                assert isinstance(self.history, pg.PlotDataItem)
                self.history.setSymbol("o" if dots else None)
        if self.dots:  # a reading every few minutes: dots joined by lines, no gaps
            self.history.setData(t, v, connect="all")
        else:
            self.history.setData(*with_gaps(t, v, self.gap_s), connect="finite")
        self._joint = (t[-1:], v[-1:])
        if not self._tail_empty:
            self.tail.setData(np.empty(0), np.empty(0))
            self._tail_empty = True
        if len(t):
            self.newest_t = float(t[-1])

    def follow(self, store: TrendStore) -> bool:
        """Draw the samples that arrived since the rebuild as the tail. False when there
        were none since the last frame."""
        if not self.stale(store):
            return False
        if self._built_at is None or self.dots:
            # Nothing drawn yet, or sparse dots (a new one every few minutes): redraw all.
            self.rebuild(store, self._t0, self._bucket_s, self._width)
            return True
        t, v, self._drawn = store.appended_since(self.name, self._built_at)
        t, v = peak_envelope(t, v, self._bucket_s)
        if len(t):
            newest = float(t.max())  # arrival order: a late sample may come last
            self.newest_t = newest if math.isnan(self.newest_t) else max(self.newest_t, newest)
        t = np.concatenate((self._joint[0], t))
        v = np.concatenate((self._joint[1], v))
        self.tail.setData(*with_gaps(t, v, self.gap_s), connect="finite")
        self._tail_empty = False
        return True

    def shown(self) -> tuple[FloatArray, FloatArray]:
        """Everything on screen for this channel, history then tail, gaps as NaN."""
        parts_t, parts_v = [], []
        for item in (self.history, self.tail):
            get = getattr(item, "getOriginalDataset", item.getData)
            x, y = get()
            if x is not None and y is not None and len(x):
                parts_t.append(np.asarray(x, dtype=float))
                parts_v.append(np.asarray(y, dtype=float))
        if len(parts_t) == 2 and len(self._joint[0]):  # the tail starts with the joint
            parts_t[1], parts_v[1] = parts_t[1][1:], parts_v[1][1:]
        if not parts_t:
            return np.empty(0), np.empty(0)
        return np.concatenate(parts_t), np.concatenate(parts_v)
