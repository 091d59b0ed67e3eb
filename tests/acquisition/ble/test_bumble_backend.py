"""The bumble backend through bleak's own BleakScanner/BleakClient (real GATT over LocalLink)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError

from kapdesk.acquisition.ble.bumble_backend import BumbleBackend
from kapdesk.acquisition.ble.loop_thread import AsyncioLoopThread
from kapdesk.acquisition.catalog import normalise_uuid
from kapdesk.domain.clock import SessionClock
from kapdesk.sim.emulators.ble_peripherals import (
    BloodPressureCuff,
    EmulatedBleWorld,
    HeartRateStrap,
    PulseOximeter,
)
from kapdesk.sim.patient_model import EmulatedPatient

StartWorld = Callable[..., tuple[EmulatedBleWorld, BumbleBackend]]


def test_scanner_sees_every_peripheral_with_name_and_service(
    start_world: StartWorld,
    loop_thread: AsyncioLoopThread,
    patient: EmulatedPatient,
    clock: SessionClock,
) -> None:
    kw = {"patient": patient, "session_time": clock.elapsed}
    _, backend = start_world(HeartRateStrap(**kw), BloodPressureCuff(**kw), PulseOximeter(**kw))

    async def scan() -> dict[str, tuple[str | None, list[str]]]:
        found = await BleakScanner.discover(0.3, return_adv=True, backend=backend.scanner)
        return {addr: (adv.local_name, adv.service_uuids) for addr, (_, adv) in found.items()}

    seen = loop_thread.run(scan())
    assert seen == {
        "C0:DE:00:00:00:01": ("KAP HR Strap", [normalise_uuid("180D")]),
        "C0:DE:00:00:00:02": ("KAP BP Cuff", [normalise_uuid("1810")]),
        "C0:DE:00:00:00:03": ("KAP Oximeter", [normalise_uuid("1822")]),
    }


def test_scanner_filters_by_service_uuid(
    start_world: StartWorld,
    loop_thread: AsyncioLoopThread,
    patient: EmulatedPatient,
    clock: SessionClock,
) -> None:
    kw = {"patient": patient, "session_time": clock.elapsed}
    _, backend = start_world(HeartRateStrap(**kw), PulseOximeter(**kw))

    async def scan() -> list[str]:
        devices = await BleakScanner.discover(
            0.3, service_uuids=[normalise_uuid("1822")], backend=backend.scanner
        )
        return [d.address for d in devices]

    assert loop_thread.run(scan()) == ["C0:DE:00:00:00:03"]


def test_client_discovers_reads_and_receives_notifications(
    start_world: StartWorld,
    loop_thread: AsyncioLoopThread,
    patient: EmulatedPatient,
    clock: SessionClock,
) -> None:
    strap = HeartRateStrap(patient=patient, session_time=clock.elapsed, interval_s=0.05)
    strap.battery_percent = 64
    _, backend = start_world(strap)

    async def session() -> dict[str, object]:
        device = await BleakScanner.find_device_by_address(
            "C0:DE:00:00:00:01", timeout=2, backend=backend.scanner
        )
        assert device is not None
        frames: list[bytes] = []
        async with BleakClient(device, backend=backend.client, timeout=5) as client:
            services = {s.uuid for s in client.services}
            hrm = client.services.get_characteristic(normalise_uuid("2A37"))
            assert hrm is not None
            await client.start_notify(hrm, lambda _c, data: frames.append(bytes(data)))
            while len(frames) < 3:
                await asyncio.sleep(0.01)
            await client.stop_notify(hrm)
            return {
                "services": services,
                "properties": hrm.properties,
                "cccd": [d.uuid for d in hrm.descriptors],
                "battery": (await client.read_gatt_char("2A19"))[0],
                "maker": (await client.read_gatt_char("2A29")).decode(),
                "name": client.name,
                "frames": frames,
                "connected_inside": client.is_connected,
            }

    result = loop_thread.run(session())
    assert {normalise_uuid(u) for u in ("180D", "180A", "180F")} <= result["services"]  # type: ignore[operator]
    assert result["properties"] == ["notify"]
    assert result["cccd"] == [normalise_uuid("2902")]
    assert result["battery"] == 64
    assert result["maker"] == "kapdesk emulator"
    assert result["name"] == "KAP HR Strap"
    sent = [f.data for f in strap.sent]
    frames = result["frames"]
    assert isinstance(frames, list) and frames == sent[: len(frames)]


def test_disconnected_callback_fires_on_link_loss_only(
    start_world: StartWorld,
    loop_thread: AsyncioLoopThread,
    patient: EmulatedPatient,
    clock: SessionClock,
) -> None:
    strap = HeartRateStrap(patient=patient, session_time=clock.elapsed)
    _, backend = start_world(strap)

    async def session() -> tuple[int, bool, int]:
        calls: list[str] = []
        client = BleakClient(
            "C0:DE:00:00:00:01",
            disconnected_callback=lambda _c: calls.append("lost"),
            backend=backend.client,
            timeout=5,
        )
        await client.connect()
        await strap.drop_link()
        while client.is_connected:
            await asyncio.sleep(0.01)
        after_drop = len(calls)
        await client.connect()  # the strap advertises again and accepts the reconnection
        reconnected = client.is_connected
        await client.disconnect()  # our own disconnect is not "unsolicited"
        await asyncio.sleep(0.05)
        return after_drop, reconnected, len(calls)

    assert loop_thread.run(session()) == (1, True, 1)


def test_connect_to_absent_device_times_out_and_central_stays_usable(
    start_world: StartWorld,
    loop_thread: AsyncioLoopThread,
    patient: EmulatedPatient,
    clock: SessionClock,
) -> None:
    _, backend = start_world(HeartRateStrap(patient=patient, session_time=clock.elapsed))

    async def session() -> bool:
        with pytest.raises(TimeoutError):
            await BleakClient("C0:DE:00:00:00:99", backend=backend.client, timeout=0.3).connect()
        client = BleakClient("C0:DE:00:00:00:01", backend=backend.client, timeout=2)
        await client.connect()
        connected = client.is_connected
        await client.disconnect()
        return connected

    assert loop_thread.run(session()) is True


def test_pairing_is_refused_and_io_needs_a_connection(
    start_world: StartWorld, loop_thread: AsyncioLoopThread
) -> None:
    _, backend = start_world()

    async def session() -> None:
        client = backend.client("C0:DE:00:00:00:01", timeout=1)
        with pytest.raises(BleakError, match="pairing"):
            await client.pair()
        with pytest.raises(BleakError, match="Not connected"):
            await client.write_gatt_descriptor(SimpleNamespace(obj=None), b"\x01\x00")  # type: ignore[arg-type]
        assert not client.is_connected

    loop_thread.run(session())
