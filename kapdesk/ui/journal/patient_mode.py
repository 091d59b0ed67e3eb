"""Patient mode: one patient's journal, locked down.

Staff open it for one patient and hand over the laptop. The patient sees and writes only
their own entries (every read and write goes through ``kapdesk.domain.access`` with a
patient actor bound to this patient, so even a bug in this window cannot reach another
journal); nothing else of the app is reachable; closing or leaving asks for the staff PIN.

Text is saved as the patient types: a short pause (``[journal] autosave_delay_ms``), the
editor losing focus, switching entries and closing all commit the working text at once.
"Save entry" adds a revision; earlier revisions are kept. Those rules live in
``autosave.py`` (``EntryAutosave``, which the window holds); the questionnaire tab is
``questionnaire_panel.py``. This module is the window: its layout, the entries, prompts
and session beside the entry, and leaving patient mode through the staff PIN.

New entries are shared with the therapist by default (``share_by_default``): the journal
is written for the integration meeting, where therapist and patient read it together, and
a default of private would leave most entries invisible at the meeting without anyone
having chosen that. The toggle sits beside the text and is easy to turn off, and a private
entry's text never reaches the therapist.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QSlider,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kapdesk.config.clinic import ClinicConfig
from kapdesk.config.journal import (
    JournalSettings,
    PromptSet,
    QuestionnaireForm,
)
from kapdesk.domain import time_text
from kapdesk.domain.access import Actor
from kapdesk.domain.journal import CHECKIN_MAX, CHECKIN_SCALES, CheckIn, JournalEntry
from kapdesk.domain.staff_pin import PinGate
from kapdesk.storage.journal.patients import SessionContext
from kapdesk.storage.journal.store import JournalStore
from kapdesk.ui.common.screen_fit import fit_to_screen
from kapdesk.ui.common.theme import set_role
from kapdesk.ui.journal.autosave import EntryAutosave, EntryOnScreen
from kapdesk.ui.journal.questionnaire_panel import QuestionnairePanel
from kapdesk.ui.journal.widgets import (
    PinDialog,
    ensure_staff_pin,
)

NO_VALUE = "\u2013"
DAY_S = 24 * 3600.0

#: Sizes only: a patient reads and writes here, so the type is larger; every colour
#: comes from the application style sheet of the active theme.
PATIENT_STYLE = """
QWidget { font-size: 16px; }
QPlainTextEdit { font-size: 18px; padding: 10px; }
QLineEdit { padding: 6px; }
QTabBar::tab { padding: 8px 18px; font-size: 16px; }
"""


def suggest_prompt_set(now: float, session_started: float | None) -> str:
    """Right after a session (same day), then 24-48 h, then the weekly reflection."""
    if session_started is None:
        return "weekly"
    age = now - session_started
    if age < DAY_S:
        return "after-session"
    if age <= 2 * DAY_S:
        return "24-48h"
    return "weekly"


class NoStaffPinError(RuntimeError):
    """Patient mode refused: without a staff PIN no one could leave it."""


class PatientJournalWindow(QMainWindow):
    """The locked-down journal of one patient."""

    left_patient_mode = Signal()
    safety_flag_raised = Signal(int, int)  # patient id, questionnaire response id
    entry_saved = Signal(int, int)  # entry id, revision number

    def __init__(
        self,
        store: JournalStore,
        patient_id: int,
        demo: bool = False,
        clinic: ClinicConfig | None = None,
        settings: JournalSettings | None = None,
        prompt_sets: list[PromptSet] | None = None,
        questionnaires: dict[str, QuestionnaireForm] | None = None,
        parent: QWidget | None = None,
        staff_sign_in: Callable[[str, str], object] | None = None,
    ) -> None:
        """``staff_sign_in``: leaving by a staff member's own sign-in as well as the PIN."""
        super().__init__(parent)
        self.store = store
        self.staff_sign_in = staff_sign_in
        self.patient_id = patient_id
        self.actor = Actor.patient(patient_id)
        clinic = clinic if clinic is not None else ClinicConfig()  # the app passes its own
        self.settings = settings or clinic.journal
        self.prompt_sets = prompt_sets if prompt_sets is not None else clinic.prompt_sets
        forms = questionnaires if questionnaires is not None else clinic.questionnaires
        pin_hash = ensure_staff_pin(self.store, demo)
        if pin_hash is None:
            raise NoStaffPinError(
                "No staff PIN is set, so patient mode could not be left: set one first "
                "(Journal \u2192 Patient mode offers to, or `kapdesk journal set-pin`)."
            )
        self.gate = PinGate(pin_hash, self.settings.pin_max_attempts, self.settings.pin_lockout_s)
        self.patient_name = self.store.patient_name(self.actor, patient_id)
        self.session_id: int | None = None
        self.context: SessionContext | None = None
        self.pin_dialog: PinDialog | None = None
        self._unlocked = False
        self._loading = False
        self._touched: set[str] = set()

        self.setWindowTitle(f"My journal \u2014 {self.patient_name}")
        self.setStyleSheet(PATIENT_STYLE)
        self.autosave = EntryAutosave(
            self.store,
            self.actor,
            patient_id,
            self.settings.autosave_delay_ms,
            self._on_screen,
            self,
        )
        self.autosave.revision_saved.connect(self.entry_saved)
        self.autosave.entries_changed.connect(self.refresh_entries)

        central = QWidget()
        central.setObjectName("central")
        outer = QVBoxLayout(central)
        outer.setContentsMargins(18, 14, 18, 14)
        outer.addLayout(self._header())
        self.tabs = QTabWidget()
        self.tabs.addTab(self._write_tab(), "Write")
        self.questionnaire = QuestionnairePanel(forms)
        self.questionnaire.submit_button.clicked.connect(self.submit_questionnaire)
        self.tabs.addTab(self.questionnaire, "Questionnaires")
        outer.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        fit_to_screen(self, 1360, 860)

        self._load_sessions()
        self.refresh_entries()
        self.new_entry()

    # -- layout ---------------------------------------------------------------------------

    def _header(self) -> QHBoxLayout:
        row = QHBoxLayout()
        title = QLabel(f"Journal of {self.patient_name}")
        set_role(title, "title")
        badge = QLabel("Patient mode")
        badge.setObjectName("badge")
        self.leave_button = QPushButton("Staff: leave patient mode")
        self.leave_button.clicked.connect(self.request_leave)
        row.addWidget(title)
        row.addSpacing(12)
        row.addWidget(badge)
        row.addStretch(1)
        row.addWidget(self.leave_button)
        return row

    def _write_tab(self) -> QWidget:
        tab = QWidget()
        lay = QHBoxLayout(tab)
        lay.setContentsMargins(8, 12, 8, 8)
        lay.setSpacing(16)
        lay.addWidget(self._entries_column())
        lay.addWidget(self._editor_column(), 1)
        lay.addWidget(self._session_column())
        return tab

    def _entries_column(self) -> QWidget:
        col = QWidget()
        col.setFixedWidth(270)
        v = QVBoxLayout(col)
        v.setContentsMargins(0, 0, 0, 0)
        head = QLabel("My entries")
        head.setObjectName("heading")
        self.new_button = QPushButton("New entry")
        self.new_button.clicked.connect(self.new_entry)
        self.entry_list = QListWidget()
        self.entry_list.setWordWrap(True)
        self.entry_list.itemClicked.connect(self._entry_clicked)
        v.addWidget(head)
        v.addWidget(self.new_button)
        v.addWidget(self.entry_list, 1)
        return col

    def _editor_column(self) -> QWidget:
        col = QWidget()
        v = QVBoxLayout(col)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(8)
        prow = QHBoxLayout()
        prow.addWidget(QLabel("Guided prompts:"))
        self.prompt_set_box = QComboBox()
        for ps in self.prompt_sets:
            self.prompt_set_box.addItem(ps.title, ps.id)
        self.prompt_set_box.currentIndexChanged.connect(self._show_prompts)
        prow.addWidget(self.prompt_set_box, 1)
        v.addLayout(prow)
        self.prompt_intro = QLabel("")
        self.prompt_intro.setObjectName("muted")
        self.prompt_intro.setWordWrap(True)
        v.addWidget(self.prompt_intro)
        self.prompt_list = QListWidget()
        self.prompt_list.setWordWrap(True)
        self.prompt_list.setMaximumHeight(150)
        self.prompt_list.setToolTip("Click a prompt to add it to your entry")
        self.prompt_list.itemClicked.connect(self._insert_prompt)
        v.addWidget(self.prompt_list)
        self.editor = QPlainTextEdit()
        self.editor.setPlaceholderText("Write here. Your words are saved as you type.")
        self.editor.textChanged.connect(self._edited)
        self.autosave.save_on_focus_out(self.editor)
        v.addWidget(self.editor, 1)
        self.tags = QLineEdit()
        self.tags.setPlaceholderText("Tags, e.g. family, sleep, gratitude")
        self.tags.textEdited.connect(self._edited)
        v.addWidget(self.tags)
        v.addWidget(self._checkin_box())
        bottom = QHBoxLayout()
        self.share = QCheckBox("Share this entry with my therapist")
        self.share.toggled.connect(self._edited)
        self.status = QLabel("")
        self.status.setObjectName("muted")
        self.status.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.autosave.status_changed.connect(self.status.setText)
        self.save_button = QPushButton("Save entry")
        self.save_button.clicked.connect(self.save_entry)
        bottom.addWidget(self.share)
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.save_button)
        v.addLayout(bottom)
        self._show_prompts()
        return col

    def _checkin_box(self) -> QFrame:
        box = QFrame()
        box.setObjectName("panel")
        grid = QGridLayout(box)
        grid.setContentsMargins(12, 8, 12, 8)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        head = QLabel("Quick check-in (optional), 0 to 10")
        head.setObjectName("muted")
        grid.addWidget(head, 0, 0, 1, 6)
        self.sliders: dict[str, QSlider] = {}
        self.slider_values: dict[str, QLabel] = {}
        for i, (name, label, low, high) in enumerate(CHECKIN_SCALES):
            r, c = 1 + i // 2, (i % 2) * 3
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, CHECKIN_MAX)
            slider.setValue(CHECKIN_MAX // 2)
            slider.setToolTip(f"0 = {low}, {CHECKIN_MAX} = {high}")
            slider.setAccessibleName(label)
            value = QLabel(NO_VALUE)
            value.setFixedWidth(28)
            slider.valueChanged.connect(lambda _v, n=name: self._slider_moved(n))
            grid.addWidget(QLabel(label), r, c)
            grid.addWidget(slider, r, c + 1)
            grid.addWidget(value, r, c + 2)
            self.sliders[name] = slider
            self.slider_values[name] = value
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(4, 1)
        return box

    def _session_column(self) -> QWidget:
        col = QFrame()
        col.setObjectName("panel")
        col.setFixedWidth(360)
        v = QVBoxLayout(col)
        v.setContentsMargins(14, 12, 14, 12)
        head = QLabel("The session")
        head.setObjectName("heading")
        self.session_box = QComboBox()
        self.session_box.currentIndexChanged.connect(self._session_chosen)
        self.intention = QLabel("")
        set_role(self.intention, "intention")
        self.intention.setWordWrap(True)
        self.timeline = QListWidget()
        self.timeline.setWordWrap(True)
        self.timeline.setToolTip("Click a moment to add its time to your entry")
        self.timeline.itemClicked.connect(self._insert_moment)
        v.addWidget(head)
        v.addWidget(self.session_box)
        v.addWidget(self.intention)
        v.addWidget(QLabel("Moments"))
        v.addWidget(self.timeline, 1)
        return col

    # -- entries --------------------------------------------------------------------------

    def refresh_entries(self) -> None:
        self.entry_list.clear()
        for view in self.store.entries(self.actor, self.patient_id):
            first = (view.text or "").strip().splitlines()
            title = first[0][:60] if first else "(empty)"
            lock = "" if view.shared else "  \u00b7 private"
            draft = "  \u00b7 draft" if view.state.value == "draft" else ""
            when = time_text.date_and_time(view.created_at)
            item = QListWidgetItem(f"{when}{lock}{draft}\n{title}")
            item.setData(Qt.ItemDataRole.UserRole, view.id)
            self.entry_list.addItem(item)
            if self.entry is not None and view.id == self.entry.id:
                item.setSelected(True)

    def new_entry(self) -> None:
        """Start an empty entry; it is created on the first keystroke, never left empty."""
        self.autosave.switch_to(None)
        self._loading = True
        try:
            self.editor.clear()
            self.tags.clear()
            self.share.setChecked(self.settings.share_by_default)
            self._reset_checkin(CheckIn())
            self._select_session(self._latest_session())
            ctx_start = self.context.started_at if self.context else None
            self._select_prompt_set(suggest_prompt_set(self.store.now(), ctx_start))
        finally:
            self._loading = False
        self.autosave.shown()
        self.editor.setFocus()

    def open_entry(self, entry_id: int) -> None:
        """Reopen one of this patient's entries (the store refuses anyone else's)."""
        entry = self.store.working_entry(self.actor, entry_id)
        self.autosave.switch_to(entry)
        self._loading = True
        try:
            self.editor.setPlainText(entry.body)
            self.tags.setText(", ".join(entry.tags))
            self.share.setChecked(entry.shared)
            self._reset_checkin(entry.checkin)
            self._select_session(entry.session_id)
            if entry.prompt_set:
                self._select_prompt_set(entry.prompt_set)
        finally:
            self._loading = False
        self.autosave.shown()

    def _entry_clicked(self, item: QListWidgetItem) -> None:
        entry_id = item.data(Qt.ItemDataRole.UserRole)
        if self.entry is None or entry_id != self.entry.id:
            self.open_entry(int(entry_id))

    def _on_screen(self) -> EntryOnScreen:
        """What the autosave commits: the entry as it stands on screen."""
        return EntryOnScreen(
            text=self.editor.toPlainText(),
            tags=self.tags.text(),
            shared=self.share.isChecked(),
            checkin=self.checkin(),
            session_id=self.session_id,
            prompt_set=self.prompt_set_box.currentData(),
        )

    def _edited(self, *_: Any) -> None:
        if self._loading:
            return
        self.autosave.edited()

    def checkin(self) -> CheckIn:
        return CheckIn(**{n: self.sliders[n].value() for n in self._touched})

    def _slider_moved(self, name: str) -> None:
        if self._loading:
            return
        self._touched.add(name)
        self.slider_values[name].setText(str(self.sliders[name].value()))
        self._edited()

    def _reset_checkin(self, c: CheckIn) -> None:
        self._touched = {n for n, v in c.as_dict().items() if v is not None}
        for name, slider in self.sliders.items():
            v = c.as_dict()[name]
            slider.setValue(CHECKIN_MAX // 2 if v is None else v)
            self.slider_values[name].setText(NO_VALUE if v is None else str(v))

    # -- saving: the rules are EntryAutosave's; these names stay for the app and the tests

    def autosave_now(self) -> Future[JournalEntry] | None:
        """Commit the working text now, without blocking the GUI on the disk."""
        return self.autosave.autosave_now()

    def save_entry(self) -> None:
        """Keep this version: autosave, then add a revision (earlier ones stay)."""
        self.autosave.save_now()

    def flush(self) -> None:
        """Commit everything now and wait (closing, switching entries)."""
        self.autosave.flush()

    @property
    def entry(self) -> JournalEntry | None:
        """The entry being written (None until the first save creates it)."""
        return self.autosave.entry

    @property
    def dirty(self) -> bool:
        return self.autosave.dirty

    @property
    def saves_committed(self) -> int:
        return self.autosave.saves_committed

    @property
    def last_saved_text(self) -> str | None:
        return self.autosave.last_saved_text

    @property
    def autosave_timer(self) -> QTimer:
        return self.autosave.timer

    # -- prompts and the session ----------------------------------------------------------

    def _select_prompt_set(self, set_id: str) -> None:
        i = self.prompt_set_box.findData(set_id)
        if i >= 0:
            self.prompt_set_box.setCurrentIndex(i)

    def _show_prompts(self) -> None:
        self.prompt_list.clear()
        ps = next((p for p in self.prompt_sets if p.id == self.prompt_set_box.currentData()), None)
        if ps is None:
            return
        self.prompt_intro.setText(f"{ps.when}. {ps.intro}".strip(". "))
        for p in ps.prompts:
            self.prompt_list.addItem(p.text)

    def _insert_prompt(self, item: QListWidgetItem) -> None:
        cursor = self.editor.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        lead = "\n\n" if self.editor.toPlainText().strip() else ""
        cursor.insertText(f"{lead}{item.text()}\n")
        self.editor.setTextCursor(cursor)
        self.editor.setFocus()

    def _insert_moment(self, item: QListWidgetItem) -> None:
        cursor = self.editor.textCursor()
        cursor.insertText(f"[{item.text()}] ")
        self.editor.setFocus()

    def _load_sessions(self) -> None:
        self._loading = True
        try:
            self.session_box.clear()
            self.session_box.addItem("Not about a particular session", None)
            for sid, started, _protocol in self.store.sessions(self.actor, self.patient_id):
                label = (
                    f"Session of {time_text.date_and_time(started)}"
                    if started
                    else "Planned session"
                )
                self.session_box.addItem(label, sid)
        finally:
            self._loading = False

    def _latest_session(self) -> int | None:
        return self.session_box.itemData(1) if self.session_box.count() > 1 else None

    def _select_session(self, session_id: int | None) -> None:
        i = self.session_box.findData(session_id) if session_id is not None else 0
        self.session_box.setCurrentIndex(max(i, 0))
        self._show_session(session_id if i > 0 else None)

    def _session_chosen(self) -> None:
        if self._loading:
            return
        sid = self.session_box.currentData()
        self._show_session(sid)
        if self.entry is not None and self.entry.id is not None:
            self.store.link_session(self.actor, self.entry.id, sid)

    def _show_session(self, session_id: int | None) -> None:
        self.session_id = session_id
        self.timeline.clear()
        self.context = None
        if session_id is None:
            self.intention.setText("This entry is not linked to a session.")
            return
        self.context = self.store.session_context(self.actor, session_id)
        intention = self.context.intention
        self.intention.setText(
            f"\u201c{intention}\u201d" if intention else "No intention was recorded."
        )
        for moment in self.context.timeline:
            self.timeline.addItem(f"{time_text.clock_time(moment.t)}  {moment.text}")

    # -- questionnaires -------------------------------------------------------------------

    def submit_questionnaire(self) -> None:
        form = self.questionnaire.form
        answers = self.questionnaire.answers()
        if form is None or None in answers:
            return
        entry_id = self.entry.id if self.entry is not None else None
        response_id, result = self.store.submit_questionnaire(
            self.actor,
            self.patient_id,
            form.instrument.id,
            [a for a in answers if a is not None],
            functional=self.questionnaire.functional(),
            entry_id=entry_id,
            session_id=self.session_id,
        )
        self.questionnaire.show_outcome(form, result, self.settings.patient_sees_scores)
        if result.flagged:
            self.safety_flag_raised.emit(self.patient_id, response_id)

    # -- leaving patient mode -------------------------------------------------------------

    def request_leave(self) -> PinDialog:
        """Ask for the staff PIN (non-blocking); the right PIN leaves patient mode."""
        self.flush()
        if self.pin_dialog is None:
            self.pin_dialog = PinDialog(self.gate, self, sign_in=self.staff_sign_in)
            self.pin_dialog.accepted.connect(self._pin_accepted)
        self.pin_dialog.open()
        self.pin_dialog.pin.setFocus()
        return self.pin_dialog

    def _pin_accepted(self) -> None:
        self._unlocked = True
        self.left_patient_mode.emit()
        self.close()

    @property
    def unlocked(self) -> bool:
        return self._unlocked

    def force_close(self) -> None:
        """For the app's own shutdown only (not reachable from the patient's screen):
        commit everything and close without the PIN."""
        self._unlocked = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._unlocked:
            event.ignore()
            self.request_leave()
            return
        self.flush()
        event.accept()
