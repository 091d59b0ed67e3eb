"""Helpers for the BLE tests: a recording hub and a polling wait."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kapdesk.acquisition.ingest import DeviceStatus, IngestHub, LinkState
from kapdesk.domain.readings import Reading


@dataclass
class Recorder:
    """Everything the hub fanned out, in arrival order (appended from the BLE thread)."""

    hub: IngestHub = field(default_factory=IngestHub)
    readings: list[Reading] = field(default_factory=list)
    statuses: list[DeviceStatus] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.hub.subscribe(self._on_reading)
        self.hub.subscribe_status(self._on_status)

    def _on_reading(self, reading: Reading) -> None:
        with self.lock:
            self.readings.append(reading)

    def _on_status(self, status: DeviceStatus) -> None:
        with self.lock:
            self.statuses.append(status)

    def channel(self, name: str) -> list[Reading]:
        with self.lock:
            return [r for r in self.readings if r.channel == name]

    def states(self) -> list[LinkState]:
        with self.lock:
            return [s.state for s in self.statuses]

    def last_status(self, state: LinkState) -> DeviceStatus:
        with self.lock:
            return [s for s in self.statuses if s.state is state][-1]


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(0.01)
