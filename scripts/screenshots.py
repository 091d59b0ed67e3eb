"""Screenshots of the screens a clinic meets, at 1280x720 (and the main window at
1920x1080), in every theme: the main window mid-session, patient mode, the discharge
dialog and the session summary; signing in, the locked monitor, the admin's accounts and
audit log, the passphrase set-up and unlock. Offscreen; PNGs into the folder given
(docs/images).

Run through ``scripts/screenshots``; look at every PNG it writes.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from kapdesk.app import build_main_window
from kapdesk.demo.accounts import DEMO_PASSWORD, ensure_demo_accounts
from kapdesk.demo.mode import start_demo
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import open_database
from kapdesk.ui.common import theme
from kapdesk.ui.common.passphrase import SetPassphraseDialog, UnlockDialog
from kapdesk.ui.common.sign_in import SignInDialog
from kapdesk.ui.session.summary import SessionSummaryView


def spin(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def shoot(widget: QWidget, out: Path, name: str, size: tuple[int, int] | None) -> None:
    if size is not None:
        widget.resize(*size)
    spin(700)
    path = out / f"{name}.png"
    widget.grab().save(str(path))
    print(path)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    db = Path(tempfile.mkdtemp()) / "shots.sqlite3"
    rt = Runtime.build(open_database(f"sqlite:///{db}"), speed=60.0)
    demo_accounts = [(a.username, a.roles) for a in ensure_demo_accounts(rt.accounts)]
    for name in ("dim", "dark", "day"):
        theme.apply(app, theme.THEMES[name])
        sign_in = SignInDialog(rt.desk, demo_accounts, DEMO_PASSWORD)
        sign_in.show()
        shoot(sign_in, out, f"sign-in-1280x720-{name}", None)
        sign_in.show_emergency()
        shoot(sign_in, out, f"sign-in-emergency-1280x720-{name}", None)
        sign_in.close()
    rt.desk.sign_in("demo-clinician", DEMO_PASSWORD)
    start_demo(rt)
    win = build_main_window(app, rt, demo=True)
    win.show()
    deadline = time.monotonic() + 35  # about 35 session minutes: dosed, checks done
    while time.monotonic() < deadline:
        spin(200)
    for name in ("dim", "dark", "day"):
        win.themes.set_theme(name)
        shoot(win, out, f"main-1280x720-{name}", (1280, 720))
        shoot(win, out, f"main-1920x1080-{name}", (1920, 1080))
    win.show_devices()
    panel = win.devices_panel
    if panel is not None:
        for name in ("dim", "dark", "day"):
            win.themes.set_theme(name)
            shoot(panel, out, f"devices-1280x720-{name}", None)
        panel.close()
    win.resize(1280, 720)
    dialog = win.session_panel.open_discharge()
    for name in ("dim", "dark", "day"):
        theme.apply(app, theme.THEMES[name])
        if dialog is not None:
            shoot(dialog, out, f"discharge-1280x720-{name}", None)
    if dialog is not None:
        dialog.close()
    # the patient record with its care team (who reads the shared journal entries)
    from kapdesk.ui.session.patient_dialog import PatientDialog

    pid = rt.controller.session.patient_id if rt.controller.session else None
    if pid is not None:
        record = PatientDialog(rt.patients, rt.patients.get(pid))
        record.show()
        for name in ("dim", "dark", "day"):
            theme.apply(app, theme.THEMES[name])
            shoot(record, out, f"patient-record-1280x720-{name}", None)
        record.close()
    summary = SessionSummaryView.for_controller(rt.controller)
    summary.show()
    for name in ("dim", "dark", "day"):
        theme.apply(app, theme.THEMES[name])
        shoot(summary, out, f"summary-1280x720-{name}", (760, 680))
    summary.close()
    passphrase_screens(app, out)
    # the locked monitor: numerals, trends and alarms stay; name, timeline, actions go
    win.resize(1280, 720)
    rt.desk.lock("screenshot")
    spin(300)
    for name in ("dim", "dark", "day"):
        win.themes.set_theme(name)
        shoot(win, out, f"locked-1280x720-{name}", (1280, 720))
    win.lock_bar.password.setText(DEMO_PASSWORD)
    win.lock_bar.try_unlock()
    # the admin's windows
    rt.desk.sign_in("demo-admin", DEMO_PASSWORD)
    spin(300)
    accounts, audit = win.open_accounts(), win.open_audit()
    for name in ("dim", "dark", "day"):
        theme.apply(app, theme.THEMES[name])
        if accounts is not None:
            shoot(accounts, out, f"accounts-1280x720-{name}", (1280, 720))
        if audit is not None:
            audit.refresh()
            shoot(audit, out, f"audit-1280x720-{name}", (1280, 720))
    rt.desk.sign_in("demo-clinician", DEMO_PASSWORD)
    spin(300)
    win.open_patient_journal()
    patient = win.patient_mode
    if patient is not None:
        patient.showNormal()  # the offscreen screen is not a laptop's: size it as one
        for name in ("dim", "dark", "day"):
            theme.apply(app, theme.THEMES[name])
            shoot(patient, out, f"patient-mode-1280x720-{name}", (1280, 720))
        patient.force_close()
    win.close()
    rt.shutdown()


def passphrase_screens(app: QApplication, out: Path) -> None:
    """The passphrase set-up (both pages) and the unlock dialog, on throwaway callables."""
    from kapdesk.storage.encryption import EncryptionError, Problem

    def set_up(clinic: str, passphrase: str, remember: bool) -> str:
        return "7Q2M-K9XD-0HJ4-ZT6B-W1NC-88RF-3VAE-MP5S-G4KQ"

    def wrong(_: str) -> object:
        raise EncryptionError(
            Problem.WRONG_PASSPHRASE, "That is not the clinic's passphrase. Nothing was changed."
        )

    for name in ("dim", "dark", "day"):
        theme.apply(app, theme.THEMES[name])
        dialog = SetPassphraseDialog(set_up, None, existing_data=True)
        dialog.show()
        dialog.clinic_name.setText("Riverside KAP Clinic")
        shoot(dialog, out, f"passphrase-set-1280x720-{name}", None)
        dialog.passphrase.setText("correct horse battery staple")
        dialog.again.setText("correct horse battery staple")
        dialog.try_set_up()
        shoot(dialog, out, f"passphrase-recovery-key-1280x720-{name}", None)
        dialog.close()
        unlock = UnlockDialog(
            wrong, wrong, lambda _: None, "Riverside KAP Clinic", "kapdesk.sqlite3"
        )
        unlock.show()
        unlock.passphrase.setText("guess")
        unlock.try_unlock()
        shoot(unlock, out, f"unlock-1280x720-{name}", None)
        unlock.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images"))
