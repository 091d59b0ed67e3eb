"""Medical staff change an alarm limit for this session; every change is recorded (who,
when, old and new value) by the alarm engine as a ``limit_changed`` transition.

The limits are grouped by channel (one box per channel, titled with its unit), one row
per priority and one column per kind of limit. The dialog checks the edited set as the
staff type: a low limit must stay below every high limit of its channel, and a
higher-priority limit must be at least as far out as a lower-priority one (otherwise the
escalation never happens). While anything is wrong the message says what, and Apply is
disabled.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapdesk.domain import setting_ranges
from kapdesk.domain.access import Actor, can_change_alarm_limits
from kapdesk.domain.alarms import AlarmLimits, Condition, LimitError, LimitRule, Priority
from kapdesk.domain.alarms.limits import check_rules
from kapdesk.domain.channels import CHANNELS, Channel
from kapdesk.ui.common.screen_fit import FitScroll, fitted_size
from kapdesk.ui.common.theme import set_role

#: Columns of a channel's box, in this order.
CONDITION_TEXT = {
    Condition.BELOW_LOW_LIMIT: "Low limit",
    Condition.ABOVE_HIGH_LIMIT: "High limit",
    Condition.RISE_FROM_BASELINE: "Rise above baseline",
    Condition.FALL_FROM_BASELINE: "Fall below baseline",
}
#: Rows of a channel's box: the most urgent first.
PRIORITY_TEXT = {
    Priority.HIGH: "High priority",
    Priority.MEDIUM: "Medium priority",
    Priority.LOW: "Low priority",
}
#: Largest value a spin box allows, by display unit.
UNIT_MAXIMUM = {"%": 100.0, "bpm": 300.0, "mmHg": 300.0, "/min": 100.0}


def channel_title(name: str) -> str:
    """The channel's name with its unit: "Heart rate (bpm)"."""
    info = CHANNELS.get(name)
    if info is None:
        return name
    return f"{info.label} ({info.display_unit})" if info.display_unit else info.label


def _unit(info: Channel | None) -> str:
    return info.display_unit if info is not None else ""


def value_text(rule: LimitRule, value: float) -> str:
    """A threshold as staff read it: "92 %", "+40 mmHg" (a change from baseline)."""
    unit = _unit(CHANNELS.get(rule.channel))
    sign = {Condition.RISE_FROM_BASELINE: "+", Condition.FALL_FROM_BASELINE: "\u2212"}
    text = f"{sign.get(rule.condition, '')}{value:g}"
    return f"{text} {unit}".strip()


def rule_text(rule: LimitRule) -> str:
    """A rule in words: "SpO₂ low limit, high priority"."""
    info = CHANNELS.get(rule.channel)
    label = info.label if info else rule.channel
    return f"{label} {CONDITION_TEXT[rule.condition].lower()}, {rule.priority.value} priority"


def limit_problems(values: list[tuple[LimitRule, float]]) -> list[str]:
    """Everything wrong with a set of (rule, edited threshold), in words for staff.

    Low below high is checked across priorities (any low limit of a channel must be below
    any high limit of it); the priority order and everything else the alarm engine checks
    (``check_rules``) must hold too.
    """
    problems: list[str] = []
    by_channel: dict[str, list[tuple[LimitRule, float]]] = {}
    for rule, value in values:
        by_channel.setdefault(rule.channel, []).append((rule, value))
    for channel, entries in by_channel.items():
        label = CHANNELS[channel].label if channel in CHANNELS else channel
        lows = [(r, v) for r, v in entries if r.condition is Condition.BELOW_LOW_LIMIT]
        highs = [(r, v) for r, v in entries if r.condition is Condition.ABOVE_HIGH_LIMIT]
        for low, lv in lows:
            for high, hv in highs:
                if lv >= hv:
                    problems.append(
                        f"{label}: the {low.priority.value}-priority low limit"
                        f" ({value_text(low, lv)}) must be below the"
                        f" {high.priority.value}-priority high limit ({value_text(high, hv)})."
                    )
        for rule, value in entries:
            for other, ov in entries:
                if other.condition is not rule.condition:
                    continue
                if other.priority.rank >= rule.priority.rank:
                    continue
                # rule outranks other: it must be at least as far out (a lower low
                # limit; a higher high limit; a larger rise or fall from baseline)
                low_side = rule.condition is Condition.BELOW_LOW_LIMIT
                if (value > ov) if low_side else (value < ov):
                    side = "at or below" if low_side else "at or above"
                    problems.append(
                        f"{label} {CONDITION_TEXT[rule.condition].lower()}: the"
                        f" {rule.priority.value}-priority limit ({value_text(rule, value)})"
                        f" must be {side} the {other.priority.value}-priority limit"
                        f" ({value_text(other, ov)}), or the alarm never escalates."
                    )
    if not problems:
        try:
            check_rules(tuple(replace(r, threshold=v) for r, v in values))
        except LimitError as e:
            problems.append(str(e))
    return problems


