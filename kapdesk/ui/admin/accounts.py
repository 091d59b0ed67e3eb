"""Staff accounts for the clinic admin: add, disable and enable, reset a password (the
person chooses their own at the next sign-in), change roles. The store checks that the
signed-in user is an admin and audits each change; this window shows what it refused."""

from __future__ import annotations

import time

from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFormLayout,
    QGroupBox,
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

from kapdesk.domain.access import ROLE_NAMES, STAFF_ROLES, AccessDenied, Actor, Role
from kapdesk.domain.accounts import Account, AccountError
from kapdesk.storage.accounts import AccountStore
from kapdesk.ui.common.screen_fit import fit_to_screen
from kapdesk.ui.common.theme import set_role, styled_label

COLUMNS = ("Username", "Name", "Roles", "Status")


def status_text(account: Account, now: float) -> str:
    if account.disabled:
        return "disabled"
    locked = account.locked_for(now)
    if locked > 0:
        return f"locked for {max(1, round(locked / 60))} min"
    if account.must_change_password:
        return "active (new password at next sign-in)"
    return "active" + (" (demo)" if account.demo else "")


class RoleBoxes(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.boxes = {role: QCheckBox(ROLE_NAMES[role]) for role in STAFF_ROLES}
        for box in self.boxes.values():
            lay.addWidget(box)
        lay.addStretch(1)

    def roles(self) -> frozenset[Role]:
        return frozenset(r for r, b in self.boxes.items() if b.isChecked())

    def set_roles(self, roles: frozenset[Role]) -> None:
        for role, box in self.boxes.items():
            box.setChecked(role in roles)


class AccountsWindow(QMainWindow):
    def __init__(self, store: AccountStore, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.actor = actor
        self.setWindowTitle("kapdesk: staff accounts")
        central = QWidget()
        central.setObjectName("central")
        self.setCentralWidget(central)
        lay = QVBoxLayout(central)
        lay.setContentsMargins(18, 14, 18, 14)
        lay.setSpacing(10)
        lay.addWidget(styled_label("Staff accounts", "heading"))
        intro = styled_label(
            "One account per person. Disabled accounts cannot sign in; their past acts stay"
            " in the record under their name. Every change here is in the audit log.",
            "muted",
        )
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selected)
        lay.addWidget(self.table, 1)

        chosen = QGroupBox("The selected account")
        cl = QFormLayout(chosen)
        self.chosen_roles = RoleBoxes()
        self.set_roles_button = QPushButton("Save roles")
        self.set_roles_button.clicked.connect(self.save_roles)
        roles_row = QHBoxLayout()
        roles_row.addWidget(self.chosen_roles, 1)
        roles_row.addWidget(self.set_roles_button)
        cl.addRow("Roles", roles_row)
        self.new_password = QLineEdit(
            echoMode=QLineEdit.EchoMode.Password, placeholderText="a temporary password"
        )
        self.reset_button = QPushButton("Reset password")
        self.reset_button.clicked.connect(self.reset_password)
        reset_row = QHBoxLayout()
        reset_row.addWidget(self.new_password, 1)
        reset_row.addWidget(self.reset_button)
        cl.addRow("Password", reset_row)
        self.disable_button = QPushButton("Disable")
        self.disable_button.clicked.connect(self.toggle_disabled)
        cl.addRow("Access", self.disable_button)
        lay.addWidget(chosen)

        add = QGroupBox("Add an account")
        al = QFormLayout(add)
        self.add_username = QLineEdit(placeholderText="e.g. jlee")
        self.add_name = QLineEdit(placeholderText="e.g. Jordan Lee")
        self.add_roles = RoleBoxes()
        self.add_password = QLineEdit(
            echoMode=QLineEdit.EchoMode.Password,
            placeholderText="a temporary password; they choose their own at first sign-in",
        )
        self.add_button = QPushButton("Add account")
        self.add_button.clicked.connect(self.add_account)
        al.addRow("Username", self.add_username)
        al.addRow("Name", self.add_name)
        al.addRow("Roles", self.add_roles)
        al.addRow("Password", self.add_password)
        al.addRow("", self.add_button)
        lay.addWidget(add)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        set_role(self.message, "ok")
        lay.addWidget(self.message)
        self.accounts: list[Account] = []
        fit_to_screen(self, 980, 760)
        self.refresh()

    def refresh(self) -> None:
        now = time.time()
        self.accounts = self.store.all()
        self.table.setRowCount(len(self.accounts))
        for row, account in enumerate(self.accounts):
            roles = ", ".join(ROLE_NAMES[r] for r in STAFF_ROLES if r in account.roles)
            cells = (account.username, account.display_name, roles, status_text(account, now))
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self._selected()

    def selected(self) -> Account | None:
        rows = self.table.selectionModel().selectedRows()
        return self.accounts[rows[0].row()] if rows else None

    def select(self, username: str) -> None:
        for row, account in enumerate(self.accounts):
            if account.username == username:
                self.table.selectRow(row)

    def _selected(self) -> None:
        account = self.selected()
        for w in (self.set_roles_button, self.reset_button, self.disable_button):
            w.setEnabled(account is not None)
        if account is not None:
            self.chosen_roles.set_roles(account.roles)
            self.disable_button.setText("Enable" if account.disabled else "Disable")

    def _say(self, text: str, ok: bool = True) -> None:
        self.message.setText(text)
        set_role(self.message, "ok" if ok else "error")

    def _do(self, what: str, action: object) -> bool:
        try:
            assert callable(action)
            action()
        except (AccountError, AccessDenied) as exc:
            self._say(f"Not done: {exc}", ok=False)
            return False
        self._say(what)
        self.refresh()
        return True

    def add_account(self) -> bool:
        username = self.add_username.text().strip().lower()
        done = self._do(
            f"Account {username} added; they choose their own password at the first sign-in.",
            lambda: self.store.create(
                self.actor,
                username,
                self.add_name.text(),
                self.add_roles.roles(),
                self.add_password.text(),
                must_change_password=True,
            ),
        )
        if done:
            for field in (self.add_username, self.add_name, self.add_password):
                field.clear()
            self.add_roles.set_roles(frozenset())
        return done

    def save_roles(self) -> bool:
        account = self.selected()
        if account is None:
            return False
        return self._do(
            f"Roles of {account.username} saved.",
            lambda: self.store.set_roles(self.actor, account.username, self.chosen_roles.roles()),
        )

    def reset_password(self) -> bool:
        account = self.selected()
        if account is None:
            return False
        done = self._do(
            f"Password of {account.username} reset; they choose a new one at the next sign-in.",
            lambda: self.store.reset_password(
                self.actor, account.username, self.new_password.text()
            ),
        )
        self.new_password.clear()
        return done

    def toggle_disabled(self) -> bool:
        account = self.selected()
        if account is None:
            return False
        if account.disabled:
            return self._do(
                f"{account.username} may sign in again.",
                lambda: self.store.enable(self.actor, account.username),
            )
        return self._do(
            f"{account.username} is disabled.",
            lambda: self.store.disable(self.actor, account.username),
        )
