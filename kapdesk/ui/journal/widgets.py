"""Pieces both journal windows use: where the store comes from, the staff PIN dialog,
and a bridge that brings writer-thread results back onto the GUI thread."""

from __future__ import annotations

import html
import time
from collections.abc import Callable

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapdesk.domain.accounts import SignInRefused
from kapdesk.domain.staff_pin import DEMO_PIN, MIN_PIN_LENGTH, PinError, PinGate, hash_pin
from kapdesk.storage.journal.search import HIT_END, HIT_START
from kapdesk.storage.journal.store import JournalStore
from kapdesk.ui.common.theme import set_role, styled_label


def ensure_staff_pin(store: JournalStore, demo: bool) -> str | None:
    """The stored PIN hash; in demo mode the demo PIN is set when none exists."""
    stored = store.staff_pin_hash()
    if stored is None and demo:
        stored = hash_pin(DEMO_PIN)
        store.set_staff_pin_hash(stored)
    return stored


def snippet_html(snippet: str) -> str:
    """A search snippet with matches in bold; the patient's text is escaped first."""
    escaped = html.escape(snippet)
    return escaped.replace(HIT_START, "<b class='hit'>").replace(HIT_END, "</b>")


class PinDialog(QDialog):
    """Asks staff for the PIN, or (``sign_in`` given) a staff member's own sign-in. Opened
    with ``open()`` (never ``exec()``), so the window behind stays responsive and tests
    drive it by setting ``pin`` and calling ``try_pin`` (or ``username``/``password`` and
    ``try_sign_in``)."""

    def __init__(
        self,
        gate: PinGate,
        parent: QWidget | None = None,
        sign_in: Callable[[str, str], object] | None = None,
    ) -> None:
        super().__init__(parent)
        self.gate = gate
        self.sign_in = sign_in
        self.setWindowTitle("Staff PIN")
        self.setModal(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 20, 24, 20)
        lay.setSpacing(12)
        title = QLabel("Staff only: enter the staff PIN to leave patient mode.")
        title.setWordWrap(True)
        set_role(title, "large")
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setPlaceholderText("PIN")
        set_role(self.pin, "pin")
        self.message = QLabel("")
        self.message.setObjectName("muted")
        self.message.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.try_pin)
        buttons.rejected.connect(self.reject)
        self.pin.returnPressed.connect(self.try_pin)
        lay.addWidget(title)
        lay.addWidget(self.pin)
        self.username = QLineEdit(placeholderText="username")
        self.password = QLineEdit(echoMode=QLineEdit.EchoMode.Password, placeholderText="password")
        if sign_in is not None:
            lay.addWidget(styled_label("\u2026 or sign in with your own staff account:", "muted"))
            row = QHBoxLayout()
            row.addWidget(self.username)
            row.addWidget(self.password)
            go = QPushButton("Sign in")
            go.clicked.connect(self.try_sign_in)
            self.password.returnPressed.connect(self.try_sign_in)
            row.addWidget(go)
            lay.addLayout(row)
        lay.addWidget(self.message)
        lay.addWidget(buttons)
        self.setMinimumWidth(420)

    def try_sign_in(self) -> bool:
        """A staff member's own account leaves patient mode (and is who is signed in)."""
        if self.sign_in is None:
            return False
        try:
            self.sign_in(self.username.text(), self.password.text())
        except SignInRefused as exc:
            self.message.setText(str(exc))
            self.password.clear()
            return False
        self.password.clear()
        self.accept()
        return True

    def try_pin(self) -> bool:
        now = time.monotonic()  # the lockout is a duration: monotonic, not wall time
        locked = self.gate.locked_for(now)
        if locked > 0:
            self.message.setText(f"Too many wrong tries. Try again in {int(locked) + 1} s.")
            self.pin.clear()
            return False
        if self.gate.attempt(self.pin.text(), now):
            self.pin.clear()
            self.accept()
            return True
        self.pin.clear()
        locked = self.gate.locked_for(now)
        self.message.setText(
            f"Wrong PIN. Locked for {int(locked)} s." if locked > 0 else "Wrong PIN."
        )
        return False


class SetPinDialog(QDialog):
    """Sets the staff PIN from inside the app, when none is set yet: patient mode can be
    left only with it, so it must exist before a patient is handed the laptop. Opened
    with ``open()``; tests fill ``pin`` and ``again`` and call ``try_set``."""

    def __init__(self, store: JournalStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.setWindowTitle("Set the staff PIN")
        self.setModal(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 20, 24, 20)
        lay.setSpacing(12)
        why = QLabel(
            "Patient mode locks kapdesk so the patient sees only their own journal; "
            "staff leave it with the staff PIN. No staff PIN is set yet. Choose one now "
            f"(at least {MIN_PIN_LENGTH} characters) and keep it among staff."
        )
        why.setWordWrap(True)
        set_role(why, "large")
        self.pin = QLineEdit(echoMode=QLineEdit.EchoMode.Password, placeholderText="New PIN")
        self.again = QLineEdit(
            echoMode=QLineEdit.EchoMode.Password, placeholderText="The same PIN again"
        )
        self.message = QLabel("")
        self.message.setWordWrap(True)
        set_role(self.message, "error")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.try_set)
        buttons.rejected.connect(self.reject)
        self.again.returnPressed.connect(self.try_set)
        for w in (why, self.pin, self.again, self.message, buttons):
            lay.addWidget(w)
        self.setMinimumWidth(440)

    def try_set(self) -> bool:
        pin, again = self.pin.text(), self.again.text()
        if pin != again:
            self.message.setText("The two PINs differ. Type the same PIN twice.")
            return False
        try:
            self.store.set_staff_pin_hash(hash_pin(pin))
        except PinError as e:
            self.message.setText(f"Not set: {e}.")
            return False
        except Exception as e:  # the database could not be written: say so, keep the dialog
            self.message.setText(f"The PIN could not be saved: {e}")
            return False
        self.pin.clear()
        self.again.clear()
        self.accept()
        return True
