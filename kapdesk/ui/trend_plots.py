"""Live trend plots: items created once, then ``setData`` from the ring buffers each frame.

Follows the measured pyqtgraph advice in pitfalls.md: 1 px pens (antialiasing off),
``clipToView`` with peak downsampling for long histories, no OpenGL, never clear and
re-plot. Gaps (a silent sensor, a sensor-off value) are NaN and drawn as breaks with
``connect='finite'``, never as a line to 0.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem, QWidget

from kapdesk.domain.alarms import AlarmLimits, Condition
from kapdesk.domain.clock import iso_utc
from kapdesk.domain.session import SessionEvent
from kapdesk.trends import FloatArray, TrendStore
from kapdesk.ui.theme import ALARM_COLOURS, Theme

#: A continuous channel silent for longer than this (session seconds) is drawn as a gap.
GAP_AFTER_S = 3.0
#: The pleth strip shows the last few seconds of the waveform, like a monitor's sweep.
PLETH_WINDOW_S = 8.0
#: The time axis moves in steps of this many pixels (a step re-transforms and repaints
#: every item of every trend: 20-40 ms under the stress load, the costliest frame there is)
#: but never more than half the empty margin kept on the right, so new data stays in view.
AXIS_STEP_PX = 10
RIGHT_MARGIN = 0.02  # of the window
#: Cuff readings are drawn as dots only while the dots would be this far apart on average.
MIN_SYMBOL_SPACING_PX = 8
#: Which plot (by row) shows the limits of which channel.
LIMIT_CHANNELS = {0: ("heart_rate",), 1: ("spo2",), 2: ("nibp_systolic", "nibp_diastolic")}


def with_gaps(t: FloatArray, v: FloatArray, gap: float) -> tuple[FloatArray, FloatArray]:
    """Insert a NaN between samples further apart than ``gap`` so the line breaks there."""
    if len(t) < 2:
        return t, v
    breaks = np.flatnonzero(np.diff(t) > gap) + 1
    if not len(breaks):
        return t, v
    return np.insert(t, breaks, t[breaks - 1] + gap / 2), np.insert(v, breaks, np.nan)


def steady_axis(axis: pg.AxisItem) -> None:
    """Make an axis cheap to redraw (measured with ``scripts/benchmark``).

    - An axis draws its grid across the whole plot, and stroking the grid was most of a
      repaint (~17 of 23 ms). Cached as a pixmap, it is redrawn only when its own range
      moves, not whenever a curve under it changes.
    - No automatic SI prefix: the labels carry no units, so a prefix never showed, but it
      re-set the label's HTML on every range change (every frame for the pleth strip).
    """
    axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    axis.enableAutoSIPrefix(False)


class TrendPlots(pg.GraphicsLayoutWidget):
    """Stacked HR, SpO2 and NIBP trends sharing one time axis."""

    def __init__(self, theme: Theme, window_s: float = 15 * 60, parent: QWidget | None = None):
        super().__init__(parent)
        self.theme = theme
        self.window_s = window_s
        self.pleth_window_s = PLETH_WINDOW_S  # session seconds; the monitor scales by speed
        self.setBackground(theme.plot_background)
        self._curves: dict[str, pg.PlotDataItem | pg.PlotCurveItem] = {}
        self._markers: list[tuple[pg.InfiniteLine, ...]] = []
        self.plots: list[pg.PlotItem] = []
        spec = [
            ("Heart rate /min", [("pulse_rate", False), ("heart_rate", False)], (40, 140)),
            ("SpO\u2082 %", [("spo2", False)], (85, 100)),
            (
                "NIBP mmHg",
                [("nibp_systolic", True), ("nibp_diastolic", True), ("nibp_mean", True)],
                (40, 230),
            ),
        ]
        for row, (title, channels, yrange) in enumerate(spec):
            axis = pg.DateAxisItem(orientation="bottom")
            plot = self.addPlot(row=row, col=0, axisItems={"bottom": axis})
            for ax in ("left", "bottom"):
                plot.getAxis(ax).setTextPen(theme.muted)
                plot.getAxis(ax).setPen(theme.panel_border)
                steady_axis(plot.getAxis(ax))
            plot.setLabel("left", title, **{"color": theme.text, "font-size": "10pt"})
            # Horizontal grid lines only, and time labels only under the lowest trend (the
            # plots share one time axis). Each time axis with a vertical grid was redrawn
            # whole, grid included, whenever time moved on: 27-40 ms frames, three times
            # over. Event markers mark the times that matter.
            plot.showGrid(x=False, y=True, alpha=theme.grid_alpha)
            if row < len(spec) - 1:
                plot.hideAxis("bottom")
            plot.setYRange(*yrange, padding=0.02)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            if self.plots:
                plot.setXLink(self.plots[0])
            self.plots.append(plot)
            for name, discrete in channels:
                colour = theme.channel.get(name, theme.text)
                pen = pg.mkPen(colour, width=1)
                if discrete:
                    curve = plot.plot(
                        pen=pen, symbol="o", symbolSize=6, symbolBrush=colour, symbolPen=None
                    )
                else:
                    # A bare curve item: the data comes reduced already (an envelope), and
                    # PlotDataItem's layers (clipping, downsampling, symbols) cost ~0.25 ms
                    # a setData for nothing, every frame, for each dense channel.
                    curve = pg.PlotCurveItem(pen=pen, connect="finite")
                    plot.addItem(curve)
                self._curves[name] = curve
        self._versions: dict[str, int] = {}
        self._cuff_channels = {n for _t, chans, _r in spec for n, discrete in chans if discrete}
        self._cuff_symbols: dict[str, bool] = {}  # channel -> drawn with dots now
        self._shown_now = 0.0
        self._limit_items: list[tuple[pg.PlotItem, pg.GraphicsObject]] = []
        self._limits: AlarmLimits | None = None

        # The pleth strip: created now, shown only once a device sends a waveform.
        self.pleth_plot = self.addPlot(row=len(spec), col=0)
        self.pleth_plot.setLabel("left", "Pleth", **{"color": theme.text, "font-size": "10pt"})
        self.pleth_plot.hideAxis("bottom")
        self.pleth_plot.setMouseEnabled(x=False, y=False)
        self.pleth_plot.hideButtons()
        # No tick numbers (it used to draw them in the background colour, and re-measure
        # them each frame: their width moved the layout and asked for a second paint).
        self.pleth_plot.getAxis("left").setStyle(showValues=False)
        self.pleth_plot.getAxis("left").setPen(theme.panel_border)
        for ax in ("left", "bottom"):
            steady_axis(self.pleth_plot.getAxis(ax))
        self.pleth_curve = pg.PlotCurveItem(
            pen=pg.mkPen(theme.channel["pleth"], width=1), connect="finite"
        )
        self.pleth_plot.addItem(self.pleth_curve)
        self.ci.layout.setRowStretchFactor(len(spec), 0)
        self.ci.layout.setRowMaximumHeight(len(spec), 90)
        self.pleth_plot.setVisible(False)
        self.pleth_plot.setMaximumHeight(90)

    def refresh(self, store: TrendStore, now: float) -> None:
        """Pull what changed since the last frame and redraw only when something did.

        Curves get new data only when their channel got new samples; the time axis moves
        in steps of ``AXIS_STEP_PX`` pixels. At 1 Hz trends most frames then cost nothing,
        while a new reading still reaches the screen on the next frame.

        Moving the axis redraws all three trends, their grids and time labels, the
        costliest frame there is: in steps, it happens every few seconds rather than
        every frame or two; half a step early when a frame draws no new samples anyway.
        """
        t0 = now - self.window_s
        drew = False
        width = int(max(100.0, self.plots[0].vb.width()))
        for name, curve in self._curves.items():
            version = store.version(name)
            if version == self._versions.get(name):
                continue
            self._versions[name] = version
            drew = True
            # One bucket per pixel at most: a peak envelope (min and max) of dense channels,
            # so a frame never copies or draws more than the plot can show.
            t, v, bucket_s = store.envelope(
                name, t0, max_points=2 * width, min_bucket_s=self.window_s / width
            )
            if name in self._cuff_channels:
                self._show_cuff(name, curve, t, v, bucket_s, width)
            else:
                gap = max(GAP_AFTER_S, 2.5 * bucket_s)
                curve.setData(*with_gaps(t, v, gap), connect="finite")
        pixel_s = self.window_s / max(100.0, self.plots[0].vb.width())
        behind = abs(now - self._shown_now)
        step = min(AXIS_STEP_PX * pixel_s, self.window_s * RIGHT_MARGIN / 2)  # stays in view
        if behind >= step or (behind >= step / 2 and not drew):
            self._shown_now = now
            self.plots[0].setXRange(t0, now + self.window_s * RIGHT_MARGIN, padding=0)
        self._refresh_pleth(store, now)

    def _show_cuff(
        self,
        name: str,
        curve: pg.PlotDataItem,
        t: FloatArray,
        v: FloatArray,
        bucket_s: float,
        width: int,
    ) -> None:
        """Cuff readings (every few minutes) as dots joined by lines. A device that sends
        blood pressure far more often (an arterial line, the benchmark's stress load) is
        drawn like any dense trace: thousands of overlapping dots show nothing more and
        cost most of a frame."""
        sparse = bucket_s == 0.0 and len(t) * MIN_SYMBOL_SPACING_PX <= width
        if sparse != self._cuff_symbols.get(name, True):
            self._cuff_symbols[name] = sparse
            curve.setSymbol("o" if sparse else None)
        if sparse:
            curve.setData(t, v, connect="all")
        else:
            gap = max(GAP_AFTER_S, 2.5 * bucket_s)
            curve.setData(*with_gaps(t, v, gap), connect="finite")

    def _refresh_pleth(self, store: TrendStore, now: float) -> None:
        version = store.version("pleth")
        if version == self._versions.get("pleth"):
            return
        self._versions["pleth"] = version
        t, v = store.since("pleth", now - self.pleth_window_s)
        if not self.pleth_plot.isVisible():
            self.pleth_plot.setVisible(True)
            # Line the strip up with the trends above it (its own axis has no numbers).
            self.pleth_plot.getAxis("left").setWidth(self.plots[0].getAxis("left").width())
        self.pleth_curve.setData(*with_gaps(t, v, self.pleth_window_s / 16), connect="finite")
        if len(t):
            self._fit_pleth(float(t[-1]), v)

    def _fit_pleth(self, newest: float, v: FloatArray) -> None:
        """The last ``pleth_window_s`` up to the newest sample, y fitted to the data with
        the padding pyqtgraph's auto-range would add, in one range change made now.

        Left to auto-range, the y axis was fitted when the paint started, and a range
        changed during a paint asks for a second paint: the strip was drawn twice a frame.
        """
        vb = self.pleth_plot.vb
        x_range = (newest - self.pleth_window_s, newest)
        finite = v[np.isfinite(v)]
        if not len(finite):  # all gaps: keep the y range, as auto-range does
            vb.setRange(xRange=x_range, padding=0)
        else:
            lo, hi = float(finite.min()), float(finite.max())
            pad = (hi - lo) * vb.suggestPadding(1)
            vb.setRange(xRange=x_range, yRange=(lo - pad, hi + pad), padding=0)
        vb.updateMatrix()  # also now: the view would otherwise move its items mid-paint

    def apply_theme(self, theme: Theme) -> None:
        """Follow a theme switch (dim in session, day between sessions): background,
        axes and titles; channel and alarm colours stay as they are, by design."""
        self.theme = theme
        self.setBackground(theme.plot_background)
        for plot in [*self.plots, self.pleth_plot]:
            for ax in ("left", "bottom"):
                plot.getAxis(ax).setTextPen(theme.muted)
                plot.getAxis(ax).setPen(theme.panel_border)
            label = plot.getAxis("left").labelText
            plot.setLabel("left", label, **{"color": theme.text, "font-size": "10pt"})
        self.pleth_plot.getAxis("left").setTextPen(theme.plot_background)

    def set_window(self, seconds: float) -> None:
        """How much history the trends show (5 min up to the whole session)."""
        self.window_s = max(60.0, seconds)
        self._shown_now = 0.0  # redraw the axis on the next frame
        self._versions.clear()  # and re-pull the data for the new window

    def show_limits(self, limits: AlarmLimits) -> None:
        """Shade what lies beyond each absolute limit, in the limit's priority colour.

        Redrawn only when the limits change (a staff member edited one)."""
        if limits is self._limits:
            return
        self._limits = limits
        for plot, item in self._limit_items:
            plot.removeItem(item)
        self._limit_items.clear()
        for row, channels in LIMIT_CHANNELS.items():
            plot = self.plots[row]
            for rule in limits.rules:
                if rule.channel not in channels:
                    continue
                if rule.condition is Condition.ABOVE_HIGH_LIMIT:
                    span = (rule.threshold, rule.threshold + 1000)
                elif rule.condition is Condition.BELOW_LOW_LIMIT:
                    span = (rule.threshold - 1000, rule.threshold)
                else:
                    continue  # baseline-relative limits move with the baseline
                colour = pg.mkColor(ALARM_COLOURS[rule.priority.value])
                item: pg.GraphicsObject
                if rule.channel == channels[0]:  # the plot's main channel: a shaded band
                    colour.setAlpha(22 if rule.priority.value == "medium" else 34)
                    item = pg.LinearRegionItem(
                        values=span,
                        orientation="horizontal",
                        movable=False,
                        brush=pg.mkBrush(colour),
                        pen=pg.mkPen(None),
                    )
                else:  # a second channel on the same plot (diastolic): a dashed line
                    colour.setAlpha(110)
                    item = pg.InfiniteLine(
                        pos=rule.threshold,
                        angle=0,
                        pen=pg.mkPen(colour, width=1, style=pg.QtCore.Qt.PenStyle.DashLine),
                    )
                item.setZValue(-10)
                item.setToolTip(f"{rule.channel} {rule.condition.value} {rule.threshold:g}")
                plot.addItem(item, ignoreBounds=True)
                self._limit_items.append((plot, item))

    def add_event_marker(self, event: SessionEvent, label: str) -> None:
        """A dashed vertical line on every plot, labelled on the top one."""
        lines = []
        for i, plot in enumerate(self.plots):
            line = pg.InfiniteLine(
                pos=event.t,
                angle=90,
                pen=pg.mkPen(self.theme.muted, width=1, style=pg.QtCore.Qt.PenStyle.DashLine),
                label=label if i == 0 else None,
                labelOpts={
                    "position": 0.62,
                    "color": self.theme.muted,
                    "rotateAxis": (1, 0),
                    "anchors": [(0.5, 0), (0.5, 0)],
                },
            )
            line.setToolTip(f"{label} at {iso_utc(event.t)}")
            plot.addItem(line, ignoreBounds=True)
            lines.append(line)
        self._markers.append(tuple(lines))

    @property
    def marker_count(self) -> int:
        return len(self._markers)
