"""The main window: who and where in the session, the vitals monitor, the timeline and
the alarm lists. The monitor can be detached to a second screen or shown full screen."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kapdesk import __version__
from kapdesk.config.errors import ConfigFileError
from kapdesk.domain import time_text
from kapdesk.domain.access import (
    AccessDenied,
    can_change_alarm_limits,
    can_list_patients,
    can_manage_accounts,
    can_review_audit,
)
from kapdesk.domain.alarms import AlarmKind, AlarmTransition, Condition
from kapdesk.domain.audit import AuditAction
from kapdesk.domain.event_text import describe, marker_label
from kapdesk.domain.music import MusicQueue
from kapdesk.domain.session import EventKind, SessionEvent
from kapdesk.domain.staff_pin import PinError
from kapdesk.live.desk import DeskState
from kapdesk.live.runtime import Runtime
from kapdesk.ui.common.gui_thread import ThreadInbox
from kapdesk.ui.common.lock import IdleLock, LockBar
from kapdesk.ui.common.screen_fit import fit_to_screen
from kapdesk.ui.common.sign_in import SignInDialog
from kapdesk.ui.common.theme import DARK, Theme, ThemeSwitcher, set_role, styled_label
from kapdesk.ui.devices.panel import DevicesPanel
from kapdesk.ui.journal.patient_mode import NoStaffPinError, PatientJournalWindow
from kapdesk.ui.journal.review import JournalReviewWindow
from kapdesk.ui.journal.safety_flags import SafetyFlagBar
from kapdesk.ui.journal.widgets import SetPinDialog
from kapdesk.ui.monitor.alarm_sound import AlarmSounder
from kapdesk.ui.monitor.alarm_views import AlarmList, AlarmLog
from kapdesk.ui.monitor.limits_dialog import LimitsDialog
from kapdesk.ui.monitor.view import MonitorView
from kapdesk.ui.music.panel import MusicPanel
from kapdesk.ui.music.player import SessionMusicPlayer, follow_session
from kapdesk.ui.session.panel import SessionPanel

log = logging.getLogger(__name__)

FRAME_MS = 25  # 40 frames/s: the GUI pulls whatever arrived since the last frame
#: After a timeline line whose event is not yet in the database (a full disk).
UNSAVED_MARK = "   \u26a0 not saved yet"


#: One key each for what staff do most, as VitalRecorder's event hot-keys: F-keys, so
#: typing in a field never triggers one. Next phase asks first (it cannot be undone).
SHORTCUTS = {
    "acknowledge": "F5",
    "pause_audio": "F6",
    "note": "F7",
    "marker": "F8",
    "next_phase": "F9",
    "lock": "Ctrl+L",  # lock now: the monitor stays, everything else needs a sign-in
}


class DetachedMonitor(QMainWindow):
    """The monitor on its own window (second screen); closing it brings it back."""

    closed = Signal()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closed.emit()
        super().closeEvent(event)


class MainWindow(QMainWindow):
    def __init__(self, runtime: Runtime, theme: Theme = DARK, demo: bool = False) -> None:
        super().__init__()
        self.runtime = runtime
        self.theme = theme
        self._unsaved_items: list[tuple[QListWidgetItem, SessionEvent, str]] = []
        self.quit_unsaved = False  # staff chose to quit while recording fails
        self.quit_box: QMessageBox | None = None
        self.setWindowTitle(f"kapdesk {__version__}" + (" \u2014 demo" if demo else ""))
        fit_to_screen(self, 1440, 900)
        central = QWidget()
        central.setObjectName("central")
        self.setCentralWidget(central)
        root = QVBoxLayout(central)
        root.setContentsMargins(14, 12, 14, 10)
        root.setSpacing(10)
        root.addWidget(self._header(demo))
        self.lock_bar = LockBar(runtime.desk)
        self.lock_bar.sign_in_requested.connect(self.open_sign_in)
        root.addWidget(self.lock_bar)
        self.sign_in_dialog: SignInDialog | None = None
        self.admin_windows: list[QWidget] = []
        self.safety_flags = SafetyFlagBar(runtime.journal, runtime.desk.current)
        root.addWidget(self.safety_flags)

        self.monitor = MonitorView(runtime, theme)
        self.monitor.detach_requested.connect(self.toggle_detached)
        self.monitor.limits_requested.connect(self.edit_limits)
        self.monitor.devices_requested.connect(self.show_devices)
        self.monitor.banner.acknowledge_clicked.connect(self.acknowledge)
        self.monitor.banner.pause_clicked.connect(self.pause_audio)
        self.monitor_slot = QVBoxLayout()
        self.monitor_slot.addWidget(self.monitor)
        self.detached_note = QPushButton("The monitor is on its own window \u2014 bring it back")
        self.detached_note.clicked.connect(self.toggle_detached)
        self.detached_note.setVisible(False)
        self.monitor_slot.addWidget(self.detached_note)
        root.addLayout(self.monitor_slot, 1)
        self.detached: DetachedMonitor | None = None
        self.session_panel = SessionPanel(runtime)
        dock = self._dock("Session", "sessionDock", self.session_panel)
        self.session_dock = dock
        self.music = self._music_player()
        self.music_panel = MusicPanel(self.music)
        music_dock = self._dock("Music", "musicDock", self.music_panel)
        self.music_dock = music_dock
        self.tabifyDockWidget(dock, music_dock)  # one column, laptop height: session in front
        dock.raise_()
        if demo:
            self.music.play()  # the demo session has its music, on its timeline
        self.devices_panel: DevicesPanel | None = None
        self.journal_windows: list[QMainWindow] = []
        #: whose the open journal and admin windows are (another person signing in
        #: closes them: they were opened with the previous person's access)
        self._windows_owner: str | None = None
        self.patient_mode: PatientJournalWindow | None = None
        self._hidden_for_patient: list[QWidget] = []
        self.pin_setup: SetPinDialog | None = None
        self.last_message: QMessageBox | None = None
        self.demo = demo
        self._frames = 0
        self._menus()

        self.timeline = QListWidget()
        self.timeline.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.physiological = AlarmList(AlarmKind.PHYSIOLOGICAL)
        self.technical = AlarmList(AlarmKind.TECHNICAL)
        self.alarm_log = AlarmLog()
        self.tabs = QTabWidget()
        self.tabs.setMaximumHeight(150)
        self.tabs.addTab(self.timeline, "Timeline")
        self.tabs.addTab(self.physiological, "Alarms")
        self.tabs.addTab(self.technical, "Technical alarms")
        self.tabs.addTab(self.alarm_log, "Alarm log")
        root.addWidget(self.tabs)

        self.sounder = AlarmSounder(runtime.clinic.sounds_dir, parent=self)
        self.sounder.availability_changed.connect(self._audio_availability)
        self._audio_availability(self.sounder.available)

        # Session events and alarm transitions come from any thread; see gui_thread.py.
        self._events: ThreadInbox[SessionEvent] = ThreadInbox(self._on_event, self, FRAME_MS)
        self._transitions: ThreadInbox[AlarmTransition] = ThreadInbox(
            self.alarm_log.add_transition, self, FRAME_MS
        )
        runtime.controller.add_listener(self._events.put)
        runtime.alarms.add_listener(self._transitions.put)
        for ev in runtime.controller.events:  # events from before the window existed
            self._on_event(ev)

        QShortcut(QKeySequence(Qt.Key.Key_F11), self, self.toggle_full_screen)
        self.idle_lock = IdleLock(runtime.desk, self)
        self._desk_changes: ThreadInbox[DeskState] = ThreadInbox(
            self.apply_desk_state, self, FRAME_MS
        )
        runtime.desk.add_listener(self._desk_changes.put)
        self.apply_desk_state(runtime.desk.state)
        self.confirm_box: QMessageBox | None = None
        self._shortcuts()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)  # frames on time, not +-5 %
        self._timer.timeout.connect(self.refresh)
        self._timer.start(FRAME_MS)
        self.refresh()

    def _dock(self, title: str, name: str, panel: QWidget) -> QDockWidget:
        """A left-hand dock that scrolls when the screen is short (a 1280x720 laptop)
        rather than push the window off the screen."""
        scroller = QScrollArea()
        scroller.setWidgetResizable(True)
        scroller.setFrameShape(QFrame.Shape.NoFrame)
        scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroller.setWidget(panel)
        scroller.setMinimumWidth(panel.minimumSizeHint().width() + 16)
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(scroller)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        return dock

    def _music_player(self) -> SessionMusicPlayer:
        """Playlists per phase from resources/music.toml; music follows the session's phases
        and every track start and stop lands on its timeline."""
        clinic = self.runtime.clinic
        library = clinic.music(None)  # the clinic's phase map until a session says its own
        for problem in library.problems:  # a missing file never stops a session
            log.warning("music: %s", problem)
        queue = MusicQueue(library.playlists, library.phase_cues, loop=library.loop)
        player = SessionMusicPlayer(
            queue, fade_ms=int(library.fade_s * 1000), volume=library.volume, parent=self
        )
        follow_session(player, self.runtime.controller, self._phase_music)
        return player

    def _phase_music(self, protocol: str) -> Mapping[str, str]:
        """The session's protocol's phase -> playlist map; the clinic's when the protocol's
        ``[music.phases]`` cannot be used (start-up has already named the file and field)."""
        try:
            return self.runtime.clinic.music(protocol).phase_cues
        except ConfigFileError as e:
            log.warning("music: %s", e)
            return self.runtime.clinic.music(None).phase_cues

    def _menus(self) -> None:
        bar = self.menuBar()
        view = bar.addMenu("&View")
        view.addAction("Devices\u2026", self.show_devices)
        view.addAction("Detach or attach the monitor", self.toggle_detached)
        view.addAction("Full screen (F11)", self.toggle_full_screen)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            self.themes: ThemeSwitcher | None = ThemeSwitcher(app, self.theme, parent=self)
            self.themes.theme_changed.connect(self.monitor.plots.apply_theme)
            themes = view.addMenu("Theme")
            for action in self.themes.actions(themes):
                themes.addAction(action)
        journal = bar.addMenu("&Journal")
        journal.addAction(
            "Patient journal for this patient (patient mode)\u2026", self.open_patient_journal
        )
        journal.addAction("Journal review\u2026", self.open_journal_review)
        self.journal_menu = journal
        account = bar.addMenu("&Account")
        self.account_menu = account
        self.who_action = account.addAction("")
        self.who_action.setEnabled(False)
        account.addSeparator()
        self.lock_action = account.addAction("Lock now (Ctrl+L)", self.lock_now)
        self.sign_out_action = account.addAction("Sign out", self.sign_out)
        account.addAction("Sign in\u2026", lambda: self.open_sign_in(False))
        account.addSeparator()
        self.accounts_action = account.addAction("Accounts\u2026", self.open_accounts)
        self.audit_action = account.addAction("Audit log\u2026", self.open_audit)

    # -- who is at the keyboard -----------------------------------------------------------

    def room(self) -> str:
        return self.runtime.audit.workstation

    def apply_desk_state(self, state: DeskState) -> None:
        """Locked or signed out: the monitor and its alarms stay, identified by room and
        pseudonym; the patient's name, the timeline, session and music actions, the
        journal and the admin's windows go until someone signs in."""
        restricted = state in (DeskState.LOCKED, DeskState.SIGNED_OUT)
        self.restricted = restricted
        self.lock_bar.show_state(state, self.room())
        for dock in (self.session_dock, self.music_dock):
            dock.setVisible(not restricted)
        self.tabs.setTabVisible(0, not restricted)  # the timeline (intention, notes)
        if restricted:
            self.tabs.setCurrentIndex(1)
        self.journal_menu.setEnabled(not restricted)
        actor = self.runtime.desk.current()
        member = self.runtime.desk.staff_member
        if restricted or actor is None:
            self.who_action.setText("Locked" if member else "Nobody signed in")
        else:
            emergency = " \u00b7 EMERGENCY ACCESS" if actor.emergency else ""
            self.who_action.setText(f"{actor.name} ({actor.role_names}){emergency}")
        self.lock_action.setEnabled(state is DeskState.SIGNED_IN)
        self.sign_out_action.setEnabled(member is not None)
        admin = actor is not None and can_manage_accounts(actor)
        self.accounts_action.setEnabled(admin)
        self.audit_action.setEnabled(actor is not None and can_review_audit(actor))
        owner = None if actor is None else actor.who
        if restricted or owner != self._windows_owner:
            for win in [*self.journal_windows, *self.admin_windows]:
                if win is not self.patient_mode:
                    win.close()
        elif actor is not None:  # the same person, their care team perhaps changed
            for win in self.journal_windows:
                if isinstance(win, JournalReviewWindow) and win.actor.care_of != actor.care_of:
                    win.use_actor(actor)
        self._windows_owner = owner
        if restricted:
            self.admin_windows = [w for w in self.admin_windows if w.isVisible()]
            if self.devices_panel is not None:
                self.devices_panel.hide()
        self.signed_in_label.setText(
            "" if restricted or actor is None else f"{actor.name} \u00b7 {self.room()}"
        )
        self.safety_flags.refresh(force=True)
        self._refresh_header(self.runtime.clock.now(), force=True)

    def lock_now(self) -> None:
        self.runtime.desk.lock("on demand (Ctrl+L)")

    def sign_out(self) -> None:
        self.runtime.desk.sign_out()

    def open_sign_in(self, emergency: bool = False) -> SignInDialog:
        """Another person's sign-in (from the lock bar or the menu), or break glass."""
        dialog = SignInDialog(self.runtime.desk, parent=self)
        if emergency:
            dialog.show_emergency()
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.sign_in_dialog = dialog
        return dialog

    def open_accounts(self) -> QWidget | None:
        from kapdesk.ui.admin.accounts import AccountsWindow

        try:
            actor = self.runtime.desk.require(can_manage_accounts, "managing accounts")
        except AccessDenied:
            self.tell("Accounts are the clinic admin's: sign in as the clinic admin.")
            return None
        win = AccountsWindow(self.runtime.accounts, actor)
        self.admin_windows.append(win)
        win.show()
        return win

    def open_audit(self) -> QWidget | None:
        from kapdesk.ui.admin.audit import AuditWindow

        try:
            actor = self.runtime.desk.require(can_review_audit, "reviewing the audit log")
        except AccessDenied:
            self.tell("The audit log is the clinic admin's: sign in as the clinic admin.")
            return None
        win = AuditWindow(self.runtime.audit, actor, self.runtime.patients.names())
        self.admin_windows.append(win)
        win.show()
        return win

    def _header(self, demo: bool) -> QFrame:
        """Who, which phase, how long: three stacked pairs (name over protocol, phase over
        its timer, session clock over the demo badge), so nothing is cut on a laptop."""
        header = QFrame()
        header.setObjectName("panel")
        hl = QHBoxLayout(header)
        hl.setContentsMargins(16, 6, 16, 6)
        self.patient_label = styled_label("No session", "heading")
        self.protocol_label = styled_label("", "muted")
        self.phase_label = styled_label("", "heading")
        self.phase_timer = styled_label("", "muted")
        self.session_timer = styled_label("", "heading")
        set_role(self.session_timer, "mono")
        self.signed_in_label = styled_label("", "muted")
        self.badge = styled_label("", "badge")
        self.badge.setVisible(demo)
        speed = self.runtime.clock.speed
        self.badge.setText("DEMO" + (f" \u00d7{speed:g}" if speed != 1 else ""))
        who = QVBoxLayout()
        who.setSpacing(0)
        who.addWidget(self.patient_label)
        who.addWidget(self.protocol_label)
        phase = QVBoxLayout()
        phase.setSpacing(0)
        phase.addWidget(self.phase_label, 0, Qt.AlignmentFlag.AlignHCenter)
        phase.addWidget(self.phase_timer, 0, Qt.AlignmentFlag.AlignHCenter)
        clock = QHBoxLayout()
        clock.addWidget(styled_label("Session", "muted"))
        clock.addWidget(self.session_timer)
        when = QVBoxLayout()
        when.setSpacing(0)
        when.addLayout(clock)
        when.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignRight)
        when.addWidget(self.signed_in_label, 0, Qt.AlignmentFlag.AlignRight)
        hl.addLayout(who, 2)
        hl.addLayout(phase, 3)
        hl.addLayout(when, 0)
        return header

    def refresh(self) -> None:
        rt = self.runtime
        rt.tick()
        now = rt.clock.now()
        self._frames += 1
        alarms = rt.alarms.active_alarms()
        self.sounder.set_sounding(rt.alarms.audio_state().sounding)
        self.physiological.show_alarms(alarms)
        self.technical.show_alarms(alarms)
        self._refresh_header(now)
        if self._frames % 15 == 1:  # twice a second is plenty for status text and tables
            panel = self.devices_panel
            if panel is not None and panel.isVisible():
                panel.refresh(now)
            self._refresh_unsaved()
            self.statusBar().showMessage(self.recording_status())
        # The monitor last: its plots are painted right after, with the newest data.
        self.monitor.refresh(FRAME_MS)

    def recording_status(self) -> str:
        """The status bar's line: recording, or plainly not, and what waits to be saved."""
        rt = self.runtime
        hub = rt.hub.counters
        if rt.recorder.failing:
            readings, records = rt.recorder.backlog()
            return (
                f"NOT RECORDING: {rt.recorder.last_error} \u00b7 {readings} readings and"
                f" {records} events waiting to be saved, retried every second"
            )
        return (
            f"Recording \u00b7 {rt.recorder.readings_written} readings saved"
            f" \u00b7 {len(rt.controller.events)} events \u00b7"
            f" {hub.malformed_frames} malformed frames dropped"
            f" \u00b7 {hub.implausible} implausible values flagged"
        )

    def _refresh_unsaved(self) -> None:
        """Timeline lines marked unsaved lose the mark once their event is committed."""
        if not self._unsaved_items:
            return
        pending = self.runtime.controller.uncommitted()
        still = []
        for item, event, text in self._unsaved_items:
            if any(ev is event for ev in pending):
                still.append((item, event, text))
            else:
                item.setText(text)
        self._unsaved_items = still

    def _refresh_header(self, now: float, force: bool = False) -> None:
        session = self.runtime.controller.session
        patient = self.runtime.controller.patient
        if session is None or patient is None:
            return
        if getattr(self, "restricted", False):  # locked: room and pseudonym, not the name
            self.patient_label.setText(f"{patient.pseudonym} \u00b7 {self.room()}")
        else:
            self.patient_label.setText(patient.display_name)
        if self.protocol_label.property("protocol") != session.protocol:
            self.protocol_label.setProperty("protocol", session.protocol)
            self.protocol_label.setText(self.runtime.clinic.protocol_name(session.protocol))
        if session.started_at is not None:
            end = session.ended_at if session.ended_at is not None else now
            self.session_timer.setText(time_text.elapsed(end - session.started_at))
        phase = session.phase
        if session.ended_at is not None:  # discharged: no phase clock keeps counting
            done = session.state.value == "completed"
            self.phase_label.setText("Discharged" if done else "Ended")
            self.phase_timer.setText("")
        elif phase is not None and session.phase_started_at is not None:
            self.phase_label.setText(phase.label)
            nxt = session.next_phase
            elapsed = time_text.elapsed(now - session.phase_started_at)
            self.phase_timer.setText(
                f"{elapsed} of ~{time_text.elapsed(phase.expected_s)}"
                + (f" \u00b7 next: {nxt.label}" if nxt else "")
            )

    # -- actions --------------------------------------------------------------------------

    def acknowledge(self) -> None:
        """Open to whoever is at the bedside, locked or not (recorded as who it was)."""
        self.runtime.alarms.acknowledge()

    def pause_audio(self) -> None:
        try:
            self.runtime.alarms.pause_audio()
        except AccessDenied:
            self.tell("Only medical staff pause the alarm sound. Acknowledge the alarm (F5).")

    def edit_limits(self) -> None:
        try:
            actor = self.runtime.desk.require(can_change_alarm_limits, "changing alarm limits")
        except AccessDenied:
            self.tell("Only medical staff change alarm limits: sign in as medical staff.")
            return
        dialog = LimitsDialog(self.runtime.alarms.limits(), actor, self)
        if dialog.exec():
            self.apply_limit_changes(dialog)

    def apply_limit_changes(self, dialog: LimitsDialog) -> None:
        """Recorded as the signed-in user's (the service refuses anyone else)."""
        try:
            for rule, value in dialog.changes():
                self.runtime.alarms.change_limit(rule.channel, rule.condition, rule.priority, value)
        except AccessDenied as e:
            self.tell(f"The limits were not changed: {e}")

    def show_devices(self) -> None:
        if self.devices_panel is None:
            self.devices_panel = DevicesPanel(self.runtime.devices)
        self.devices_panel.refresh(self.runtime.clock.now())
        self.devices_panel.show()
        self.devices_panel.raise_()

    def open_patient_journal(self) -> None:
        """Patient mode for the current patient: a lock-down. The journal fills the
        screen, every other kapdesk window is hidden (nothing to Alt-Tab into) and input
        to them is blocked; leaving needs the staff PIN, which staff set here if none is
        set yet. Alarms keep sounding meanwhile: the engine and the sounder run on."""
        patient = self.runtime.controller.patient
        if patient is None or patient.id is None:
            self.tell("Open a session first: patient mode is for one patient.")
            return
        if self.patient_mode is not None:
            self.patient_mode.showFullScreen()
            return
        store = self.runtime.journal
        if not self.demo and store.staff_pin_hash() is None:
            self.pin_setup = SetPinDialog(store, self)
            self.pin_setup.accepted.connect(self._pin_was_set)
            self.pin_setup.accepted.connect(self.open_patient_journal)
            self.pin_setup.rejected.connect(
                lambda: self.tell("Patient mode was not opened: it needs a staff PIN to leave it.")
            )
            self.pin_setup.open()
            return
        try:
            win = PatientJournalWindow(
                store,
                patient.id,
                demo=self.demo,
                clinic=self.runtime.clinic,
                staff_sign_in=self.runtime.desk.sign_in,
            )
        except (NoStaffPinError, PinError, OSError) as e:
            self.tell(f"Patient mode could not open: {e}")
            return
        try:  # from here the keyboard is the patient's: every store refuses staff acts
            self.runtime.desk.enter_patient_mode(patient.id)
        except AccessDenied:
            win.force_close()
            self.tell("Sign in first: patient mode is opened by staff.")
            return
        self.journal_windows.append(win)
        self.patient_mode = win
        win.safety_flag_raised.connect(lambda *_: self.safety_flags.refresh())
        self._hidden_for_patient = [
            w
            for w in QApplication.topLevelWidgets()
            if w is not win and w.isVisible() and w.isWindow()
        ]
        win.left_patient_mode.connect(self._leave_patient_mode)
        win.setWindowModality(Qt.WindowModality.ApplicationModal)
        win.showFullScreen()
        for w in self._hidden_for_patient:
            w.hide()
        win.activateWindow()

    def _pin_was_set(self) -> None:
        """The staff PIN is a clinic setting: its setting is audited (who, never the PIN)."""
        self.runtime.audit.append(
            self.runtime.desk.current(), AuditAction.SETTING_CHANGED, "setting:staff_pin"
        )

    def _leave_patient_mode(self) -> None:
        """The staff PIN (or a staff sign-in) was given: the staff member who opened
        patient mode, or the one who signed in, has the keyboard again, and every window
        patient mode hid comes back."""
        desk = self.runtime.desk
        member = desk.staff_member
        if member is not None:
            desk.leave_patient_mode(member)
        for w in self._hidden_for_patient:
            w.show()
        self._hidden_for_patient = []
        self.patient_mode = None
        self.raise_()
        self.activateWindow()

    def tell(self, message: str) -> None:
        """A message staff cannot miss: the status bar and a dialog (opened, not exec'd)."""
        self.statusBar().showMessage(message, 15000)
        box = QMessageBox(QMessageBox.Icon.Information, "kapdesk", message, parent=self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.last_message = box

    def open_journal_review(self) -> None:
        try:
            actor = self.runtime.desk.require(can_list_patients, "journal review")
        except AccessDenied:
            self.tell("Journal review is the therapist's: sign in as a therapist.")
            return
        win = JournalReviewWindow(self.runtime.journal, actor)
        self.journal_windows.append(win)
        win.show()

    def toggle_detached(self) -> None:
        """Move the monitor to its own window (for a second screen), or back."""
        if self.detached is None:
            self.detached = DetachedMonitor()
            self.detached.setWindowTitle("kapdesk \u2014 vitals monitor")
            self.detached.setCentralWidget(self.monitor)
            self.detached.closed.connect(self._reattach)
            fit_to_screen(self.detached, 1280, 800)
            self.detached.show()
            self.monitor.detach_button.setText("Attach monitor")
            self.detached_note.setVisible(True)
        else:
            self.detached.close()

    def _reattach(self) -> None:
        if self.detached is None:
            return
        self.detached.takeCentralWidget()
        self.monitor_slot.insertWidget(0, self.monitor)
        self.monitor.show()
        self.monitor.detach_button.setText("Detach monitor")
        self.detached_note.setVisible(False)
        self.detached.deleteLater()
        self.detached = None

    def toggle_full_screen(self) -> None:
        window = self.detached or self
        if window.isFullScreen():
            window.showNormal()
        else:
            window.showFullScreen()

    def _audio_availability(self, available: bool) -> None:
        if available:
            self.runtime.alarms.resolve_technical(Condition.AUDIO_UNAVAILABLE, "audio")
        else:
            self.runtime.alarms.report_technical(
                Condition.AUDIO_UNAVAILABLE, "audio", "no audio output: alarm sounds cannot play"
            )

    def _on_event(self, event: SessionEvent) -> None:
        if event.kind == EventKind.PHASE_ENDED:  # implied by the next phase_entered
            return
        themes = getattr(self, "themes", None)
        if themes is not None and event.kind in (
            EventKind.SESSION_STARTED,
            EventKind.SESSION_RESUMED,
        ):
            themes.for_session(True)  # the dim, low-glare room theme while a patient is in
        elif themes is not None and event.kind in (
            EventKind.SESSION_COMPLETED,
            EventKind.SESSION_ABORTED,
        ):
            themes.for_session(False)
        if event.kind == EventKind.SESSION_STARTED:
            self.start_clean()
        elif event.kind == EventKind.SESSION_COMPLETED and self.demo:
            self.session_panel.show_summary()  # the demo's discharge ends on its summary
        stamp = time_text.clock_time_s(event.t)  # local, as the clinic reads
        session = self.runtime.controller.session
        protocol = "" if session is None else self.runtime.clinic.protocol_name(session.protocol)
        text = f"{stamp}   {describe(event, protocol)}"
        self.timeline.insertItem(0, text)
        if any(ev is event for ev in self.runtime.controller.uncommitted()):
            # what is on screen is what is recorded, or says it is not (a full disk)
            item = self.timeline.item(0)
            item.setText(text + UNSAVED_MARK)
            self._unsaved_items.append((item, event, text))
        label = marker_label(event)
        if label:
            if event.kind == EventKind.PHASE_ENTERED:  # short: the marker text runs up the plot
                label = str(event.phase or label).replace("_", " ").capitalize()
            self.monitor.plots.add_event_marker(event, label)

    def start_clean(self) -> None:
        """A new patient's session: the previous one's timeline, alarm log and plot
        markers leave the screen (they stay in that session's record)."""
        self.timeline.clear()
        self.alarm_log.clear()
        self.monitor.plots.clear_markers()

    # -- keys -------------------------------------------------------------------------------

    def _shortcuts(self) -> None:
        keys = {
            "acknowledge": self.acknowledge,
            "pause_audio": self.pause_audio,
            "note": self.session_panel.open_note,
            "marker": self.add_marker,
            "next_phase": self.confirm_next_phase,
            "lock": self.lock_now,
        }
        self.shortcuts: dict[str, QShortcut] = {}
        for name, slot in keys.items():
            self.shortcuts[name] = QShortcut(QKeySequence(SHORTCUTS[name]), self, slot)
        banner = self.monitor.banner
        banner.ack.setText(f"Acknowledge ({SHORTCUTS['acknowledge']})")
        banner.pause_key = SHORTCUTS["pause_audio"]
        buttons = self.session_panel.buttons
        buttons["note"].setText(f"Note\u2026 ({SHORTCUTS['note']})")
        buttons["advance"].setText(f"Next phase ({SHORTCUTS['next_phase']})")

    def add_marker(self) -> None:
        """A timeline marker at this moment (staff note what it was later, if they wish)."""
        session = self.runtime.controller.session
        if session is None or session.ended_at is not None:
            self.statusBar().showMessage("No session running: nothing to mark.", 5000)
            return
        try:
            self.runtime.controller.record(EventKind.MARKER)  # by the signed-in user
        except AccessDenied:
            self.statusBar().showMessage("Sign in to mark the timeline.", 5000)
            return
        self.statusBar().showMessage("Marker set on the timeline.", 5000)

    def confirm_quit_unsaved(self) -> QMessageBox:
        """Closing while recording fails: say what is not saved and where it will go."""
        readings, records = self.runtime.recorder.backlog()
        box = QMessageBox(self)
        box.setWindowTitle("Recording is failing")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setText(
            f"kapdesk cannot save to its database: {self.runtime.recorder.last_error}.\n\n"
            f"{readings} readings and {records} events are kept in memory, not yet saved. "
            "Free some disk space and they are saved within a second.\n\n"
            "If you quit now, they are written to a rescue file and added to the "
            "database the next time kapdesk starts."
        )
        box.addButton("Keep kapdesk open", QMessageBox.ButtonRole.RejectRole)
        quit_button = box.addButton("Quit (rescue file)", QMessageBox.ButtonRole.AcceptRole)

        def decided(button: object) -> None:
            if button is quit_button:
                self.quit_unsaved = True
                self.close()

        box.buttonClicked.connect(decided)
        box.open()
        self.quit_box = box
        return box

    def confirm_next_phase(self) -> QMessageBox | None:
        """Next phase after a confirmation (the session panel asks: its button does too)."""
        box = self.session_panel.confirm_advance()
        if box is None:
            self.statusBar().showMessage("There is no next phase to move to.", 5000)
        self.confirm_box = box
        return box

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.runtime.recorder.failing and not self.quit_unsaved:
            event.ignore()  # nothing queued is dropped without staff being told
            self.confirm_quit_unsaved()
            return
        self._timer.stop()
        self.idle_lock.stop()
        self.runtime.desk.remove_listener(self._desk_changes.put)
        self._desk_changes.close()
        for win in self.admin_windows:
            win.close()
        self.runtime.controller.remove_listener(self._events.put)
        self.runtime.alarms.remove_listener(self._transitions.put)
        self._events.close()
        self._transitions.close()
        self.music.shutdown()
        if self.detached is not None:
            self.detached.close()
        if self.devices_panel is not None:
            self.devices_panel.close()
        for win in self.journal_windows:
            force_close = getattr(win, "force_close", None)
            if force_close is not None:  # patient mode saves what was typed, then closes
                force_close()
            else:
                win.close()
        super().closeEvent(event)
