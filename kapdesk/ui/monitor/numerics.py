"""Large numerals per vital sign, legible from across a dim room, sized to their tile."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QVBoxLayout, QWidget

from kapdesk.domain import time_text
from kapdesk.domain.alarms import AlarmKind, AlarmState, Priority
from kapdesk.domain.readings import INVALID, SENSOR_OFF, SIGNAL_ARTIFACT
from kapdesk.live.trend_store import TrendStore
from kapdesk.ui.common import theme
from kapdesk.ui.common.fitted_text import FittedText
from kapdesk.ui.common.theme import styled_label

NO_VALUE = "--"


class NumericTile(QFrame):
    """One channel's current value, its unit, and a small line of status.

    The value is painted to fill the tile (as bedside monitors scale numerics to the
    space): small on a laptop, large on a full-screen second monitor. Its colour is the
    channel's colour in the active theme, re-read on every theme switch.
    """

    def __init__(
        self,
        title: str,
        unit: str,
        channel: str,
        max_px: int = 220,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.channel = channel
        self.setMinimumWidth(180)
        # Title and unit in a narrow column at the left, the value beside them using the
        # tile's whole height (a laptop's tiles are wide and short), the status below.
        lay = QGridLayout(self)
        lay.setContentsMargins(12, 6, 12, 6)
        lay.setHorizontalSpacing(6)
        lay.setVerticalSpacing(0)
        self.title = FittedText(title, min_px=15, max_px=18, alignment=Qt.AlignmentFlag.AlignLeft)
        self.title.setFixedSize(56, 24)
        self.unit = styled_label(unit, "muted")
        self.unit.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.value = FittedText(NO_VALUE, min_px=28, max_px=max_px, monospace=True)
        self.value.setMinimumHeight(36)
        self.value.setAccessibleDescription(f"{title} in {unit}")
        self.status = styled_label("", "muted")
        self.status.setAlignment(Qt.AlignmentFlag.AlignRight)
        lay.addWidget(self.title, 0, 0)
        lay.addWidget(self.unit, 1, 0)
        lay.addWidget(self.value, 0, 1, 2, 1)
        lay.addWidget(self.status, 2, 0, 1, 2)
        lay.setColumnStretch(1, 1)
        lay.setRowStretch(1, 1)
        self._alarm: Priority | None = None
        self.recolour(theme.active())
        theme.notifier().changed.connect(self.recolour)

    def recolour(self, t: theme.Theme) -> None:
        colour = t.channel.get(self.channel, t.text)
        self.title.set_colour(colour)
        self.value.set_colour(colour)

    def set_alarm(self, priority: Priority | None) -> None:
        """Outline the tile in the alarm's colour while its channel is in alarm (the
        application style sheet's ``QFrame#panel[alarm=...]``)."""
        if priority == self._alarm:
            return
        self._alarm = priority
        theme.set_style_property(self, "alarm", "" if priority is None else priority.value)

    def show_value(self, text: str, status: str = "") -> None:
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


class NumericsPanel(QWidget):
    """Heart rate, SpO2 and the last cuff reading with its age."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(8)
        self.hr = NumericTile("HR", "bpm", "heart_rate")
        self.spo2 = NumericTile("SpO\u2082", "%", "spo2")
        self.nibp = NumericTile("NIBP", "mmHg", "nibp_systolic", max_px=150)
        for tile in (self.hr, self.spo2, self.nibp):
            lay.addWidget(tile, 1)

    def tiles(self) -> tuple[NumericTile, ...]:
        return (self.hr, self.spo2, self.nibp)

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
        """Show the newest values; a channel silent for ``stale_after`` s shows no value.
        A value flagged as artefact, invalid or sensor-off is never shown as a
        measurement: the tile shows no number and says why."""
        for tile, channel in ((self.hr, "heart_rate"), (self.spo2, "spo2")):
            last = store.last(channel)
            if last is None:
                tile.show_value(NO_VALUE, "no data")
                continue
            t, v, flags = last
            if now - t > stale_after:
                tile.show_value(NO_VALUE, f"no data for {time_text.seconds_or_minutes(now - t)}")
            elif flags & {SENSOR_OFF, INVALID}:
                tile.show_value(NO_VALUE, _flag_text(flags))
            else:
                tile.show_value(_fmt(v), _flag_text(flags))
        s, d, m = (store.last(c) for c in ("nibp_systolic", "nibp_diastolic", "nibp_mean"))
        if s is None or d is None:
            self.nibp.show_value("---/--", "no cuff reading yet")
        else:
            mean = f" ({_fmt(m[1])})" if m is not None else ""
            self.nibp.show_value(
                f"{_fmt(s[1])}/{_fmt(d[1])}", f"mean{mean} · {time_text.ago(now - s[0])}"
            )
