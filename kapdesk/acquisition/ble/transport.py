"""``BleMonitorConnection``: one BLE monitor, from scan to readings in the ingest hub.

scan (by address, or by the profile's service UUID) -> connect with the scanned
``BLEDevice`` -> discover -> subscribe to the profile's notify/indicate characteristics
-> parse every frame with the registry parser -> stamp with the session clock and the
device name -> ``IngestHub``. Malformed frames are counted and dropped. Link changes go
to the hub as ``DeviceStatus``; silence for longer than twice the profile's interval is
reported as NO_DATA (never as a zero value). When the link drops, the connection
re-scans, re-discovers and re-subscribes with capped exponential backoff until stopped.

All of it runs on the BLE loop thread (``AsyncioLoopThread``); ``start``/``stop`` may be
called from any other thread (the GUI).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.exc import BleakError

from kapdesk.acquisition.ble.loop_thread import AsyncioLoopThread
from kapdesk.acquisition.catalog import DeviceProfile, normalise_uuid
from kapdesk.acquisition.ingest import DeviceStatus, IngestHub, LinkState
from kapdesk.acquisition.parsers.errors import ParseError
from kapdesk.acquisition.parsers.registry import PROTOCOLS
from kapdesk.domain.readings import Reading

log = logging.getLogger(__name__)

BATTERY_LEVEL_UUID = normalise_uuid("2A19")
Clock = Callable[[], float]
FrameParser = Callable[[bytes], list[Reading]]


class BleConnectionError(RuntimeError):
    """The device cannot be used with this profile (a required characteristic is missing)."""


@dataclass
class BleCounters:
    frames: int = 0
    readings: int = 0
    malformed: int = 0
    connections: int = 0
    failed_attempts: int = 0


@dataclass(frozen=True, slots=True)
class BackendClasses:
    """The bleak backend to use: ``None`` for the platform's own (BlueZ, WinRT, ...)."""

    scanner: type[BaseBleakScanner] | None = None
    client: type[BaseBleakClient] | None = None


