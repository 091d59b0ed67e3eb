"""``kapdesk devices list|probe`` through the real CLI entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime

import pytest

from kapdesk.cli import main


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def test_list_emulated_shows_the_emulated_monitors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "list", "--emulated", "--scan-seconds", "0.3"]) == 0
    lines = json_lines(capsys.readouterr().out)
    ble = {str(d["address"]): d for d in lines if d["transport"] == "ble"}
    assert set(ble) == {"C0:DE:00:00:00:01", "C0:DE:00:00:00:02", "C0:DE:00:00:00:03"}
    assert ble["C0:DE:00:00:00:01"]["name"] == "KAP HR Strap"
    assert ble["C0:DE:00:00:00:01"]["profiles"] == ["generic-ble-heart-rate"]
    assert ble["C0:DE:00:00:00:03"]["profiles"] == ["generic-ble-pulse-oximeter"]
    assert all("device" in d for d in lines if d["transport"] == "serial")


def test_list_without_emulation_never_shows_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # With no adapter (this machine) a one-line note; with one, a scan. Either way exit 0.
    assert main(["devices", "list", "--scan-seconds", "0.2"]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert len(captured.err.splitlines()) <= 1
    assert all(d["transport"] in ("serial", "ble") for d in json_lines(captured.out))


def test_probe_emulated_strap_prints_readings_and_status(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        [
            "devices",
            "probe",
            "ble-heart-rate",
            "c0:de:00:00:00:01",
            "--emulated",
            "--seconds",
            "1.5",
        ]
    )
    lines = json_lines(capsys.readouterr().out)
    assert code == 0
    statuses = [d["status"] for d in lines if "status" in d]
    assert statuses[:2] == ["connecting", "connected"] and statuses[-1] == "disconnected"
    readings = [d for d in lines if "channel" in d]
    assert readings, "the strap notifies once a second"
    first = readings[0]
    assert first["channel"] == "heart_rate" and first["unit"] == "/min"
    assert first["device"] == "c0:de:00:00:00:01"
    assert 30 <= float(first["value"]) <= 200  # type: ignore[arg-type]
    assert "contact_detected" in first["flags"]  # type: ignore[operator]
    datetime.fromisoformat(str(first["t"]))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nope", "C0:DE:00:00:00:01"], "unknown protocol 'nope'"),
        (["ble-heart-rate", "not-an-address"], "not a BLE address"),
        (["ble-heart-rate", "C0:DE:00:00:00:77", "--emulated"], "no emulated device"),
        (["cms50d", "/dev/does-not-exist"], "no such serial port"),
    ],
)
def test_probe_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["devices", "probe", *argv, "--seconds", "1"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1
    assert message in captured.err


def test_probe_as_a_subprocess() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kapdesk", "devices", "probe", "bogus", "AA:BB:CC:DD:EE:FF"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("kapdesk devices: unknown protocol 'bogus'")
