"""How alarms look: a banner with the most urgent alarms, and lists apart for
physiological and technical alarms plus the log of every transition.

Colour is never the only cue: every message carries its priority marker (``***``,
``**``, ``*``) and text; high-priority alarms flash fast (about 2 Hz), medium slowly
(about 0.6 Hz), low stays steady, as IEC 60601-1-8 asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
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
    latched = ""
    if a.latched:
        ended = a.condition_ended_at
        latched = f"  [latched: ended {local_time(ended)}]" if ended is not None else "  [latched]"
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
        self.message = BannerLabel("No alarms")
        self.message.setStyleSheet("font-size: 21px; font-weight: 700;")
        self.message.setWordWrap(True)  # wrap on a narrow screen; never cut an alarm short
        # Room for two lines always, and a fixed height: the plots below never jump as
        # alarms come and go.
        self.setFixedHeight(72)
        self.more = BannerLabel("")
        self.audio = BannerLabel("")
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
        self._look: BannerLook | None = None
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
        """Switch colours and repaint the banner, nothing else: no style sheet (setting
        one re-laid out the whole window, ~1 ms a flash, one frame in eight under the
        benchmark), no change of size (the border is 2 px in every look)."""
        look = BANNER_LOOKS["calm" if p is None else f"{p.value}-{'on' if on else 'off'}"]
        if look == self._look:
            return
        self._look = look
        for label in (self.message, self.more, self.audio):
            label.colour = QColor(look.text)
            label.update()
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(self._look.border), 2))
        painter.setBrush(QColor(self._look.background))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(1, 1, -1, -1), 8, 8)


@dataclass(frozen=True)
class BannerLook:
    background: str
    border: str
    text: str


#: The banner's looks: calm, and lit / unlit for each priority (flashing swaps them).
BANNER_LOOKS = {
    "calm": BannerLook("#152018", "#20402a", "#7fd69a"),
    **{f"{p}-on": BannerLook(colour, colour, "#000000") for p, colour in ALARM_COLOURS.items()},
    **{f"{p}-off": BannerLook("#1a1410", colour, colour) for p, colour in ALARM_COLOURS.items()},
}


class BannerLabel(QLabel):
    """A label drawn in the banner's current text colour (``colour``), set directly
    rather than through a style sheet, so a flash costs a repaint and no re-polish."""

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self.colour = QColor(BANNER_LOOKS["calm"].text)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setPen(self.colour)
        painter.setFont(self.font())
        flags = self.alignment() | Qt.AlignmentFlag.AlignVCenter
        if self.wordWrap():
            flags |= Qt.TextFlag.TextWordWrap
        painter.drawText(self.contentsRect(), int(flags.value), self.text())


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


def log_line(tr: AlarmTransition) -> str:
    """One transition as the alarm log shows it: local time, what happened, the message;
    the episode id ties an alarm's raise, condition end and clear together."""
    value = "" if tr.value is None else f"  value {tr.value:g}"
    who = f"  by {tr.by}" if tr.by else ""
    episode = f"  [#{tr.episode}]" if tr.episode else ""
    what = tr.transition.value.replace("_", " ")
    return f"{local_time(tr.t)}  {what:<18} {tr.kind.value:<13} {tr.message}{value}{who}{episode}"


class AlarmLog(QListWidget):
    """Every transition, newest first: raised, escalated, condition ended (latched),
    acknowledged (by whom), cleared."""

    def add_transition(self, tr: AlarmTransition) -> None:
        item = QListWidgetItem(log_line(tr))
        item.setForeground(QColor(ALARM_COLOURS[tr.priority.value]))
        item.setData(Qt.ItemDataRole.UserRole, tr)
        self.insertItem(0, item)
        while self.count() > 2000:
            self.takeItem(self.count() - 1)
