"""The database passphrase dialogs: setting it up (new or existing records), the recovery
key shown once, unlocking with the passphrase or the recovery key, in every theme."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QWidget
from pytestqt.qtbot import QtBot

from kapdesk.storage.encryption import (
    DataKey,
    EncryptionError,
    KdfParams,
    Problem,
    create_key_file,
    recovery_key_problem,
    unlock,
    unlock_with_recovery_key,
)
from kapdesk.ui.common import theme
from kapdesk.ui.common.passphrase import (
    EXISTING_DATA_INTRO,
    NEW_DATABASE_INTRO,
    SetPassphraseDialog,
    UnlockDialog,
)

PASSPHRASE = "correct horse battery staple"
RECOVERY = "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-6789-0ABC"
KEY = DataKey(bytes(range(32)))
FAST = KdfParams(memory_kib=1024, time_cost=1, parallelism=1)


class SetUpRecorder:
    """A set-up that records its calls and returns the recovery key (or raises)."""

    def __init__(self, error: EncryptionError | None = None) -> None:
        self.calls: list[tuple[str, str, bool]] = []
        self.error = error

    def __call__(self, clinic_name: str, passphrase: str, remember: bool) -> str:
        self.calls.append((clinic_name, passphrase, remember))
        if self.error is not None:
            raise self.error
        return RECOVERY


def wrong_passphrase() -> EncryptionError:
    return EncryptionError(
        Problem.WRONG_PASSPHRASE,
        "The passphrase is not right for 'Harbour Clinic'. Try again, or use the recovery"
        " key. Nothing was changed.",
    )


def fake_unlock(passphrase: str) -> DataKey:
    if passphrase != PASSPHRASE:
        raise wrong_passphrase()
    return KEY


def fake_recovery_problem(text: str) -> str | None:
    return (
        None
        if text.replace("-", "").upper() in {RECOVERY.replace("-", ""), "0" * 36}
        else ("The recovery key has a typo. Check it against the printed sheet.")
    )


def fake_unlock_with_recovery(text: str) -> DataKey:
    if text.replace("-", "").upper() != RECOVERY.replace("-", ""):
        raise EncryptionError(
            Problem.WRONG_RECOVERY_KEY, "This recovery key is not the one of the database."
        )
    return KEY


def set_up_dialog(
    qtbot: QtBot,
    set_up: SetUpRecorder,
    keyring_reason: str | None = None,
    existing_data: bool = False,
) -> SetPassphraseDialog:
    dialog = SetPassphraseDialog(set_up, keyring_reason, existing_data)
    qtbot.addWidget(dialog)
    return dialog


def fill(dialog: SetPassphraseDialog, name: str, passphrase: str, again: str) -> None:
    dialog.clinic_name.setText(name)
    dialog.passphrase.setText(passphrase)
    dialog.again.setText(again)


def unlock_dialog(qtbot: QtBot) -> UnlockDialog:
    dialog = UnlockDialog(
        fake_unlock,
        fake_unlock_with_recovery,
        fake_recovery_problem,
        "Harbour Clinic",
        "/var/lib/kapdesk/kapdesk.sqlite3",
    )
    qtbot.addWidget(dialog)
    return dialog


# --- setting the passphrase -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "passphrase", "again", "says"),
    [
        ("Harbour Clinic", PASSPHRASE, PASSPHRASE + "x", "The two passphrases differ"),
        ("Harbour Clinic", "short one", "short one", "at least 12 characters (this one has 9)"),
        ("Harbour Clinic", "   short    ", "   short    ", "(this one has 5)"),
        ("  ", PASSPHRASE, PASSPHRASE, "Type the clinic's name"),
        ("Harbour Clinic", "", "", "at least 12 characters (this one has 0)"),
    ],
    ids=["mismatch", "short", "short-with-blanks", "no-clinic-name", "empty"],
)
def test_set_up_refuses_what_cannot_be_right_without_calling_set_up(
    qtbot: QtBot, name: str, passphrase: str, again: str, says: str
) -> None:
    set_up = SetUpRecorder()
    dialog = set_up_dialog(qtbot, set_up)
    fill(dialog, name, passphrase, again)
    assert dialog.try_set_up() is False
    assert says in dialog.message.text()
    assert set_up.calls == []
    assert dialog.recovery_key is None
    assert not dialog.on_recovery_page()


def test_the_minimum_length_is_the_callers(qtbot: QtBot) -> None:
    set_up = SetUpRecorder()
    dialog = SetPassphraseDialog(set_up, None, False, min_length=20)
    qtbot.addWidget(dialog)
    fill(dialog, "Harbour Clinic", "sixteen chars ok", "sixteen chars ok")
    assert dialog.try_set_up() is False
    assert "at least 20 characters (this one has 16)" in dialog.message.text()
    assert set_up.calls == []


def test_a_set_up_error_is_shown_and_the_dialog_stays(qtbot: QtBot) -> None:
    error = EncryptionError(
        Problem.DATABASE_IN_USE,
        "The database is open in another program (another kapdesk?). Nothing was changed.",
    )
    set_up = SetUpRecorder(error)
    dialog = set_up_dialog(qtbot, set_up, existing_data=True)
    dialog.show()
    fill(dialog, "Harbour Clinic", PASSPHRASE, PASSPHRASE)
    assert dialog.try_set_up() is False
    assert set_up.calls == [("Harbour Clinic", PASSPHRASE, False)]
    assert dialog.message.text() == str(error)
    assert dialog.isVisible() and not dialog.on_recovery_page()
    assert dialog.recovery_key is None
    assert dialog.set_up_button.isEnabled()  # ready for another try
    # the clinic fixes it and tries again
    set_up.error = None
    assert dialog.try_set_up() is True
    assert dialog.recovery_key == RECOVERY


def test_set_up_shows_the_recovery_key_once_and_continue_waits_for_the_tick(
    qtbot: QtBot,
) -> None:
    set_up = SetUpRecorder()
    dialog = set_up_dialog(qtbot, set_up)
    dialog.show()
    fill(dialog, "  Harbour Clinic ", PASSPHRASE, PASSPHRASE)
    dialog.remember.setChecked(True)
    assert dialog.try_set_up() is True
    assert set_up.calls == [("Harbour Clinic", PASSPHRASE, True)]
    assert dialog.recovery_key == RECOVERY
    # the same dialog, now on its second page
    assert dialog.on_recovery_page() and dialog.isVisible()
    key_label = dialog.recovery_key_label
    assert key_label.isVisible() and key_label.text() == RECOVERY
    assert key_label.property("role") == "mono" and key_label.objectName() == "heading"
    assert key_label.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    page = " ".join(w.text() for w in dialog.recovery_page.findChildren(QLabel))
    assert "only this once" in page and "locked away" in page
    assert "passphrase is lost" in page and "print it" in page
    assert dialog.passphrase.text() == "" and dialog.again.text() == ""  # not kept
    assert dialog.finish_button.isVisible() and not dialog.set_up_button.isVisible()
    # Continue, Escape and the close button are refused until it is written down
    assert dialog.try_finish() is False
    assert "first" in dialog.message.text()
    dialog.finish_button.click()
    dialog.reject()
    dialog.close()
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.try_set_up() is False  # set up once only
    assert len(set_up.calls) == 1
    dialog.written_down.setChecked(True)
    assert dialog.message.text() == ""
    dialog.finish_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert not dialog.isVisible()


def test_the_recovery_sheet_to_print_holds_the_key(qtbot: QtBot) -> None:
    dialog = set_up_dialog(qtbot, SetUpRecorder())
    fill(dialog, "Harbour <Clinic>", PASSPHRASE, PASSPHRASE)
    assert dialog.try_set_up()
    text = dialog.recovery_sheet().toPlainText()
    assert RECOVERY in text and "Harbour <Clinic>" in text and "locked away" in text


def test_remember_is_offered_where_the_keyring_works(qtbot: QtBot) -> None:
    dialog = set_up_dialog(qtbot, SetUpRecorder())
    assert dialog.remember.isEnabled() and not dialog.remember.isChecked()
    assert "keyring" in dialog.remember.toolTip()


def test_remember_is_disabled_with_the_reason_without_a_keyring(qtbot: QtBot) -> None:
    reason = "there is no keyring on this computer (a kiosk or headless session)"
    set_up = SetUpRecorder()
    dialog = set_up_dialog(qtbot, set_up, keyring_reason=reason)
    dialog.show()
    assert not dialog.remember.isEnabled() and not dialog.remember.isChecked()
    assert reason in dialog.remember.toolTip()
    assert reason in dialog.remember_note.text() and dialog.remember_note.isVisible()
    fill(dialog, "Harbour Clinic", PASSPHRASE, PASSPHRASE)
    dialog.remember.setChecked(True)  # a disabled box still takes a programmatic tick
    dialog.remember.setChecked(False)
    assert dialog.try_set_up()
    assert set_up.calls == [("Harbour Clinic", PASSPHRASE, False)]


def test_the_intro_says_existing_records_are_encrypted_in_place(qtbot: QtBot) -> None:
    fresh = set_up_dialog(qtbot, SetUpRecorder())
    existing = set_up_dialog(qtbot, SetUpRecorder(), existing_data=True)
    assert fresh.intro.text() == NEW_DATABASE_INTRO
    assert existing.intro.text() == EXISTING_DATA_INTRO
    for words in ("in place", "row by row", "removed only after the check"):
        assert words in existing.intro.text()
        assert words not in fresh.intro.text()
    assert "whoever opens kapdesk on this computer needs it" in fresh.intro.text()
    assert "opens kapdesk on this computer then needs the passphrase" in existing.intro.text()
    for dialog in (fresh, existing):
        assert "cannot be recovered" in dialog.loss_warning.text()
        assert "Remember on this computer" in dialog.intro.text()


def test_quit_on_the_first_page_rejects(qtbot: QtBot) -> None:
    set_up = SetUpRecorder()
    dialog = set_up_dialog(qtbot, set_up)
    dialog.show()
    dialog.quit_button.click()
    assert dialog.result() == QDialog.DialogCode.Rejected and not dialog.isVisible()
    assert set_up.calls == []


# --- unlocking ------------------------------------------------------------------------------


def test_unlock_shows_the_clinic_and_the_file(qtbot: QtBot) -> None:
    dialog = unlock_dialog(qtbot)
    assert dialog.windowTitle() == "kapdesk: unlock the clinic's database"
    assert dialog.clinic.text() == "Harbour Clinic"
    assert "/var/lib/kapdesk/kapdesk.sqlite3" in dialog.database.text()
    assert not dialog.recovery.isVisibleTo(dialog)


def test_unlock_wrong_then_right(qtbot: QtBot) -> None:
    dialog = unlock_dialog(qtbot)
    dialog.show()
    dialog.passphrase.setText("not the passphrase")
    assert dialog.try_unlock() is False
    assert dialog.message.text() == str(wrong_passphrase())
    assert dialog.passphrase.text() == ""
    assert dialog.isVisible() and dialog.result_key is None
    dialog.passphrase.setText(PASSPHRASE)
    dialog.unlock_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.result_key is KEY and dialog.used_recovery is False
    assert dialog.passphrase.text() == ""


def test_recovery_key_typo_is_caught_as_it_is_typed(qtbot: QtBot) -> None:
    checked: list[str] = []

    def problem(text: str) -> str | None:
        checked.append(text)
        return fake_recovery_problem(text)

    dialog = UnlockDialog(fake_unlock, fake_unlock_with_recovery, problem, "Harbour Clinic", "db")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.recovery_toggle.click()
    assert dialog.recovery.isVisible() and dialog.recovery_key.isVisible()
    qtbot.keyClicks(dialog.recovery_key, "ABCD-EFGH")
    assert checked[-1] == "ABCD-EFGH" and len(checked) == len("ABCD-EFGH")
    assert "typo" in dialog.recovery_hint.text()
    assert dialog.recovery_hint.property("role") == "warn"
    dialog.recovery_key.setText(RECOVERY.lower())
    assert dialog.recovery_hint.text() == "The recovery key is well formed."
    assert dialog.recovery_hint.property("role") == "ok"
    dialog.recovery_key.setText(RECOVERY[:-1] + "X")
    assert "typo" in dialog.recovery_hint.text()
    # a typo is not tried; the field stays, to be corrected
    assert dialog.try_recovery() is False
    assert "typo" in dialog.message.text() and dialog.recovery_key.text() == RECOVERY[:-1] + "X"
    assert dialog.result_key is None
    dialog.recovery_key.clear()
    assert dialog.recovery_hint.text() == ""


def test_a_well_formed_wrong_recovery_key_is_refused_and_cleared(qtbot: QtBot) -> None:
    dialog = unlock_dialog(qtbot)
    dialog.show()
    dialog.show_recovery()
    dialog.recovery_key.setText("0" * 36)
    assert dialog.try_recovery() is False
    assert dialog.message.text() == "This recovery key is not the one of the database."
    assert dialog.recovery_key.text() == "" and dialog.isVisible()
    assert dialog.result_key is None


def test_recovery_success(qtbot: QtBot) -> None:
    dialog = unlock_dialog(qtbot)
    dialog.show()
    dialog.recovery_toggle.click()
    dialog.recovery_key.setText(RECOVERY)
    dialog.recovery_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.result_key is KEY and dialog.used_recovery is True
    assert dialog.recovery_key.text() == ""


def test_quit_rejects_the_unlock(qtbot: QtBot) -> None:
    dialog = unlock_dialog(qtbot)
    dialog.show()
    dialog.quit_button.click()
    assert dialog.result() == QDialog.DialogCode.Rejected and dialog.result_key is None


def test_with_the_real_key_file(qtbot: QtBot, tmp_path: Path) -> None:
    """The dialogs on the storage layer's own functions, as the app wires them."""
    db = tmp_path / "clinic.sqlite3"

    def set_up(name: str, passphrase: str, remember: bool) -> str:
        return create_key_file(db, passphrase, name, kdf=FAST).recovery_key

    setting = SetPassphraseDialog(set_up, "no keyring in the tests", existing_data=False)
    qtbot.addWidget(setting)
    fill(setting, "Harbour Clinic", PASSPHRASE, PASSPHRASE)
    assert setting.try_set_up()
    recovery = setting.recovery_key
    assert recovery is not None and setting.recovery_key_label.text() == recovery
    assert recovery_key_problem(recovery) is None
    # a second set-up is refused by the storage layer: shown, the dialog stays
    again = SetPassphraseDialog(set_up, None, existing_data=False)
    qtbot.addWidget(again)
    fill(again, "Harbour Clinic", PASSPHRASE, PASSPHRASE)
    assert again.try_set_up() is False and "exists already" in again.message.text()

    def open_dialog() -> UnlockDialog:
        dialog = UnlockDialog(
            lambda p: unlock(db, p),
            lambda r: unlock_with_recovery_key(db, r),
            recovery_key_problem,
            "Harbour Clinic",
            str(db),
        )
        qtbot.addWidget(dialog)
        return dialog

    dialog = open_dialog()
    dialog.passphrase.setText("not the passphrase at all")
    assert dialog.try_unlock() is False and "not right" in dialog.message.text()
    dialog.passphrase.setText(PASSPHRASE)
    assert dialog.try_unlock() and isinstance(dialog.result_key, DataKey)
    by_passphrase = dialog.result_key

    dialog = open_dialog()
    dialog.show_recovery()
    typo = recovery[:-1] + ("0" if recovery[-1] != "0" else "1")
    dialog.recovery_key.setText(typo)
    assert "checksum" in dialog.recovery_hint.text()
    dialog.recovery_key.setText(recovery.lower().replace("-", " "))
    assert dialog.recovery_hint.property("role") == "ok"
    assert dialog.try_recovery() and dialog.result_key == by_passphrase


