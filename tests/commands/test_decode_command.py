"""``kapdesk decode``: through ``kapdesk.cli.main`` and once as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kapdesk.cli import main
from kapdesk.sim.encoders import nonin_df2

ROOT = Path(__file__).resolve().parents[2]


def lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def test_packet_frames_with_and_without_spaces(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", "ble-heart-rate", "01C800", "0E 4B 80 00"]) == 0
    out = lines(capsys.readouterr().out)
    assert out[0] == {
        "channel": "heart_rate",
        "value": 200.0,
        "unit": "/min",
        "flags": [],
        "device_time": None,
    }
    assert out[2]["channel"] == "energy_expended" and out[2]["flags"] == ["contact_detected"]


def test_device_time_and_original_unit(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", "ble-blood-pressure", "02 8C 00 5A 00 6E 00 E8 07 03 0F 0E 1E 2D"]) == 0
    first = lines(capsys.readouterr().out)[0]
    assert first["device_time"] == "2024-03-15T14:30:45"
    assert "original_unit" not in first
    assert main(["decode", "ble-blood-pressure", "01 A0 F0 6B F0 78 F0"]) == 0  # kPa
    first = lines(capsys.readouterr().out)[0]
    assert first["original_unit"] == "kPa"
    assert first["value"] == pytest.approx(16.0 * 7.50062)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["decode", "ble-heart-rate", "0E4B80"], "frame 1: heart rate frame too short: energy"),
        (["decode", "ble-heart-rate", "01C800", "zz"], "argument 2 is not hex"),
        (["decode", "ecg-magic", "00"], "unknown protocol 'ecg-magic' (known: ble-blood-pressure"),
    ],
)
def test_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_stream_protocol_reports_malformed_count(capsys: pytest.CaptureFixture[str]) -> None:
    packet = nonin_df2.encode_packet(65, 99, [7] * 25).hex()
    # the next packet's frame 1 proves the packet complete (issue 11 point 4)
    assert main(["decode", "nonin-df2", "0102", packet[:20], packet[20:], packet[:10]]) == 0
    captured = capsys.readouterr()
    trends = [r for r in lines(captured.out) if r["channel"] != "pleth"]
    assert [(r["channel"], r["value"]) for r in trends] == [("pulse_rate", 65.0), ("spo2", 99.0)]
    assert "1 malformed frame(s) dropped" in captured.err


def test_runs_as_a_subprocess() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kapdesk", "decode", "cms50d", "C5 3A 08 48 61"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = lines(result.stdout)
    assert [(r["channel"], r["value"]) for r in out] == [
        ("pleth", 58.0),
        ("signal_strength", 5.0),
        ("pulse_rate", 72.0),
        ("spo2", 97.0),
    ]
    assert all(r["flags"] == ["pulse_beep"] for r in out)
