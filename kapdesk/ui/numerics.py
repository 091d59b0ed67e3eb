"""Large numerals per vital sign, legible from across a dim room."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from kapdesk.domain.alarms import AlarmKind, AlarmState, Priority
from kapdesk.domain.readings import INVALID, SENSOR_OFF, SIGNAL_ARTIFACT
from kapdesk.trends import TrendStore
from kapdesk.ui.theme import ALARM_COLOURS

NO_VALUE = "--"


class NumericTile(QFrame):
    """One channel's current value, its unit, and a small line of status."""

    def __init__(self, title: str, unit: str, colour: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("panel")
        self.setMinimumWidth(230)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 10, 16, 10)
        lay.setSpacing(0)
        top = QHBoxLayout()
        self.title = QLabel(title)
        self.title.setStyleSheet(f"color: {colour}; font-size: 16px; font-weight: 600;")
        self.unit = QLabel(unit)
        self.unit.setObjectName("muted")
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.unit)
        lay.addLayout(top)
        self.value = QLabel(NO_VALUE)
        self.value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.value.setStyleSheet(
            f"color: {colour}; font-size: 72px; font-weight: 600;"
            " font-family: 'DejaVu Sans Mono', monospace;"
        )
        lay.addWidget(self.value)
        self.status = QLabel("")
        self.status.setObjectName("muted")
        self.status.setAlignment(Qt.AlignmentFlag.AlignRight)
        lay.addWidget(self.status)
        self._alarm: Priority | None = None

    def set_alarm(self, priority: Priority | None) -> None:
        """Outline the tile in the alarm's colour while its channel is in alarm."""
        if priority == self._alarm:
            return
        self._alarm = priority
        if priority is None:
            self.setStyleSheet("")
        else:
            colour = ALARM_COLOURS[priority.value]
            self.setStyleSheet(f"QFrame#panel {{ border: 3px solid {colour}; }}")

    def show_value(self, text: str, status: str = "") -> None:
        if self.value.text() != text:
            self.value.setText(text)
        if self.status.text() != status:
            self.status.setText(status)


def _fmt(v: float) -> str:
    return NO_VALUE if math.isnan(v) else f"{v:.0f}"


def _flag_text(flags: frozenset[str]) -> str:
    if SENSOR_OFF in flags:
        return "sensor off"
    if INVALID in flags:
        return "invalid"
    if SIGNAL_ARTIFACT in flags:
        return "artefact?"
    return ""


def age_text(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s ago"
    return f"{seconds / 60:.0f} min ago"


class NumericsPanel(QWidget):
    """Heart rate, SpO2 and the last cuff reading with its age."""

    def __init__(self, colours: dict[str, str], parent: QWidget | None = None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(10)
        self.hr = NumericTile("HR", "bpm", colours["heart_rate"])
        self.spo2 = NumericTile("SpO\u2082", "%", colours["spo2"])
        self.nibp = NumericTile("NIBP", "mmHg", colours["nibp_systolic"])
        self.nibp.value.setStyleSheet(
            self.nibp.value.styleSheet().replace("font-size: 72px", "font-size: 52px")
        )
        for tile in (self.hr, self.spo2, self.nibp):
            lay.addWidget(tile, 1)

    def show_alarms(self, alarms: tuple[AlarmState, ...]) -> None:
        """Each tile takes the colour of the highest physiological alarm on its channels."""
        for tile, prefix in ((self.hr, "heart_rate"), (self.spo2, "spo2"), (self.nibp, "nibp_")):
            ranks = [
                a.priority
                for a in alarms
                if a.kind == AlarmKind.PHYSIOLOGICAL and a.channel.startswith(prefix)
            ]
            tile.set_alarm(max(ranks, key=lambda p: p.rank) if ranks else None)

    def refresh(self, store: TrendStore, now: float, stale_after: float = 5.0) -> None:
        """Show the newest values; a channel silent for ``stale_after`` s shows no value."""
        for tile, channel in ((self.hr, "heart_rate"), (self.spo2, "spo2")):
            last = store.last(channel)
            if last is None:
                tile.show_value(NO_VALUE, "no data")
                continue
            t, v, flags = last
            if now - t > stale_after:
                tile.show_value(NO_VALUE, f"no data for {age_text(now - t)[:-4]}")
            else:
                tile.show_value(_fmt(v), _flag_text(flags))
        s, d, m = (store.last(c) for c in ("nibp_systolic", "nibp_diastolic", "nibp_mean"))
        if s is None or d is None:
            self.nibp.show_value("---/--", "no cuff reading yet")
        else:
            mean = f" ({_fmt(m[1])})" if m is not None else ""
            self.nibp.show_value(
                f"{_fmt(s[1])}/{_fmt(d[1])}", f"mean{mean} · {age_text(now - s[0])}"
            )
