"""The composition root: builds the data path once and tears it down in order.

hub -> (recorder, trend store[, alarm service]); sources publish into the hub; the session
controller records the timeline. The GUI and the tests both start from here, so they run
the same wiring.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Engine

from devices.emulated_monitor import EmulatedMonitor
from kapdesk.acquisition.emulated_source import EmulatedSource
from kapdesk.acquisition.ingest import IngestHub
from kapdesk.demo import DemoScript, demo_patient, emulated_patient
from kapdesk.domain.clock import SessionClock
from kapdesk.session_controller import SessionController
from kapdesk.storage.recorder import Recorder
from kapdesk.trends import TrendStore

log = logging.getLogger(__name__)


class Source(Protocol):
    def stop(self) -> None: ...


@dataclass
class Runtime:
    engine: Engine
    clock: SessionClock
    hub: IngestHub
    recorder: Recorder
    trends: TrendStore
    controller: SessionController
    demo_script: DemoScript | None = None
    sources: list[Source] = field(default_factory=list)

    @classmethod
    def build(cls, engine: Engine, speed: float = 1.0, flush_interval: float = 0.25) -> Runtime:
        clock = SessionClock(time.monotonic, time.time, speed)
        hub = IngestHub()
        recorder = Recorder(engine, flush_interval=flush_interval).start()
        trends = TrendStore()
        hub.subscribe(recorder.record_reading)
        hub.subscribe(trends.add)
        controller = SessionController(recorder, clock)
        return cls(engine, clock, hub, recorder, trends, controller)

    def start_demo(self, seed: int = 1) -> None:
        """Demo patient, emulated monitor into the hub, and the scripted session."""
        self.controller.open(demo_patient(), protocol="im-ketamine")
        monitor = EmulatedMonitor(emulated_patient(seed))
        self.demo_script = DemoScript(self.controller, baseline=self.current_baseline)
        self.demo_script.poll(self.clock.elapsed())  # starts the session at t=0
        self.sources.append(EmulatedSource(monitor, self.hub, self.clock).start())

    def current_baseline(self) -> dict[str, float]:
        """Latest values of the channels a baseline is taken from (pre-dose)."""
        out: dict[str, float] = {}
        for ch in ("heart_rate", "spo2", "nibp_systolic", "nibp_diastolic"):
            last = self.trends.last(ch)
            if last is not None:
                out[ch] = last[1]
        return out

    def tick(self) -> None:
        """Periodic housekeeping on the GUI thread (cheap): the demo script."""
        if self.demo_script is not None:
            self.demo_script.poll(self.clock.elapsed())

    def shutdown(self) -> None:
        for source in self.sources:
            source.stop()
        self.sources.clear()
        self.recorder.stop()
        log.info(
            "recorder stopped: %d readings, %d events/alarms written",
            self.recorder.readings_written,
            self.recorder.events_written,
        )
