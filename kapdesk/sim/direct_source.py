"""Feeds the emulated monitor's readings into the ingest hub on the session clock.

A thread wakes every ``period`` real seconds and publishes every reading due in the
session time that has passed, each stamped with its own session-clock time. So at
``--speed 20`` one real second yields twenty seconds of readings, with the right count and
the right timestamps, however late the thread wakes.
"""

from __future__ import annotations

import threading

from kapdesk.acquisition.ingest import DeviceStatus, IngestHub, LinkState
from kapdesk.domain.clock import SessionClock
from kapdesk.sim.emulated_monitor import CHANNELS_SENT, EmulatedMonitor


class EmulatedSource:
    def __init__(
        self,
        monitor: EmulatedMonitor,
        hub: IngestHub,
        clock: SessionClock,
        period: float | None = None,
        start_at: float = 0.0,
    ) -> None:
        self.monitor = monitor
        self.hub = hub
        self.clock = clock
        # Wake often enough that, even sped up, no channel looks silent between wake-ups
        # (signal-lost detection fires after 2x a 1 s interval): at most 0.25 session s.
        self.period = period if period is not None else min(0.05, 0.25 / clock.speed)
        self._t = start_at  # session seconds already published
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kapdesk-emulated", daemon=True)

    def start(self) -> EmulatedSource:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        name = "emulated-monitor"
        self.hub.report_status(
            DeviceStatus(name, LinkState.CONNECTED, self.clock.now(), channels=CHANNELS_SENT)
        )
        while not self._stop.wait(self.period):
            t1 = self.clock.elapsed()
            for ts, reading in self.monitor.readings_between(self._t, t1):
                self.hub.publish(reading.at(self.clock.to_epoch(ts)))
            self._t = t1
        self.hub.report_status(DeviceStatus(name, LinkState.DISCONNECTED, self.clock.now()))
