"""The safety flag in the staff main window: a patient told "your therapist will see this
answer today" (PHQ-9 item 9 above 0) must not wait until someone opens Journal review.

The bar shows every open flag at once, in the theme's flag colours, until a therapist
marks it seen (recorded with who and when). It reads the store every few seconds, so a
flag raised in patient mode, or on another workstation, reaches this window too.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from kapdesk.domain import time_text
from kapdesk.domain.access import AccessDenied, Actor, can_see_safety_flags
from kapdesk.storage.journal.questionnaires import SafetyFlag
from kapdesk.storage.journal.store import JournalStore
from kapdesk.ui.common.theme import set_role

POLL_MS = 3000


class SafetyFlagBar(QFrame):
    """The newest open flag, how many more, and "Mark seen"; hidden while none is open."""

    flags_changed = Signal(int)  # how many are open

    def __init__(
        self,
        store: JournalStore,
        reader: Actor | Callable[[], Actor | None],
        parent: QWidget | None = None,
    ) -> None:
        """``reader``: who reads the flags, or (the main window) where to ask who is at
        the keyboard now: nobody signed in, a locked screen or a role that may not see
        flags shows nothing (a flag names a patient)."""
        super().__init__(parent)
        self.store = store
        self._reader = reader
        set_role(self, "flag")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 6, 12, 6)
        self.text = QLabel("")
        self.text.setWordWrap(True)
        self.text.setAccessibleName("safety flag")
        self.seen = QPushButton("Mark seen")
        self.seen.setToolTip("Records that you have seen this answer and will act on it")
        self.seen.clicked.connect(self.mark_seen)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.seen)
        self.open_flags: list[SafetyFlag] = []
        self.hide()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(POLL_MS)
        self.refresh()

    @property
    def actor(self) -> Actor | None:
        return self._reader if isinstance(self._reader, Actor) else self._reader()

    def refresh(self, force: bool = False) -> None:
        actor = self.actor
        if actor is None or not can_see_safety_flags(actor):
            self.open_flags = []
            self.hide()
            return
        try:
            flags = self.store.safety_flags(actor)
        except (AccessDenied, OSError) as e:
            self.text.setText(f"Safety flags could not be read: {e}")
            self.show()
            return
        if not force and [f.id for f in flags] == [f.id for f in self.open_flags]:
            return
        self.open_flags = flags
        self.flags_changed.emit(len(flags))
        if not flags:
            self.hide()
            return
        newest = flags[0]
        more = f"  (+{len(flags) - 1} more open)" if len(flags) > 1 else ""
        self.text.setText(
            f"\u26a0 Safety flag \u2014 {newest.patient_name}: {newest.message}"
            f" \u00b7 raised {time_text.date_and_time(newest.raised_at)}{more}"
        )
        self.show()

    def mark_seen(self) -> None:
        """The newest open flag is marked seen by this staff member (recorded)."""
        actor = self.actor
        if not self.open_flags or actor is None:
            return
        self.store.acknowledge_flag(actor, self.open_flags[0].id)
        self.refresh(force=True)
