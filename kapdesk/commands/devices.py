"""``kapdesk devices list|probe``: what monitors are in reach, and what one of them sends.

For technicians setting up a room: ``list`` shows serial ports and BLE devices in range;
``probe`` connects to one monitor through the app's own transport and prints its readings
and link changes as JSON lines for N seconds. ``--emulated`` runs the emulated BLE
monitors in-process (through the bumble backend), so both work on a machine without a
Bluetooth adapter.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kapdesk.acquisition.catalog import CatalogError, DeviceProfile, load_catalog
from kapdesk.acquisition.ingest import DeviceStatus, IngestHub
from kapdesk.acquisition.parsers.registry import PROTOCOLS
from kapdesk.commands._args import positive_float
from kapdesk.domain.clock import SessionClock, iso_utc
from kapdesk.domain.readings import Reading

EXIT_OK = 0
EXIT_NOTHING_RECEIVED = 1
EXIT_USAGE = 2

#: A BLE address as BlueZ/WinRT show it, or the UUID macOS uses in its place.
BLE_ADDRESS = re.compile(
    r"^([0-9A-F]{2}:){5}[0-9A-F]{2}$|^[0-9A-F]{8}-([0-9A-F]{4}-){3}[0-9A-F]{12}$", re.I
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "devices",
        help="list monitors in reach, or probe one and print its readings",
        description="List serial ports and BLE monitors in range, or connect to one monitor "
        "and print what it sends. Output: one JSON object per line.",
    )
    sub = parser.add_subparsers(dest="devices_command", metavar="ACTION", required=True)
    listing = sub.add_parser("list", help="serial ports and BLE devices in range")
    listing.add_argument(
        "--scan-seconds", type=positive_float, default=3.0, metavar="S", help="BLE scan time"
    )
    listing.add_argument(
        "--emulated", action="store_true", help="scan the emulated BLE monitors instead"
    )
    probe = sub.add_parser(
        "probe",
        help="connect to one monitor and print its readings",
        description="Connect through the app's own transport and print readings and link "
        "changes for N seconds. Exit status: 0 readings arrived, 1 none did, 2 bad input.",
    )
    probe.add_argument("protocol", metavar="PROTOCOL", help=f"one of: {', '.join(PROTOCOLS)}")
    probe.add_argument(
        "address", metavar="ADDRESS", help="BLE address (AA:BB:..), or a serial port path"
    )
    probe.add_argument(
        "--seconds", type=positive_float, default=10.0, metavar="N", help="how long (default 10)"
    )
    probe.add_argument("--emulated", action="store_true", help="probe the emulated BLE monitors")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.devices_command == "list":
        return list_devices(args.scan_seconds, emulated=args.emulated)
    return probe(args.protocol, args.address, args.seconds, emulated=args.emulated)


# -- output -------------------------------------------------------------------------------

_print_lock = threading.Lock()


def emit(obj: dict[str, Any]) -> None:
    """One JSON line; readings and statuses arrive on transport threads."""
    line = json.dumps(obj, ensure_ascii=False)
    with _print_lock:
        print(line, flush=True)


def fail(message: str) -> int:
    print(f"kapdesk devices: {message}", file=sys.stderr)
    return EXIT_USAGE


def reading_json(reading: Reading) -> dict[str, Any]:
    out: dict[str, Any] = {
        "channel": reading.channel,
        "value": reading.value,
        "unit": reading.unit,
        "t": iso_utc(reading.t),
        "flags": sorted(reading.flags),
        "device": reading.device,
    }
    if reading.device_time is not None:
        out["device_time"] = reading.device_time.isoformat()
    if reading.original_unit is not None:
        out["original_unit"] = reading.original_unit
    return out


def status_json(status: DeviceStatus) -> dict[str, Any]:
    return {
        "status": status.state.value,
        "device": status.device,
        "t": iso_utc(status.t),
        "detail": status.detail,
        "battery_percent": status.battery_percent,
    }


# -- list ---------------------------------------------------------------------------------


def list_devices(scan_seconds: float, *, emulated: bool) -> int:
    for port in _serial_ports():
        emit({"transport": "serial", **port})
    from bleak.exc import BleakError

    from kapdesk.acquisition.ble.loop_thread import AsyncioLoopThread
    from kapdesk.acquisition.ble.scan import discover, fitting_profiles

    profiles = _ble_profiles()
    with AsyncioLoopThread("kapdesk-devices") as loop_thread:
        world = _emulated_world(loop_thread) if emulated else None
        try:
            backend = world.start_in(loop_thread) if world is not None else None
            found = loop_thread.run(discover(scan_seconds, backend), timeout=scan_seconds + 10)
        except (BleakError, OSError, TimeoutError) as exc:
            print(
                f"kapdesk devices: no Bluetooth adapter available, BLE devices not listed ({exc})",
                file=sys.stderr,
            )
            return EXIT_OK
        finally:
            if world is not None and world.central is not None:
                world.stop_in(loop_thread)
    for device, adv in found:
        emit(
            {
                "transport": "ble",
                "address": device.address,
                "name": adv.local_name or device.name,
                "rssi": adv.rssi,
                "service_uuids": adv.service_uuids,
                "profiles": list(fitting_profiles(profiles, adv.service_uuids)),
            }
        )
    return EXIT_OK


def _serial_ports() -> list[dict[str, Any]]:
    from kapdesk.acquisition.serial_transport import list_serial_ports

    return list_serial_ports()


def _ble_profiles() -> list[DeviceProfile]:
    try:
        return [p for p in load_catalog() if p.ble is not None]
    except CatalogError:
        return []


def _emulated_world(loop_thread: Any) -> Any:
    from kapdesk.sim.emulators.ble_peripherals import EmulatedBleWorld
    from kapdesk.sim.patient_model import EmulatedPatient

    clock = SessionClock(time.monotonic, time.time)
    # Quick cuff cycles so a probe of a few seconds sees a whole measurement.
    return EmulatedBleWorld.standard(
        EmulatedPatient(),
        clock.elapsed,
        session_start=datetime.now(UTC).replace(tzinfo=None),
        nibp_interval_s=10.0,
        first_nibp_s=0.5,
        cuff_inflate_s=1.5,
        cuff_deflate_s=2.5,
        cuff_step_s=0.5,
        spot_interval_s=3.0,
    )


# -- probe --------------------------------------------------------------------------------


def probe(protocol: str, address: str, seconds: float, *, emulated: bool) -> int:
    info = PROTOCOLS.get(protocol)
    if info is None:
        return fail(f"unknown protocol {protocol!r} (known: {', '.join(sorted(PROTOCOLS))})")
    try:
        profile = next(p for p in load_catalog() if protocol in p.protocols)
    except CatalogError as exc:
        return fail(f"device catalog: {exc}")
    except StopIteration:
        return fail(f"no catalog profile speaks protocol {protocol!r}")
    hub = IngestHub()
    received: list[int] = [0]

    def on_reading(reading: Reading) -> None:
        received[0] += 1
        emit(reading_json(reading))

    hub.subscribe(on_reading)
    hub.subscribe_status(lambda status: emit(status_json(status)))
    clock = SessionClock(time.monotonic, time.time)
    if info.transport == "ble":
        if not BLE_ADDRESS.match(address):
            return fail(f"not a BLE address: {address!r} (expected AA:BB:CC:DD:EE:FF)")
        status = _probe_ble(profile, protocol, address, seconds, hub, clock, emulated)
    else:
        if emulated:
            return fail("--emulated is for BLE; run `kapdesk emulate` for a serial monitor")
        if not Path(address).exists():
            return fail(f"no such serial port: {address}")
        status = _probe_serial(profile, address, seconds, hub, clock)
    if status != EXIT_OK:
        return status
    if hub.counters.malformed_frames:
        print(
            f"kapdesk devices: {hub.counters.malformed_frames} malformed frame(s) dropped",
            file=sys.stderr,
        )
    return EXIT_OK if received[0] else EXIT_NOTHING_RECEIVED


def _probe_ble(
    profile: DeviceProfile,
    protocol: str,
    address: str,
    seconds: float,
    hub: IngestHub,
    clock: SessionClock,
    emulated: bool,
) -> int:
    from kapdesk.acquisition.ble.loop_thread import AsyncioLoopThread
    from kapdesk.acquisition.ble.transport import BleMonitorConnection

    with AsyncioLoopThread("kapdesk-probe") as loop_thread:
        world = _emulated_world(loop_thread) if emulated else None
        if world is not None:
            addresses = [p.address for p in world.peripherals]
            if address.upper() not in addresses:
                return fail(f"no emulated device at {address} (emulated: {', '.join(addresses)})")
        backend = world.start_in(loop_thread) if world is not None else None
        connection = BleMonitorConnection(
            profile,
            hub,
            clock.now,
            loop_thread=loop_thread,
            address=address,
            backend=backend,
            protocols=[protocol],
            scan_timeout_s=min(10.0, seconds),
        )
        connection.start()
        try:
            time.sleep(seconds)
        finally:
            connection.stop()
            if world is not None:
                world.stop_in(loop_thread)
    return EXIT_OK


def _probe_serial(
    profile: DeviceProfile, port: str, seconds: float, hub: IngestHub, clock: SessionClock
) -> int:
    from kapdesk.acquisition.serial_transport import SerialMonitorConnection

    connection = SerialMonitorConnection(port, profile, hub, clock.now)
    connection.start()
    try:
        time.sleep(seconds)
    finally:
        connection.stop()
    return EXIT_OK
