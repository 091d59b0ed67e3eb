"""``kapdesk emulate``: the technician's emulator, run as the real command."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import serial

from kapdesk.acquisition.parsers.cms50d import Decoder
from kapdesk.cli import main
from kapdesk.sim.patient_model import EmulatedPatient


def test_emulate_prints_the_port_and_streams_the_patient(tmp_path: Path) -> None:
    link = tmp_path / "ttyOXI"
    cmd = [sys.executable, "-m", "kapdesk", "emulate", "cms50d", "--link", str(link)]
    cmd += ["--seconds", "6", "--start-at", "700"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            info = json.loads(proc.stdout.readline())
            assert info["protocol"] == "cms50d"
            assert info["port"] == str(link)
            assert Path(info["pty"]).resolve() == link.resolve()
            decoder = Decoder()
            readings = []
            with serial.serial_for_url(info["port"], baudrate=19200, parity="O", timeout=0.1) as s:
                deadline = time.monotonic() + 1.0
                while time.monotonic() < deadline:
                    readings += decoder.feed(s.read(s.in_waiting or 1))
            proc.terminate()  # SIGTERM ends it cleanly: exit 0, link removed
            assert proc.wait(5) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    patient = EmulatedPatient()
    span = [700 + k / 1000 for k in range(8000)]  # every moment the run can cover (1 ms)
    rates = {round(patient.heart_rate(t)) for t in span}
    pulse = [r.value for r in readings if r.channel == "pulse_rate"]
    assert len(pulse) >= 30  # ~60 frames/s for a second
    assert set(pulse) <= rates
    assert decoder.malformed == 0
    assert not link.exists()


def test_emulate_refuses_an_unknown_protocol(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulate", "no-such-monitor"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "no-such-monitor" in err and "cms50d" in err