class BleMonitorConnection:
    """Keeps one BLE monitor connected and its readings flowing until ``stop()``."""

    def __init__(
        self,
        profile: DeviceProfile,
        hub: IngestHub,
        clock: Clock,
        *,
        loop_thread: AsyncioLoopThread,
        address: str | None = None,
        device_name: str | None = None,
        backend: object | None = None,
        protocols: Collection[str] | None = None,
        scan_timeout_s: float = 10.0,
        connect_timeout_s: float = 10.0,
        backoff_min_s: float = 0.5,
        backoff_max_s: float = 10.0,
        no_data_after_s: float | None = None,
    ) -> None:
        """``backend``: anything with ``scanner`` and ``client`` bleak backend classes
        (``BumbleBackend`` for the emulated world), or ``None`` for the real adapter.
        ``protocols``: subscribe only to characteristics of these protocols."""
        if profile.ble is None:
            raise ValueError(f"profile {profile.key!r} is not a BLE profile")
        self.profile = profile
        self._ble = profile.ble
        self._hub = hub
        self._clock = clock
        self._loop_thread = loop_thread
        self.address = address
        self.device_name = device_name or address or profile.name
        hub.set_ranges(self.device_name, dict(profile.ranges))
        self._backend = BackendClasses(
            getattr(backend, "scanner", None), getattr(backend, "client", None)
        )
        self._characteristics = [
            c for c in self._ble.characteristics if protocols is None or c.protocol in protocols
        ]
        if not self._characteristics:
            raise ValueError(f"profile {profile.key!r} has none of the protocols {protocols}")
        for c in self._characteristics:
            info = PROTOCOLS.get(c.protocol)
            if info is None or info.parse_frame is None:
                raise ValueError(f"protocol {c.protocol!r} has no packet parser")
        self._scan_timeout_s = scan_timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._backoff_min_s = backoff_min_s
        self._backoff_max_s = backoff_max_s
        self.no_data_after_s = no_data_after_s or profile.no_data_after_s
        self.counters = BleCounters()
        self.state: LinkState | None = None
        self.battery_percent: int | None = None
        self.last_reading_t: float | None = None
        self._last_frame_mono = 0.0
        self._task: asyncio.Task[None] | None = None

    # -- control (any thread) ---------------------------------------------------------------

    def start(self) -> None:
        """Begin scanning and connecting in the background; returns at once."""
        self._loop_thread.run(self.astart(), timeout=5.0)

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel, disconnect and wait until done; reports DISCONNECTED."""
        self._loop_thread.run(self.aclose(), timeout)

    async def astart(self) -> None:
        if self._task is not None:
            raise RuntimeError(f"{self.device_name}: already started")
        self._task = asyncio.create_task(self._keep_connected(), name=f"ble {self.device_name}")

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    # -- the reconnect loop (BLE loop thread) -----------------------------------------------

    async def _keep_connected(self) -> None:
        backoff = self._backoff_min_s
        self._set_state(LinkState.CONNECTING, "scanning")
        try:
            while True:
                delivered = False
                try:
                    delivered = await self._one_connection()
                    detail = "link lost"
                except (BleakError, TimeoutError, BleConnectionError) as exc:
                    detail = str(exc) or type(exc).__name__
                except OSError as exc:  # BlueZ/D-Bus absent or adapter removed
                    detail = f"Bluetooth adapter unavailable ({exc})"
                except Exception as exc:  # a backend bug must not end monitoring for good
                    log.exception("%s: unexpected error", self.device_name)
                    detail = f"{type(exc).__name__}: {exc}"
                if delivered:
                    backoff = self._backoff_min_s
                else:
                    self.counters.failed_attempts += 1
                self._set_state(LinkState.DISCONNECTED, detail)
                log.info("%s: %s; reconnecting in %.1f s", self.device_name, detail, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._backoff_max_s)
        finally:
            self._set_state(LinkState.DISCONNECTED, "stopped")

    async def _find_device(self) -> BLEDevice:
        service = self._ble.service_uuid
        address = self.address.upper() if self.address else None

        def wanted(device: BLEDevice, adv: AdvertisementData) -> bool:
            if address is not None:
                return device.address.upper() == address
            return service in adv.service_uuids

        options: dict[str, Any] = {}
        if address is None:
            options["service_uuids"] = [service]  # macOS only reports filtered scans
        if self._backend.scanner is not None:
            options["backend"] = self._backend.scanner
        found = await BleakScanner.find_device_by_filter(
            wanted, timeout=self._scan_timeout_s, **options
        )
        if found is None:
            what = self.address or f"a device offering service {service}"
            raise TimeoutError(f"{what} not found within {self._scan_timeout_s:g} s")
        return found

    async def _one_connection(self) -> bool:
        """Scan, connect, subscribe, then watch until the link drops; True if data came."""
        device = await self._find_device()
        lost = asyncio.Event()
        client = BleakClient(
            device,
            disconnected_callback=lambda _client: lost.set(),
            timeout=self._connect_timeout_s,
            backend=self._backend.client,
        )
        frames_before = self.counters.frames
        await client.connect()
        try:
            wanted = self._resolve(client)  # refuses a device that lacks the profile
            self.battery_percent = await self._read_battery(client)
            self.counters.connections += 1
            self._last_frame_mono = time.monotonic()
            # Connected before subscribing: the first notification can arrive while
            # start_notify is still returning, and no reading may predate "connected".
            self._set_state(LinkState.CONNECTED, f"connected to {device.address}")
            await self._subscribe(client, wanted)
            await self._watch(lost)
        finally:
            if client.is_connected:
                with contextlib.suppress(BleakError, TimeoutError, OSError):
                    await asyncio.shield(client.disconnect())
        return self.counters.frames > frames_before

    def _resolve(self, client: BleakClient) -> list[tuple[Any, BleakGATTCharacteristic]]:
        """The profile's characteristics on this device; a missing required one refuses it."""
        found = []
        for spec in self._characteristics:
            char = client.services.get_characteristic(spec.uuid)
            if char is None:
                if spec.optional:
                    continue
                raise BleConnectionError(
                    f"{self.device_name} lacks characteristic {spec.uuid} ({spec.protocol})"
                )
            found.append((spec, char))
        return found

    async def _subscribe(
        self, client: BleakClient, wanted: list[tuple[Any, BleakGATTCharacteristic]]
    ) -> None:
        for spec, char in wanted:
            parse = PROTOCOLS[spec.protocol].parse_frame
            assert parse is not None

            def on_frame(
                _sender: BleakGATTCharacteristic,
                data: bytearray,
                parse: FrameParser = parse,
                protocol: str = spec.protocol,
            ) -> None:
                self._on_frame(parse, protocol, bytes(data))

            await client.start_notify(char, on_frame)

    async def _read_battery(self, client: BleakClient) -> int | None:
        char = client.services.get_characteristic(BATTERY_LEVEL_UUID)
        if char is None or "read" not in char.properties:
            return None
        try:
            value = await client.read_gatt_char(char)
        except (BleakError, TimeoutError) as exc:
            log.info("%s: battery level unreadable: %s", self.device_name, exc)
            return None
        return value[0] if len(value) == 1 and value[0] <= 100 else None

    async def _watch(self, lost: asyncio.Event) -> None:
        """Until the link drops: NO_DATA after silence, CONNECTED again when data resumes."""
        check_s = min(0.25, self.no_data_after_s / 4)
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), check_s)
            silent_for = time.monotonic() - self._last_frame_mono
            if self.state is LinkState.CONNECTED and silent_for > self.no_data_after_s:
                # the rule, not the measured silence (which would be stale once shown)
                self._set_state(
                    LinkState.NO_DATA, f"silent for more than {self.no_data_after_s:g} s"
                )

    # -- frames -----------------------------------------------------------------------------

    def _on_frame(self, parse: FrameParser, protocol: str, frame: bytes) -> None:
        t = self._clock()
        try:
            readings = parse(frame)
        except ParseError as exc:
            self.counters.malformed += 1
            self._hub.report_malformed(self.device_name, f"{protocol}: {exc} ({frame.hex(' ')})")
            return
        self.counters.frames += 1
        self._last_frame_mono = time.monotonic()
        if self.state is LinkState.NO_DATA:
            self._set_state(LinkState.CONNECTED, "data resumed")
        stamped = [r.at(t, self.device_name) for r in readings]
        self.counters.readings += len(stamped)
        if stamped:
            self.last_reading_t = t
        self._hub.publish_many(stamped)

    def _set_state(self, state: LinkState, detail: str) -> None:
        if state is self.state:
            return
        self.state = state
        self._hub.report_status(
            DeviceStatus(
                self.device_name,
                state,
                self._clock(),
                detail,
                self.profile.channels,
                self.battery_percent,
            )
        )