class LimitsDialog(QDialog):
    """The session's limits by channel; edit a threshold, apply. Every change is recorded
    as the signed-in user's (shown here, never typed)."""

    def __init__(
        self, limits: AlarmLimits, actor: Actor | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Alarm limits for this session")
        self.rules = list(limits.rules)
        lay = QVBoxLayout(self)
        heading = QLabel("Alarm limits for this session")
        set_role(heading, "heading")
        lay.addWidget(heading)
        intro = QLabel(
            "Changes apply to this session only and are recorded with your name. "
            "Clinic defaults live in the protocol files. Rise and fall are changes from the "
            "patient's pre-dose baseline."
        )
        intro.setWordWrap(True)
        set_role(intro, "muted")
        lay.addWidget(intro)

        inner = QWidget()
        groups = QGridLayout(inner)  # two columns of channels: most fit without scrolling
        groups.setContentsMargins(0, 0, 8, 0)
        self.spins: list[QDoubleSpinBox] = []  # parallel to self.rules
        self._spin_of: dict[tuple[str, Condition, Priority], QDoubleSpinBox] = {}
        self.group_boxes: dict[str, QGroupBox] = {}
        spins_by_rule: dict[int, QDoubleSpinBox] = {}
        order = {name: i for i, name in enumerate(CHANNELS)}
        channels = sorted({r.channel for r in self.rules}, key=lambda c: order.get(c, 999))
        for n, channel in enumerate(channels):
            rules = [(i, r) for i, r in enumerate(self.rules) if r.channel == channel]
            box = QGroupBox(channel_title(channel))
            grid = QGridLayout(box)
            grid.setHorizontalSpacing(14)
            conditions = [c for c in CONDITION_TEXT if any(r.condition is c for _, r in rules)]
            priorities = [p for p in PRIORITY_TEXT if any(r.priority is p for _, r in rules)]
            for col, condition in enumerate(conditions, 1):
                header = QLabel(CONDITION_TEXT[condition])
                set_role(header, "muted")
                grid.addWidget(header, 0, col)
            for row, priority in enumerate(priorities, 1):
                grid.addWidget(QLabel(PRIORITY_TEXT[priority]), row, 0)
                for col, condition in enumerate(conditions, 1):
                    match = [(i, r) for i, r in rules
                             if r.condition is condition and r.priority is priority]  # fmt: skip
                    if not match:
                        dash = QLabel("\u2014")
                        set_role(dash, "muted")
                        grid.addWidget(dash, row, col)
                        continue
                    i, rule = match[0]
                    spin = self._make_spin(rule)
                    spins_by_rule[i] = spin
                    self._spin_of[(rule.channel, rule.condition, rule.priority)] = spin
                    grid.addWidget(spin, row, col)
            grid.setColumnStretch(len(conditions) + 1, 1)
            self.group_boxes[channel] = box
            groups.addWidget(box, n // 2, n % 2)
        groups.setRowStretch(groups.rowCount(), 1)
        self.spins = [spins_by_rule[i] for i in range(len(self.rules))]

        self.form_scroll = FitScroll(inner)
        lay.addWidget(self.form_scroll, 1)

        form = QFormLayout()
        self.actor = actor
        self.staff = QLabel(f"{actor.name} ({actor.role_names})" if actor else "nobody signed in")
        form.addRow("Changed by", self.staff)
        lay.addLayout(form)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        set_role(self.message, "error")
        lay.addWidget(self.message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button: QPushButton = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.ok_button.clicked.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self._sized = False
        self.validate()

    def showEvent(self, event: QShowEvent) -> None:
        """Open at the preferred size where the screen has room (a 1280x720 laptop)."""
        if not self._sized and not self.testAttribute(Qt.WidgetAttribute.WA_Resized):
            self.resize(fitted_size(self))
        self._sized = True
        super().showEvent(event)

    def _make_spin(self, rule: LimitRule) -> QDoubleSpinBox:
        info = CHANNELS.get(rule.channel)
        unit = _unit(info)
        spin = QDoubleSpinBox()
        spin.setDecimals(info.decimals if info is not None else 0)
        plausible = setting_ranges.LIMITS.get(rule.channel)  # as for the protocol files
        if rule.relative:
            span = plausible.change if plausible else setting_ranges.Range(1, 200, "")
            spin.setRange(span.low, span.high)  # a change from baseline: more than 0
            spin.setPrefix("+" if rule.condition is Condition.RISE_FROM_BASELINE else "\u2212")
        elif plausible is not None:
            spin.setRange(plausible.absolute.low, plausible.absolute.high)
        else:
            spin.setRange(0, UNIT_MAXIMUM.get(unit, 500.0))
        if unit:
            spin.setSuffix(f" {unit}")
        spin.setValue(rule.threshold)
        spin.setMinimumWidth(120)
        spin.setAccessibleName(rule_text(rule))
        spin.valueChanged.connect(self.validate)
        return spin

    def spin_for(self, channel: str, condition: Condition, priority: Priority) -> QDoubleSpinBox:
        """The field of one rule (tests, keyboard shortcuts)."""
        return self._spin_of[(channel, condition, priority)]

    def values(self) -> list[tuple[LimitRule, float]]:
        return [(rule, spin.value()) for rule, spin in zip(self.rules, self.spins, strict=True)]

    def problems(self) -> list[str]:
        out = limit_problems(self.values())
        if self.changes() and (self.actor is None or not can_change_alarm_limits(self.actor)):
            out.append("Only medical staff change alarm limits: sign in as medical staff.")
        return out

    def validate(self) -> bool:
        """Show what is wrong and allow Apply only when nothing is."""
        problems = self.problems()
        self.message.setText("\n".join(problems))
        self.message.setVisible(bool(problems))
        self.ok_button.setEnabled(not problems)
        return not problems

    def accept(self) -> None:
        if not self.validate():
            return
        super().accept()

    def changes(self) -> list[tuple[LimitRule, float]]:
        """(rule, new threshold) for every edited row."""
        return [(rule, value) for rule, value in self.values() if value != rule.threshold]
