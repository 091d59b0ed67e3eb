"""Every BLE protocol end to end: bumble peripheral -> bleak (bumble backend) -> parser ->
IngestHub, with the values checked against what the emulator sent and the patient model."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

from ble_helpers import Recorder, wait_until

from kapdesk.acquisition.ble.bumble_backend import BumbleBackend
from kapdesk.acquisition.ble.loop_thread import AsyncioLoopThread
from kapdesk.acquisition.ble.transport import BleMonitorConnection
from kapdesk.acquisition.catalog import DeviceProfile, profile_for_protocol
from kapdesk.acquisition.ingest import LinkState
from kapdesk.domain.clock import SessionClock
from kapdesk.sim.emulators.ble_peripherals import (
    BloodPressureCuff,
    EmulatedBleWorld,
    HeartRateStrap,
    PulseOximeter,
)
from kapdesk.sim.patient_model import EmulatedPatient

StartWorld = Callable[..., tuple[EmulatedBleWorld, BumbleBackend]]


def fast(protocol: str, interval_s: float) -> DeviceProfile:
    """The catalog profile for ``protocol``, with a short reading interval for tests."""
    return dataclasses.replace(profile_for_protocol(protocol), reading_interval_s=interval_s)


def test_heart_rate_strap(
    start_world: StartWorld,
    loop_thread: AsyncioLoopThread,
    patient: EmulatedPatient,
    clock: SessionClock,
    recorder: Recorder,
) -> None:
    # The patient runs 10x faster than real time, as in demo mode at --speed 10: one frame
    # per 0.5 session seconds is 20 per real second, and beats come often enough for RR.
    fast_session = SessionClock(time.monotonic, time.time, speed=10.0)
    strap = HeartRateStrap(patient=patient, session_time=fast_session.elapsed, interval_s=0.5)
    _, backend = start_world(strap)
    conn = BleMonitorConnection(
        fast("ble-heart-rate", 0.05),
        recorder.hub,
        clock.now,
        loop_thread=loop_thread,
        backend=backend,
        device_name="strap-1",
    )
    t_before = clock.now()
    conn.start()
    wait_until(lambda: len(recorder.channel("heart_rate")) >= 8, what="8 heart rates")
    conn.stop()
    t_after = clock.now()

    sent = [f for f in strap.sent if f.characteristic == "2a37"]
    hr = recorder.channel("heart_rate")
    # Every frame sent while subscribed arrived once, in order, with the sent value,
    # and that value is the patient's heart rate at the moment it was sent.
    assert [r.value for r in hr] == [f.values["heart_rate"] for f in sent][: len(hr)]
    for frame in sent[: len(hr)]:
        assert frame.values["heart_rate"] == round(patient.heart_rate(frame.t))
    assert all(r.device == "strap-1" and r.unit == "/min" for r in hr)
    assert all(t_before <= r.t <= t_after for r in hr)
    assert all("contact_detected" in r.flags for r in hr)
    # RR intervals: what the strap measured from the patient's beats, at 1/1024 s.
    rr_sent = [rr for f in sent[: len(hr)] for rr in f.values["rr_s"]]
    rr_got = [r.value for r in recorder.channel("rr_interval")]
    assert len(rr_got) == len(rr_sent) > 0
    assert all(abs(a - b) <= 0.5 / 1024 + 1e-9 for a, b in zip(rr_got, rr_sent, strict=True))
    # Link status: connecting, connected (with battery and channels), disconnected on stop.
    assert recorder.states() == [LinkState.CONNECTING, LinkState.CONNECTED, LinkState.DISCONNECTED]
    connected = recorder.last_status(LinkState.CONNECTED)
    assert connected.battery_percent == 87 and "heart_rate" in connected.channels
    assert recorder.hub.counters.malformed_frames == 0


def test_blood_pressure_cuff_measurement_cycle(
    start_world: StartWorld,
    loop_thread: AsyncioLoopThread,
    patient: EmulatedPatient,
    clock: SessionClock,
    recorder: Recorder,
) -> None:
    cuff = BloodPressureCuff(
        patient=patient,
        session_time=clock.elapsed,
        first_measurement_s=0.3,
        measurement_interval_s=0.8,
        inflate_s=0.15,
        deflate_s=0.25,
        cuff_step_s=0.04,
        device_clock=lambda t: clock_start_naive(clock, t),
    )
    _, backend = start_world(cuff)
    conn = BleMonitorConnection(
        profile_for_protocol("ble-blood-pressure"),
        recorder.hub,
        clock.now,
        loop_thread=loop_thread,
        backend=backend,
        device_name="cuff-1",
    )
    conn.start()
    wait_until(lambda: len(recorder.channel("nibp_systolic")) >= 2, 6, "two measurements")
    conn.stop()

    measurements = [f for f in cuff.sent if f.characteristic == "2a35"]
    systolic = recorder.channel("nibp_systolic")
    diastolic = recorder.channel("nibp_diastolic")
    mean = recorder.channel("nibp_mean")
    pulse = recorder.channel("pulse_rate")
    for i, frame in enumerate(measurements[: len(systolic)]):
        expected = patient.blood_pressure(frame.values["measured_at"])
        assert (systolic[i].value, diastolic[i].value, mean[i].value) == expected
        assert pulse[i].value == round(patient.heart_rate(frame.values["measured_at"]))
        assert systolic[i].unit == "mm[Hg]" and systolic[i].device == "cuff-1"
        assert systolic[i].device_time is not None  # the cuff's own timestamp
    # Intermediate cuff pressure: inflation rises above systolic, deflation falls below it.
    pressures = [r.value for r in recorder.channel("cuff_pressure")]
    sent_pressures = [f.values["cuff_pressure"] for f in cuff.sent if f.characteristic == "2a36"]
    assert pressures == sent_pressures[: len(pressures)]
    assert max(pressures) > systolic[0].value
    assert min(pressures[1:]) < systolic[0].value


def clock_start_naive(clock: SessionClock, t: float):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.fromtimestamp(clock.to_epoch(t), UTC).replace(tzinfo=None)


def test_pulse_oximeter_continuous_and_spot_check(
    start_world: StartWorld,
    loop_thread: AsyncioLoopThread,
    patient: EmulatedPatient,
    clock: SessionClock,
    recorder: Recorder,
) -> None:
    oximeter = PulseOximeter(
        patient=patient, session_time=clock.elapsed, interval_s=0.05, spot_interval_s=0.3
    )
    _, backend = start_world(oximeter)
    conn = BleMonitorConnection(
        fast("ble-plx-continuous", 0.05),
        recorder.hub,
        clock.now,
        loop_thread=loop_thread,
        backend=backend,
    )
    conn.start()
    wait_until(
        lambda: len(oximeter.sent) >= 12 and any(f.characteristic == "2a5e" for f in oximeter.sent),
        what="continuous and spot frames",
    )
    time.sleep(0.1)  # the last frames in flight
    conn.stop()

    sent = [f for f in oximeter.sent if not f.malformed]
    spo2 = recorder.channel("spo2")
    assert len(spo2) >= len(sent) - 2  # all but at most the frames in flight at stop
    for reading, frame in zip(spo2, sent, strict=False):
        assert reading.value == frame.values["spo2"] == round(patient.spo2(frame.t))
        assert "validated" in reading.flags
    pulse = recorder.channel("pulse_rate")
    assert [r.value for r in pulse] == [f.values["pulse_rate"] for f in sent][: len(pulse)]
    assert sum(f.characteristic == "2a5e" for f in sent) >= 1  # spot-checks were indicated
    assert all(r.device == "Generic BLE pulse oximeter" for r in spo2)
    assert not any(math.isnan(r.value) for r in spo2)


def test_three_monitors_at_once_share_one_central(
    start_world: StartWorld,
    loop_thread: AsyncioLoopThread,
    patient: EmulatedPatient,
    clock: SessionClock,
    recorder: Recorder,
) -> None:
    kw = {"patient": patient, "session_time": clock.elapsed}
    world, backend = start_world(
        HeartRateStrap(interval_s=0.05, **kw),
        BloodPressureCuff(
            first_measurement_s=0.2, measurement_interval_s=0.5, inflate_s=0.1, deflate_s=0.1, **kw
        ),
        PulseOximeter(interval_s=0.05, **kw),
    )
    connections = [
        BleMonitorConnection(
            profile_for_protocol(protocol),
            recorder.hub,
            clock.now,
            loop_thread=loop_thread,
            backend=backend,
        )
        for protocol in ("ble-heart-rate", "ble-blood-pressure", "ble-plx-continuous")
    ]
    for c in connections:
        c.start()
    wanted = ("heart_rate", "nibp_systolic", "spo2")
    wait_until(lambda: all(recorder.channel(ch) for ch in wanted), 6, "all three monitors")
    for c in connections:
        c.stop()
    assert all(p.connections_accepted == 1 for p in world.peripherals)
    assert {r.device for r in recorder.readings} == {c.device_name for c in connections}
