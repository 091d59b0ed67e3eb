"""Emulated BLE monitors: bumble GATT peripherals that describe the emulated patient.

Each peripheral is a full bumble device with its own controller on a shared
``bumble.link.LocalLink``: it advertises its service UUID under a readable name, offers
Device Information and Battery services, and sends real notifications/indications that
the app receives through bleak (with the bumble backend). Frames come from the protocol
encoders in ``kapdesk.sim.encoders``, values from ``EmulatedPatient`` at ``session_time()``,
so demo mode can run faster than real time.

Schedules are in session seconds: each peripheral polls ``session_time()`` every
``poll_s`` real seconds and sends what has become due (one frame per due slot, never a
burst to catch up after a pause). Faults can be injected while running: malformed frames,
sensor-off/contact flags, a dropped link (with or without a period of not advertising) and
silence. Everything here runs on the loop that runs the LocalLink.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from bumble import core, data_types
from bumble.core import AdvertisingData
from bumble.device import Device
from bumble.gatt import Characteristic, Service
from bumble.link import LocalLink
from bumble.profiles.battery_service import BatteryService
from bumble.profiles.device_information_service import DeviceInformationService

from kapdesk.acquisition.ble.bumble_backend import (
    BumbleBackend,
    BumbleCentral,
    bumble_backend,
    make_device,
)
from kapdesk.acquisition.ble.loop_thread import AsyncioLoopThread
from kapdesk.sim.encoders import ble_blood_pressure, ble_heart_rate, ble_plx
from kapdesk.sim.patient_model import EmulatedPatient

log = logging.getLogger(__name__)

SessionTime = Callable[[], float]

#: Frames that no parser of their protocol accepts: the flags promise fields that are
#: missing (devices.md: such a frame "must be rejected, not guessed").
MALFORMED_FRAMES: dict[str, bytes] = {
    "2a37": bytes([0x11, 0x48]),  # uint16 HR and RR promised, one byte follows
    "2a35": bytes([0x02, 0x8C, 0x00]),  # timestamp promised, pressures cut short
    "2a36": bytes([0x00, 0x8C]),  # half an SFLOAT
    "2a5e": bytes([0x01, 0x62, 0x00]),  # timestamp promised, PR missing
    "2a5f": bytes([0x00, 0x62]),  # half an SFLOAT
}


@dataclass(frozen=True, slots=True)
class SentFrame:
    """A frame a peripheral sent, with the values it encoded (for tests and logs)."""

    t: float  # session seconds
    characteristic: str  # 16-bit UUID, lower-case hex ("2a37")
    data: bytes
    values: dict[str, Any] = field(default_factory=dict)
    malformed: bool = False


class EmulatedPeripheral:
    """Common machinery: bumble device, advertising, DIS and battery, schedule, faults."""

    service_uuid: ClassVar[str]
    model: ClassVar[str]

    def __init__(
        self,
        *,
        name: str,
        address: str,
        patient: EmulatedPatient,
        session_time: SessionTime,
        battery_percent: int = 87,
        poll_s: float = 0.02,
        advertising_interval_ms: float = 40.0,
    ) -> None:
        self.name = name
        self.address = address
        self.patient = patient
        self.session_time = session_time
        self.battery_percent = battery_percent
        self.poll_s = poll_s
        self.advertising_interval_ms = advertising_interval_ms
        self.device: Device | None = None
        self.sent: deque[SentFrame] = deque(maxlen=10_000)
        self.connections_accepted = 0
        # Faults, read on every tick; plain attributes so tests may set them from any thread.
        self.silent = False
        self.sensor_off = False
        self.refuse_connections = 0  # drop this many new connections right away
        self._malformed_pending: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._characteristics: dict[str, Characteristic[bytes]] = {}

    # -- GATT -------------------------------------------------------------------------------

    def measurement_characteristics(self) -> list[Characteristic[bytes]]:
        raise NotImplementedError

    def extra_characteristics(self) -> list[Characteristic[bytes]]:
        return []

    def _characteristic(self, uuid16: str, properties: int) -> Characteristic[bytes]:
        char: Characteristic[bytes] = Characteristic(
            uuid16, Characteristic.Properties(properties), Characteristic.READABLE, b""
        )
        self._characteristics[uuid16.lower()] = char
        return char

    def _services(self) -> list[Service]:
        main = Service(
            self.service_uuid, [*self.measurement_characteristics(), *self.extra_characteristics()]
        )
        info = DeviceInformationService(
            manufacturer_name="kapdesk emulator",
            model_number=self.model,
            serial_number=self.address.replace(":", ""),
            firmware_revision="1.0",
        )
        battery = BatteryService(read_battery_level=lambda _connection: self.battery_percent)
        return [main, info, battery]

    def advertising_data(self) -> bytes:
        return bytes(
            AdvertisingData(
                [
                    data_types.Flags(
                        AdvertisingData.Flags.LE_GENERAL_DISCOVERABLE_MODE
                        | AdvertisingData.Flags.BR_EDR_NOT_SUPPORTED
                    ),
                    data_types.CompleteLocalName(self.name),
                    data_types.CompleteListOf16BitServiceUUIDs([core.UUID(self.service_uuid)]),
                ]
            )
        )

    # -- life cycle -------------------------------------------------------------------------

    async def attach(self, link: LocalLink) -> None:
        """Power on on ``link``, advertise, and start the measurement schedule."""
        device = make_device(link, self.address, self.name)
        for service in self._services():
            device.add_service(service)
        device.advertising_data = self.advertising_data()
        device.scan_response_data = b""
        device.on(Device.EVENT_CONNECTION, self._on_connection)
        self.device = device
        await device.power_on()
        await self.start_advertising()
        self._task = asyncio.create_task(self._run(), name=f"emulated {self.name}")

    async def detach(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.device is not None:
            await self._disconnect_all()
            await self.device.power_off()
            self.device = None

    def _on_connection(self, connection: Any) -> None:
        self.connections_accepted += 1
        if self.refuse_connections > 0:  # a flapping device: gone before discovery ends
            self.refuse_connections -= 1
            task = asyncio.create_task(self._drop(connection))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _drop(self, connection: Any) -> None:
        await asyncio.sleep(0)
        with contextlib.suppress(core.BaseBumbleError):
            await connection.disconnect()

    async def start_advertising(self) -> None:
        assert self.device is not None
        await self.device.start_advertising(
            auto_restart=True,
            advertising_interval_min=self.advertising_interval_ms,
            advertising_interval_max=self.advertising_interval_ms,
        )

    async def _disconnect_all(self) -> None:
        assert self.device is not None
        for connection in list(self.device.connections.values()):
            with contextlib.suppress(core.BaseBumbleError):
                await connection.disconnect()

    def has_subscriber(self, char: Characteristic[bytes]) -> bool:
        """Whether a connected client enabled notifications or indications (its CCCD)."""
        if self.device is None:
            return False
        return any(
            int.from_bytes(cccds.get(char.handle, b"\0\0"), "little") & 0x03
            for cccds in self.device.gatt_server.subscribers.values()
        )

    @property
    def is_connected(self) -> bool:
        return self.device is not None and bool(self.device.connections)

    # -- faults -----------------------------------------------------------------------------

    def inject_malformed(self, characteristic: str, count: int = 1) -> None:
        """Send the next ``count`` frames of ``characteristic`` ("2a37"...) malformed."""
        key = characteristic.lower()
        if key not in MALFORMED_FRAMES:
            raise ValueError(f"no malformed frame known for {characteristic!r}")
        self._malformed_pending[key] = self._malformed_pending.get(key, 0) + count

    async def drop_link(self, down_s: float = 0.0) -> None:
        """Disconnect (as when a strap slips out of range); stay unreachable for ``down_s``.

        With ``down_s`` 0 the peripheral advertises again at once and accepts the
        reconnection; otherwise it stops advertising for that many real seconds.
        """
        assert self.device is not None
        if down_s > 0:
            await self.device.stop_advertising()  # removes the set, so no auto-restart
        await self._disconnect_all()
        if down_s > 0:
            await asyncio.sleep(down_s)
            await self.start_advertising()

    # -- schedule ---------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            while True:
                await self.tick(self.session_time())
                await asyncio.sleep(self.poll_s)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("emulated peripheral %s stopped", self.name)
            raise

    async def tick(self, now: float) -> None:
        raise NotImplementedError

    async def send(
        self, uuid16: str, data: bytes, now: float, values: dict[str, Any] | None = None
    ) -> None:
        """Notify or indicate one frame (malformed instead, if injected) and log it in
        ``sent``; nothing is sent or logged while no client is subscribed."""
        key = uuid16.lower()
        char = self._characteristics[key]
        if self.silent or not self.has_subscriber(char):
            return
        malformed = self._malformed_pending.get(key, 0) > 0
        if malformed:
            self._malformed_pending[key] -= 1
            data = MALFORMED_FRAMES[key]
        assert self.device is not None
        try:
            if char.properties & Characteristic.Properties.INDICATE:
                await asyncio.wait_for(self.device.indicate_subscribers(char, data), 2.0)
            else:
                await self.device.notify_subscribers(char, data)
        except (core.BaseBumbleError, TimeoutError) as exc:  # link went down mid-send
            log.debug("%s: frame not delivered: %s", self.name, exc)
            return
        self.sent.append(SentFrame(now, key, data, {} if malformed else values or {}, malformed))


def _due(now: float, next_due: float, interval: float) -> tuple[bool, float]:
    """Whether a slot is due, and the next slot (skipping missed ones, never bursting)."""
    if now < next_due:
        return False, next_due
    return True, max(next_due + interval, now)


class HeartRateStrap(EmulatedPeripheral):
    """A chest strap: Heart Rate Measurement notifications with contact and RR intervals."""

    service_uuid = "180D"
    model = "KAP-HR1"

    def __init__(
        self,
        *,
        name: str = "KAP HR Strap",
        address: str = "C0:DE:00:00:00:01",
        interval_s: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, address=address, **kwargs)
        self.interval_s = interval_s
        self._next_due = -math.inf
        self._last_beat: float | None = None
        self._last_t: float | None = None

    def measurement_characteristics(self) -> list[Characteristic[bytes]]:
        return [self._characteristic("2A37", Characteristic.Properties.NOTIFY)]

    def extra_characteristics(self) -> list[Characteristic[bytes]]:
        location = self._characteristic("2A38", Characteristic.Properties.READ)
        location.value = bytes([1])  # chest
        return [location]

    def rr_intervals(self, now: float) -> list[float]:
        """RR intervals of the beats since the last frame (at most 8: one 23-byte ATT MTU)."""
        start = self._last_t if self._last_t is not None else max(0.0, now - self.interval_s)
        last = self._last_beat
        if last is not None and now - last > 5.0:
            last = None  # a long pause (contact lost): the rhythm starts afresh
        beats = self.patient.beat_times(start, now, after=last)
        if last is not None:
            beats = [last, *beats]
        rr = [b - a for a, b in itertools.pairwise(beats)]
        if beats:
            self._last_beat = beats[-1]
        self._last_t = now
        return rr[-8:]

    async def tick(self, now: float) -> None:
        due, self._next_due = _due(now, self._next_due, self.interval_s)
        if not due:
            return
        hr = round(self.patient.heart_rate(now))
        contact = not self.sensor_off
        rr = self.rr_intervals(now) if contact else []
        frame = ble_heart_rate.encode(hr, contact=contact, rr_s=rr)
        await self.send("2a37", frame, now, {"heart_rate": hr, "contact": contact, "rr_s": rr})


class BloodPressureCuff(EmulatedPeripheral):
    """An automatic cuff: every ``measurement_interval_s`` it inflates and deflates (cuff
    pressure notifications every ``cuff_step_s``), then indicates one measurement."""

    service_uuid = "1810"
    model = "KAP-BP1"

    def __init__(
        self,
        *,
        name: str = "KAP BP Cuff",
        address: str = "C0:DE:00:00:00:02",
        measurement_interval_s: float = 300.0,
        first_measurement_s: float = 5.0,
        inflate_s: float = 8.0,
        deflate_s: float = 20.0,
        cuff_step_s: float = 1.0,
        device_clock: Callable[[float], datetime] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, address=address, **kwargs)
        self.measurement_interval_s = measurement_interval_s
        self.inflate_s = inflate_s
        self.deflate_s = deflate_s
        self.cuff_step_s = cuff_step_s
        self.device_clock = device_clock
        self.body_movement = False
        self._next_start = first_measurement_s
        self._started: float | None = None
        self._next_step = -math.inf
        self._last_pressure = 0.0

    def measurement_characteristics(self) -> list[Characteristic[bytes]]:
        return [
            self._characteristic("2A35", Characteristic.Properties.INDICATE),
            self._characteristic("2A36", Characteristic.Properties.NOTIFY),
        ]

    def extra_characteristics(self) -> list[Characteristic[bytes]]:
        feature = self._characteristic("2A49", Characteristic.Properties.READ)
        feature.value = (0x0001).to_bytes(2, "little")  # body movement detection
        return [feature]

    def cuff_pressure(self, elapsed: float, systolic: float, diastolic: float) -> float:
        """Inflate linearly to 30 above systolic, then deflate linearly to below diastolic."""
        peak = systolic + 30
        if elapsed < self.inflate_s:
            return peak * elapsed / self.inflate_s
        floor = max(0.0, diastolic - 15)
        fraction = min(1.0, (elapsed - self.inflate_s) / self.deflate_s)
        return peak - (peak - floor) * fraction

    async def tick(self, now: float) -> None:
        if self._started is None:
            if now < self._next_start:
                return
            self._started = now
            self._next_start = max(self._next_start + self.measurement_interval_s, now)
            self._next_step = now
        started = self._started
        systolic, diastolic, mean = self.patient.blood_pressure(started)
        elapsed = now - started
        if elapsed >= self.inflate_s + self.deflate_s:
            self._started = None
            pulse = round(self.patient.heart_rate(started))
            status = ble_blood_pressure.BODY_MOVEMENT if self.body_movement else 0
            stamp = self.device_clock(started).replace(microsecond=0) if self.device_clock else None
            frame = ble_blood_pressure.encode(
                systolic, diastolic, mean, timestamp=stamp, pulse_rate=pulse, status=status
            )
            values = {
                "nibp_systolic": systolic,
                "nibp_diastolic": diastolic,
                "nibp_mean": mean,
                "pulse_rate": pulse,
                "measured_at": started,
            }
            await self.send("2a35", frame, now, values)
            return
        if now >= self._next_step:
            self._next_step = max(self._next_step + self.cuff_step_s, now)
            pressure = round(self.cuff_pressure(elapsed, systolic, diastolic))
            self._last_pressure = pressure
            frame = ble_blood_pressure.encode_cuff(pressure)
            await self.send("2a36", frame, now, {"cuff_pressure": pressure})


class PulseOximeter(EmulatedPeripheral):
    """A fingertip oximeter: PLX continuous notifications (1 Hz by default) and a
    spot-check indication every ``spot_interval_s`` (or on ``request_spot_check``)."""

    service_uuid = "1822"
    model = "KAP-OX1"

    def __init__(
        self,
        *,
        name: str = "KAP Oximeter",
        address: str = "C0:DE:00:00:00:03",
        interval_s: float = 1.0,
        spot_interval_s: float | None = 60.0,
        device_clock: Callable[[float], datetime] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, address=address, **kwargs)
        self.interval_s = interval_s
        self.spot_interval_s = spot_interval_s
        self.device_clock = device_clock
        self._next_due = -math.inf
        self._next_spot = spot_interval_s if spot_interval_s is not None else math.inf
        self._spot_requested = False

    def measurement_characteristics(self) -> list[Characteristic[bytes]]:
        return [
            self._characteristic("2A5E", Characteristic.Properties.INDICATE),
            self._characteristic("2A5F", Characteristic.Properties.NOTIFY),
        ]

    def extra_characteristics(self) -> list[Characteristic[bytes]]:
        features = self._characteristic("2A60", Characteristic.Properties.READ)
        features.value = (0x0003).to_bytes(2, "little")  # measurement + device status
        return [features]

    def request_spot_check(self) -> None:
        self._spot_requested = True

    def _status(self, now: float) -> tuple[int, int]:
        measurement = ble_plx.VALIDATED
        device = 0
        if self.patient.in_artefact(now):
            measurement |= ble_plx.QUESTIONABLE
        if self.sensor_off:
            measurement = ble_plx.INVALID
            device = ble_plx.SENSOR_DISCONNECTED
        return measurement, device

    async def tick(self, now: float) -> None:
        due, self._next_due = _due(now, self._next_due, self.interval_s)
        spo2 = round(self.patient.spo2(now))
        pulse = round(self.patient.heart_rate(now))
        measurement, device = self._status(now)
        values = {"spo2": spo2, "pulse_rate": pulse, "measurement_status": measurement}
        if due:
            frame = ble_plx.encode_continuous(
                spo2, pulse, measurement_status=measurement, device_status=device
            )
            await self.send("2a5f", frame, now, values)
        if self._spot_requested or now >= self._next_spot:
            self._spot_requested = False
            if self.spot_interval_s is not None and now >= self._next_spot:
                self._next_spot = max(self._next_spot + self.spot_interval_s, now)
            stamp = self.device_clock(now).replace(microsecond=0) if self.device_clock else None
            frame = ble_plx.encode_spot(
                spo2, pulse, timestamp=stamp, measurement_status=measurement, device_status=device
            )
            await self.send("2a5e", frame, now, values)


class EmulatedBleWorld:
    """One LocalLink with the chosen peripherals and the app's central on it.

    ``start()`` (a coroutine, on the BLE loop) returns the bleak backend to use;
    ``start_in(loop_thread)`` does the same from any other thread.
    """

    def __init__(self, peripherals: Sequence[EmulatedPeripheral]) -> None:
        self.peripherals = list(peripherals)
        self.link: LocalLink | None = None
        self.central: BumbleCentral | None = None
        self._backend: BumbleBackend | None = None

    @classmethod
    def standard(
        cls,
        patient: EmulatedPatient,
        session_time: SessionTime,
        *,
        session_start: datetime | None = None,
        nibp_interval_s: float = 300.0,
        first_nibp_s: float = 5.0,
        cuff_inflate_s: float = 8.0,
        cuff_deflate_s: float = 20.0,
        cuff_step_s: float = 1.0,
        spot_interval_s: float | None = 60.0,
    ) -> EmulatedBleWorld:
        """A strap, a cuff and an oximeter describing ``patient`` (demo mode's set)."""
        clock = None
        if session_start is not None:
            start = session_start

            def clock(t: float) -> datetime:
                return start + timedelta(seconds=t)

        return cls(
            [
                HeartRateStrap(patient=patient, session_time=session_time),
                BloodPressureCuff(
                    patient=patient,
                    session_time=session_time,
                    measurement_interval_s=nibp_interval_s,
                    first_measurement_s=first_nibp_s,
                    inflate_s=cuff_inflate_s,
                    deflate_s=cuff_deflate_s,
                    cuff_step_s=cuff_step_s,
                    device_clock=clock,
                ),
                PulseOximeter(
                    patient=patient,
                    session_time=session_time,
                    spot_interval_s=spot_interval_s,
                    device_clock=clock,
                ),
            ]
        )

    @property
    def backend(self) -> BumbleBackend:
        if self._backend is None:
            raise RuntimeError("the emulated BLE world is not started")
        return self._backend

    def peripheral(self, kind: type[EmulatedPeripheral]) -> EmulatedPeripheral:
        for p in self.peripherals:
            if isinstance(p, kind):
                return p
        raise LookupError(f"no {kind.__name__} in this world")

    async def start(self) -> BumbleBackend:
        self.link = LocalLink()  # type: ignore[no-untyped-call]
        self.central = BumbleCentral(self.link)
        await self.central.power_on()
        for p in self.peripherals:
            await p.attach(self.link)
        self._backend = bumble_backend(self.central)
        return self._backend

    async def stop(self) -> None:
        for p in self.peripherals:
            await p.detach()
        if self.central is not None:
            await self.central.power_off()
        self._backend = None

    def start_in(self, loop_thread: AsyncioLoopThread, timeout: float = 10.0) -> BumbleBackend:
        return loop_thread.run(self.start(), timeout)

    def stop_in(self, loop_thread: AsyncioLoopThread, timeout: float = 10.0) -> None:
        loop_thread.run(self.stop(), timeout)
