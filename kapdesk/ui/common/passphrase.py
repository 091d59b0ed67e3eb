"""The clinic database's passphrase: setting it up (the first start, or the one-time
encryption of an existing plain database) and unlocking the database at start-up when its
key is not kept in this computer's keyring.

These dialogs only collect what is typed and show what was refused: every check that
matters and all the work (the key file, the migration, argon2) is in the callables the app
passes in, built on ``kapdesk.storage.encryption``; from there the dialogs name only types
and constants. Tests fill the fields and call ``try_set_up`` / ``try_finish`` /
``try_unlock`` / ``try_recovery``; the app opens them with ``exec()`` before its window.

The callables run on the GUI thread, under a busy cursor: unlocking takes argon2's
fraction of a second, encrypting an existing database as long as its rows take to copy and
check.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from html import escape

from PySide6.QtCore import QCoreApplication, QEvent, QSize, Qt
from PySide6.QtGui import QShowEvent, QTextDocument
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kapdesk.storage.encryption import MIN_PASSPHRASE_LENGTH, EncryptionError
from kapdesk.ui.common.screen_fit import WINDOW_FRAME_HEIGHT, fitted_size
from kapdesk.ui.common.theme import set_role, styled_label

#: What the set-up page and the recovery-key page say; tests and the app read them here.
NEW_DATABASE_INTRO = (
    "kapdesk keeps the clinic's records encrypted on this computer. Choose a passphrase"
    " for the clinic's database: whoever opens kapdesk on this computer needs it, unless"
    " \u201cRemember on this computer\u201d below is ticked."
)
EXISTING_DATA_INTRO = (
    "The clinic's existing records on this computer are not encrypted yet. Choose a"
    " passphrase for the clinic's database and kapdesk encrypts the records in place: an"
    " encrypted copy is made and checked row by row against the original, and the plain"
    " copy is removed only after the check has passed; if anything differs, the records are"
    " left as they are. Whoever opens kapdesk on this computer then needs the passphrase,"
    " unless \u201cRemember on this computer\u201d below is ticked."
)
EXISTING_DATA_NOTE = (
    "Backups and copies of the database made before today stay unencrypted: keep them"
    " locked away, or delete them."
)
LOSS_WARNING = (
    "Without the passphrase and the recovery key (shown on the next page) the data cannot"
    " be recovered, by anyone."
)
REMEMBER_TEXT = "Remember on this computer (kapdesk then starts here without the passphrase)"
REMEMBER_HELP = (
    "Keeps the database key in this computer's keyring, which the operating system unlocks"
    " when you sign in to the computer. Leave it unticked on a shared computer."
)
RECOVERY_INSTRUCTIONS = (
    "Write it down on paper, or print it, and keep it locked away, never with the laptop.",
    "It is shown only this once: kapdesk keeps no copy of it.",
    "If the passphrase is lost, this key opens the database.",
)
WRITTEN_DOWN_TEXT = "I have written down the recovery key"
RECOVERY_TOGGLE_TEXT = "Use the recovery key instead\u2026"


def _password_field(placeholder: str) -> QLineEdit:
    field = QLineEdit(echoMode=QLineEdit.EchoMode.Password, placeholderText=placeholder)
    field.setMinimumWidth(320)
    return field


def _text_label(text: str, role: str = "") -> QLabel:
    """A wrapping label that shows ``text`` as it is (a path or a message is never markup)."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    if role:
        set_role(label, role)
    return label


@contextmanager
def _busy(*buttons: QPushButton) -> Iterator[None]:
    """A busy cursor, and the buttons off, while a callable works on the GUI thread."""
    for button in buttons:
        button.setEnabled(False)
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QApplication.restoreOverrideCursor()
        for button in buttons:
            button.setEnabled(True)


