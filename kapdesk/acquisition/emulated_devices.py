"""Demo mode's monitors, read through the same transports real monitors use.

A BLE heart-rate strap and a BLE blood-pressure cuff are bumble GATT peripherals that the
real bleak code path reaches through the bumble backend; a CONTEC CMS50D+ pulse oximeter
writes its real serial frames on a pty that pyserial reads. All three describe one
emulated patient on the session clock, so ``--speed`` speeds them up together.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from devices.emulators.ble_peripherals import BloodPressureCuff, EmulatedBleWorld, HeartRateStrap
from devices.emulators.serial_pty import PtySerialEmulator
from devices.patient_model import EmulatedPatient
from kapdesk.acquisition.ble.loop_thread import AsyncioLoopThread
from kapdesk.acquisition.ble.transport import BleMonitorConnection
from kapdesk.acquisition.catalog import profile_for_protocol
from kapdesk.acquisition.ingest import IngestHub
from kapdesk.acquisition.serial_transport import SerialMonitorConnection
from kapdesk.domain.clock import SessionClock

log = logging.getLogger(__name__)

NIBP_INTERVAL_S = 5 * 60.0
FIRST_NIBP_S = 30.0


class EmulatedDevices:
    """Starts the emulators and the connections to them; stops them in order."""

    def __init__(self, patient: EmulatedPatient, hub: IngestHub, clock: SessionClock) -> None:
        self.patient = patient
        self.hub = hub
        self.clock = clock
        self.ble_loop: AsyncioLoopThread | None = None
        self.world: EmulatedBleWorld | None = None
        self.oximeter: PtySerialEmulator | None = None
        self.connections: list[BleMonitorConnection | SerialMonitorConnection] = []

    def start(self) -> EmulatedDevices:
        clock, patient = self.clock, self.patient
        self.ble_loop = AsyncioLoopThread("kapdesk-ble").start()
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
        backend = self.world.start_in(self.ble_loop)
        for protocol, name in (
            ("ble-heart-rate", "Heart-rate strap (emulated)"),
            ("ble-blood-pressure", "Blood-pressure cuff (emulated)"),
        ):
            conn = BleMonitorConnection(
                profile_for_protocol(protocol),
                self.hub,
                clock.now,
                loop_thread=self.ble_loop,
                backend=backend,
                device_name=name,
            )
            self.connections.append(conn)
        self.oximeter = PtySerialEmulator("cms50d", patient, clock.elapsed).start()
        self.connections.append(
            SerialMonitorConnection(
                self.oximeter.port,
                profile_for_protocol("cms50d"),
                self.hub,
                clock.now,
                device_name="Pulse oximeter CMS50D+ (emulated)",
            )
        )
        for conn in self.connections:
            conn.start()
        return self

    def stop(self) -> None:
        for conn in self.connections:
            conn.stop()
        self.connections.clear()
        if self.oximeter is not None:
            self.oximeter.stop()
        if self.world is not None and self.ble_loop is not None:
            try:
                self.world.stop_in(self.ble_loop)
            except Exception:  # shutting down: log, never block the exit
                log.exception("stopping the emulated BLE world failed")
        if self.ble_loop is not None:
            self.ble_loop.stop()
