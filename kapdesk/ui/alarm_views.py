"""How alarms look: a banner with the most urgent alarms, and lists apart for
physiological and technical alarms plus the log of every transition.

Colour is never the only cue: every message carries its priority marker (``***``,
``**``, ``*``) and text; high-priority alarms flash fast (about 2 Hz), medium slowly
(about 0.6 Hz), low stays steady, as IEC 60601-1-8 asks.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QWidget,
)

from kapdesk.domain.alarms import AlarmKind, AlarmState, AlarmTransition, AudioState, Priority
from kapdesk.ui.theme import ALARM_COLOURS

#: Flash half-periods in milliseconds.
FLASH_MS = {Priority.HIGH: 250, Priority.MEDIUM: 800}


def local_time(t: float) -> str:
    return datetime.fromtimestamp(t).strftime("%H:%M:%S")


def alarm_text(a: AlarmState) -> str:
    ack = f"  (ack. {a.acknowledged_by})" if a.acknowledged_by else ""
    latched = "  [latched]" if a.latched else ""
    # The engine's messages already start with the priority marker (*** / ** / *).
    message = a.message if a.message.startswith("*") else f"{a.priority.marker} {a.message}"
    return f"{message}{latched}{ack}"


def most_urgent(alarms: tuple[AlarmState, ...]) -> list[AlarmState]:
    """Unacknowledged first, then by priority, then newest."""
    return sorted(alarms, key=lambda a: (not a.audible, -a.priority.rank, -a.started))


class AlarmBanner(QFrame):
    """The top strip: the most urgent alarm in big type, its priority colour flashing."""

    acknowledge_clicked = Signal()
    pause_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alarmBanner")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(16, 6, 10, 6)
        self.message = QLabel("No alarms")
        self.message.setStyleSheet("font-size: 21px; font-weight: 700;")
        self.message.setWordWrap(True)  # wrap on a narrow screen; never cut an alarm short
        # Room for two lines always, and a fixed height: the plots below never jump as
        # alarms come and go, and flashing (its border swaps between 0 and 2 px) never
        # re-lays out and repaints them (the benchmark found that the GUI's main cost
        # during an alarm).
        self.setFixedHeight(72)
        self.more = QLabel("")
        self.audio = QLabel("")
        self.audio.setStyleSheet("font-weight: 600;")
        self.ack = QPushButton("Acknowledge")
        self.pause = QPushButton("Pause audio 2:00")
        self.ack.clicked.connect(self.acknowledge_clicked)
        self.pause.clicked.connect(self.pause_clicked)
        lay.addWidget(self.message, 1)
        lay.addWidget(self.more)
        lay.addSpacing(12)
        lay.addWidget(self.audio)
        lay.addWidget(self.pause)
        lay.addWidget(self.ack)
        self.priority: Priority | None = None
        self.flash_on = True
        self._flash_elapsed_ms = 0
        self._paint(None, True)

    def show_state(
        self, alarms: tuple[AlarmState, ...], audio: AudioState, now: float, pause_s: float
    ) -> None:
        urgent = most_urgent(alarms)
        top = urgent[0] if urgent else None
        self.priority = top.priority if top else None
        text = alarm_text(top) if top else "No alarms"
        if self.message.text() != text:
            self.message.setText(text)
        more = f"+{len(urgent) - 1} more" if len(urgent) > 1 else ""
        if self.more.text() != more:
            self.more.setText(more)
        if audio.paused_until is not None:
            left = max(0, int(audio.paused_until - now))
            audio_text = f"\U0001f507 Audio paused {left // 60}:{left % 60:02d}"
        else:
            audio_text = ""
        if self.audio.text() != audio_text:
            self.audio.setText(audio_text)
        self.ack.setEnabled(any(a.audible for a in alarms))
        self.pause.setText(f"Pause audio {int(pause_s) // 60}:{int(pause_s) % 60:02d}")
        self.pause.setEnabled(top is not None and audio.paused_until is None)

    def tick(self, elapsed_ms: int) -> None:
        """Advance the flashing by the frame time; a change of priority restarts it."""
        p = self.priority
        if p in FLASH_MS and self._audible_top():
            self._flash_elapsed_ms += elapsed_ms
            if self._flash_elapsed_ms >= FLASH_MS[p]:
                self._flash_elapsed_ms = 0
                self.flash_on = not self.flash_on
        else:
            self.flash_on = True
        self._paint(p, self.flash_on)

    def _audible_top(self) -> bool:
        return self.ack.isEnabled()

    def _paint(self, p: Priority | None, on: bool) -> None:
        if p is None:
            style = "background: #152018; border: 1px solid #20402a; border-radius: 8px;"
            fg = "#7fd69a"
        else:
            colour = ALARM_COLOURS[p.value]
            if on:
                style = f"background: {colour}; border-radius: 8px;"
                fg = "#000000"
            else:
                style = f"background: #1a1410; border: 2px solid {colour}; border-radius: 8px;"
                fg = colour
        sheet = f"QFrame#alarmBanner {{ {style} }} QFrame#alarmBanner QLabel {{ color: {fg}; }}"
        if self.styleSheet() != sheet:
            self.setStyleSheet(sheet)


class AlarmList(QListWidget):
    """Active alarms of one kind, most urgent first."""

    def __init__(self, kind: AlarmKind, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self._shown: list[str] = []

    def show_alarms(self, alarms: tuple[AlarmState, ...]) -> None:
        mine = [a for a in most_urgent(alarms) if a.kind == self.kind]
        lines = [f"{local_time(a.started)}   {alarm_text(a)}" for a in mine]
        if lines == self._shown:
            return
        self._shown = lines
        self.clear()
        for a, line in zip(mine, lines, strict=True):
            item = QListWidgetItem(line)
            item.setForeground(QColor(ALARM_COLOURS[a.priority.value]))
            self.addItem(item)
        if not mine:
            self.addItem(f"No {self.kind.value} alarms")


class AlarmLog(QListWidget):
    """Every transition, newest first: raised, escalated, acknowledged (by whom), cleared."""

    def add_transition(self, tr: AlarmTransition) -> None:
        value = "" if tr.value is None else f"  value {tr.value:g}"
        who = f"  by {tr.by}" if tr.by else ""
        item = QListWidgetItem(
            f"{local_time(tr.t)}  {tr.transition.value:<12} {tr.kind.value:<13}"
            f" {tr.message}{value}{who}"
        )
        item.setForeground(QColor(ALARM_COLOURS[tr.priority.value]))
        item.setData(Qt.ItemDataRole.UserRole, tr)
        self.insertItem(0, item)
        while self.count() > 2000:
            self.takeItem(self.count() - 1)
