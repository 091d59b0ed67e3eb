"""Issue 11 point 6: absurd clinic settings are refused with file, line and field.

Each absurd value from the fault-injection run (``low = 8`` meant as 88,
``condition_delay_s = 100000``, ``audio_pause_s = 86400``, ``share_by_default = "false"``,
an unknown key) is written into a real copy of the shipped resource files; the loaders,
the app's real start path (offscreen) and a real ``kapdesk`` subprocess must refuse it
and say where, never with a traceback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from access_support import NURSE
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from kapdesk.config.alarms import load_clinic_settings, load_protocol_alarms
from kapdesk.config.check import clinic_file_errors
from kapdesk.config.errors import ConfigFileError
from kapdesk.config.journal import load_journal_settings
from kapdesk.config.music import load_music_library
from kapdesk.config.paths import RESOURCES_ENV, resources_dir

SHIPPED = resources_dir()


@pytest.fixture
def clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clinic's own copy of the shipped resources (music and sounds linked)."""
    root = tmp_path / "resources"
    root.mkdir()
    for item in SHIPPED.iterdir():
        if item.name in ("music", "sounds"):
            (root / item.name).symlink_to(item)
        elif item.is_dir():
            shutil.copytree(item, root / item.name)
        else:
            shutil.copy(item, root / item.name)
    monkeypatch.setenv(RESOURCES_ENV, str(root))
    return root


