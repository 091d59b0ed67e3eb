"""Helpers for the serial tests: a hub recorder that can wait for what it expects."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from kapdesk.acquisition.ingest import DeviceStatus, IngestHub, LinkState
from kapdesk.domain.readings import Reading


class HubRecorder:
    """Subscribes to a hub and keeps everything, with waits that fail loudly on timeout."""

    def __init__(self, hub: IngestHub) -> None:
        self.hub = hub
        self.readings: list[tuple[float, Reading]] = []  # (monotonic arrival, reading)
        self.statuses: list[tuple[float, DeviceStatus]] = []
        self._cond = threading.Condition()
        hub.subscribe(self._on_reading)
        hub.subscribe_status(self._on_status)

    def _on_reading(self, r: Reading) -> None:
        with self._cond:
            self.readings.append((time.monotonic(), r))
            self._cond.notify_all()

    def _on_status(self, s: DeviceStatus) -> None:
        with self._cond:
            self.statuses.append((time.monotonic(), s))
            self._cond.notify_all()

    def wait_for(self, what: str, done: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not done():
                left = deadline - time.monotonic()
                if left <= 0:
                    states = [s.state.value for _, s in self.statuses]
                    raise AssertionError(
                        f"timed out waiting for {what}; {len(self.readings)} readings, "
                        f"states {states}"
                    )
                self._cond.wait(left)

    def wait_state(self, state: LinkState, after: int = 0, timeout: float = 5.0) -> float:
        """Wait for ``state`` among statuses from index ``after``; its arrival time."""

        def found() -> bool:
            return any(s.state is state for _, s in self.statuses[after:])

        self.wait_for(f"state {state.value}", found, timeout)
        return next(t for t, s in self.statuses[after:] if s.state is state)

    def wait_readings(self, channel: str, count: int, after: float = 0.0, timeout: float = 5.0):
        """Wait for ``count`` readings of ``channel`` arriving after monotonic ``after``."""

        def matching() -> list[Reading]:
            return [r for t, r in self.readings if r.channel == channel and t > after]

        self.wait_for(f"{count} {channel} readings", lambda: len(matching()) >= count, timeout)
        return matching()

    def states(self) -> list[LinkState]:
        return [s.state for _, s in self.statuses]


def wait_until(what: str, done: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``done`` (for state that no hub event announces, such as an open port)."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)
