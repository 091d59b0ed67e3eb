"""Locking that never hides a patient: the idle timer that locks the desk after the
clinic's idle time, and the bar a locked (or signed-out) main window shows above its
monitor: who locked it, their password to unlock, another person's sign-in, emergency
access. The window hides what needs a sign-in (patient name, timeline, session actions,
journal); the monitor, its alarms and their sound stay live.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from kapdesk.domain.accounts import SignInRefused
from kapdesk.live.desk import Desk, DeskState
from kapdesk.ui.common.theme import set_role

#: What counts as someone at the keyboard (a window merely repainting does not).
_ACTIVITY = {
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseMove,
    QEvent.Type.Wheel,
    QEvent.Type.TouchBegin,
}


class IdleLock(QObject):
    """Locks the desk after ``desk.policy.idle_lock_s`` without a key or mouse input
    anywhere in the application (real seconds, never the demo's accelerated clock)."""

    def __init__(
        self,
        desk: Desk,
        parent: QObject | None = None,
        clock: Callable[[], float] = time.monotonic,
        check_ms: int = 1000,
    ) -> None:
        super().__init__(parent)
        self.desk = desk
        self.clock = clock
        self.last_input = clock()
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(check_ms)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY:
            self.last_input = self.clock()
        return False

    def idle_s(self) -> float:
        return self.clock() - self.last_input

    def check(self) -> bool:
        """Lock now if idle long enough; True when it locked."""
        if self.desk.state is not DeskState.SIGNED_IN:
            return False
        if self.idle_s() < self.desk.policy.idle_lock_s:
            return False
        minutes = round(self.desk.policy.idle_lock_s / 60)
        return self.desk.lock(f"idle for {minutes} min")

    def stop(self) -> None:
        self._timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)


class LockBar(QFrame):
    """Above the monitor while locked or signed out. ``sign_in_requested``: the main
    window opens the sign-in dialog (another person, or emergency access)."""

    sign_in_requested = Signal(bool)  # True: emergency access

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.setObjectName("panel")
        self.setProperty("alarm", "")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(14, 8, 14, 8)
        lay.setSpacing(10)
        self.text = QLabel("")
        set_role(self.text, "emphasis")
        self.text.setWordWrap(True)
        self.password = QLineEdit(
            echoMode=QLineEdit.EchoMode.Password, placeholderText="password to unlock"
        )
        self.password.setMaximumWidth(260)
        self.password.returnPressed.connect(self.try_unlock)
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.clicked.connect(self.try_unlock)
        self.other = QPushButton("Sign in as someone else\u2026")
        self.other.clicked.connect(lambda: self.sign_in_requested.emit(False))
        self.emergency = QPushButton("Emergency access\u2026")
        self.emergency.clicked.connect(lambda: self.sign_in_requested.emit(True))
        self.message = QLabel("")
        set_role(self.message, "error")
        lay.addWidget(self.text, 1)
        lay.addWidget(self.message)
        lay.addWidget(self.password)
        lay.addWidget(self.unlock_button)
        lay.addWidget(self.other)
        lay.addWidget(self.emergency)
        self.hide()

    def show_state(self, state: DeskState, room: str) -> None:
        member = self.desk.staff_member
        locked = state is DeskState.LOCKED and member is not None
        if locked and member is not None:
            self.text.setText(
                f"LOCKED by {member.name} \u00b7 {room}. Monitor and alarms stay on (F5"
                " acknowledges)."
            )
        else:
            self.text.setText(
                f"NOBODY SIGNED IN \u00b7 {room}. Monitor and alarms stay on (F5 acknowledges)."
            )
        self.password.setVisible(locked)
        self.unlock_button.setVisible(locked)
        self.other.setText("Sign in as someone else\u2026" if locked else "Sign in\u2026")
        self.message.setText("")
        self.password.clear()
        self.setVisible(state in (DeskState.LOCKED, DeskState.SIGNED_OUT))

    def try_unlock(self) -> bool:
        try:
            self.desk.unlock(self.password.text())
        except SignInRefused as exc:
            self.message.setText(str(exc))
            self.password.clear()
            return False
        return True
