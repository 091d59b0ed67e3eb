"""The session panel, docked beside the vitals: where the session is, what comes next,
which checks are due, and the buttons for every timeline action.

Due checks and check-in reminders are shown quietly: a soft highlight and plain words,
no sound and no flashing, because the patient is in a dim room with an eye mask on and
alarms must stay the only loud thing on screen. Times count on the session clock
(monotonic), so a wall-clock change never moves a timer.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QColor
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapdesk.domain import time_text
from kapdesk.domain.schedule import Slot, SlotState
from kapdesk.domain.session import SessionEvent, SessionState
from kapdesk.live.runtime import Runtime
from kapdesk.ui.common import theme
from kapdesk.ui.common.gui_thread import ThreadInbox
from kapdesk.ui.common.theme import set_role, styled_label
from kapdesk.ui.session.dialogs import (
    ActionDialog,
    CheckDialog,
    ChecklistDialog,
    DischargeDialog,
    DoseDialog,
    IntentionDialog,
    NewSessionDialog,
    NoteDialog,
)
from kapdesk.ui.session.summary import SessionSummaryView

#: Quiet highlights (not alarm colours), from the theme: due a soft amber, late warmer,
#: missed in the theme's missed colour, done muted.
REFRESH_MS = 1000


def slot_text(slot: Slot, now: float) -> str:
    if slot.state is SlotState.DONE and slot.done_t is not None:
        done = time_text.clock_time(slot.done_t)
        return f"\u2713 {slot.label} \u2014 done {done}"
    if slot.due_t is None:
        return f"{slot.label} \u2014 due now" if slot.pending else slot.label
    delta = slot.due_t - now
    if slot.state is SlotState.UPCOMING:
        return f"{slot.label} \u2014 in {time_text.short_elapsed(delta)}"
    if slot.state is SlotState.OVERDUE:
        return f"{slot.label} \u2014 {time_text.short_elapsed(-delta)} late"
    if slot.state is SlotState.MISSED:
        return f"\u2717 {slot.label} \u2014 missed (not recorded)"
    return f"{slot.label} \u2014 due now"


class SessionPanel(QFrame):
    """Current phase with elapsed and expected time, next phase, checks, actions."""

    def __init__(self, runtime: Runtime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runtime = runtime
        self.controller = runtime.controller
        self.setObjectName("panel")
        self.setMinimumWidth(300)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 14, 16, 14)
        lay.setSpacing(10)

        self.patient = styled_label("No session", "muted")
        self.patient.setWordWrap(True)
        self.phase = QLabel("\u2014")
        set_role(self.phase, "title")
        self.phase.setWordWrap(True)
        self.phase_time = QLabel("")
        set_role(self.phase_time, "large")
        self.progress = QProgressBar(textVisible=False, maximum=1000)
        self.progress.setFixedHeight(6)
        self.next = styled_label("", "muted")
        self.next.setWordWrap(True)
        self.clocks = QLabel("")
        set_role(self.clocks, "large")
        self.clocks.setWordWrap(True)
        for w in (self.patient, self.phase, self.phase_time, self.progress, self.next):
            lay.addWidget(w)
        lay.addWidget(self.clocks)

        self.reminder = QLabel("")
        set_role(self.reminder, "calm")
        self.reminder.setWordWrap(True)
        self.reminder.hide()
        lay.addWidget(self.reminder)

        self.intention = QLabel("")
        self.intention.setWordWrap(True)
        set_role(self.intention, "intention")
        lay.addWidget(self.intention)

        lay.addWidget(styled_label("Checks", "heading"))
        self.checks = QListWidget()
        self.checks.setMinimumHeight(120)
        self.checks.setWordWrap(True)  # a narrow dock: the whole "... 3:10 late" stays readable
        self.checks.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.checks.itemActivated.connect(self._check_clicked)
        self.checks.itemClicked.connect(self._check_clicked)
        lay.addWidget(self.checks, 1)

        grid = QGridLayout()
        grid.setSpacing(8)
        lay.addLayout(grid)
        self.buttons: dict[str, QPushButton] = {}
        actions = [
            ("new", "New session\u2026", self.open_new_session),
            ("checklist", "Checklist\u2026", self.open_checklist),
            ("intention", "Intention\u2026", self.open_intention),
            ("advance", "Next phase", self.confirm_advance),
            ("dose", "Dose\u2026", self.open_dose),
            ("mask", "Eye mask on", self.toggle_mask),
            ("check_in", "Check-in", self.check_in),
            ("check", "Record check \u25be", None),
            ("note", "Note\u2026", self.open_note),
            ("discharge", "Discharge\u2026", self.open_discharge),
        ]
        for i, (key, text, slot) in enumerate(actions):
            button = QPushButton(text)
            button.setMinimumHeight(40)
            if slot is not None:
                button.clicked.connect(slot)
            self.buttons[key] = button
            grid.addWidget(button, i // 2, i % 2)
        self.check_menu = QMenu(self)
        self.buttons["check"].setMenu(self.check_menu)

        self.message = styled_label("", "muted")
        self.message.setWordWrap(True)
        lay.addWidget(self.message)

        self.dialog: QWidget | None = None  # the dialog last opened (tests drive it)
        self.summary: SessionSummaryView | None = None
        self._menu_protocol: str | None = None
        # Events come from any thread (see gui_thread.py); the panel stops listening when
        # it is destroyed.
        self._events: ThreadInbox[SessionEvent] = ThreadInbox(self._on_event, self)
        put, controller = self._events.put, self.controller  # no Qt object in the closure
        controller.add_listener(put)
        self.destroyed.connect(lambda *_: controller.remove_listener(put))
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(REFRESH_MS)
        theme.notifier().changed.connect(self.refresh)  # the checks' colours come from it
        self.refresh()

    # -- showing --------------------------------------------------------------------------

    def refresh(self) -> None:
        c = self.controller
        now = self.runtime.clock.now()
        session = c.session
        running = session is not None and session.state is SessionState.IN_PROGRESS
        self._refresh_buttons(running)
        if session is None:
            self.patient.setText("No session open")
            self.phase.setText("Start a new session")
            for w in (self.phase_time, self.next, self.clocks, self.intention):
                w.setText("")
            self.progress.setValue(0)
            self.checks.clear()
            self.reminder.hide()
            return
        name = c.patient.display_name if c.patient else "?"
        protocol = c.protocol.name if c.protocol else session.protocol
        self.patient.setText(f"{name} \u00b7 {protocol}")
        self._refresh_phase(now)
        self._refresh_clocks(now)
        self._refresh_reminder(now)
        self._refresh_checks(now)
        intention = c.intention
        self.intention.setText(f"\u201c{intention}\u201d" if intention else "")

    def _refresh_buttons(self, running: bool) -> None:
        c = self.controller
        has_protocol = c.protocol is not None
        dosed = c.dose_t is not None
        b = self.buttons
        b["new"].setEnabled(not running)
        for key in ("checklist", "intention", "advance", "note", "check_in", "mask"):
            b[key].setEnabled(running)
        b["checklist"].setEnabled(running and has_protocol and not dosed)
        b["dose"].setEnabled(running and has_protocol)
        b["dose"].setText("Booster\u2026" if dosed else "Dose\u2026")
        b["check"].setEnabled(running and has_protocol)
        b["discharge"].setEnabled(running and has_protocol)
        b["mask"].setText("Eye mask off" if c.eye_mask_on else "Eye mask on")
        b["check_in"].setEnabled(running and c.eye_mask_on)
        protocol_id = c.protocol.id if c.protocol else None
        if protocol_id != self._menu_protocol:
            self._menu_protocol = protocol_id
            self.check_menu.clear()
            for check in c.protocol.checks if c.protocol else ():
                action = QAction(check.label, self.check_menu)
                action.triggered.connect(lambda _=False, cid=check.id: self.open_check(cid))
                self.check_menu.addAction(action)

    def _refresh_phase(self, now: float) -> None:
        session = self.controller.session
        assert session is not None
        phase = session.phase
        if session.state is SessionState.PLANNED:
            self.phase.setText("Planned")
        elif session.state is not SessionState.IN_PROGRESS:
            self.phase.setText("Discharged" if session.state.value == "completed" else "Ended")
            self.phase_time.setText("")
            self.next.setText("")
            self.progress.setValue(1000)
            return
        if phase is None or session.phase_started_at is None:
            return
        self.phase.setText(phase.label)
        spent = now - session.phase_started_at
        expected = phase.expected_s
        if expected:
            self.phase_time.setText(
                f"{time_text.short_elapsed(spent)} of about {time_text.short_elapsed(expected)}"
            )
            self.progress.setValue(min(1000, int(1000 * spent / expected)))
        else:
            self.phase_time.setText(time_text.short_elapsed(spent))
        nxt = session.next_phase
        if nxt is None:
            self.next.setText("Last phase: discharge when the criteria are met")
        else:
            left = session.phase_started_at + expected - now
            when = f"in about {time_text.short_elapsed(left)}" if left > 0 else "when ready"
            self.next.setText(f"Next: {nxt.label} \u2014 {when}")

    def _refresh_clocks(self, now: float) -> None:
        c = self.controller
        session = c.session
        assert session is not None
        parts = []
        if session.started_at is not None:
            end = session.ended_at if session.ended_at is not None else now
            parts.append(f"Session {time_text.short_elapsed(end - session.started_at)}")
        observed = c.observed_s(now)
        if observed is not None and c.protocol is not None:
            need = c.protocol.observation_min * 60
            parts.append(f"since dose {time_text.short_elapsed(observed)}")
            if observed < need and session.state is SessionState.IN_PROGRESS:
                parts.append(f"observe {time_text.short_elapsed(need - observed)} more")
        self.clocks.setText(" \u00b7 ".join(parts))

    def _refresh_reminder(self, now: float) -> None:
        c = self.controller
        mask_on = c.mask_on_t
        ended = c.session is not None and c.session.ended_at is not None
        if mask_on is None or ended:  # after discharge no reminder keeps counting
            self.reminder.hide()
            return
        due = c.check_in_due()
        text = f"Eye mask on for {time_text.short_elapsed(now - mask_on)}"
        if due is not None and now >= due:
            text += " \u00b7 a gentle check-in is due"
            set_role(self.reminder, "due")
        else:
            if due is not None:
                text += f" \u00b7 next check-in in {time_text.short_elapsed(due - now)}"
            set_role(self.reminder, "calm")
        self.reminder.setText(text)
        self.reminder.show()

    def _refresh_checks(self, now: float) -> None:
        """Due and late checks first, then every missed one (a missed check never
        vanishes: it stays here as missed), the next few to come, the last two done."""
        plan = self.controller.schedule(now)
        shown: list[Slot] = plan.pending()
        shown += plan.by_state(SlotState.MISSED)
        shown += plan.upcoming()[:3]
        done = sorted(plan.by_state(SlotState.DONE), key=lambda s: s.done_t or 0.0)
        shown += done[-2:]
        t = theme.active()
        self.checks.clear()
        for slot in shown:
            item = QListWidgetItem(slot_text(slot, now))
            item.setData(Qt.ItemDataRole.UserRole, slot.check.id)
            if slot.state is SlotState.DUE:
                item.setBackground(QColor(t.due_background))
                item.setForeground(QColor(t.due_text))
            elif slot.state is SlotState.OVERDUE:
                item.setBackground(QColor(t.overdue_background))
                item.setForeground(QColor(t.overdue_text))
            elif slot.state is SlotState.MISSED:
                item.setForeground(QColor(t.missed_text))
            elif slot.state is SlotState.DONE:
                item.setForeground(QColor(t.muted))
            self.checks.addItem(item)
        if not shown:
            hint = "Checks start when the dose is recorded" if plan.slots else "No checks"
            self.checks.addItem(QListWidgetItem(hint))

    def missed_labels(self) -> list[str]:
        """Checks whose time passed without being done (shown as missed)."""
        return [s.label for s in self.controller.schedule().by_state(SlotState.MISSED)]

    def due_labels(self) -> list[str]:
        """Texts of the checks shown as due or overdue (for tests and screen readers)."""
        return [s.label for s in self.controller.schedule().pending()]

    # -- actions --------------------------------------------------------------------------

    def _open(self, dialog: QWidget) -> QWidget:
        self.dialog = dialog
        if isinstance(dialog, ActionDialog):
            dialog.accepted.connect(self.refresh)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.show()
        return dialog

    def _guard(self, make: Callable[[Runtime, QWidget], ActionDialog]) -> ActionDialog | None:
        try:
            dialog = make(self.runtime, self)
        except (RuntimeError, ValueError, KeyError) as e:
            self.message.setText(str(e))
            return None
        self._open(dialog)
        return dialog

    def open_new_session(self) -> ActionDialog | None:
        return self._guard(NewSessionDialog)

    def open_checklist(self) -> ActionDialog | None:
        return self._guard(ChecklistDialog)

    def open_intention(self) -> ActionDialog | None:
        return self._guard(IntentionDialog)

    def open_dose(self) -> ActionDialog | None:
        return self._guard(DoseDialog)

    def open_note(self) -> ActionDialog | None:
        return self._guard(NoteDialog)

    def open_discharge(self) -> ActionDialog | None:
        dialog = self._guard(DischargeDialog)
        if dialog is not None:
            dialog.accepted.connect(self.show_summary)
        return dialog

    def open_check(self, check_id: str) -> ActionDialog | None:
        try:
            dialog = CheckDialog(self.runtime, check_id, self)
        except (RuntimeError, KeyError) as e:
            self.message.setText(str(e))
            return None
        self._open(dialog)
        return dialog

    def _check_clicked(self, item: QListWidgetItem) -> None:
        check_id = item.data(Qt.ItemDataRole.UserRole)
        if check_id:
            self.open_check(str(check_id))

    def advance(self) -> None:
        self._act(self.controller.advance)

    def confirm_advance(self) -> QMessageBox | None:
        """Next phase after a confirmation: moving on is recorded and cannot be undone.
        None when there is no next phase."""
        session = self.controller.session
        nxt = session.next_phase if session is not None else None
        if session is None or nxt is None or session.ended_at is not None:
            return None
        current = session.phase.label if session.phase else "this phase"
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Next phase",
            f"End \u201c{current}\u201d and start \u201c{nxt.label}\u201d?\n"
            "This is recorded and cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        yes = box.button(QMessageBox.StandardButton.Yes)
        box.buttonClicked.connect(lambda clicked: self.advance() if clicked is yes else None)
        box.open()
        return box

    def toggle_mask(self) -> None:
        self._act(lambda: self.controller.eye_mask(not self.controller.eye_mask_on))

    def check_in(self) -> None:
        self._act(lambda: self.controller.check_in())

    def _act(self, action: object) -> None:
        try:
            action()  # type: ignore[operator]
            self.message.setText("")
        except (RuntimeError, ValueError) as e:
            self.message.setText(str(e))
        self.refresh()

    def show_summary(self) -> SessionSummaryView:
        """The readable session summary, in its own window, after discharge."""
        view = SessionSummaryView.for_controller(self.controller)
        view.setWindowFlag(Qt.WindowType.Window, True)
        view.setParent(self, view.windowFlags())
        view.resize(760, 820)
        view.show()
        self.summary = view
        return view

    def _on_event(self, event: SessionEvent) -> None:
        self.refresh()
