"""Faults on a live BLE link: malformed frames, a dropped link, silence, sensor off."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from ble_helpers import Recorder, wait_until

from kapdesk.acquisition.ble.bumble_backend import BumbleBackend
from kapdesk.acquisition.ble.loop_thread import AsyncioLoopThread
from kapdesk.acquisition.ble.transport import BleMonitorConnection
from kapdesk.acquisition.catalog import DeviceProfile, profile_for_protocol
from kapdesk.acquisition.ingest import LinkState
from kapdesk.domain.clock import SessionClock
from kapdesk.domain.readings import SENSOR_OFF
from kapdesk.sim.emulators.ble_peripherals import EmulatedBleWorld, HeartRateStrap, PulseOximeter
from kapdesk.sim.patient_model import EmulatedPatient

StartWorld = Callable[..., tuple[EmulatedBleWorld, BumbleBackend]]
INTERVAL_S = 0.05


def hr_profile() -> DeviceProfile:
    return dataclasses.replace(
        profile_for_protocol("ble-heart-rate"), reading_interval_s=INTERVAL_S * 2
    )


def connect(
    recorder: Recorder,
    loop_thread: AsyncioLoopThread,
    clock: SessionClock,
    backend: BumbleBackend,
    profile: DeviceProfile | None = None,
    **kwargs: object,
) -> BleMonitorConnection:
    conn = BleMonitorConnection(
        profile or hr_profile(),
        recorder.hub,
        clock.now,
        loop_thread=loop_thread,
        backend=backend,
        backoff_min_s=0.05,
        backoff_max_s=0.2,
        **kwargs,  # type: ignore[arg-type]
    )
    conn.start()
    return conn


def test_malformed_notifications_are_counted_not_passed_on(
    start_world: StartWorld,
    loop_thread: AsyncioLoopThread,
    patient: EmulatedPatient,
    clock: SessionClock,
    recorder: Recorder,
) -> None:
    strap = HeartRateStrap(patient=patient, session_time=clock.elapsed, interval_s=INTERVAL_S)
    _, backend = start_world(strap)
    conn = connect(recorder, loop_thread, clock, backend, device_name="strap")
    wait_until(lambda: len(recorder.channel("heart_rate")) >= 2)
    strap.inject_malformed("2a37", 3)
    wait_until(lambda: sum(f.malformed for f in strap.sent) == 3, what="3 malformed sent")
    wait_until(lambda: len(recorder.channel("heart_rate")) >= 6, what="stream continues")
    conn.stop()

    assert recorder.hub.counters.malformed_frames == 3
    assert recorder.hub.counters.per_device_malformed == {"strap": 3}
    assert conn.counters.malformed == 3
    good = [f.values["heart_rate"] for f in strap.sent if not f.malformed]
    got = [r.value for r in recorder.channel("heart_rate")]
    assert got == good[: len(got)]
    assert recorder.states().count(LinkState.DISCONNECTED) == 1  # only the final stop


def test_dropped_link_reconnects_resubscribes_and_resumes(
    start_world: StartWorld,
    loop_thread: AsyncioLoopThread,
    patient: EmulatedPatient,
    clock: SessionClock,
    recorder: Recorder,
) -> None:
    strap = HeartRateStrap(patient=patient, session_time=clock.elapsed, interval_s=INTERVAL_S)
    _, backend = start_world(strap)
    conn = connect(recorder, loop_thread, clock, backend)
    wait_until(lambda: len(recorder.channel("heart_rate")) >= 3)

    loop_thread.run(strap.drop_link(down_s=0.5))  # out of range for half a second
    wait_until(lambda: recorder.states().count(LinkState.CONNECTED) == 2, what="reconnection")
    count_at_reconnect = len(recorder.channel("heart_rate"))
    wait_until(lambda: len(recorder.channel("heart_rate")) >= count_at_reconnect + 3)
    conn.stop()

    states = recorder.states()
    assert states[:4] == [
        LinkState.CONNECTING,
        LinkState.CONNECTED,
        LinkState.DISCONNECTED,
        LinkState.CONNECTED,
    ]
    lost = next(s for s in recorder.statuses if s.state is LinkState.DISCONNECTED)
    back = [s for s in recorder.statuses if s.state is LinkState.CONNECTED][1]
    assert back.t - lost.t >= 0.4  # it really was gone for the down time
    gap = [r for r in recorder.readings if lost.t < r.t < back.t]
    assert gap == []  # nothing invented during the gap
    assert strap.connections_accepted == 2  # a new connection, re-discovered ...
    assert conn.counters.connections == 2
    after = [r for r in recorder.channel("heart_rate") if r.t > back.t]
    assert len(after) >= 3  # ... and re-subscribed: the stream resumed
    # The strap sends only to a subscriber, so frames sent on both connections are
    # exactly the readings received, in order: none lost, none duplicated.
    got = [r.value for r in recorder.channel("heart_rate")]
    assert got == [f.values["heart_rate"] for f in strap.sent][: len(got)]


def test_silence_reports_no_data_within_twice_the_interval_then_recovers(
    start_world: StartWorld,
    loop_thread: AsyncioLoopThread,
    patient: EmulatedPatient,
    clock: SessionClock,
    recorder: Recorder,
) -> None:
    strap = HeartRateStrap(patient=patient, session_time=clock.elapsed, interval_s=INTERVAL_S)
    _, backend = start_world(strap)
    profile = hr_profile()
    conn = connect(recorder, loop_thread, clock, backend, profile)
    wait_until(lambda: len(recorder.channel("heart_rate")) >= 2)
    strap.silent = True
    wait_until(lambda: LinkState.NO_DATA in recorder.states(), what="NO_DATA")
    no_data = recorder.last_status(LinkState.NO_DATA)
    count = len(recorder.channel("heart_rate"))
    strap.silent = False
    wait_until(lambda: recorder.states()[-1] is LinkState.CONNECTED, what="data resumed")
    wait_until(lambda: len(recorder.channel("heart_rate")) > count)
    conn.stop()

    # Declared after more than 2x the interval without a frame, and promptly (watchdog slack).
    last_before = max(r.t for r in recorder.readings if r.t < no_data.t)
    silence = no_data.t - last_before
    assert profile.no_data_after_s <= silence <= profile.no_data_after_s + 0.4
    assert recorder.states()[:4] == [
        LinkState.CONNECTING,
        LinkState.CONNECTED,
        LinkState.NO_DATA,
        LinkState.CONNECTED,
    ]
    assert strap.connections_accepted == 1  # silence is not a disconnection


def test_sensor_off_flags_reach_the_readings(
    start_world: StartWorld,
    loop_thread: AsyncioLoopThread,
    patient: EmulatedPatient,
    clock: SessionClock,
    recorder: Recorder,
) -> None:
    strap = HeartRateStrap(patient=patient, session_time=clock.elapsed, interval_s=INTERVAL_S)
    oximeter = PulseOximeter(patient=patient, session_time=clock.elapsed, interval_s=INTERVAL_S)
    _, backend = start_world(strap, oximeter)
    strap.sensor_off = oximeter.sensor_off = True
    conns = [
        connect(recorder, loop_thread, clock, backend),
        connect(recorder, loop_thread, clock, backend, profile_for_protocol("ble-plx-continuous")),
    ]
    wait_until(lambda: len(recorder.channel("heart_rate")) >= 2 and recorder.channel("spo2"))
    for c in conns:
        c.stop()
    assert all(SENSOR_OFF in r.flags for r in recorder.channel("heart_rate"))
    assert all({SENSOR_OFF, "invalid"} <= r.flags for r in recorder.channel("spo2"))


def test_absent_device_keeps_retrying_with_backoff_until_stopped(
    start_world: StartWorld,
    loop_thread: AsyncioLoopThread,
    patient: EmulatedPatient,
    clock: SessionClock,
    recorder: Recorder,
) -> None:
    _, backend = start_world(HeartRateStrap(patient=patient, session_time=clock.elapsed))
    conn = connect(
        recorder, loop_thread, clock, backend, address="C0:DE:00:00:00:99", scan_timeout_s=0.1
    )
    wait_until(lambda: conn.counters.failed_attempts >= 3, what="three failed attempts")
    started = time.monotonic()
    conn.stop()
    assert time.monotonic() - started < 1.0  # stop is prompt even while backing off
    assert recorder.states() == [LinkState.CONNECTING, LinkState.DISCONNECTED]
    assert "C0:DE:00:00:00:99 not found" in recorder.last_status(LinkState.DISCONNECTED).detail
    assert recorder.readings == []


def test_device_without_the_profiles_characteristic_is_refused(
    start_world: StartWorld,
    loop_thread: AsyncioLoopThread,
    patient: EmulatedPatient,
    clock: SessionClock,
    recorder: Recorder,
) -> None:
    oximeter = PulseOximeter(patient=patient, session_time=clock.elapsed)
    _, backend = start_world(oximeter)
    # A heart-rate profile pointed at the oximeter's address: connects, finds no 0x2A37.
    conn = connect(recorder, loop_thread, clock, backend, address=oximeter.address)
    wait_until(lambda: conn.counters.failed_attempts >= 1)
    conn.stop()
    assert LinkState.CONNECTED not in recorder.states()
    detail = next(s.detail for s in recorder.statuses if s.state is LinkState.DISCONNECTED)
    assert "lacks characteristic 00002a37" in detail


def test_flapping_device_that_drops_during_setup_is_retried(
    start_world: StartWorld,
    loop_thread: AsyncioLoopThread,
    patient: EmulatedPatient,
    clock: SessionClock,
    recorder: Recorder,
) -> None:
    strap = HeartRateStrap(patient=patient, session_time=clock.elapsed, interval_s=INTERVAL_S)
    strap.refuse_connections = 2  # the first two connections drop during discovery
    _, backend = start_world(strap)
    conn = connect(recorder, loop_thread, clock, backend)
    wait_until(lambda: len(recorder.channel("heart_rate")) >= 2, what="readings after flapping")
    conn.stop()
    assert strap.connections_accepted == 3
    assert conn.counters.failed_attempts == 2
    assert conn.counters.connections == 1
    assert recorder.states()[:2] == [LinkState.CONNECTING, LinkState.DISCONNECTED]
