"""Screenshots of the screens a clinic meets, at 1280x720 (and the main window at
1920x1080), in every theme: the main window mid-session, patient mode, the discharge
dialog and the session summary. Offscreen; PNGs into the folder given (docs/images).

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
from kapdesk.demo.mode import start_demo
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import open_database
from kapdesk.ui.common import theme
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
    summary = SessionSummaryView.for_controller(rt.controller)
    summary.show()
    for name in ("dim", "dark", "day"):
        theme.apply(app, theme.THEMES[name])
        shoot(summary, out, f"summary-1280x720-{name}", (760, 680))
    summary.close()
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


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images"))
