"""Repeated trend values (CMS50D+ resends SpO2/PR 60 times a second) pass once a second;
changes pass at once; pleth always passes."""

from __future__ import annotations

import time

from kapdesk.acquisition.catalog import profile_for_protocol
from kapdesk.acquisition.ingest import IngestHub
from kapdesk.acquisition.serial_transport import SerialMonitorConnection
from kapdesk.acquisition.trend_filter import RepeatedTrendFilter
from kapdesk.domain.readings import SENSOR_OFF, Reading
from kapdesk.sim.emulators.serial_pty import PtySerialEmulator
from kapdesk.sim.patient_model import EmulatedPatient


def test_filter_passes_changes_at_once_and_repeats_once_per_period() -> None:
    f = RepeatedTrendFilter(1.0)
    r97 = Reading("spo2", 97, "%")
    assert f.passes(r97, 0.0)
    assert not f.passes(r97, 0.5)
    assert f.passes(Reading("spo2", 96, "%"), 0.6)  # a change passes at once
    assert f.passes(Reading("spo2", 96, "%", flags=frozenset({SENSOR_OFF})), 0.7)
    assert not f.passes(Reading("spo2", 96, "%", flags=frozenset({SENSOR_OFF})), 1.2)
    assert f.passes(Reading("spo2", 96, "%", flags=frozenset({SENSOR_OFF})), 1.8)
    assert all(f.passes(Reading("pleth", 40, "1"), 1.8) for _ in range(5))
    assert f.dropped == 2


def test_cms50d_profile_thins_repeats_through_the_real_transport() -> None:
    profile = profile_for_protocol("cms50d")
    assert profile.trend_repeat_s == 1.0
    patient = EmulatedPatient()
    emu = PtySerialEmulator("cms50d", patient, lambda: 1200.0).start()  # a still moment
    hub = IngestHub()
    got: list[Reading] = []
    hub.subscribe(got.append)
    conn = SerialMonitorConnection(emu.port, profile, hub, time.monotonic, "ox")
    conn.start()
    try:
        time.sleep(2.5)
    finally:
        conn.stop()
        emu.stop()
    pleth = [r for r in got if r.channel == "pleth"]
    spo2 = [r for r in got if r.channel == "spo2"]
    assert len(pleth) > 100  # the waveform keeps its ~60 Hz
    assert 2 <= len(spo2) <= 4  # ~1/s instead of ~150
    assert {r.value for r in spo2} == {round(patient.spo2(1200.0))}
