"""Demo mode's monitors, read through the same transports real monitors use.

A BLE heart-rate strap and a BLE blood-pressure cuff are bumble GATT peripherals that the
real bleak code path reaches through the bumble backend; a CONTEC CMS50D+ pulse oximeter
writes its real serial frames on a pty that pyserial reads. All three describe one
emulated patient on the session clock, so ``--speed`` speeds them up together. They are
registered with the device manager like any real monitor, so the devices panel shows and
controls them.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta

from kapdesk.acquisition.catalog import DeviceProfile, profile_for_protocol
from kapdesk.acquisition.device_manager import DeviceManager
from kapdesk.domain.clock import SessionClock
from kapdesk.sim.emulators.ble_peripherals import (
    BloodPressureCuff,
    EmulatedBleWorld,
    HeartRateStrap,
)
from kapdesk.sim.emulators.serial_pty import PtySerialEmulator
from kapdesk.sim.patient_model import EmulatedPatient

log = logging.getLogger(__name__)

NIBP_INTERVAL_S = 5 * 60.0
FIRST_NIBP_S = 30.0
STRAP = "Heart-rate strap (emulated)"
CUFF = "Blood-pressure cuff (emulated)"
OXIMETER = "Pulse oximeter CMS50D+ (emulated)"


def pty_profile(protocol: str) -> DeviceProfile:
    """The catalog profile with no parity: a pty cannot emulate parity (Linux drops PARENB
    on the first open and then refuses it with EINVAL on every reopen), and the emulator
    writes bytes, not line signals, so nothing else changes."""
    profile = profile_for_protocol(protocol)
    assert profile.serial is not None
    return dataclasses.replace(profile, serial=dataclasses.replace(profile.serial, parity="N"))


class EmulatedDevices:
    """Starts the emulators and connects the device manager to them; stops them in order."""

    def __init__(
        self, patient: EmulatedPatient, manager: DeviceManager, clock: SessionClock
    ) -> None:
        self.patient = patient
        self.manager = manager
        self.clock = clock
        self.world: EmulatedBleWorld | None = None
        self.oximeter: PtySerialEmulator | None = None

    def start(self) -> EmulatedDevices:
        clock, patient, manager = self.clock, self.patient, self.manager
        start = datetime.fromtimestamp(clock.anchor)  # the cuff's own (local) clock
        self.world = EmulatedBleWorld(
            [
                HeartRateStrap(patient=patient, session_time=clock.elapsed),
                BloodPressureCuff(
                    patient=patient,
                    session_time=clock.elapsed,
                    measurement_interval_s=NIBP_INTERVAL_S,
                    first_measurement_s=FIRST_NIBP_S,
                    device_clock=lambda t: start + timedelta(seconds=t),
                ),
            ]
        )
        manager.ble_backend = self.world.start_in(manager.ble_loop())
        manager.connect_ble(profile_for_protocol("ble-heart-rate"), name=STRAP, emulated=True)
        manager.connect_ble(profile_for_protocol("ble-blood-pressure"), name=CUFF, emulated=True)
        self.oximeter = PtySerialEmulator("cms50d", patient, clock.elapsed).start()
        manager.connect_serial(
            pty_profile("cms50d"), self.oximeter.port, name=OXIMETER, emulated=True
        )
        return self

    def stop(self) -> None:
        self.manager.stop_connections()
        if self.oximeter is not None:
            self.oximeter.stop()
        if self.world is not None:
            try:
                self.world.stop_in(self.manager.ble_loop())
            except Exception:  # shutting down: log, never block the exit
                log.exception("stopping the emulated BLE world failed")
