"""The main window: who and where in the session, live numerics and trends, the timeline."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QVBoxLayout,
    QWidget,
)

from kapdesk import __version__
from kapdesk.domain.session import SessionEvent
from kapdesk.runtime import Runtime
from kapdesk.ui.numerics import NumericsPanel
from kapdesk.ui.theme import DARK, Theme
from kapdesk.ui.trend_plots import EVENT_LABELS, TrendPlots

FRAME_MS = 33  # ~30 frames/s: the GUI pulls whatever arrived since the last frame


class _EventBridge(QObject):
    """Carries session events from any thread onto the GUI thread."""

    event = Signal(object)


def hms(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 3600:d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def describe(event: SessionEvent) -> str:
    d = event.data
    match event.kind:
        case "phase_entered":
            return f"Phase: {d.get('label', event.phase)}"
        case "session_started":
            return f"Session started ({d.get('protocol', '')})"
        case "dose":
            return (
                f"Dose: {d.get('route', '')} {d.get('amount_mg', '?')} mg"
                f" ({d.get('mg_per_kg', '?')} mg/kg), lot {d.get('lot', '-')}"
            )
        case "intention":
            return f"Intention: \u201c{d.get('text', '')}\u201d"
        case "baseline":
            return f"Baseline {d.get('channel')}: {d.get('value')}"
        case _:
            return event.kind.replace("_", " ").capitalize()


class MainWindow(QMainWindow):
    def __init__(self, runtime: Runtime, theme: Theme = DARK, demo: bool = False) -> None:
        super().__init__()
        self.runtime = runtime
        self.setWindowTitle(f"kapdesk {__version__}" + (" \u2014 demo" if demo else ""))
        self.resize(1440, 900)
        central = QWidget(objectName="central")
        self.setCentralWidget(central)
        root = QVBoxLayout(central)
        root.setContentsMargins(14, 12, 14, 10)
        root.setSpacing(10)

        # Header: patient, protocol, phase with its timer, session time, demo badge.
        header = QFrame(objectName="panel")
        hl = QHBoxLayout(header)
        hl.setContentsMargins(16, 8, 16, 8)
        self.patient_label = QLabel("No session", objectName="heading")
        self.protocol_label = QLabel("", objectName="muted")
        self.phase_label = QLabel("", objectName="heading")
        self.phase_timer = QLabel("", objectName="muted")
        self.session_timer = QLabel("", objectName="heading")
        self.session_timer.setStyleSheet("font-family: 'DejaVu Sans Mono', monospace;")
        self.badge = QLabel(objectName="badge")
        self.badge.setVisible(demo)
        speed = runtime.clock.speed
        self.badge.setText("DEMO" + (f" \u00d7{speed:g}" if speed != 1 else ""))
        hl.addWidget(self.patient_label)
        hl.addSpacing(12)
        hl.addWidget(self.protocol_label)
        hl.addStretch(1)
        hl.addWidget(self.phase_label)
        hl.addSpacing(8)
        hl.addWidget(self.phase_timer)
        hl.addStretch(1)
        hl.addWidget(QLabel("Session", objectName="muted"))
        hl.addWidget(self.session_timer)
        hl.addSpacing(12)
        hl.addWidget(self.badge)
        root.addWidget(header)

        body = QHBoxLayout()
        body.setSpacing(10)
        self.plots = TrendPlots(theme)
        self.numerics = NumericsPanel(theme.channel)
        body.addWidget(self.plots, 3)
        body.addWidget(self.numerics, 1)
        root.addLayout(body, 1)

        self.timeline = QListWidget()
        self.timeline.setMaximumHeight(130)
        self.timeline.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        root.addWidget(self.timeline)

        self._bridge = _EventBridge()
        self._bridge.event.connect(self._on_event)
        runtime.controller.add_listener(self._bridge.event.emit)
        for ev in runtime.controller.events:  # events from before the window existed
            self._on_event(ev)

        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(FRAME_MS)
        self.refresh()

    def refresh(self) -> None:
        rt = self.runtime
        rt.tick()
        now = rt.clock.now()
        self.plots.refresh(rt.trends, now)
        self.numerics.refresh(rt.trends, now)
        session = rt.controller.session
        patient = rt.controller.patient
        if session is None or patient is None:
            return
        self.patient_label.setText(patient.display_name)
        self.protocol_label.setText(session.protocol)
        if session.started_at is not None:
            end = session.ended_at if session.ended_at is not None else now
            self.session_timer.setText(hms(end - session.started_at))
        phase = session.phase
        if phase is not None and session.phase_started_at is not None:
            self.phase_label.setText(phase.label)
            nxt = session.next_phase
            elapsed = hms(now - session.phase_started_at)
            planned = hms(phase.expected_s)
            self.phase_timer.setText(
                f"{elapsed} of ~{planned}" + (f" \u00b7 next: {nxt.label}" if nxt else "")
            )
        hub = rt.hub.counters
        self.statusBar().showMessage(
            f"Recording \u00b7 {rt.recorder.readings_written} readings saved"
            f" \u00b7 {len(rt.controller.events)} events \u00b7"
            f" {hub.malformed_frames} malformed frames dropped"
        )

    def _on_event(self, event: SessionEvent) -> None:
        if event.kind == "phase_ended":  # implied by the next phase_entered
            return
        stamp = datetime.fromtimestamp(event.t).strftime("%H:%M:%S")  # local, as the clinic reads
        self.timeline.insertItem(0, f"{stamp}   {describe(event)}")
        if event.kind in EVENT_LABELS:
            label = EVENT_LABELS[event.kind] or str(event.phase or "").capitalize()
            self.plots.add_event_marker(event, label)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._timer.stop()
        super().closeEvent(event)
