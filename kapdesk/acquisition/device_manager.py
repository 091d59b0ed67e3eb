"""The monitors the app reads: connect, disconnect, scan, and each one's live status.

The devices panel shows and drives this; demo mode registers its emulated monitors here
too, so they look and behave exactly like real ones. Status comes from the ingest hub
(readings and link changes), so it costs one dict update per reading and nothing flows
back to a device.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from kapdesk.acquisition.catalog import DeviceProfile, load_catalog
from kapdesk.acquisition.ingest import DeviceStatus, IngestHub, LinkState
from kapdesk.domain.listeners import Listeners
from kapdesk.domain.readings import Reading

log = logging.getLogger(__name__)

Clock = Callable[[], float]
#: Told ``("connected" | "disconnected", entry)`` when a device is connected (again) or
#: staff take it off, so a running session can record which monitors it had.
DeviceListener = Callable[[str, "DeviceEntry"], None]


class Connection(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


@dataclass
class DeviceEntry:
    """What the panel shows for one device."""

    name: str
    transport: str
    protocol: str
    address: str
    profile: DeviceProfile
    state: LinkState = LinkState.CONNECTING
    detail: str = ""
    last_reading_t: float | None = None
    channels: set[str] = field(default_factory=set)
    signal: float | None = None  # the device's own signal-strength figure, when it sends one
    flags: frozenset[str] = frozenset()
    battery_percent: int | None = None
    malformed: int = 0
    implausible: int = 0  # values outside the channel's range, flagged invalid (not shown)
    enabled: bool = True  # False once staff disconnect it
    emulated: bool = False  # one of demo mode's emulators (its port lives and dies with it)


@dataclass(frozen=True, slots=True)
class ScanResult:
    transport: str
    address: str  # BLE address or serial port path
    name: str
    profiles: tuple[str, ...]  # catalog keys that fit (BLE: by advertised service)
    rssi: int | None = None
    service_uuids: tuple[str, ...] = ()  # BLE: what the device advertises


class DeviceManager:
    def __init__(self, hub: IngestHub, clock: Clock) -> None:
        self.hub = hub
        self.clock = clock
        self.ble_backend: Any = None  # a bumble backend in demo mode; None = the OS stack
        self._ble_loop: Any = None
        self._entries: dict[str, DeviceEntry] = {}
        self._connections: dict[str, Connection] = {}
        self._makers: dict[str, Callable[[], Connection]] = {}
        self._lock = threading.Lock()
        self._listeners: Listeners[[str, DeviceEntry]] = Listeners("device", log)
        hub.subscribe(self._on_reading)
        hub.subscribe_status(self._on_status)

    @functools.cached_property
    def catalog(self) -> dict[str, DeviceProfile]:
        """The device profiles kapdesk ships, by key (read once)."""
        return {p.key: p for p in load_catalog()}

    def add_listener(self, listener: DeviceListener) -> None:
        self._listeners.add(listener)

    def _tell(self, change: str, name: str) -> None:
        # a failing listener must not stop a device connecting (Listeners guards each)
        self._listeners.notify(change, self._entries[name])

    # -- status from the hub (device threads) ---------------------------------------------

    def _on_reading(self, r: Reading) -> None:
        entry = self._entries.get(r.device)
        if entry is None:
            return
        entry.last_reading_t = r.t
        if r.channel not in entry.channels:
            entry.channels = entry.channels | {r.channel}
        if r.channel == "signal_strength":
            entry.signal = r.value
        entry.flags = r.flags

    def _on_status(self, s: DeviceStatus) -> None:
        entry = self._entries.get(s.device)
        if entry is None:
            return
        entry.state, entry.detail = s.state, s.detail
        if s.battery_percent is not None:
            entry.battery_percent = s.battery_percent

    # -- queries (any thread) ---------------------------------------------------------------

    def entries(self) -> list[DeviceEntry]:
        with self._lock:
            names = list(self._entries)
        malformed = self.hub.counters.per_device_malformed
        implausible = self.hub.counters.per_device_implausible
        out = []
        for n in names:
            e = dataclasses.replace(self._entries[n], channels=set(self._entries[n].channels))
            e.malformed = malformed.get(n, 0)
            e.implausible = implausible.get(n, 0)
            out.append(e)
        return out

    def session_channels(self, now: float) -> dict[str, list[str]]:
        """Channel -> devices that fed it within twice their expected interval."""
        out: dict[str, list[str]] = {}
        for e in self.entries():
            if e.last_reading_t is None or not e.enabled:
                continue
            if now - e.last_reading_t > max(2 * e.profile.reading_interval_s, 2.0):
                continue
            for ch in sorted(e.channels):
                out.setdefault(ch, []).append(e.name)
        return out

    # -- actions ----------------------------------------------------------------------------

    def ble_loop(self) -> Any:
        """The asyncio thread bleak runs on, started on first use."""
        if self._ble_loop is None:
            from kapdesk.acquisition.ble.loop_thread import AsyncioLoopThread

            self._ble_loop = AsyncioLoopThread("kapdesk-ble").start()
        return self._ble_loop

    def connect_ble(
        self,
        profile: DeviceProfile,
        address: str | None = None,
        name: str | None = None,
        emulated: bool = False,
    ) -> DeviceEntry:
        from kapdesk.acquisition.ble.transport import BleMonitorConnection

        name = name or f"{profile.name} {address or ''}".strip()
        loop = self.ble_loop()

        def make() -> Connection:
            return BleMonitorConnection(
                profile,
                self.hub,
                self.clock,
                loop_thread=loop,
                address=address,
                backend=self.ble_backend,
                device_name=name,
            )

        return self._add(name, "ble", profile, address or "(first found)", make, emulated)

    def connect_serial(
        self, profile: DeviceProfile, port: str, name: str | None = None, emulated: bool = False
    ) -> DeviceEntry:
        from kapdesk.acquisition.serial_transport import SerialMonitorConnection

        name = name or f"{profile.name} on {port}"

        def make() -> Connection:
            return SerialMonitorConnection(port, profile, self.hub, self.clock, device_name=name)

        return self._add(name, "serial", profile, port, make, emulated)

    def _add(
        self,
        name: str,
        transport: str,
        profile: DeviceProfile,
        address: str,
        make: Callable[[], Connection],
        emulated: bool = False,
    ) -> DeviceEntry:
        with self._lock:
            if name in self._connections:
                raise ValueError(f"{name!r} is already connected")
            entry = DeviceEntry(name, transport, profile.protocol, address, profile)
            entry.emulated = emulated
            self._entries[name] = entry
            self._makers[name] = make
        self._start(name)
        self._tell("connected", name)
        return entry

    def _start(self, name: str) -> None:
        conn = self._makers[name]()
        self._connections[name] = conn
        self._entries[name].enabled = True
        self._entries[name].state = LinkState.CONNECTING
        conn.start()

    def disconnect(self, name: str) -> None:
        """Staff take a device off: no reconnection until they connect it again."""
        conn = self._connections.pop(name, None)
        if conn is None:
            return
        self._entries[name].enabled = False
        conn.stop()
        self._entries[name].state = LinkState.DISCONNECTED
        self._entries[name].detail = "disconnected by staff"
        self._tell("disconnected", name)

    def reconnect(self, name: str) -> None:
        if name in self._connections:
            return
        self._start(name)
        self._tell("connected", name)

    def stop_all(self) -> None:
        """Stop every connection, then the BLE thread (shutting down)."""
        self.stop_connections()
        if self._ble_loop is not None:
            self._ble_loop.stop()
            self._ble_loop = None

    def stop_connections(self) -> None:
        for name in list(self._connections):
            conn = self._connections.pop(name)
            try:
                conn.stop()
            except Exception:  # shutting down: never block the exit on one device
                log.exception("stopping %s failed", name)

    def scan(self, ble_seconds: float = 4.0) -> tuple[list[ScanResult], str]:
        """Serial ports and BLE devices in range (blocking: call off the GUI thread).

        Returns the results and a note (empty, or why BLE could not be scanned)."""
        from kapdesk.acquisition.ble.scan import discover, fitting_profiles
        from kapdesk.acquisition.serial_transport import list_serial_ports

        catalog = list(self.catalog.values())
        serial_keys = tuple(p.key for p in catalog if p.transport == "serial")
        results = [
            ScanResult("serial", str(p.get("device")), str(p.get("description", "")), serial_keys)
            for p in list_serial_ports()
        ]
        note = ""
        try:
            found = self.ble_loop().run(
                discover(ble_seconds, self.ble_backend), timeout=ble_seconds + 10
            )
        except Exception as exc:  # no adapter, BlueZ missing: say so, keep the serial list
            note = f"Bluetooth unavailable: {exc}"
            found = []
        for device, adv in found:
            results.append(
                ScanResult(
                    "ble",
                    device.address,
                    adv.local_name or device.name or "",
                    fitting_profiles(catalog, adv.service_uuids),
                    adv.rssi,
                    tuple(adv.service_uuids),
                )
            )
        return results, note
