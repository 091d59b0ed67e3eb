"""Autosave of the journal entry a patient is writing: when its text is committed, and
what the status line says about it.

Patient mode saves as the patient types: a short pause (``[journal] autosave_delay_ms``),
the editor losing focus, switching entries and closing all commit the working text, and
"Save entry" adds a revision. Those rules and their state (the dirty flag, the timer, the
last text known to be on disk, the saves in flight on the writer thread) are one concern,
kept here apart from the window's layout: the window holds one ``EntryAutosave``, tells it
when the patient edited, and hands it what is on screen (``EntryOnScreen``) when a save
needs it. An entry is created on the first save, never left empty.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from kapdesk.domain import time_text
from kapdesk.domain.access import Actor
from kapdesk.domain.journal import CheckIn, JournalEntry, Revision
from kapdesk.storage.journal.store import JournalStore
from kapdesk.ui.common.gui_thread import FutureBridge


@dataclass(frozen=True)
class EntryOnScreen:
    """What the patient has on screen for the entry being written, read when a save
    needs it (``session_id``, ``prompt_set`` and ``shared`` also seed a new entry)."""

    text: str
    tags: str
    shared: bool
    checkin: CheckIn
    session_id: int | None
    prompt_set: str | None


class _FocusOut(QObject):
    """Calls back when the watched widget loses focus (autosave on focus loss)."""

    def __init__(self, callback: Callable[[], object], parent: QObject) -> None:
        super().__init__(parent)
        self.callback = callback

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusOut:
            self.callback()
        return False


class EntryAutosave(QObject):
    """The autosave rules of one patient's editor.

    ``entry`` is the entry being written (None until the first save creates it); ``dirty``
    says the screen holds text not yet committed; ``last_saved_text`` and
    ``saves_committed`` say what the writer thread confirmed. Every status text is sent
    through ``status_changed``.
    """

    status_changed = Signal(str)
    revision_saved = Signal(int, int)  # entry id, revision number
    entries_changed = Signal()  # a revision was added: the list of entries is stale

    def __init__(
        self,
        store: JournalStore,
        actor: Actor,
        patient_id: int,
        delay_ms: int,
        on_screen: Callable[[], EntryOnScreen],
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.actor = actor
        self.patient_id = patient_id
        self._on_screen = on_screen
        self.entry: JournalEntry | None = None
        self.dirty = False
        self.saves_committed = 0
        self.last_saved_text: str | None = None
        self._bridge = FutureBridge(self)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(delay_ms)
        self.timer.timeout.connect(self.autosave_now)

    def save_on_focus_out(self, widget: QWidget) -> None:
        """Commit the working text when ``widget`` (the editor) loses focus."""
        widget.installEventFilter(_FocusOut(self._focus_left, self))

    # -- switching entries, editing ---------------------------------------------------

    def switch_to(self, entry: JournalEntry | None) -> None:
        """Commit the current entry now, then write into ``entry`` (None: a new one)."""
        self.flush()
        self.entry = entry

    def shown(self) -> None:
        """The entry taken by ``switch_to`` is on screen: nothing is left to save."""
        self.dirty = False
        if self.entry is None:
            self.status_changed.emit("New entry")
            return
        self.last_saved_text = self.entry.body
        self.status_changed.emit(f"Written {time_text.short_date_and_time(self.entry.created_at)}")

    def edited(self) -> None:
        """The patient changed the text, tags, sharing or check-in: save after a pause."""
        self.dirty = True
        self.status_changed.emit("Writing\u2026")
        self.timer.start()

    def _focus_left(self) -> None:
        if self.dirty:
            self.autosave_now()

    # -- saving ------------------------------------------------------------------------

    def _ensure_entry(self, screen: EntryOnScreen) -> JournalEntry:
        if self.entry is None:
            self.entry = self.store.create_entry(
                self.actor,
                self.patient_id,
                session_id=screen.session_id,
                prompt_set=screen.prompt_set,
                shared=screen.shared,
            )
        return self.entry

    def autosave_now(self) -> Future[JournalEntry] | None:
        """Commit the working text now, without blocking the GUI on the disk."""
        self.timer.stop()
        if not self.dirty:
            return None
        screen = self._on_screen()
        entry = self._ensure_entry(screen)
        self.dirty = False
        text = screen.text
        fut = self.store.autosave_later(
            self.actor,
            entry.id or 0,
            text,
            tags=screen.tags,
            shared=screen.shared,
            checkin=screen.checkin,
        )
        self._bridge.watch(fut, lambda f: self._autosaved(f, text))
        return fut

    def _autosaved(self, fut: Future[JournalEntry], text: str) -> None:
        exc = fut.exception()
        if exc is not None:
            self.dirty = True  # try again on the next pause; the text is still here
            self.status_changed.emit(f"Not saved yet: {exc}")
            return
        self.saves_committed += 1
        self.last_saved_text = text
        saved = fut.result()
        if self.entry is not None and saved.id == self.entry.id:
            self.entry = saved
        self.status_changed.emit(f"Saved {time_text.clock_time_s(time.time())}")

    def save_now(self) -> None:
        """Keep this version: autosave, then add a revision (earlier ones stay)."""
        if self.entry is None and not self.dirty:
            return
        self.autosave_now()
        if self.entry is None or self.entry.id is None:
            return
        entry_id = self.entry.id
        fut = self.store.save_later(self.actor, entry_id)
        self._bridge.watch(fut, lambda f: self._revision_saved(f, entry_id))

    def _revision_saved(self, fut: Future[Revision | None], entry_id: int) -> None:
        exc = fut.exception()
        if exc is not None:
            self.status_changed.emit(f"Not saved yet: {exc}")
            return
        rev = fut.result()
        if rev is not None:
            self.status_changed.emit(f"Entry saved (version {rev.number})")
            self.revision_saved.emit(entry_id, rev.number)
        self.entries_changed.emit()

    def flush(self) -> None:
        """Commit everything now and wait (closing, switching entries)."""
        self.timer.stop()
        if self.dirty:
            screen = self._on_screen()
            if self.entry is not None or screen.text:  # an empty new entry is not created
                entry = self._ensure_entry(screen)
                assert entry.id is not None
                self.entry = self.store.autosave(
                    self.actor,
                    entry.id,
                    screen.text,
                    tags=screen.tags,
                    shared=screen.shared,
                    checkin=screen.checkin,
                )
                self.dirty = False
                self.last_saved_text = self.entry.body
        current = self.entry
        if (
            current is not None
            and current.id is not None
            and current.body
            and self.store.save(self.actor, current.id) is not None
        ):
            self.entries_changed.emit()
