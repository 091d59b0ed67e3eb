"""The audit log for the clinic admin: filter by person, action, patient and period
("who opened this patient's journal this month"), and check the chain. Opening it is
itself audited."""

from __future__ import annotations

import time

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kapdesk.domain import time_text
from kapdesk.domain.access import Actor
from kapdesk.domain.audit import AuditAction, AuditEntry
from kapdesk.storage.audit import AuditFilter, AuditLog
from kapdesk.ui.common.screen_fit import fit_to_screen
from kapdesk.ui.common.theme import set_role, styled_label

COLUMNS = ("Time", "Who", "Roles", "What", "Subject", "Outcome", "Workstation")
PERIODS = (("Today", 1), ("Last 7 days", 7), ("Last 30 days", 30), ("Everything", 0))


def action_text(action: str) -> str:
    return action.replace("_", " ")


class AuditWindow(QMainWindow):
    def __init__(
        self,
        audit: AuditLog,
        actor: Actor,
        patients: dict[int, str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.audit = audit
        self.actor = actor
        self.patients = patients
        self.setWindowTitle("kapdesk: audit log")
        central = QWidget()
        central.setObjectName("central")
        self.setCentralWidget(central)
        lay = QVBoxLayout(central)
        lay.setContentsMargins(18, 14, 18, 14)
        lay.setSpacing(10)
        lay.addWidget(styled_label("Audit log", "heading"))
        filters = QHBoxLayout()
        self.user = QLineEdit(placeholderText="username")
        self.user.setMaximumWidth(180)
        self.action = QComboBox()
        self.action.addItem("Any action", "")
        for a in AuditAction:
            self.action.addItem(action_text(a.value), a.value)
        self.patient = QComboBox()
        self.patient.addItem("Any patient", "")
        for pid, name in sorted(patients.items(), key=lambda kv: kv[1].lower()):
            self.patient.addItem(name, f"patient:{pid}")
        self.period = QComboBox()
        for label, days in PERIODS:
            self.period.addItem(label, days)
        self.period.setCurrentIndex(2)
        self.search_button = QPushButton("Show")
        self.search_button.clicked.connect(self.refresh)
        self.verify_button = QPushButton("Check the chain")
        self.verify_button.clicked.connect(self.verify)
        for w in (self.user, self.action, self.patient, self.period, self.search_button):
            filters.addWidget(w)
        filters.addStretch(1)
        filters.addWidget(self.verify_button)
        lay.addLayout(filters)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        lay.addWidget(self.table, 1)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        set_role(self.status, "muted")
        lay.addWidget(self.status)
        self.entries: list[AuditEntry] = []
        fit_to_screen(self, 1200, 760)
        audit.append(actor, AuditAction.AUDIT_REVIEWED)
        self.refresh()

    def current_filter(self, now: float | None = None) -> AuditFilter:
        days = int(self.period.currentData() or 0)
        now = time.time() if now is None else now
        return AuditFilter(
            user=self.user.text().strip().lower(),
            action=str(self.action.currentData() or ""),
            subject=str(self.patient.currentData() or ""),
            since=now - days * 86400 if days else None,
        )

    def subject_text(self, subject: str) -> str:
        """ "patient:3/journal" as "Mara Quist (patient 3) / journal"."""
        head, _, rest = subject.partition("/")
        if head.startswith("patient:"):
            try:
                pid = int(head.split(":", 1)[1])
            except ValueError:
                return subject
            name = self.patients.get(pid, "")
            head = f"{name} (patient {pid})" if name else f"patient {pid}"
        return f"{head} / {rest}" if rest else head

    def refresh(self) -> None:
        self.entries = self.audit.search(self.current_filter())
        self.table.setRowCount(len(self.entries))
        for row, e in enumerate(self.entries):
            cells = (
                time_text.date_and_time(e.t),
                e.user or "\u2014",
                e.roles,
                action_text(e.action),
                self.subject_text(e.subject),
                e.outcome,
                e.workstation,
            )
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.status.setText(f"{len(self.entries)} entries shown, newest first.")

    def verify(self) -> bool:
        count, broken = self.audit.verify()
        if broken is None:
            self.status.setText(f"The chain holds: all {count} entries are as they were written.")
            set_role(self.status, "ok")
            return True
        self.status.setText(f"{broken}. Report this to the clinic's security officer.")
        set_role(self.status, "error")
        return False
