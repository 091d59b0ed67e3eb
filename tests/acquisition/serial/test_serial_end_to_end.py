"""Every serial protocol end to end: pty emulator -> pyserial reader thread -> the
protocol's parser -> IngestHub, with the readings checked against the emulated patient.

The emulators' session clock is held still (and moved by hand), so every frame carries
known values and the assertions are exact, not "somewhere in range".
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from serial_test_support import HubRecorder, wait_until

from kapdesk.acquisition.catalog import DeviceProfile, profile_for_protocol
from kapdesk.acquisition.ingest import IngestHub, LinkState
from kapdesk.acquisition.serial_transport import SerialMonitorConnection
from kapdesk.domain.readings import SENSOR_OFF, Reading
from kapdesk.sim.emulators.serial_pty import PtySerialEmulator
from kapdesk.sim.patient_model import EmulatedPatient

STREAMING = ["cms50d", "nonin-df2"]
PLETH_SCALE = {"cms50d": 127, "nonin-df2": 255}
T_BASELINE = 700.0  # just after the dose
T_LATER = 2400.0  # heart rate up, SpO2 down a little


class HeldClock:
    """Session time that stays where a test puts it."""

    def __init__(self, t: float) -> None:
        self.t = t
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.t

    def set(self, t: float) -> None:
        with self._lock:
            self.t = t


@dataclasses.dataclass
class Rig:
    patient: EmulatedPatient
    clock: HeldClock
    emulator: PtySerialEmulator
    connection: SerialMonitorConnection
    hub: IngestHub
    rec: HubRecorder

    def expected(self, channel: str, t: float | None = None) -> float:
        t = self.clock.t if t is None else t
        p = self.patient
        if channel == "pulse_rate" or channel == "heart_rate":
            return round(p.heart_rate(t))
        if channel == "spo2":
            spo2 = round(p.spo2(t), 2) if self.emulator.protocol == "datex-s5" else round(p.spo2(t))
            return spo2
        raise KeyError(channel)

    def values(self, channel: str, after: float = 0.0) -> list[Reading]:
        return [r for t, r in self.rec.readings if r.channel == channel and t > after]


def profile_for(protocol: str) -> DeviceProfile:
    # These tests look at every frame the device sends; the profile's de-duplication of
    # repeated trend values is tested on its own below.
    profile = dataclasses.replace(profile_for_protocol(protocol), trend_repeat_s=None)
    if protocol == "datex-s5":  # ask for a record every second, not every 10
        profile = dataclasses.replace(profile, reading_interval_s=1.0)
    return profile


@pytest.fixture
def rig_factory(tmp_path: Path) -> Iterator:
    rigs: list[Rig] = []

    def make(protocol: str, **conn_kw: float) -> Rig:
        patient = EmulatedPatient()
        clock = HeldClock(T_BASELINE)
        emulator = PtySerialEmulator(protocol, patient, clock, str(tmp_path / f"tty-{protocol}"))
        hub = IngestHub()
        rec = HubRecorder(hub)
        conn = SerialMonitorConnection(
            emulator.port, profile_for(protocol), hub, clock, "oximeter", **conn_kw
        )
        rig = Rig(patient, clock, emulator, conn, hub, rec)
        rigs.append(rig)
        emulator.start()
        conn.start()
        return rig

    yield make
    for rig in rigs:
        rig.connection.stop()
        rig.emulator.stop()


@pytest.mark.parametrize("protocol", STREAMING)
def test_readings_follow_the_emulated_patient(rig_factory, protocol: str) -> None:
    rig = rig_factory(protocol)
    rig.rec.wait_readings("spo2", 2)
    pulse = rig.rec.wait_readings("pulse_rate", 2)
    spo2 = rig.values("spo2")
    assert {r.value for r in pulse} == {rig.expected("pulse_rate")} == {72}
    assert {r.value for r in spo2} == {rig.expected("spo2")} == {99}
    assert all(r.device == "oximeter" and r.t == T_BASELINE for r in pulse + spo2)
    assert all(not r.flags for r in pulse + spo2)
    scale = PLETH_SCALE[protocol]
    window = [T_BASELINE + k / 75 for k in range(25)]  # Nonin samples a packet's span
    allowed = {round(rig.patient.pleth(t) * scale) for t in window}
    pleth = {r.value for r in rig.values("pleth")}
    assert pleth and pleth <= allowed

    rig.clock.set(T_LATER)  # the session moves on: the values follow
    mark = time.monotonic()
    rig.rec.wait_for(
        "the later pulse rate",
        lambda: any(r.value == 79 for r in rig.values("pulse_rate", mark)),
    )
    assert rig.expected("pulse_rate") == 79
    later = rig.rec.wait_readings("spo2", 1, after=time.monotonic())
    assert later[0].value == rig.expected("spo2") == 97
    assert rig.connection.state is LinkState.CONNECTED
    assert rig.hub.counters.malformed_frames == 0


@pytest.mark.parametrize("protocol", STREAMING)
def test_finger_out_sends_flags_and_no_values(rig_factory, protocol: str) -> None:
    rig = rig_factory(protocol)
    rig.rec.wait_readings("spo2", 1)
    rig.emulator.set_finger_out(True)
    rig.rec.wait_for(
        "a sensor-off pleth sample",
        lambda: any(SENSOR_OFF in r.flags for r in rig.values("pleth")),
    )
    since = next(t for t, r in rig.rec.readings if SENSOR_OFF in r.flags)
    time.sleep(0.5)
    assert rig.values("spo2", since) == [] and rig.values("pulse_rate", since) == []
    assert all(SENSOR_OFF in r.flags for r in rig.values("pleth", since))
    assert rig.connection.state is LinkState.CONNECTED  # probe off is not a lost link
    rig.emulator.set_finger_out(False)
    back = rig.rec.wait_readings("spo2", 1, after=time.monotonic())
    assert back[0].value == rig.expected("spo2")


@pytest.mark.parametrize("protocol", [*STREAMING, "datex-s5"])
def test_garbage_and_bad_checksums_are_counted_and_dropped(rig_factory, protocol: str) -> None:
    rig = rig_factory(protocol)
    rig.rec.wait_readings("spo2", 1, timeout=5)
    hub = rig.hub
    assert hub.counters.malformed_frames == 0

    rig.emulator.inject_garbage(40)
    wait_until("garbage counted", lambda: hub.counters.malformed_frames >= 1)
    after_garbage = hub.counters.malformed_frames
    rig.rec.wait_readings("spo2", 1, after=time.monotonic(), timeout=5)  # the stream goes on

    rig.emulator.corrupt_checksums(1)
    wait_until("bad frame counted", lambda: hub.counters.malformed_frames > after_garbage)
    resumed = rig.rec.wait_readings("spo2", 1, after=time.monotonic(), timeout=5)

    assert rig.emulator.frames_corrupted == 1
    assert rig.emulator.garbage_bytes_sent == 40
    assert hub.counters.per_device_malformed["oximeter"] == hub.counters.malformed_frames
    assert rig.connection.counters.malformed_frames == hub.counters.malformed_frames
    # nothing bogus got through: every value is the patient's
    assert resumed[0].value == rig.expected("spo2")
    assert {r.value for r in rig.values("spo2")} == {rig.expected("spo2")}
    rate = "heart_rate" if protocol == "datex-s5" else "pulse_rate"
    assert {r.value for r in rig.values(rate)} == {rig.expected(rate)}


def test_datex_monitor_speaks_only_when_asked(rig_factory, tmp_path: Path) -> None:
    patient = EmulatedPatient()
    alone = PtySerialEmulator("datex-s5", patient, HeldClock(T_BASELINE), str(tmp_path / "s5"))
    with alone:
        time.sleep(0.3)
        assert alone.frames_sent == 0  # no request, no records

    rig = rig_factory("datex-s5")
    got = rig.rec.wait_readings("nibp_systolic", 1, timeout=5)
    t = T_BASELINE
    s, d, m = patient.blood_pressure(t - t % 300)
    by_channel = {r.channel: r.value for _, r in rig.rec.readings}
    assert got[0].value == s
    assert (by_channel["nibp_diastolic"], by_channel["nibp_mean"]) == (d, m)
    assert by_channel["heart_rate"] == rig.expected("heart_rate")
    assert by_channel["spo2"] == pytest.approx(rig.expected("spo2"))
    assert rig.emulator.framer.period() == 1.0  # the interval the transport asked for


@pytest.mark.parametrize("protocol", STREAMING)
def test_pulled_cable_disconnects_leaves_a_gap_and_resumes(rig_factory, protocol: str) -> None:
    rig = rig_factory(protocol)
    rig.rec.wait_readings("spo2", 1)
    mark = len(rig.rec.statuses)
    pulled_at = time.monotonic()
    rig.emulator.pull_cable(1.0)
    lost_at = rig.rec.wait_state(LinkState.DISCONNECTED, after=mark, timeout=2)
    resumed = rig.rec.wait_readings("spo2", 1, after=pulled_at + 0.5, timeout=8)

    assert lost_at - pulled_at < 0.5  # the hang-up is seen at once
    arrivals = [t for t, _ in rig.rec.readings]
    gap = max(b - a for a, b in itertools.pairwise(arrivals))
    assert gap >= 0.9  # nothing arrived while the cable was out
    assert resumed[0].value == rig.expected("spo2")
    states = [s.state for _, s in rig.rec.statuses[mark:]]
    assert states[:3] == [LinkState.DISCONNECTED, LinkState.CONNECTING, LinkState.CONNECTED]
    assert rig.connection.counters.disconnects == 1
    assert rig.connection.counters.connections == 2
    assert rig.emulator.ptys_opened == 2


@pytest.mark.parametrize("protocol", STREAMING)
def test_a_silent_device_shows_no_data_in_time(rig_factory, protocol: str) -> None:
    rig = rig_factory(protocol)
    rig.rec.wait_readings("spo2", 1)
    mark = len(rig.rec.statuses)
    rig.emulator.go_silent(1.5)
    no_data_at = rig.rec.wait_state(LinkState.NO_DATA, after=mark, timeout=3)
    last_before = max(t for t, _ in rig.rec.readings if t < no_data_at)
    limit = rig.connection.no_data_after_s
    assert limit == max(0.5, 2 * profile_for(protocol).reading_interval_s)
    assert limit <= no_data_at - last_before < limit + 0.4  # + a read timeout and slack
    rig.rec.wait_state(LinkState.CONNECTED, after=mark + 1, timeout=3)
    assert rig.connection.counters.disconnects == 0  # silence is not a lost link


def test_a_restarted_datex_monitor_is_asked_again(rig_factory) -> None:
    rig = rig_factory("datex-s5")
    rig.rec.wait_readings("spo2", 1, timeout=5)
    mark = len(rig.rec.statuses)
    rig.emulator.restart_device()  # it forgets the request and goes quiet
    rig.rec.wait_state(LinkState.NO_DATA, after=mark, timeout=5)
    resumed = rig.rec.wait_readings("spo2", 1, after=time.monotonic(), timeout=5)
    assert resumed[0].value == pytest.approx(rig.expected("spo2"))
    assert rig.connection.counters.connections == 1  # asked again on the open port


def test_the_link_never_replaces_a_real_file(tmp_path: Path) -> None:
    precious = tmp_path / "notes.txt"
    precious.write_text("keep me")
    with pytest.raises(FileExistsError):
        PtySerialEmulator("cms50d", EmulatedPatient(), HeldClock(0.0), str(precious))
    assert precious.read_text() == "keep me"
