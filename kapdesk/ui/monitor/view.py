"""The vitals monitor: alarm banner, trends with limit bands and event markers, large
numerics. One widget, so it can live in the main window or on a second screen, full
screen, for medical staff across the room."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from kapdesk.live.runtime import Runtime
from kapdesk.ui.common.theme import Theme, styled_label
from kapdesk.ui.monitor.alarm_views import AlarmBanner
from kapdesk.ui.monitor.numerics import NumericsPanel
from kapdesk.ui.monitor.trend_plots import TrendPlots

#: The time windows staff can pick (seconds; None = the whole session).
WINDOWS: list[tuple[str, float | None]] = [
    ("5 min", 5 * 60.0),
    ("15 min", 15 * 60.0),
    ("30 min", 30 * 60.0),
    ("1 h", 3600.0),
    ("2 h", 7200.0),
    ("Whole session", None),
]


class MonitorView(QWidget):
    detach_requested = Signal()
    limits_requested = Signal()
    devices_requested = Signal()

    def __init__(self, runtime: Runtime, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runtime = runtime
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(8)
        self.banner = AlarmBanner()  # fixed height: flashing never re-lays out the plots
        lay.addWidget(self.banner)

        bar = QHBoxLayout()
        bar.addWidget(styled_label("Trend window", "muted"))
        self.window_choice = QComboBox()
        for label, _s in WINDOWS:
            self.window_choice.addItem(label)
        self.window_choice.setCurrentIndex(1)
        self.window_choice.currentIndexChanged.connect(self._window_changed)
        bar.addWidget(self.window_choice)
        bar.addStretch(1)
        self.devices_button = QPushButton("Devices\u2026")
        self.devices_button.clicked.connect(self.devices_requested)
        bar.addWidget(self.devices_button)
        self.limits_button = QPushButton("Alarm limits\u2026")
        self.limits_button.clicked.connect(self.limits_requested)
        self.detach_button = QPushButton("Detach monitor")
        self.detach_button.clicked.connect(self.detach_requested)
        bar.addWidget(self.limits_button)
        bar.addWidget(self.detach_button)
        lay.addLayout(bar)

        body = QHBoxLayout()
        body.setSpacing(10)
        self.plots = TrendPlots(theme)
        # The waveform strip spans a few real seconds, also when the demo runs sped up.
        self.plots.pleth_window_s *= runtime.clock.speed
        self.numerics = NumericsPanel()
        body.addWidget(self.plots, 5)
        body.addWidget(self.numerics, 2)
        lay.addLayout(body, 1)
        self._whole_session = False

    def _window_changed(self, index: int) -> None:
        seconds = WINDOWS[index][1]
        self._whole_session = seconds is None
        self.plots.set_window(seconds or self._session_span())

    def _session_span(self) -> float:
        session = self.runtime.controller.session
        if session is None or session.started_at is None:
            return 15 * 60.0
        return self.runtime.clock.now() - session.started_at + 60.0

    def refresh(self, frame_ms: int) -> None:
        rt = self.runtime
        now = rt.clock.now()
        if self._whole_session and now - self.plots.window_s > self._session_start_or(now):
            self.plots.set_window(self._session_span())
        alarms = rt.alarms.active_alarms()
        audio = rt.alarms.audio_state()
        self.banner.show_state(alarms, audio, now, rt.alarm_settings.audio_pause_s)
        self.banner.tick(frame_ms)
        self.numerics.refresh(rt.trends, now)
        self.numerics.show_alarms(alarms)
        self.plots.show_limits(rt.alarms.limits())
        self.plots.refresh(rt.trends, now)  # last: the paint that follows shows its data

    def _session_start_or(self, now: float) -> float:
        session = self.runtime.controller.session
        return session.started_at if session and session.started_at else now
