"""Fixtures for BLE end-to-end tests: the BLE loop thread, an emulated world, a recording hub.

``clock`` here is a real-time ``SessionClock``; it replaces tests/conftest.py's stepped
clock (which needs a runtime) for the tests in this folder."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from ble_helpers import Recorder

from kapdesk.acquisition.ble.bumble_backend import BumbleBackend
from kapdesk.acquisition.ble.loop_thread import AsyncioLoopThread
from kapdesk.domain.clock import SessionClock
from kapdesk.sim.emulators.ble_peripherals import EmulatedBleWorld, EmulatedPeripheral
from kapdesk.sim.patient_model import EmulatedPatient


@pytest.fixture
def loop_thread() -> Iterator[AsyncioLoopThread]:
    thread = AsyncioLoopThread("test-ble").start()
    yield thread
    thread.stop()


@pytest.fixture
def clock() -> SessionClock:
    return SessionClock(time.monotonic, time.time)


@pytest.fixture
def patient() -> EmulatedPatient:
    return EmulatedPatient(seed=7)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def start_world(
    loop_thread: AsyncioLoopThread,
) -> Iterator[Callable[..., tuple[EmulatedBleWorld, BumbleBackend]]]:
    worlds: list[EmulatedBleWorld] = []

    def start(*peripherals: EmulatedPeripheral) -> tuple[EmulatedBleWorld, BumbleBackend]:
        world = EmulatedBleWorld(peripherals)
        worlds.append(world)
        return world, world.start_in(loop_thread)

    yield start
    for world in worlds:
        world.stop_in(loop_thread)
