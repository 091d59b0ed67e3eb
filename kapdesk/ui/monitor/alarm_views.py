"""How alarms look: a banner with the most urgent alarms, and lists apart for
physiological and technical alarms plus the log of every transition.

Colour is never the only cue: every message carries its priority marker (``***``,
``**``, ``*``) and text; high-priority alarms flash fast (about 2 Hz), medium slowly
(about 0.6 Hz), low stays steady, as IEC 60601-1-8 asks.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from kapdesk.domain import time_text
from kapdesk.domain.alarms import AlarmKind, AlarmState, AlarmTransition, AudioState, Priority
from kapdesk.ui.common import theme
from kapdesk.ui.common.announce import announce
from kapdesk.ui.common.fitted_text import FittedText
from kapdesk.ui.common.theme import ALARM_COLOURS, ALARM_ON_TEXT

#: Flash half-periods in milliseconds.
FLASH_MS = {Priority.HIGH: 250, Priority.MEDIUM: 800}


def alarm_text(a: AlarmState) -> str:
    ack = f"  (ack. {a.acknowledged_by})" if a.acknowledged_by else ""
    latched = ""
    if a.latched:
        ended = a.condition_ended_at
        latched = "  [latched]"
        if ended is not None:
            latched = f"  [latched: ended {time_text.clock_time_s(ended)}]"
    # The engine's messages already start with the priority marker (*** / ** / *).
    message = a.message if a.message.startswith("*") else f"{a.priority.marker} {a.message}"
    return f"{message}{latched}{ack}"


def most_urgent(alarms: tuple[AlarmState, ...]) -> list[AlarmState]:
    """Unacknowledged first, then by priority, then newest."""
    return sorted(alarms, key=lambda a: (not a.audible, -a.priority.rank, -a.started))


class AlarmBanner(QFrame):
    """The top strip: the most urgent alarm in big type, its priority colour flashing.

    The whole message is always readable: its type shrinks (down to 13 px) until every
    line fits the banner's fixed height, so a three-line message never loses its first
    line or its "[latched]". Once acknowledged, an alarm stops flashing and tones down to
    the unlit look (its colour as border and text), still readable.
    """

    acknowledge_clicked = Signal()
    pause_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alarmBanner")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(16, 6, 10, 6)
        self.message = FittedText(
            "No alarms",
            min_px=13,
            max_px=21,
            wrap=True,
            alignment=Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
        )
        self.message.setAccessibleDescription("most urgent alarm")
        # A fixed height: the plots below never jump as alarms come and go.
        self.setFixedHeight(76)
        self.more = FittedText("", min_px=14, max_px=15)
        self.more.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.audio = FittedText("", min_px=14, max_px=15)
        self.audio.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
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
        self.pause_key = ""  # the keyboard shortcut, shown on the button
        self.priority: Priority | None = None
        self.flash_on = True
        self._flash_elapsed_ms = 0
        self._look: BannerLook | None = None
        self._look_name = "calm"
        self._paint(None, True)
        theme.notifier().changed.connect(self._theme_changed)

    def show_state(
        self, alarms: tuple[AlarmState, ...], audio: AudioState, now: float, pause_s: float
    ) -> None:
        urgent = most_urgent(alarms)
        top = urgent[0] if urgent else None
        self.priority = top.priority if top else None
        # The message's accessible name follows it (FittedText): a reader on the banner
        # hears it change; the alarm log announces each raise and clear.
        self.message.setText(alarm_text(top) if top else "No alarms")
        self.more.setText(f"+{len(urgent) - 1} more" if len(urgent) > 1 else "")
        if audio.paused_until is not None:
            left = time_text.minutes_seconds(audio.paused_until - now)
            audio_text = f"\U0001f507 Audio paused {left}"
        else:
            audio_text = ""
        self.audio.setText(audio_text)
        self.ack.setEnabled(any(a.audible for a in alarms))
        key = f" ({self.pause_key})" if self.pause_key else ""
        self.pause.setText(f"Pause audio {time_text.minutes_seconds(pause_s)}{key}")
        self.pause.setEnabled(top is not None and audio.paused_until is None)

    def tick(self, elapsed_ms: int) -> None:
        """Advance the flashing by the frame time; a change of priority restarts it.
        An acknowledged (silent) top alarm is shown steady and unlit: toned down."""
        p = self.priority
        audible = self._audible_top()
        if p in FLASH_MS and audible:
            self._flash_elapsed_ms += elapsed_ms
            if self._flash_elapsed_ms >= FLASH_MS[p]:
                self._flash_elapsed_ms = 0
                self.flash_on = not self.flash_on
        else:
            self.flash_on = audible or p is None
        self._paint(p, self.flash_on)

    def _audible_top(self) -> bool:
        return self.ack.isEnabled()

    def _theme_changed(self, _t: object) -> None:
        self._look = None
        self._paint(self.priority, self.flash_on)

    def _paint(self, p: Priority | None, on: bool) -> None:
        """Switch colours and repaint the banner, nothing else: no style sheet (setting
        one re-laid out the whole window, ~1 ms a flash, one frame in eight under the
        benchmark), no change of size (the border is 2 px in every look)."""
        name = "calm" if p is None else f"{p.value}-{'on' if on else 'off'}"
        look = banner_look(name, theme.active())
        if look == self._look:
            return
        self._look = look
        self._look_name = name
        for label in (self.message, self.more, self.audio):
            label.set_colour(look.text)
        self.update()

    def look_name(self) -> str:
        """calm, or <priority>-on / <priority>-off: what the banner shows now."""
        return self._look_name

    def paintEvent(self, event: QPaintEvent) -> None:
        look = self._look or banner_look("calm", theme.active())
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(look.border), 2))
        painter.setBrush(QColor(look.background))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(1, 1, -1, -1), 8, 8)


@dataclass(frozen=True)
class BannerLook:
    background: str
    border: str
    text: str


def banner_look(name: str, t: theme.Theme) -> BannerLook:
    """The banner's looks in theme ``t``: calm, and lit / unlit for each priority
    (flashing swaps them; an acknowledged alarm stays unlit)."""
    if name == "calm":
        return BannerLook(t.banner_calm_background, t.banner_calm_border, t.banner_calm_text)
    priority, state = name.split("-")
    colour = ALARM_COLOURS[priority]
    if state == "on":
        return BannerLook(colour, colour, ALARM_ON_TEXT)
    return BannerLook(t.banner_unlit_background, colour, t.alarm_text[priority])


#: Where a list row keeps its alarm's priority, to re-colour it when the theme changes.
PRIORITY_ROLE = Qt.ItemDataRole.UserRole + 1


def recolour_by_priority(widget: QListWidget, t: theme.Theme) -> None:
    for i in range(widget.count()):
        item = widget.item(i)
        priority = item.data(PRIORITY_ROLE)
        if priority:
            item.setForeground(QColor(t.alarm_text[priority]))


class AlarmList(QListWidget):
    """Active alarms of one kind, most urgent first."""

    def __init__(self, kind: AlarmKind, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self._shown: list[str] = []
        theme.notifier().changed.connect(self._recolour)

    def _recolour(self, t: theme.Theme) -> None:
        recolour_by_priority(self, t)

    def show_alarms(self, alarms: tuple[AlarmState, ...]) -> None:
        mine = [a for a in most_urgent(alarms) if a.kind == self.kind]
        lines = [f"{time_text.clock_time_s(a.started)}   {alarm_text(a)}" for a in mine]
        if lines == self._shown:
            return
        self._shown = lines
        self.clear()
        for a, line in zip(mine, lines, strict=True):
            item = QListWidgetItem(line)
            item.setData(PRIORITY_ROLE, a.priority.value)
            item.setForeground(QColor(theme.active().alarm_text[a.priority.value]))
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
    when = time_text.clock_time_s(tr.t)
    return f"{when}  {what:<18} {tr.kind.value:<13} {tr.message}{value}{who}{episode}"


class AlarmLog(QListWidget):
    """Every transition, newest first: raised, escalated, condition ended (latched),
    acknowledged (by whom), cleared."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        theme.notifier().changed.connect(self._recolour)

    def _recolour(self, t: theme.Theme) -> None:
        recolour_by_priority(self, t)

    def add_transition(self, tr: AlarmTransition) -> None:
        item = QListWidgetItem(log_line(tr))
        spoken = f"{tr.transition.value.replace('_', ' ')}: {tr.message.lstrip('* ')}"
        loud = tr.priority is Priority.HIGH and tr.transition.value in ("raised", "escalated")
        announce(self, spoken, assertive=loud)
        item.setForeground(QColor(theme.active().alarm_text[tr.priority.value]))
        item.setData(Qt.ItemDataRole.UserRole, tr)
        item.setData(PRIORITY_ROLE, tr.priority.value)
        self.insertItem(0, item)
        while self.count() > 2000:
            self.takeItem(self.count() - 1)