def _fit(window: QWidget, *, grow_only: bool = True, keep_width: bool = False) -> None:
    """Size a window for what it shows now (a page, a message, the recovery key field):
    its preferred size, tall enough for its wrapped text at the width it gets, within the
    screen (Qt alone keeps the old size, or caps a window at 2/3 of the screen)."""
    for _ in range(8):  # a changed label's size climbs one parent per layout request
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    size = fitted_size(window)
    if keep_width:
        size.setWidth(window.width())
    lay = window.layout()
    if lay is not None and lay.hasHeightForWidth():  # wrapped text: as tall as it needs
        size.setHeight(lay.totalHeightForWidth(size.width()))
    if grow_only:
        size = size.expandedTo(window.size())
    screen = window.screen()
    if screen is None:
        window.resize(size)
        return
    room = screen.availableGeometry()
    window.resize(size.boundedTo(room.size() - QSize(24, WINDOW_FRAME_HEIGHT)))
    if window.isVisible():  # a window that grew downwards moves up, to stay on screen
        frame = window.frameGeometry()
        dx = min(0, room.right() - frame.right())
        dy = min(0, room.bottom() - frame.bottom())
        if dx or dy:
            window.move(max(room.left(), frame.left() + dx), max(room.top(), frame.top() + dy))


def _grow_to_fit(window: QWidget) -> None:
    if window.isVisible():
        _fit(window)


def _length(passphrase: str) -> int:
    """The length the storage layer counts: NFC, without leading or trailing blanks."""
    return len(unicodedata.normalize("NFC", passphrase).strip())


