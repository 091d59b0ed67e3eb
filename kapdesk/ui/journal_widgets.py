"""Pieces both journal windows use: where the store comes from, times, the staff PIN dialog,
and a bridge that brings writer-thread results back onto the GUI thread."""

from __future__ import annotations

import html
import time
from datetime import datetime
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from kapdesk.domain.staff_pin import DEMO_PIN, PinGate, hash_pin
from kapdesk.storage.journal_store import HIT_END, HIT_START, JournalStore, store_for


def store_from(source: Any) -> JournalStore:
    """A ``JournalStore`` from a store, a ``Runtime`` (its recorder writes) or an engine."""
    return store_for(source)


def ensure_staff_pin(store: JournalStore, demo: bool) -> str | None:
    """The stored PIN hash; in demo mode the demo PIN is set when none exists."""
    stored = store.staff_pin_hash()
    if stored is None and demo:
        stored = hash_pin(DEMO_PIN)
        store.set_staff_pin_hash(stored)
    return stored


def local_datetime(t: float) -> str:
    """Local time the way people read it on a clinic laptop: 'Mon 23 Nov 2026, 14:02'."""
    return datetime.fromtimestamp(t).strftime("%a %d %b %Y, %H:%M")


def snippet_html(snippet: str) -> str:
    """A search snippet with matches in bold; the patient's text is escaped first."""
    escaped = html.escape(snippet)
    return escaped.replace(HIT_START, "<b style='color:#ffd866'>").replace(HIT_END, "</b>")


class PinDialog(QDialog):
    """Asks staff for the PIN. Opened with ``open()`` (never ``exec()``), so the window
    behind stays responsive and tests drive it by setting ``pin`` and calling ``try_pin``."""

    def __init__(self, gate: PinGate, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gate = gate
        self.setWindowTitle("Staff PIN")
        self.setModal(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 20, 24, 20)
        lay.setSpacing(12)
        title = QLabel("Staff only: enter the staff PIN to leave patient mode.")
        title.setWordWrap(True)
        title.setStyleSheet("font-size: 17px;")
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setPlaceholderText("PIN")
        self.pin.setStyleSheet("font-size: 22px; padding: 6px;")
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
        lay.addWidget(self.message)
        lay.addWidget(buttons)
        self.setMinimumWidth(380)

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