def edit(path: Path, old: str, new: str) -> int:
    """Replace the first ``old`` by ``new``; the 1-based line it is on."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    at = text.index(old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text.count("\n", 0, at) + 1


def assert_refused(error: ConfigFileError, path: Path, line: int, where: str) -> None:
    assert error.file == str(path)
    assert error.line == line
    assert error.where == where
    assert str(error).startswith(f"{path}:{line}: {where}: ")


def test_point6_shipped_files_all_load(clinic: Path) -> None:
    assert clinic_file_errors() == []


def test_point6_spo2_low_8_is_refused_with_its_line(clinic: Path) -> None:
    path = clinic / "protocols" / "im-ketamine.toml"
    # the second SpO2 rule is the high-priority one: low = 88
    text = path.read_text(encoding="utf-8")
    first = text.index("low = 92")
    head, tail = text[: first + 1], text[first + 1 :]
    path.write_text(head + tail.replace("low = 88", "low = 8", 1), encoding="utf-8")
    line = path.read_text(encoding="utf-8").splitlines().index("low = 8") + 1
    with pytest.raises(ConfigFileError) as caught:
        load_protocol_alarms(path)
    assert_refused(caught.value, path, line, "alarms.limits[1].low")
    assert "plausible range 70 to 100 %" in caught.value.problem


def test_point6_condition_delay_100000_is_refused(clinic: Path) -> None:
    path = clinic / "protocols" / "im-ketamine.toml"
    line = edit(path, "condition_delay_s = 10", "condition_delay_s = 100000")
    with pytest.raises(ConfigFileError) as caught:
        load_protocol_alarms(path)
    assert_refused(caught.value, path, line, "alarms.condition_delay_s")


def test_point6_channel_delay_out_of_range_is_refused(clinic: Path) -> None:
    path = clinic / "protocols" / "esketamine-nasal.toml"
    line = edit(path, "\ndelay_s = 10", "\ndelay_s = 3600") + 1
    with pytest.raises(ConfigFileError) as caught:
        load_protocol_alarms(path)
    assert_refused(caught.value, path, line, "alarms.channels.spo2.delay_s")


def test_point6_audio_pause_of_a_day_is_refused(clinic: Path) -> None:
    path = clinic / "clinic.toml"
    line = edit(path, "audio_pause_s = 120", "audio_pause_s = 86400")
    with pytest.raises(ConfigFileError) as caught:
        load_clinic_settings(path)
    assert_refused(caught.value, path, line, "alarms.audio_pause_s")


def test_point6_string_false_is_refused_for_a_boolean(clinic: Path) -> None:
    path = clinic / "clinic.toml"
    line = edit(path, "share_by_default = true", 'share_by_default = "false"')
    with pytest.raises(ConfigFileError) as caught:
        load_journal_settings(path)
    assert_refused(caught.value, path, line, "journal.share_by_default")
    assert "true or false" in caught.value.problem


@pytest.mark.parametrize(
    ("old", "new", "where", "loader"),
    [
        (
            "pin_lockout_s = 60",
            "pin_lockout_s = 60\nshare_by_defualt = false",
            "journal.share_by_defualt",
            load_journal_settings,
        ),
        ("latching = true", "latching = true\nlatch = false", "alarms.latch", load_clinic_settings),
        ("[sessions]", "[session]", "session", load_clinic_settings),
        (
            "pin_max_attempts = 5",
            "pin_max_attempts = 5000",
            "journal.pin_max_attempts",
            load_journal_settings,
        ),
    ],
)
def test_point6_unknown_keys_and_out_of_range_journal_values_are_refused(
    clinic: Path, old: str, new: str, where: str, loader
) -> None:
    path = clinic / "clinic.toml"
    line = edit(path, old, new) + (1 if "\n" in new else 0)
    with pytest.raises(ConfigFileError) as caught:
        loader(path)
    assert_refused(caught.value, path, line, where)


def test_point6_music_settings_are_typed_and_ranged(clinic: Path) -> None:
    path = clinic / "music.toml"
    line = edit(path, "volume = 0.6", "volume = 60")
    with pytest.raises(ConfigFileError) as caught:
        load_music_library(path)
    assert_refused(caught.value, path, line, "music.volume")


def test_point6_protocol_session_numbers_are_ranged(clinic: Path) -> None:
    from kapdesk.config.errors import ConfigFileError
    from kapdesk.config.protocols import load_protocol

    path = clinic / "protocols" / "esketamine-nasal.toml"
    line = edit(path, "observation_min = 120", "observation_min = 1")
    with pytest.raises(ConfigFileError) as caught:
        load_protocol(path)
    assert_refused(caught.value, path, line, "session.observation_min")


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("max_systolic = 140", "max_systolic = 14", "checklist[{i}].max_systolic"),
        ("vitals_within_pct = 20", "vitals_within_pct = 200", "discharge.vitals_within_pct"),
        ("every_min = 15", "every_min = 1500", "checks[{i}].every_min"),
    ],
)
def test_point6_protocol_check_numbers_are_ranged(
    clinic: Path, old: str, new: str, where: str
) -> None:
    from kapdesk.config.errors import ConfigFileError
    from kapdesk.config.protocols import load_protocol

    path = clinic / "protocols" / "im-ketamine.toml"
    line = edit(path, old, new)
    with pytest.raises(ConfigFileError) as caught:
        load_protocol(path)
    table = where.split("[", 1)[0]
    headers = path.read_text(encoding="utf-8").splitlines()[:line]
    i = sum(h.strip() == f"[[{table}]]" for h in headers) - 1
    assert_refused(caught.value, path, line, where.format(i=i))
    assert "plausible range" in caught.value.problem


def test_point6_app_start_shows_a_dialog_naming_file_and_line(
    clinic: Path, qapp: QApplication, db_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    from kapdesk.app import run_app
    from kapdesk.cli import build_parser

    path = clinic / "clinic.toml"
    line = edit(path, "audio_pause_s = 120", "audio_pause_s = 86400")
    seen: list[str] = []

    def close_dialog() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append(box.text())
            box.close()
        else:
            QTimer.singleShot(50, close_dialog)

    QTimer.singleShot(50, close_dialog)
    status = run_app(build_parser().parse_args(["--database-url", db_url]))
    assert status == 2
    assert len(seen) == 1
    assert f"{path}:{line}: alarms.audio_pause_s:" in seen[0]
    assert "Traceback" not in seen[0]
    err = capfd.readouterr().err
    assert f"{path}:{line}: alarms.audio_pause_s" in err
    assert "Traceback" not in err


def run_kapdesk(clinic: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kapdesk", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, RESOURCES_ENV: str(clinic), "QT_QPA_PLATFORM": "offscreen"},
    )


def test_point6_cli_prints_the_error_and_exits_non_zero(clinic: Path, tmp_path: Path) -> None:
    replay = tmp_path / "none.jsonl"
    bad = clinic / "protocols" / "im-ketamine.toml"
    bad_line = edit(bad, "condition_delay_s = 10", "condition_delay_s = 100000")
    done = run_kapdesk(clinic, "replay", "--protocol", "im-ketamine", str(replay))
    assert done.returncode == 2
    assert f"{bad}:{bad_line}: alarms.condition_delay_s:" in done.stderr
    assert "Traceback" not in done.stderr

    path = clinic / "clinic.toml"
    line = edit(path, "audio_pause_s = 120", "audio_pause_s = 86400")
    done = run_kapdesk(clinic, "replay", "--protocol", "sublingual-ketamine", str(replay))
    assert done.returncode == 2
    assert f"{path}:{line}: alarms.audio_pause_s:" in done.stderr
    assert "Traceback" not in done.stderr


def test_point6_limits_dialog_cannot_take_an_absurd_limit(qtbot, app_theme) -> None:
    """The per-session limits dialog keeps to the same plausible ranges as the files."""
    from kapdesk.config.paths import find_protocol
    from kapdesk.domain.alarms import Condition, Priority
    from kapdesk.ui.monitor.limits_dialog import LimitsDialog

    dialog = LimitsDialog(load_protocol_alarms(find_protocol("im-ketamine")).limits, NURSE)
    qtbot.addWidget(dialog)
    spin = dialog.spin_for("spo2", Condition.BELOW_LOW_LIMIT, Priority.HIGH)
    spin.setValue(8)
    assert spin.value() == 70  # clamped to the plausible low end, never 8
    rise = dialog.spin_for("nibp_systolic", Condition.RISE_FROM_BASELINE, Priority.MEDIUM)
    rise.setValue(500)
    assert rise.value() == 100


def test_journal_readers_takes_care_team_or_every_therapist_and_names_a_typo(clinic: Path) -> None:
    from kapdesk.config.security import load_sign_in_policy

    path = clinic / "clinic.toml"
    assert load_sign_in_policy(path).care_team_only
    line = edit(path, 'journal_readers = "care team"', 'journal_readers = "everyone"')
    with pytest.raises(ConfigFileError) as caught:
        load_sign_in_policy(path)
    assert_refused(caught.value, path, line, "security.journal_readers")
    assert "care team, every therapist" in caught.value.problem
    edit(path, 'journal_readers = "everyone"', 'journal_readers = "every therapist"')
    assert not load_sign_in_policy(path).care_team_only
