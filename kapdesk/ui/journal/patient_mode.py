"""Patient mode: one patient's journal, locked down.

Staff open it for one patient and hand over the laptop. The patient sees and writes only
their own entries (every read and write goes through ``kapdesk.domain.access`` with a
patient actor bound to this patient, so even a bug in this window cannot reach another
journal); nothing else of the app is reachable; closing or leaving asks for the staff PIN.

Text is saved as the patient types: a short pause (``[journal] autosave_delay_ms``), the
editor losing focus, switching entries and closing all commit the working text at once.
"Save entry" adds a revision; earlier revisions are kept.

New entries are shared with the therapist by default (``share_by_default``): the journal
is written for the integration meeting, where therapist and patient read it together, and
a default of private would leave most entries invisible at the meeting without anyone
having chosen that. The toggle sits beside the text and is easy to turn off, and a private
entry's text never reaches the therapist.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QButtonGroup,
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
    QRadioButton,
    QScrollArea,
    QSlider,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kapdesk.config.journal import (
    JournalSettings,
    PromptSet,
    QuestionnaireForm,
    load_journal_settings,
    load_prompt_sets,
    load_questionnaires,
)
from kapdesk.domain.access import Actor
from kapdesk.domain.journal import CHECKIN_MAX, CHECKIN_SCALES, CheckIn, JournalEntry
from kapdesk.domain.staff_pin import PinGate
from kapdesk.storage.journal_store import JournalStore, SessionContext
from kapdesk.ui.common.gui_thread import FutureBridge
from kapdesk.ui.common.screen_fit import fit_to_screen
from kapdesk.ui.common.theme import set_role
from kapdesk.ui.journal.widgets import (
    PinDialog,
    ensure_staff_pin,
    local_datetime,
    store_from,
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


def patient_result_text(view: str, name: str, total: int, max_total: int, band: str) -> str:
    """What a patient alone reads after a questionnaire, as the clinic chose
    (``journal.patient_sees_scores``): by default no number and no severity band."""
    if view == "band":
        return f"Thank you. {name} total {total} of {max_total} ({band})."
    if view == "total":
        return f"Thank you. {name} total {total} of {max_total}."
    return (
        f"Thank you. Your answers to the {name} are saved; your therapist will go "
        "through them with you."
    )


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


class _FocusOut(QObject):
    """Calls back when the watched widget loses focus (autosave on focus loss)."""

    def __init__(self, callback: Any, parent: QObject) -> None:
        super().__init__(parent)
        self.callback = callback

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusOut:
            self.callback()
        return False


class QuestionnairePanel(QWidget):
    """One questionnaire at a time, radio buttons per item, scored on submit."""

    submitted = Signal(int, object)  # response id, Score

    def __init__(self, forms: dict[str, QuestionnaireForm], parent: QWidget | None = None):
        super().__init__(parent)
        self.forms = forms
        self.form: QuestionnaireForm | None = None
        self.groups: list[QButtonGroup] = []
        self.functional_group = QButtonGroup(self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 12, 16, 12)
        top = QHBoxLayout()
        top.addWidget(QLabel("Questionnaire:"))
        self.chooser = QComboBox()
        for fid, form in forms.items():
            self.chooser.addItem(form.title, fid)
        self.chooser.currentIndexChanged.connect(self._build_current)
        top.addWidget(self.chooser, 1)
        lay.addLayout(top)
        note = QLabel(
            "Your answers and scores are always seen by your care team, even when a "
            "journal entry is private."
        )
        note.setObjectName("muted")
        note.setWordWrap(True)
        lay.addWidget(note)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        lay.addWidget(self.scroll, 1)
        bottom = QHBoxLayout()
        self.result = QLabel("")
        self.result.setWordWrap(True)
        set_role(self.result, "emphasis")
        self.submit_button = QPushButton("Submit answers")
        self.submit_button.setEnabled(False)
        bottom.addWidget(self.result, 1)
        bottom.addWidget(self.submit_button)
        lay.addLayout(bottom)
        self.flag_message = QLabel("")
        set_role(self.flag_message, "flag")
        self.flag_message.setWordWrap(True)
        self.flag_message.hide()
        lay.addWidget(self.flag_message)
        self._build_current()

    def select(self, form_id: str) -> None:
        self.chooser.setCurrentIndex(self.chooser.findData(form_id))

    def _build_current(self) -> None:
        fid = self.chooser.currentData()
        self.form = self.forms.get(fid) if fid else None
        body = QWidget()
        grid = QGridLayout(body)
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(10)
        self.groups = []
        self.functional_group = QButtonGroup(self)
        if self.form is not None:
            stem = QLabel(self.form.stem)
            stem.setWordWrap(True)
            stem.setObjectName("heading")
            grid.addWidget(stem, 0, 0, 1, 5)
            for col, (_v, label) in enumerate(self.form.options, start=1):
                head = QLabel(label)
                head.setWordWrap(True)
                head.setAlignment(Qt.AlignmentFlag.AlignCenter)
                head.setObjectName("muted")
                grid.addWidget(head, 1, col)
            for i, item in enumerate(self.form.items):
                row = i + 2
                text = QLabel(f"{i + 1}. {item}")
                text.setWordWrap(True)
                grid.addWidget(text, row, 0)
                group = QButtonGroup(self)
                for col, (value, label) in enumerate(self.form.options, start=1):
                    rb = QRadioButton()
                    rb.setAccessibleName(f"item {i + 1}: {label}")
                    group.addButton(rb, value)
                    grid.addWidget(rb, row, col, alignment=Qt.AlignmentFlag.AlignCenter)
                group.idClicked.connect(self._changed)
                self.groups.append(group)
            row = len(self.form.items) + 2
            if self.form.functional_text:
                ft = QLabel(self.form.functional_text + " (optional)")
                ft.setWordWrap(True)
                ft.setObjectName("muted")
                grid.addWidget(ft, row, 0, 1, 5)
                opts = QHBoxLayout()
                for value, label in enumerate(self.form.functional_options):
                    rb = QRadioButton(label)
                    self.functional_group.addButton(rb, value)
                    opts.addWidget(rb)
                opts.addStretch(1)
                grid.addLayout(opts, row + 1, 0, 1, 5)
            cite = QLabel(self.form.citation)
            cite.setObjectName("muted")
            cite.setWordWrap(True)
            grid.addWidget(cite, row + 2, 0, 1, 5)
            grid.setColumnStretch(0, 1)
            grid.setRowStretch(row + 3, 1)
        self.scroll.setWidget(body)
        self._changed()

    def _changed(self, *_: Any) -> None:
        self.submit_button.setEnabled(bool(self.groups) and None not in self.answers())

    def answers(self) -> list[int | None]:
        return [g.checkedId() if g.checkedId() >= 0 else None for g in self.groups]

    def set_answers(self, answers: Sequence[int]) -> None:
        for group, value in zip(self.groups, answers, strict=True):
            button = group.button(value)
            if button is not None:
                button.setChecked(True)
        self._changed()

    def functional(self) -> int | None:
        fid = self.functional_group.checkedId()
        return fid if fid >= 0 else None

    def clear(self) -> None:
        self._build_current()


class NoStaffPinError(RuntimeError):
    """Patient mode refused: without a staff PIN no one could leave it."""


class PatientJournalWindow(QMainWindow):
    """The locked-down journal of one patient."""

    left_patient_mode = Signal()
    safety_flag_raised = Signal(int, int)  # patient id, questionnaire response id
    entry_saved = Signal(int, int)  # entry id, revision number

    def __init__(
        self,
        source: Any,
        patient_id: int,
        demo: bool = False,
        settings: JournalSettings | None = None,
        prompt_sets: list[PromptSet] | None = None,
        questionnaires: dict[str, QuestionnaireForm] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.store: JournalStore = store_from(source)
        self.patient_id = patient_id
        self.actor = Actor.patient(patient_id)
        self.settings = settings or load_journal_settings()
        self.prompt_sets = prompt_sets if prompt_sets is not None else load_prompt_sets()
        forms = questionnaires if questionnaires is not None else load_questionnaires()
        pin_hash = ensure_staff_pin(self.store, demo)
        if pin_hash is None:
            raise NoStaffPinError(
                "No staff PIN is set, so patient mode could not be left: set one first "
                "(Journal \u2192 Patient mode offers to, or `kapdesk journal set-pin`)."
            )
        self.gate = PinGate(pin_hash, self.settings.pin_max_attempts, self.settings.pin_lockout_s)
        self.patient_name = self.store.patient_name(self.actor, patient_id)
        self.entry: JournalEntry | None = None
        self.session_id: int | None = None
        self.context: SessionContext | None = None
        self.dirty = False
        self.saves_committed = 0
        self.last_saved_text: str | None = None
        self.pin_dialog: PinDialog | None = None
        self._unlocked = False
        self._loading = False
        self._touched: set[str] = set()
        self._bridge = FutureBridge(self)

        self.setWindowTitle(f"My journal \u2014 {self.patient_name}")
        self.setStyleSheet(PATIENT_STYLE)
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setSingleShot(True)
        self.autosave_timer.setInterval(self.settings.autosave_delay_ms)
        self.autosave_timer.timeout.connect(self.autosave_now)

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
        self.editor.installEventFilter(_FocusOut(self._focus_left, self))
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
            item = QListWidgetItem(f"{local_datetime(view.created_at)}{lock}{draft}\n{title}")
            item.setData(Qt.ItemDataRole.UserRole, view.id)
            self.entry_list.addItem(item)
            if self.entry is not None and view.id == self.entry.id:
                item.setSelected(True)

    def new_entry(self) -> None:
        """Start an empty entry; it is created on the first keystroke, never left empty."""
        self.flush()
        self.entry = None
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
        self.dirty = False
        self.status.setText("New entry")
        self.editor.setFocus()

    def open_entry(self, entry_id: int) -> None:
        """Reopen one of this patient's entries (the store refuses anyone else's)."""
        entry = self.store.working_entry(self.actor, entry_id)
        self.flush()
        self.entry = entry
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
        self.dirty = False
        self.last_saved_text = entry.body
        self.status.setText(
            f"Written {time.strftime('%d %b, %H:%M', time.localtime(entry.created_at))}"
        )

    def _entry_clicked(self, item: QListWidgetItem) -> None:
        entry_id = item.data(Qt.ItemDataRole.UserRole)
        if self.entry is None or entry_id != self.entry.id:
            self.open_entry(int(entry_id))

    def _ensure_entry(self) -> JournalEntry:
        if self.entry is None:
            self.entry = self.store.create_entry(
                self.actor,
                self.patient_id,
                session_id=self.session_id,
                prompt_set=self.prompt_set_box.currentData(),
                shared=self.share.isChecked(),
            )
        return self.entry

    def _edited(self, *_: Any) -> None:
        if self._loading:
            return
        self.dirty = True
        self.status.setText("Writing\u2026")
        self.autosave_timer.start()

    def _focus_left(self) -> None:
        if self.dirty:
            self.autosave_now()

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

    def autosave_now(self) -> Future[JournalEntry] | None:
        """Commit the working text now, without blocking the GUI on the disk."""
        self.autosave_timer.stop()
        if not self.dirty:
            return None
        entry = self._ensure_entry()
        self.dirty = False
        text = self.editor.toPlainText()
        fut = self.store.autosave_later(
            self.actor,
            entry.id or 0,
            text,
            tags=self.tags.text(),
            shared=self.share.isChecked(),
            checkin=self.checkin(),
        )
        self._bridge.watch(fut, lambda f: self._autosaved(f, text))
        return fut

    def _autosaved(self, fut: Future[JournalEntry], text: str) -> None:
        exc = fut.exception()
        if exc is not None:
            self.dirty = True  # try again on the next pause; the text is still here
            self.status.setText(f"Not saved yet: {exc}")
            return
        self.saves_committed += 1
        self.last_saved_text = text
        saved = fut.result()
        if self.entry is not None and saved.id == self.entry.id:
            self.entry = saved
        self.status.setText(f"Saved {time.strftime('%H:%M:%S')}")

    def save_entry(self) -> None:
        """Keep this version: autosave, then add a revision (earlier ones stay)."""
        if self.entry is None and not self.dirty:
            return
        self.autosave_now()
        if self.entry is None or self.entry.id is None:
            return
        entry_id = self.entry.id
        fut = self.store.save_later(self.actor, entry_id)
        self._bridge.watch(fut, lambda f: self._revision_saved(f, entry_id))

    def _revision_saved(self, fut: Future[Any], entry_id: int) -> None:
        exc = fut.exception()
        if exc is not None:
            self.status.setText(f"Not saved yet: {exc}")
            return
        rev = fut.result()
        if rev is not None:
            self.status.setText(f"Entry saved (version {rev.number})")
            self.entry_saved.emit(entry_id, rev.number)
        self.refresh_entries()

    def flush(self) -> None:
        """Commit everything now and wait (closing, switching entries)."""
        self.autosave_timer.stop()
        if self.dirty and (self.entry is not None or self.editor.toPlainText()):
            entry = self._ensure_entry()
            assert entry.id is not None
            self.entry = self.store.autosave(
                self.actor,
                entry.id,
                self.editor.toPlainText(),
                tags=self.tags.text(),
                shared=self.share.isChecked(),
                checkin=self.checkin(),
            )
            self.dirty = False
            self.last_saved_text = self.entry.body
        entry = self.entry
        if (
            entry is not None
            and entry.id is not None
            and entry.body
            and self.store.save(self.actor, entry.id) is not None
        ):
            self.refresh_entries()

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
                label = f"Session of {local_datetime(started)}" if started else "Planned session"
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
            self.timeline.addItem(
                f"{time.strftime('%H:%M', time.localtime(moment.t))}  {moment.text}"
            )

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
        self.questionnaire.clear()
        self.questionnaire.result.setText(
            patient_result_text(
                self.settings.patient_sees_scores,
                form.instrument.name,
                result.total,
                form.instrument.max_total,
                result.band,
            )
        )
        messages = [form.flag_messages.get(f, "") for f in result.flags]
        if result.flagged:
            self.questionnaire.flag_message.setText(
                " ".join(m for m in messages if m) or "Your therapist will see this today."
            )
            self.questionnaire.flag_message.show()
            self.safety_flag_raised.emit(self.patient_id, response_id)
        else:
            self.questionnaire.flag_message.hide()

    # -- leaving patient mode -------------------------------------------------------------

    def request_leave(self) -> PinDialog:
        """Ask for the staff PIN (non-blocking); the right PIN leaves patient mode."""
        self.flush()
        if self.pin_dialog is None:
            self.pin_dialog = PinDialog(self.gate, self)
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
