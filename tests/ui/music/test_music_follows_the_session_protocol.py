"""The music follows the protocol of the session that runs, not the protocol whose alarm
limits were in force when the app started (a miswiring found in issue 12): a protocol's
own ``[music.phases]`` picks the playlist of each of its phases, in the real main window."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from access_support import CLINICIAN
from pytestqt.qtbot import QtBot

from kapdesk.app import build_main_window
from kapdesk.config.paths import resources_dir
from kapdesk.demo.script import demo_patient
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import open_database


def test_a_sessions_protocol_chooses_its_phase_music(
    qtbot: QtBot, qapp, tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic = tmp_path / "resources"
    shutil.copytree(resources_dir(), clinic)
    infusion = clinic / "protocols" / "iv-ketamine-infusion.toml"
    infusion.write_text(infusion.read_text() + '\n[music.phases]\ndosing = "peak"\n')
    monkeypatch.setenv("KAPDESK_RESOURCES", str(clinic))

    rt = Runtime.build(
        open_database(db_url), protocol="im-ketamine", actor=CLINICIAN
    )  # start-up's limits
    win = build_main_window(qapp, rt)
    qtbot.addWidget(win)
    try:
        assert win.music.queue.cue_for_phase("dosing") == "onset"  # the clinic's own map
        rt.controller.open(demo_patient(), "iv-ketamine-infusion")
        rt.controller.start()
        rt.controller.enter("dosing", reason="test goes straight to dosing")
        qtbot.waitUntil(lambda: win.music.queue.phase_cue == "peak", timeout=3000)
        assert win.music.queue.cue_for_phase("dosing") == "peak"
    finally:
        win.music.shutdown()
        win.close()
        rt.shutdown()