class SetPassphraseDialog(QDialog):
    """The clinic's passphrase for its database, then the recovery key shown once.

    ``set_up(clinic_name, passphrase, remember)`` does the work and returns the recovery
    key (it may raise :class:`EncryptionError`: shown, the dialog stays open). After it
    the same dialog shows the recovery key, and accepts only once ``written_down`` is
    ticked; ``recovery_key`` holds it.
    """

    def __init__(
        self,
        set_up: Callable[[str, str, bool], str],
        keyring_reason: str | None,
        existing_data: bool,
        min_length: int = MIN_PASSPHRASE_LENGTH,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._set_up = set_up
        self.min_length = min_length
        self.existing_data = existing_data
        self.recovery_key: str | None = None
        self.setWindowTitle("kapdesk: encrypt the clinic's database")
        self.setModal(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(28, 24, 28, 24)
        lay.setSpacing(12)
        self.pages = QStackedWidget()
        self.passphrase_page = self._build_passphrase_page(keyring_reason)
        self.recovery_page = self._build_recovery_page()
        self.pages.addWidget(self.passphrase_page)
        self.pages.addWidget(self.recovery_page)
        lay.addWidget(self.pages)
        self.message = _text_label("", "error")
        lay.addWidget(self.message)
        buttons = QHBoxLayout()
        self.set_up_button = QPushButton(
            "Encrypt the records" if existing_data else "Set up encryption"
        )
        self.set_up_button.setDefault(True)
        self.set_up_button.clicked.connect(self.try_set_up)
        self.quit_button = QPushButton("Quit")
        self.quit_button.clicked.connect(self.reject)
        self.print_button = QPushButton("Print\u2026")
        self.print_button.setToolTip("Print the recovery key, to keep locked away.")
        self.print_button.clicked.connect(self.print_recovery_sheet)
        self.finish_button = QPushButton("Continue")
        self.finish_button.clicked.connect(self.try_finish)
        buttons.addWidget(self.set_up_button)
        buttons.addWidget(self.print_button)
        buttons.addStretch(1)
        buttons.addWidget(self.quit_button)
        buttons.addWidget(self.finish_button)
        lay.addLayout(buttons)
        self.print_button.hide()
        self.finish_button.hide()
        self.again.returnPressed.connect(self.try_set_up)
        self.setMinimumWidth(620)
        self._sized = False

    def showEvent(self, event: QShowEvent) -> None:
        """Open at the preferred size where the screen has room (a 1280x720 laptop)."""
        if not self._sized and not self.testAttribute(Qt.WidgetAttribute.WA_Resized):
            _fit(self, grow_only=False)
        self._sized = True
        super().showEvent(event)

    def _build_passphrase_page(self, keyring_reason: str | None) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(12)
        lay.addWidget(
            styled_label(
                "Encrypt the clinic's records"
                if self.existing_data
                else "Protect the clinic's database",
                "heading",
            )
        )
        self.intro = _text_label(
            EXISTING_DATA_INTRO if self.existing_data else NEW_DATABASE_INTRO, "large"
        )
        lay.addWidget(self.intro)
        self.loss_warning = _text_label(LOSS_WARNING, "warn")
        lay.addWidget(self.loss_warning)
        if self.existing_data:
            lay.addWidget(_text_label(EXISTING_DATA_NOTE, "muted"))
        form = QFormLayout()
        form.setSpacing(10)
        self.clinic_name = QLineEdit(placeholderText="e.g. Harbour Street Clinic")
        self.clinic_name.setMinimumWidth(320)
        self.passphrase = _password_field(
            f"at least {self.min_length} characters: a short sentence is good"
        )
        self.again = _password_field("the same passphrase again")
        form.addRow("Clinic name", self.clinic_name)
        form.addRow("Passphrase", self.passphrase)
        form.addRow("Passphrase again", self.again)
        remember_box = QWidget()
        remember_lay = QVBoxLayout(remember_box)
        remember_lay.setContentsMargins(0, 0, 0, 0)
        remember_lay.setSpacing(4)
        self.remember = QCheckBox(REMEMBER_TEXT)
        self.remember_note = _text_label("", "muted")
        remember_lay.addWidget(self.remember)
        remember_lay.addWidget(self.remember_note)
        if keyring_reason is None:
            self.remember.setToolTip(REMEMBER_HELP)
            self.remember_note.setText(REMEMBER_HELP)
        else:
            why = f"Not available here: {keyring_reason}."
            self.remember.setChecked(False)
            self.remember.setEnabled(False)
            self.remember.setToolTip(why)
            self.remember_note.setText(why)
        form.addRow("", remember_box)
        lay.addLayout(form)
        return page

    def _build_recovery_page(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(12)
        lay.addWidget(styled_label("Write down the recovery key", "heading"))
        self.recovery_clinic = _text_label("", "muted")
        lay.addWidget(self.recovery_clinic)
        # large and monospaced: the heading's size, the mono role's family
        self.recovery_key_label = QLabel("")
        self.recovery_key_label.setObjectName("heading")
        set_role(self.recovery_key_label, "mono")
        self.recovery_key_label.setTextFormat(Qt.TextFormat.PlainText)
        self.recovery_key_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.recovery_key_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.recovery_key_label.setContentsMargins(0, 14, 0, 14)
        key_panel = QFrame()
        key_panel.setObjectName("panel")
        QVBoxLayout(key_panel).addWidget(self.recovery_key_label)
        lay.addWidget(key_panel)
        self.instructions: list[QLabel] = []
        for text, role in zip(RECOVERY_INSTRUCTIONS, ("large", "emphasis", "large"), strict=True):
            label = _text_label(f"\u2022 {text}", role)
            self.instructions.append(label)
            lay.addWidget(label)
        self.written_down = QCheckBox(WRITTEN_DOWN_TEXT)
        self.written_down.toggled.connect(self._written_down_toggled)
        lay.addWidget(self.written_down)
        lay.addStretch(1)
        return page

    def on_recovery_page(self) -> bool:
        return self.pages.currentWidget() is self.recovery_page

    def try_set_up(self) -> bool:
        if self.on_recovery_page():
            return False
        name = self.clinic_name.text().strip()
        passphrase = self.passphrase.text()
        if not name:
            return self._refused(
                "Type the clinic's name: it is shown whenever the database is unlocked.",
                self.clinic_name,
            )
        if passphrase != self.again.text():
            self.again.clear()
            return self._refused(
                "The two passphrases differ. Type the same passphrase twice.", self.passphrase
            )
        if (length := _length(passphrase)) < self.min_length:
            return self._refused(
                f"The passphrase must have at least {self.min_length} characters (this one"
                f" has {length}): a short sentence is easy to remember and hard to guess.",
                self.passphrase,
            )
        self.message.clear()
        try:
            with _busy(self.set_up_button, self.quit_button):
                key = self._set_up(name, passphrase, self.remember.isChecked())
        except EncryptionError as exc:
            return self._refused(str(exc), self.passphrase)
        self.recovery_key = key
        self.passphrase.clear()
        self.again.clear()
        self._show_recovery_page(name, key)
        return True

    def _show_recovery_page(self, name: str, key: str) -> None:
        self.recovery_clinic.setText(f"{name}: the key that opens its database")
        self.recovery_key_label.setText(key)
        self.pages.setCurrentWidget(self.recovery_page)
        # set up once only: the form leaves the stack, whose height (Qt's height for a
        # width) would otherwise stay the taller form's
        self.pages.removeWidget(self.passphrase_page)
        self.passphrase_page.hide()
        self.set_up_button.hide()
        self.quit_button.hide()
        self.print_button.show()
        self.finish_button.show()
        self.finish_button.setDefault(True)
        self.message.clear()
        self.written_down.setFocus()
        if self.isVisible():
            _fit(self, grow_only=False, keep_width=True)  # the same window, as tall as needed

    def _written_down_toggled(self, checked: bool) -> None:
        if checked:
            self.message.clear()

    def try_finish(self) -> bool:
        if not self.on_recovery_page():
            return False
        if not self.written_down.isChecked():
            self.message.setText(
                "Write down the recovery key (or print it) first, then tick \u201cI have"
                " written down the recovery key\u201d: it is not shown again."
            )
            _grow_to_fit(self)
            return False
        self.accept()
        return True

    def reject(self) -> None:
        """Escape and the window's close button: once the database is set up, it can only
        be left through ``try_finish`` (the recovery key is never shown again)."""
        if self.on_recovery_page():
            self.try_finish()
            return
        super().reject()

    def recovery_sheet(self) -> QTextDocument:
        """The printed page: the clinic, the date, the key and what to do with it."""
        name = escape(self.clinic_name.text().strip())
        key = escape(self.recovery_key or "")
        items = "".join(f"<li>{escape(text)}</li>" for text in RECOVERY_INSTRUCTIONS)
        doc = QTextDocument()
        doc.setHtml(
            f"<h2>kapdesk recovery key</h2><p>Clinic: <b>{name}</b><br>"
            f"Printed: {datetime.now().strftime('%Y-%m-%d %H:%M')}</p>"
            f"<p style='font-family: monospace; font-size: 20pt;'>{key}</p><ul>{items}</ul>"
        )
        return doc

    def print_recovery_sheet(self) -> None:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter()
        chooser = QPrintDialog(printer, self)
        if chooser.exec() == QDialog.DialogCode.Accepted:
            self.recovery_sheet().print_(printer)

    def _refused(self, message: str, focus: QLineEdit) -> bool:
        self.message.setText(message)
        _grow_to_fit(self)
        focus.setFocus()
        return False


class UnlockDialog(QDialog):
    """The clinic passphrase (or the recovery key) at start, when the database's key is
    not kept in this computer's keyring. On success ``result_key`` holds what the callable
    returned (the data key) and ``used_recovery`` says whether the recovery key opened it
    (the app may then ask for a new passphrase)."""

    def __init__(
        self,
        unlock: Callable[[str], object],
        unlock_with_recovery: Callable[[str], object],
        recovery_problem: Callable[[str], str | None],
        clinic_name: str,
        database_path: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._unlock = unlock
        self._unlock_with_recovery = unlock_with_recovery
        self._recovery_problem = recovery_problem
        self.result_key: object | None = None
        self.used_recovery = False
        self.setWindowTitle("kapdesk: unlock the clinic's database")
        self.setModal(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(28, 24, 28, 24)
        lay.setSpacing(12)
        lay.addWidget(styled_label("kapdesk: unlock the clinic's database", "heading"))
        self.clinic = _text_label(clinic_name or "(the clinic's name is not known)", "emphasis")
        lay.addWidget(self.clinic)
        self.database = _text_label(f"Database: {database_path}", "muted")
        self.database.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.database)
        form = QFormLayout()
        form.setSpacing(10)
        self.passphrase = _password_field("the clinic's passphrase")
        form.addRow("Passphrase", self.passphrase)
        lay.addLayout(form)
        self.message = _text_label("", "error")
        lay.addWidget(self.message)
        row = QHBoxLayout()
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self.try_unlock)
        self.recovery_toggle = QPushButton(RECOVERY_TOGGLE_TEXT)
        self.recovery_toggle.setCheckable(True)
        self.recovery_toggle.setToolTip(
            "For a forgotten passphrase: the recovery key written down when the database"
            " was set up."
        )
        self.recovery_toggle.toggled.connect(self.show_recovery)
        self.quit_button = QPushButton("Quit")
        self.quit_button.clicked.connect(self.reject)
        row.addWidget(self.unlock_button)
        row.addWidget(self.recovery_toggle)
        row.addStretch(1)
        row.addWidget(self.quit_button)
        lay.addLayout(row)
        # the recovery key, shown on request
        self.recovery = QWidget()
        rec = QVBoxLayout(self.recovery)
        rec.setContentsMargins(0, 8, 0, 0)
        rec.setSpacing(8)
        rec.addWidget(
            _text_label(
                "Type the recovery key from the sheet kept locked away: nine groups of four"
                " characters. Dashes, spaces and upper or lower case do not matter.",
                "",
            )
        )
        self.recovery_key = QLineEdit(
            placeholderText="XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX"
        )
        self.recovery_key.setMinimumWidth(420)
        self.recovery_key.textChanged.connect(self._check_recovery_key)
        self.recovery_key.returnPressed.connect(self.try_recovery)
        rec.addWidget(self.recovery_key)
        self.recovery_hint = _text_label("", "muted")
        rec.addWidget(self.recovery_hint)
        self.recovery_button = QPushButton("Unlock with the recovery key")
        self.recovery_button.clicked.connect(self.try_recovery)
        recovery_row = QHBoxLayout()
        recovery_row.addWidget(self.recovery_button)
        recovery_row.addStretch(1)
        rec.addLayout(recovery_row)
        self.recovery.hide()
        lay.addWidget(self.recovery)
        self.passphrase.returnPressed.connect(self.try_unlock)
        self.setMinimumWidth(560)
        self._sized = False

    def showEvent(self, event: QShowEvent) -> None:
        """Open at the preferred size where the screen has room (a 1280x720 laptop)."""
        if not self._sized and not self.testAttribute(Qt.WidgetAttribute.WA_Resized):
            _fit(self, grow_only=False)
        self._sized = True
        super().showEvent(event)

    def show_recovery(self, shown: bool = True) -> None:
        if self.recovery_toggle.isChecked() != shown:
            self.recovery_toggle.setChecked(shown)  # comes back here through toggled
            return
        self.recovery.setVisible(shown)
        self.unlock_button.setDefault(not shown)
        self.recovery_button.setDefault(shown)
        (self.recovery_key if shown else self.passphrase).setFocus()
        _grow_to_fit(self)

    def _check_recovery_key(self, text: str) -> None:
        problem = self._recovery_problem(text) if text.strip() else None
        if not text.strip():
            self.recovery_hint.setText("")
            set_role(self.recovery_hint, "muted")
        elif problem is None:
            self.recovery_hint.setText("The recovery key is well formed.")
            set_role(self.recovery_hint, "ok")
        else:
            self.recovery_hint.setText(problem)
            set_role(self.recovery_hint, "warn")
        _grow_to_fit(self)

    def try_unlock(self) -> bool:
        try:
            with _busy(self.unlock_button, self.recovery_button):
                key = self._unlock(self.passphrase.text())
        except EncryptionError as exc:
            return self._refused(str(exc), self.passphrase)
        return self._unlocked(key, recovery=False)

    def try_recovery(self) -> bool:
        text = self.recovery_key.text()
        problem = self._recovery_problem(text)
        if problem is not None:  # a typo: nothing is tried, and the field stays to fix it
            self.message.setText(problem)
            _grow_to_fit(self)
            self.recovery_key.setFocus()
            return False
        try:
            with _busy(self.unlock_button, self.recovery_button):
                key = self._unlock_with_recovery(text)
        except EncryptionError as exc:
            return self._refused(str(exc), self.recovery_key)
        return self._unlocked(key, recovery=True)

    def _unlocked(self, key: object, *, recovery: bool) -> bool:
        self.result_key = key
        self.used_recovery = recovery
        self.passphrase.clear()
        self.recovery_key.clear()
        self.message.clear()
        self.accept()
        return True

    def _refused(self, message: str, field: QLineEdit) -> bool:
        self.message.setText(message)
        _grow_to_fit(self)
        field.clear()
        field.setFocus()
        return False
