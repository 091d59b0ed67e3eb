"""Live trend plots: items created once, then ``setData`` from the ring buffers each frame.

Follows the measured pyqtgraph advice in pitfalls.md: 1 px pens (antialiasing off), at
most a peak envelope's two points per pixel column, no OpenGL, never clear and re-plot;
each frame redraws only what changed (:mod:`kapdesk.ui.monitor.trend_trace`). Gaps (a silent
sensor, a sensor-off value) are NaN and drawn as breaks with ``connect='finite'``, never
as a line to 0.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QBrush, QPen
from PySide6.QtWidgets import QGraphicsLineItem, QGraphicsRectItem, QWidget

from kapdesk.domain.alarms import AlarmLimits, Condition
from kapdesk.domain.clock import iso_utc
from kapdesk.domain.session import SessionEvent
from kapdesk.live.trend_store import FloatArray, TrendStore
from kapdesk.ui.common.theme import ALARM_COLOURS, Theme
from kapdesk.ui.monitor.steady_axis import SteadyAxis, SteadyDateAxis, steady_axis
from kapdesk.ui.monitor.trend_trace import TrendTrace, with_gaps

#: The pleth strip shows the last few seconds of the waveform, like a monitor's sweep.
PLETH_WINDOW_S = 8.0
#: The time axis moves in steps of this many pixels (a step re-transforms and repaints
#: every item of every trend, the costliest frame there is, and rebuilds each trace's
#: history) but never more than half the empty margin kept on the right, so new data
#: stays in view.
AXIS_STEP_PX = 10
RIGHT_MARGIN = 0.02  # of the window
#: Which plot (by row) shows the limits of which channel.
LIMIT_CHANNELS = {0: ("heart_rate",), 1: ("spo2",), 2: ("nibp_systolic", "nibp_diastolic")}


class TrendPlots(pg.GraphicsLayoutWidget):
    """Stacked HR, SpO2 and NIBP trends sharing one time axis."""

    def __init__(self, theme: Theme, window_s: float = 15 * 60, parent: QWidget | None = None):
        super().__init__(parent)
        self.theme = theme
        self.window_s = window_s
        self.pleth_window_s = PLETH_WINDOW_S  # session seconds; the monitor scales by speed
        self.setBackground(theme.plot_background)
        self.traces: dict[str, TrendTrace] = {}
        self._markers: list[tuple[pg.InfiniteLine, ...]] = []
        #: the last marker with a label on the plot: (time, text, its line)
        self._labelled: tuple[float, str, pg.InfiniteLine] | None = None
        self.plots: list[pg.PlotItem] = []
        spec = [
            ("HR /min", [("pulse_rate", False), ("heart_rate", False)], (40, 140)),
            ("SpO\u2082 %", [("spo2", False)], (85, 100)),
            (
                "NIBP mmHg",
                [("nibp_systolic", True), ("nibp_diastolic", True), ("nibp_mean", True)],
                (40, 230),
            ),
        ]
        for row, (title, channels, yrange) in enumerate(spec):
            axes = {
                "bottom": SteadyDateAxis(orientation="bottom"),
                "left": SteadyAxis(orientation="left"),
            }
            plot = self.addPlot(row=row, col=0, axisItems=axes)
            for ax in ("left", "bottom"):
                plot.getAxis(ax).setTextPen(theme.muted)
                plot.getAxis(ax).setPen(theme.panel_border)
            for ax in ("left", "bottom", "top", "right"):  # hidden ones follow the range too
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
                self.traces[name] = TrendTrace(plot, name, colour, discrete)
        self._pleth_version: int | None = None  # store version the strip was drawn at
        self._shown_now = 0.0
        self._bucket_s = 0.0  # a pixel's worth of time when the histories were built
        self._limit_items: list[tuple[pg.PlotItem, QGraphicsRectItem | QGraphicsLineItem]] = []
        self._limits: AlarmLimits | None = None

        # The pleth strip: created now, shown only once a device sends a waveform.
        self.pleth_plot = self.addPlot(
            row=len(spec),
            col=0,
            axisItems={
                "bottom": SteadyAxis(orientation="bottom"),
                "left": SteadyAxis(orientation="left"),
            },
        )
        self.pleth_plot.setLabel("left", "Pleth", **{"color": theme.text, "font-size": "10pt"})
        self.pleth_plot.hideAxis("bottom")
        self.pleth_plot.setMouseEnabled(x=False, y=False)
        self.pleth_plot.hideButtons()
        # No tick numbers (it used to draw them in the background colour, and re-measure
        # them each frame: their width moved the layout and asked for a second paint).
        self.pleth_plot.getAxis("left").setStyle(showValues=False)
        self.pleth_plot.getAxis("left").setPen(theme.panel_border)
        for ax in ("left", "bottom", "top", "right"):
            steady_axis(self.pleth_plot.getAxis(ax))
        self.pleth_curve = pg.PlotCurveItem(
            pen=pg.mkPen(theme.channel["pleth"], width=1), connect="finite"
        )
        self.pleth_plot.addItem(self.pleth_curve)
        self.pleth_plot.disableAutoRange()
        self.pleth_newest_t = math.nan  # session time of the strip's right edge
        self._pleth_x_span = 0.0
        self.ci.layout.setRowStretchFactor(len(spec), 0)
        self.ci.layout.setRowMaximumHeight(len(spec), 90)
        self.pleth_plot.setVisible(False)
        self.pleth_plot.setMaximumHeight(90)

    def refresh(self, store: TrendStore, now: float) -> None:
        """Pull what arrived since the last frame; draw only what changed.

        Each frame a channel with new samples redraws only its tail (see
        :class:`TrendTrace`), a strip at the right edge. The time axis moves in steps of
        ``AXIS_STEP_PX`` pixels; a step repaints every trend whole anyway, so that is
        when the traces rebuild their histories from the store.
        """
        width = int(max(100.0, self.plots[0].vb.width()))
        bucket_s = self.window_s / width  # a pixel's worth of time
        step = min(AXIS_STEP_PX * bucket_s, self.window_s * RIGHT_MARGIN / 2)  # stays in view
        if abs(now - self._shown_now) >= step or bucket_s != self._bucket_s:
            self._shown_now, self._bucket_s = now, bucket_s
            t0 = now - self.window_s
            self.plots[0].setXRange(t0, now + self.window_s * RIGHT_MARGIN, padding=0)
            self._span_limits()
            for trace in self.traces.values():
                trace.rebuild(store, t0, bucket_s, width)
        else:
            for trace in self.traces.values():
                trace.follow(store)
        self._refresh_pleth(store, now)

    def newest_shown(self, channel: str) -> float:
        """Time of the newest sample of ``channel`` on screen (NaN when none)."""
        if channel == "pleth":
            return self.pleth_newest_t
        trace = self.traces.get(channel)
        return math.nan if trace is None else trace.newest_t

    def shown(self, channel: str) -> tuple[FloatArray, FloatArray]:
        """What the plots show of ``channel``: times and values, gaps as NaN."""
        return self.traces[channel].shown()

    def _refresh_pleth(self, store: TrendStore, now: float) -> None:
        """The strip's x axis is seconds before the newest sample, so its range never
        moves: a frame sets the curve's data and nothing else (moving the range every
        frame re-transformed the strip's items and axes, half the strip's cost)."""
        version = store.version("pleth")
        if version == self._pleth_version:
            return
        self._pleth_version = version
        t, v = store.since("pleth", now - self.pleth_window_s)
        if not self.pleth_plot.isVisible():
            self.pleth_plot.setVisible(True)
            # Line the strip up with the trends above it (its own axis has no numbers).
            self.pleth_plot.getAxis("left").setWidth(self.plots[0].getAxis("left").width())
        if not len(t):
            self.pleth_curve.setData(np.empty(0), np.empty(0))
            return
        self.pleth_newest_t = float(t[-1])
        x = t - self.pleth_newest_t
        self.pleth_curve.setData(*with_gaps(x, v, self.pleth_window_s / 16), connect="finite")
        self._fit_pleth(v)

    def _fit_pleth(self, v: FloatArray) -> None:
        """Fit y to the waveform, with the padding pyqtgraph's auto-range would add, when
        it has left the range or fills less than half of it; x spans the strip's window.

        Left to auto-range, the y axis was fitted when the paint started, and a range
        changed during a paint asks for a second paint: the strip was drawn twice a frame.
        Fitting only when needed keeps the range, and so the strip's transform, steady.
        """
        vb = self.pleth_plot.vb
        if self._pleth_x_span != self.pleth_window_s:
            self._pleth_x_span = self.pleth_window_s
            vb.setRange(xRange=(-self.pleth_window_s, 0.0), padding=0)
        finite = v[np.isfinite(v)]
        if not len(finite):  # all gaps: keep the y range, as auto-range does
            return
        lo, hi = float(finite.min()), float(finite.max())
        y0, y1 = vb.viewRange()[1]
        if y0 <= lo and hi <= y1 and hi - lo >= 0.5 * (y1 - y0):
            return
        pad = max(hi - lo, 1e-6) * vb.suggestPadding(1)
        vb.setRange(yRange=(lo - pad, hi + pad), padding=0)
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
        self._shown_now = 0.0  # move the axis on the next frame, rebuilding every trace

    def show_limits(self, limits: AlarmLimits) -> None:
        """Shade what lies beyond each absolute limit, in the limit's priority colour.

        Redrawn only when the limits change (a staff member edited one)."""
        if limits is self._limits:
            return
        self._limits = limits
        for plot, old in self._limit_items:
            plot.removeItem(old)
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
                item: QGraphicsRectItem | QGraphicsLineItem
                if rule.channel == channels[0]:  # the plot's main channel: a shaded band
                    colour.setAlpha(22 if rule.priority.value == "medium" else 34)
                    item = QGraphicsRectItem(QRectF(0.0, span[0], 1.0, span[1] - span[0]))
                    item.setPen(QPen(Qt.PenStyle.NoPen))
                    item.setBrush(QBrush(colour))
                else:  # a second channel on the same plot (diastolic): a dashed line
                    colour.setAlpha(110)
                    item = QGraphicsLineItem(QLineF(0.0, rule.threshold, 1.0, rule.threshold))
                    item.setPen(pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine))
                item.setToolTip(f"{rule.channel} {rule.condition.value} {rule.threshold:g}")
                plot.addItem(item, ignoreBounds=True)
                item.setZValue(-10)  # behind the traces
                self._limit_items.append((plot, item))
        self._span_limits()

    def _span_limits(self) -> None:
        """Stretch the limit bands and lines across the time window and well beyond it.

        They are plain Qt items, not pyqtgraph's region and line items: those compute
        their bounds and paint in Python, and a band lies under every trace's tail, so it
        is painted with each frame's tail (measured: ~1 ms of a 4 ms paint). Spanning
        a finite stretch keeps device coordinates small; it moves with the time axis.
        """
        x0 = self._shown_now - 2 * self.window_s
        x1 = self._shown_now + 2 * self.window_s
        for _plot, item in self._limit_items:
            if isinstance(item, QGraphicsRectItem):
                r = item.rect()
                item.setRect(QRectF(x0, r.y(), x1 - x0, r.height()))
            else:
                y = item.line().y1()
                item.setLine(QLineF(x0, y, x1, y))

    def add_event_marker(self, event: SessionEvent, label: str) -> None:
        """A dashed vertical line on every plot, labelled on the top one. Events seconds
        apart (dose, then mask on) would stack their labels into an unreadable block:
        one that falls within 3 % of the window of the last labelled marker adds its
        text to that label instead ("Dose \u00b7 Mask on")."""
        last = self._labelled
        merge = last is not None and abs(event.t - last[0]) < 0.03 * self.window_s
        lines = []
        for i, plot in enumerate(self.plots):
            line = pg.InfiniteLine(
                pos=event.t,
                angle=90,
                pen=pg.mkPen(self.theme.muted, width=1, style=Qt.PenStyle.DashLine),
                label=label if i == 0 and not merge else None,
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
        if merge and last is not None:
            text = f"{last[1]} \u00b7 {label}"
            last[2].label.setFormat(text)
            self._labelled = (last[0], text, last[2])
        else:
            self._labelled = (event.t, label, lines[0])
        self._markers.append(tuple(lines))

    def marker_labels(self) -> list[str]:
        """The texts drawn on the top plot, one per visible label."""
        return [
            m[0].label.format for m in self._markers if getattr(m[0], "label", None) is not None
        ]

    def clear_markers(self) -> None:
        """A new session: the previous patient's markers go."""
        for lines in self._markers:
            for plot, line in zip(self.plots, lines, strict=False):
                plot.removeItem(line)
        self._markers.clear()
        self._labelled = None

    @property
    def marker_count(self) -> int:
        return len(self._markers)
