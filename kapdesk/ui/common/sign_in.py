"""Signing in: the first-start set-up of the clinic's admin account, the sign-in dialog
(with break-glass emergency access), and, in demo mode, the demo accounts and their
password in plain sight. Every check is the desk's and the account store's; these dialogs
only collect what is typed and show what was refused. Tests fill the fields and call
``try_sign_in`` / ``try_create``; the app opens them with ``exec()`` before its window.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapdesk.domain.access import ROLE_NAMES, Actor, Role
from kapdesk.domain.accounts import AccountError, SignInRefused
from kapdesk.live.desk import Desk
from kapdesk.ui.common.theme import set_role, styled_label


def _password_field(placeholder: str) -> QLineEdit:
    field = QLineEdit(echoMode=QLineEdit.EchoMode.Password, placeholderText=placeholder)
    field.setMinimumWidth(280)
    return field


class SignInDialog(QDialog):
    """Who is at the keyboard. ``actor`` holds the signed-in staff member on success."""

    def __init__(
        self,
        desk: Desk,
        demo_accounts: Sequence[tuple[str, frozenset[Role]]] = (),
        demo_password: str = "",
        parent: QWidget | None = None,
        title: str = "Sign in",
    ) -> None:
        super().__init__(parent)
        self.desk = desk
        self.actor: Actor | None = None
        self.setWindowTitle(f"kapdesk: {title.lower()}")
        self.setModal(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(28, 24, 28, 24)
        lay.setSpacing(12)
        lay.addWidget(styled_label(title, "heading"))
        where = styled_label(f"Workstation {socket.gethostname()}", "muted")
        lay.addWidget(where)
        form = QFormLayout()
        form.setSpacing(10)
        self.username = QLineEdit(placeholderText="your username")
        self.username.setMinimumWidth(280)
        self.password = _password_field("your password")
        form.addRow("Username", self.username)
        form.addRow("Password", self.password)
        lay.addLayout(form)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        set_role(self.message, "error")
        lay.addWidget(self.message)
        buttons = QHBoxLayout()
        self.sign_in_button = QPushButton("Sign in")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.clicked.connect(self.try_sign_in)
        self.emergency_button = QPushButton("Emergency access…")
        self.emergency_button.setToolTip(
            "Break glass: sign in with a stated reason when a patient needs care now."
            " It is recorded and reviewed."
        )
        self.emergency_button.clicked.connect(self.show_emergency)
        self.quit_button = QPushButton("Quit")
        self.quit_button.clicked.connect(self.reject)
        buttons.addWidget(self.sign_in_button)
        buttons.addWidget(self.emergency_button)
        buttons.addStretch(1)
        buttons.addWidget(self.quit_button)
        lay.addLayout(buttons)
        # break glass: a reason, then the same username and password
        self.emergency = QWidget()
        em = QVBoxLayout(self.emergency)
        em.setContentsMargins(0, 8, 0, 0)
        note = QLabel(
            "Emergency access gives you what caring for the patient needs, beyond your"
            " roles. Say why; it is recorded with everything you do and reviewed by the"
            " clinic admin."
        )
        note.setWordWrap(True)
        set_role(note, "warn")
        self.reason = QLineEdit(placeholderText="why emergency access is needed")
        self.emergency_go = QPushButton("Open with emergency access")
        self.emergency_go.clicked.connect(self.try_break_glass)
        em.addWidget(note)
        em.addWidget(self.reason)
        em.addWidget(self.emergency_go)
        self.emergency.hide()
        lay.addWidget(self.emergency)
        if demo_accounts:
            names = "\n".join(
                f"{u}  ({', '.join(ROLE_NAMES[r] for r in sorted(roles, key=lambda r: r.value))})"
                for u, roles in demo_accounts
            )
            demo = QLabel(f"Demo mode. Every demo account's password is {demo_password}\n{names}")
            demo.setObjectName("demoAccounts")
            demo.setWordWrap(True)
            set_role(demo, "notice")
            lay.addWidget(demo)
            self.username.setText(demo_accounts[0][0])
        # a temporary password (new account, reset by the admin): the person's own first
        self.change = QWidget()
        ch = QFormLayout(self.change)
        ch.setContentsMargins(0, 8, 0, 0)
        note_change = QLabel(
            "Your password was set by the clinic admin. Choose your own now: nobody else"
            " should know it."
        )
        note_change.setWordWrap(True)
        set_role(note_change, "warn")
        self.new_password = _password_field(
            f"at least {desk.policy.min_password_length} characters"
        )
        self.new_again = _password_field("the same password again")
        self.change_button = QPushButton("Save my password")
        self.change_button.clicked.connect(self.try_change_password)
        self.new_again.returnPressed.connect(self.try_change_password)
        ch.addRow(note_change)
        ch.addRow("New password", self.new_password)
        ch.addRow("Again", self.new_again)
        ch.addRow("", self.change_button)
        self.change.hide()
        lay.addWidget(self.change)
        self._old_password = ""
        self.password.returnPressed.connect(self.try_sign_in)
        self.setMinimumWidth(460)

    def show_emergency(self) -> None:
        self.emergency.setVisible(True)
        self._fit()
        self.reason.setFocus()

    def _fit(self) -> None:
        """Grow to what is shown now (a wrapped note must not be cut)."""
        layout = self.layout()
        if layout is not None:
            layout.activate()
        self.resize(self.width(), max(self.height(), self.sizeHint().height()))

    def try_sign_in(self) -> bool:
        try:
            self.actor = self.desk.sign_in(self.username.text(), self.password.text())
        except SignInRefused as exc:
            return self._refused(str(exc))
        account = self.desk.accounts.get(self.actor.username)
        if account is not None and account.must_change_password:
            self._old_password = self.password.text()
            self.change.show()
            self._fit()
            self.new_password.setFocus()
            self.message.setText("")
            return False  # signed in; the dialog stays until the password is the person's
        self.accept()
        return True

    def try_change_password(self) -> bool:
        if self.actor is None:
            return False
        if self.new_password.text() != self.new_again.text():
            self.message.setText("The two passwords differ. Type the same password twice.")
            return False
        try:
            self.desk.accounts.change_own_password(
                self.actor, self._old_password, self.new_password.text()
            )
        except (AccountError, SignInRefused) as exc:
            self.message.setText(str(exc))
            return False
        self._old_password = ""
        self.accept()
        return True

    def reject(self) -> None:
        """Quit; a sign-in that still owes its own password is undone."""
        if self.change.isVisible() and self.actor is not None:
            self.desk.sign_out()
            self.actor = None
        super().reject()

    def try_break_glass(self) -> bool:
        if len(self.reason.text().strip()) < 5:  # say so before the password is spent
            self.message.setText("Say why emergency access is needed (a few words).")
            self.reason.setFocus()
            return False
        try:
            self.actor = self.desk.break_glass(
                self.username.text(), self.password.text(), self.reason.text()
            )
        except SignInRefused as exc:
            return self._refused(str(exc))
        self.accept()
        return True

    def _refused(self, message: str) -> bool:
        self.message.setText(message)
        self.password.clear()
        self.password.setFocus()
        return False


class FirstStartDialog(QDialog):
    """No account exists yet: the clinic makes its administrator account (who then adds
    everyone else in Accounts, or with ``kapdesk users add``)."""

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.actor: Actor | None = None
        self.setWindowTitle("kapdesk: set up the clinic")
        self.setModal(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(28, 24, 28, 24)
        lay.setSpacing(12)
        lay.addWidget(styled_label("Welcome to kapdesk", "heading"))
        intro = QLabel(
            "kapdesk has no accounts yet. Make the clinic admin's account first: the admin"
            " adds the therapists and medical staff, resets passwords and reviews the audit"
            " log. Every person signs in with their own account."
        )
        intro.setWordWrap(True)
        set_role(intro, "large")
        lay.addWidget(intro)
        form = QFormLayout()
        form.setSpacing(10)
        self.display_name = QLineEdit(placeholderText="e.g. Jordan Lee")
        self.username = QLineEdit(placeholderText="e.g. jlee")
        self.password = _password_field(f"at least {desk.policy.min_password_length} characters")
        self.again = _password_field("the same password again")
        form.addRow("Your name", self.display_name)
        form.addRow("Username", self.username)
        form.addRow("Password", self.password)
        form.addRow("Password again", self.again)
        self.also_therapist = QCheckBox("I also see patients as a therapist")
        self.also_medical = QCheckBox("I am also medical staff (dose, vitals, discharge)")
        form.addRow("", self.also_therapist)
        form.addRow("", self.also_medical)
        lay.addLayout(form)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        set_role(self.message, "error")
        lay.addWidget(self.message)
        row = QHBoxLayout()
        self.create_button = QPushButton("Create the admin account")
        self.create_button.setDefault(True)
        self.create_button.clicked.connect(self.try_create)
        quit_button = QPushButton("Quit")
        quit_button.clicked.connect(self.reject)
        row.addWidget(self.create_button)
        row.addStretch(1)
        row.addWidget(quit_button)
        lay.addLayout(row)
        self.again.returnPressed.connect(self.try_create)
        self.setMinimumWidth(520)

    def try_create(self) -> bool:
        if self.password.text() != self.again.text():
            self.message.setText("The two passwords differ. Type the same password twice.")
            return False
        roles = {Role.ADMIN}
        if self.also_therapist.isChecked():
            roles.add(Role.THERAPIST)
        if self.also_medical.isChecked():
            roles.add(Role.MEDICAL_STAFF)
        try:
            self.desk.accounts.create(
                None, self.username.text(), self.display_name.text(), roles, self.password.text()
            )
            self.actor = self.desk.sign_in(self.username.text(), self.password.text())
        except (AccountError, SignInRefused) as exc:
            self.message.setText(str(exc))
            return False
        self.accept()
        return True
