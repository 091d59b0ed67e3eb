"""Medical staff change an alarm limit for this session; every change is recorded (who,
when, old and new value) by the alarm engine as a ``limit_changed`` transition."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kapdesk.domain.alarms import AlarmLimits, LimitRule
from kapdesk.domain.channels import CHANNELS


def rule_text(rule: LimitRule) -> str:
    return f"{CHANNELS[rule.channel].label} {rule.condition.value.replace('_', ' ')}"


class LimitsDialog(QDialog):
    """A table of the session's limits; edit a threshold, say who you are, apply."""

    def __init__(self, limits: AlarmLimits, staff: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Alarm limits for this session")
        self.rules = list(limits.rules)
        lay = QVBoxLayout(self)
        lay.addWidget(
            QLabel(
                "Changes apply to this session only and are recorded with your name.\n"
                "Clinic defaults live in the protocol files."
            )
        )
        self.table = QTableWidget(len(self.rules), 3)
        self.table.setHorizontalHeaderLabels(["Limit", "Priority", "Threshold"])
        self.spins: list[QDoubleSpinBox] = []
        for i, rule in enumerate(self.rules):
            self.table.setItem(i, 0, QTableWidgetItem(rule_text(rule)))
            self.table.setItem(i, 1, QTableWidgetItem(rule.priority.value))
            spin = QDoubleSpinBox()
            spin.setRange(-500, 500)
            spin.setDecimals(0)
            spin.setValue(rule.threshold)
            self.table.setCellWidget(i, 2, spin)
            self.spins.append(spin)
        self.table.resizeColumnsToContents()
        self.table.setMinimumWidth(560)
        self.table.setMinimumHeight(360)
        lay.addWidget(self.table)
        form = QFormLayout()
        self.staff = QLineEdit(staff)
        form.addRow("Changed by", self.staff)
        lay.addLayout(form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Apply).clicked.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def changes(self) -> list[tuple[LimitRule, float]]:
        """(rule, new threshold) for every edited row."""
        return [
            (rule, spin.value())
            for rule, spin in zip(self.rules, self.spins, strict=True)
            if spin.value() != rule.threshold
        ]