# --- every theme, on a 1280x720 screen ---------------------------------------------------------


def _fits_and_reads(qtbot: QtBot, dialog: QWidget, labels: list[QLabel]) -> None:
    dialog.show()
    qtbot.waitExposed(dialog)
    hint = dialog.sizeHint()
    assert hint.width() <= 1280 and hint.height() <= 720 - 40, hint  # 40: the title bar
    # opened tall enough for its wrapped text: nothing cut
    layout = dialog.layout()
    assert dialog.height() >= layout.totalHeightForWidth(dialog.width()), dialog.size()
    background = dialog.palette().color(dialog.backgroundRole()).name()
    for label in labels:
        colour = label.palette().color(label.foregroundRole()).name()
        ratio = theme.contrast_ratio(colour, background)
        assert ratio >= 4.5, (label.text()[:40], colour, background, ratio)
    assert not dialog.grab().isNull()


@pytest.mark.usefixtures("app_theme")
@pytest.mark.parametrize("which", [theme.DIM, theme.DARK, theme.DAY], ids=lambda t: t.name)
@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
def test_set_passphrase_dialog_fits_and_reads_in_every_theme(
    qtbot: QtBot, qapp: QApplication, which: theme.Theme, existing: bool
) -> None:
    theme.apply(qapp, which)
    dialog = set_up_dialog(qtbot, SetUpRecorder(), "no keyring here", existing_data=existing)
    fill(dialog, "Harbour Clinic", "short", "short")
    dialog.try_set_up()
    assert dialog.message.text()
    _fits_and_reads(
        qtbot, dialog, [dialog.message, dialog.loss_warning, dialog.remember_note, dialog.intro]
    )
    assert dialog.palette().color(dialog.backgroundRole()).name() == which.background
    assert dialog.message.palette().color(dialog.message.foregroundRole()).name() == which.error
    fill(dialog, "Harbour Clinic", PASSPHRASE, PASSPHRASE)
    assert dialog.try_set_up()
    dialog.try_finish()  # refused: the message shows on the recovery page
    _fits_and_reads(
        qtbot, dialog, [dialog.message, dialog.recovery_key_label, *dialog.instructions]
    )
    assert dialog.recovery_key_label.font().pixelSize() >= 18


