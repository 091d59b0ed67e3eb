"""The command line as a newcomer uses it, down to the demo screenshot and the export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from access_support import sign_in_cli

from kapdesk import __version__
from kapdesk.cli import main
from kapdesk.domain.clock import parse_iso_utc
from kapdesk.storage.database import open_database


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-m", "kapdesk", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})},
    )


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"kapdesk {__version__}"
    with pytest.raises(SystemExit):
        main(["--help"])
    helptext = capsys.readouterr().out
    for word in ("--demo", "--speed", "--screenshot", "--database-url", "sessions", "export"):
        assert word in helptext


def test_bad_options_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--speed", "0"], ["--speed", "fast"], ["--after", "3"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
    assert "--after needs --screenshot" in capsys.readouterr().err


def test_sessions_list_on_an_empty_database(db_url: str, capsys, monkeypatch) -> None:
    open_database(db_url).dispose()  # listing never creates one (issue 11 point 8)
    sign_in_cli(monkeypatch, db_url)
    assert main(["sessions", "list", "--database-url", db_url]) == 0
    assert "no sessions recorded" in capsys.readouterr().out


def test_export_of_a_missing_session_fails_cleanly(db_url: str, capsys, monkeypatch) -> None:
    sign_in_cli(monkeypatch, db_url)
    assert main(["--database-url", db_url, "export", "--session", "42"]) == 2
    assert "no session with id 42" in capsys.readouterr().err


def test_demo_screenshot_then_list_and_export(tmp_path: Path) -> None:
    """The issue's 'done means', as a new user would do it (shorter run)."""
    db = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    shot = tmp_path / "shot.png"
    speed, after = 20, 6
    proc = run_cli(
        "--database-url", db, "--demo", "--speed", str(speed),
        "--screenshot", str(shot), "--after", str(after),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    from PySide6.QtGui import QColor, QImage

    img = QImage(str(shot))
    assert img.width() >= 1000 and img.height() >= 700
    # The heart-rate trace is drawn: count pixels of its colour in the plots (left of the
    # numerics, whose digits share the colour).
    hr = QColor("#4fd17f").rgb()
    hits = sum(
        1
        for x in range(0, int(img.width() * 0.78))
        for y in range(100, int(img.height() * 0.5))
        if img.pixel(x, y) == hr
    )
    assert hits > 20, "no heart-rate trace in the screenshot"

    # the demo database is encrypted with the demo passphrase (opened without asking) and
    # its demo accounts sign in on the command line too
    demo_user = {"KAPDESK_USER": "demo-clinician", "KAPDESK_PASSWORD": "kapdesk-demo"}
    refused = run_cli("sessions", "list", "--database-url", db, "--json")
    assert refused.returncode == 2 and "--user" in refused.stderr
    listing = run_cli("sessions", "list", "--database-url", db, "--json", env=demo_user)
    assert listing.returncode == 0, listing.stderr
    sessions = [json.loads(x) for x in listing.stdout.splitlines()]
    assert len(sessions) == 1 and sessions[0]["patient"].startswith("Demo Patient")
    assert sessions[0]["state"] == "in_progress"

    out = tmp_path / "session.json"
    exp = run_cli(
        "--database-url", db, "export", "--session", str(sessions[0]["id"]),
        "--format", "json", "--output", str(out), env=demo_user,
    )  # fmt: skip
    assert exp.returncode == 0, exp.stderr
    assert out.stat().st_mode & 0o777 == 0o600  # an export holds patient data
    record = json.loads(out.read_text())
    assert record["format"] == "kapdesk-session"
    hr_times = [parse_iso_utc(r["t"]) for r in record["readings"] if r["channel"] == "heart_rate"]
    emulated_span = hr_times[-1] - hr_times[0]
    # The emulated clock ran `speed` times faster than the real `after` seconds...
    assert speed * after * 0.9 <= emulated_span <= speed * (after + 20)
    # ...and the number of readings fits the emulated time: the strap sends HR at 1 Hz of
    # session time; arrival stamps through the BLE stack jitter by a little.
    assert abs(len(hr_times) - (emulated_span + 1)) <= max(3, 0.06 * emulated_span)
    devices = {r["device"] for r in record["readings"]}
    assert {"Heart-rate strap (emulated)", "Pulse oximeter CMS50D+ (emulated)"} <= devices
    assert {r["unit"] for r in record["readings"] if r["channel"] == "spo2"} == {"%"}
    assert any(r["channel"] == "nibp_systolic" for r in record["readings"])
    kinds = [e["kind"] for e in record["events"]]
    assert kinds[:2] == ["session_started", "phase_entered"]
    assert record["phases"][0]["phase"] == "preparation"
