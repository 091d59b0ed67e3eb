"""Issue 10's laptop for real: a 1280x720 screen (Qt's offscreen platform with a screen
of that size, in a child process since the test run's own screen is fixed). Every dialog
of the session, the alarm limits and the devices panel opens inside the screen's free
area, title bar included, so no button is ever below the screen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LAPTOP_SCREEN = {"name": "laptop", "x": 0, "y": 0, "width": 1280, "height": 720,
                 "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}  # fmt: skip

SCRIPT = r"""
import json, sys
sys.path.insert(0, "tests/support")
from PySide6.QtWidgets import QApplication
app = QApplication([])
from kapdesk.ui.common import theme
theme.apply(app)
from session_test_support import make_patient
from kapdesk.domain.checklist import GateAnswer, GateKind
from kapdesk.domain.access import Actor, Role
CLINICIAN = Actor({Role.THERAPIST, Role.MEDICAL_STAFF}, 'Test Clinician', username='clinician')
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import open_database
from kapdesk.ui.devices.panel import DevicesPanel
from kapdesk.ui.monitor.limits_dialog import LimitsDialog
from kapdesk.ui.session.dialogs import (
    CheckDialog, ChecklistDialog, DischargeDialog, DoseDialog, IntentionDialog,
    NewSessionDialog, NoteDialog,
)

out = {"screen": app.primaryScreen().availableGeometry().getRect(), "windows": {}}
rt = Runtime.build(open_database(sys.argv[1]), actor=CLINICIAN)
try:
    def opened(name, window):
        window.show()
        app.processEvents()
        frame = window.frameGeometry()
        out["windows"][name] = {
            "frame": frame.getRect(),
            "buttons_bottom": window.buttons.geometry().bottom()
            if hasattr(window, "buttons") else 0,
            "height": window.height(),
        }
        window.close()

    opened("new session", NewSessionDialog(rt))
    for protocol in ("esketamine-nasal", "im-ketamine", "iv-ketamine-infusion"):
        c = rt.controller
        c.open(make_patient(), protocol)
        c.start()
        opened(f"{protocol} checklist", ChecklistDialog(rt))
        c.record_checklist({
            g.id: GateAnswer(g.id, confirmed=True) if g.kind is GateKind.CONFIRM
            else GateAnswer(g.id, systolic=120, diastolic=80)
            for g in c.protocol.checklist
        }, [])
        opened(f"{protocol} intention", IntentionDialog(rt))
        opened(f"{protocol} dose", DoseDialog(rt))
        for check in c.protocol.checks:
            opened(f"{protocol} check {check.id}", CheckDialog(rt, check.id))
        opened(f"{protocol} note", NoteDialog(rt))
        opened(f"{protocol} discharge", DischargeDialog(rt))
    opened("limits", LimitsDialog(rt.alarms.limits(), CLINICIAN))
    opened("devices", DevicesPanel(rt.devices))
finally:
    rt.shutdown()
print(json.dumps(out))
"""


def test_every_window_opens_inside_a_1280x720_screen(tmp_path: Path) -> None:
    config = tmp_path / "screen.json"
    config.write_text(
        json.dumps(
            {
                "synchronousWindowSystemEvents": False,
                "windowFrameMargins": True,
                "screens": [LAPTOP_SCREEN],
            }
        )
    )
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(Path.cwd()), env.get("PYTHONPATH", "")) if p
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, f"sqlite:///{tmp_path / 'db.sqlite3'}"],
        capture_output=True, text=True, cwd=root, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["screen"][2:] == [1280, 720]
    # what a 720-pixel screen leaves: a task bar (40) below the window's title bar
    free_height = 720 - 40
    too_big = {
        name: w["frame"]
        for name, w in out["windows"].items()
        if w["frame"][2] > 1280
        or w["frame"][3] > free_height
        or w["frame"][0] < 0
        or w["frame"][1] + w["frame"][3] > 720  # placed on screen
    }
    assert not too_big, too_big
    assert len(out["windows"]) >= 20
    for name, w in out["windows"].items():
        assert w["buttons_bottom"] <= w["height"], name