@pytest.mark.usefixtures("app_theme")
@pytest.mark.parametrize("which", [theme.DIM, theme.DARK, theme.DAY], ids=lambda t: t.name)
def test_unlock_dialog_fits_and_reads_in_every_theme(
    qtbot: QtBot, qapp: QApplication, which: theme.Theme
) -> None:
    theme.apply(qapp, which)
    dialog = unlock_dialog(qtbot)
    dialog.passphrase.setText("wrong")
    dialog.try_unlock()
    _fits_and_reads(qtbot, dialog, [dialog.message, dialog.clinic, dialog.database])
    assert dialog.message.palette().color(dialog.message.foregroundRole()).name() == which.error
    dialog.show_recovery()
    dialog.recovery_key.setText("ABCD")
    _fits_and_reads(qtbot, dialog, [dialog.message, dialog.recovery_hint])


LAPTOP = {"name": "laptop", "x": 0, "y": 0, "width": 1280, "height": 720,
          "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}  # fmt: skip

ON_THE_LAPTOP = r"""
import json
from PySide6.QtWidgets import QApplication
app = QApplication([])
from kapdesk.storage.encryption import EncryptionError, Problem
from kapdesk.ui.common import theme
from kapdesk.ui.common.passphrase import SetPassphraseDialog, UnlockDialog

def refuse(text):
    raise EncryptionError(Problem.WRONG_PASSPHRASE, "The passphrase is not right for"
        " 'Harbour Street Clinic' (key file /home/clinic/.local/share/kapdesk/"
        "kapdesk.sqlite3.key.json). Try again, or use the recovery key. Nothing was changed.")

out = {"screen": app.primaryScreen().availableGeometry().getRect(), "windows": {}}
def opened(name, window):
    app.processEvents()
    out["windows"][name] = {
        "frame": window.frameGeometry().getRect(),
        "size": window.size().toTuple(),
        "needs": window.layout().totalHeightForWidth(window.width()),
    }

for t in (theme.DIM, theme.DARK, theme.DAY):
    theme.apply(app, t)
    for existing in (False, True):
        d = SetPassphraseDialog(lambda n, p, r: "7KQ2-M9XD-4HTP-ZR8W-C3NB-V6YF-1GJS-QA5E-X0DM",
                                "there is no keyring on this computer (a kiosk or headless"
                                " session): the passphrase is asked at every start", existing)
        d.show()
        d.clinic_name.setText("Harbour Street Clinic")
        d.passphrase.setText("short")
        d.again.setText("short")
        d.try_set_up()
        opened(f"{t.name} set up existing={existing}", d)
        d.passphrase.setText("correct horse battery")
        d.again.setText("correct horse battery")
        d.try_set_up()
        d.try_finish()
        opened(f"{t.name} recovery key existing={existing}", d)
        d.written_down.setChecked(True)
        d.try_finish()
    u = UnlockDialog(refuse, refuse, lambda text: "The recovery key has 4 characters; a"
                     " recovery key has 36 (9 groups of 4). Check it against the printed"
                     " sheet, group by group. Nothing was changed.", "Harbour Street Clinic",
                     "/home/clinic/.local/share/kapdesk/kapdesk.sqlite3")
    u.show()
    u.passphrase.setText("wrong")
    u.try_unlock()
    opened(f"{t.name} unlock", u)
    u.show_recovery()
    u.recovery_key.setText("7KQ2")
    u.try_recovery()
    opened(f"{t.name} unlock with the recovery key", u)
    u.close()
print(json.dumps(out))
"""


def test_every_page_opens_whole_on_a_1280x720_laptop(tmp_path: Path) -> None:
    """A 1280x720 screen for real (Qt's offscreen platform with a screen of that size, in
    a child process, as tests/ui/test_dialogs_on_720p.py does): every page and message
    opens inside the screen's free area, tall enough for all of its wrapped text."""
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"windowFrameMargins": True, "screens": [LAPTOP]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}")
    root = Path(__file__).resolve().parents[3]
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    result = subprocess.run(
        [sys.executable, "-c", ON_THE_LAPTOP],
        capture_output=True, text=True, cwd=root, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["screen"][2:] == [1280, 720]
    assert len(out["windows"]) == 18  # 3 themes x (2 set-up pages x 2, 2 unlock)
    for name, w in out["windows"].items():
        x, y, width, height = w["frame"]
        assert height <= 720 - 40, (name, w)  # 40: a task bar below the title bar
        assert x >= 0 and y >= 0 and x + width <= 1280 and y + height <= 720, (name, w)
        assert w["size"][1] >= w["needs"], (name, w)
