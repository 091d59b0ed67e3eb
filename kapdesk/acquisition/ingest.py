"""The ingest hub: the one place every reading passes through on its way out.

transport -> parser -> ``IngestHub.publish`` -> subscribers (alarm engine, recorder,
plot buffers). Subscribers run synchronously on the producer's thread, so they must be
fast and thread-safe (a queue put, a ring-buffer write, an alarm evaluation); nothing
flows back from a subscriber to a device.

``publish`` is also the one place plausibility is checked: a value outside its channel's
range (``kapdesk.domain.channels.PLAUSIBLE_RANGES``, or the device profile's own
``[ranges]``) is flagged ``invalid`` and counted, so no subscriber draws or alarms it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum

from kapdesk.domain.channels import PlausibleRange, plausible
from kapdesk.domain.readings import INVALID, Reading

log = logging.getLogger(__name__)

ReadingSink = Callable[[Reading], None]


class LinkState(Enum):
    """What a transport knows about its device."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    NO_DATA = "no_data"  # connected, but silent for longer than twice its interval
    DISCONNECTED = "disconnected"


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """A change in a device's link, reported by its transport."""

    device: str
    state: LinkState
    t: float
    detail: str = ""
    channels: tuple[str, ...] = ()
    battery_percent: int | None = None


StatusSink = Callable[[DeviceStatus], None]


@dataclass
class IngestCounters:
    readings: int = 0
    malformed_frames: int = 0
    subscriber_errors: int = 0
    per_device_malformed: dict[str, int] = field(default_factory=dict)
    implausible: int = 0  # values outside their range, flagged invalid
    per_device_implausible: dict[str, int] = field(default_factory=dict)


class IngestHub:
    """Fans readings and device status out to subscribers; counts what was dropped."""

    def __init__(self) -> None:
        self._reading_sinks: list[ReadingSink] = []
        self._status_sinks: list[StatusSink] = []
        self._lock = threading.Lock()
        self.counters = IngestCounters()
        self._ranges: dict[str, Mapping[str, PlausibleRange]] = {}

    def set_ranges(self, device: str, ranges: Mapping[str, PlausibleRange]) -> None:
        """A device profile's own ranges, used instead of the defaults for its readings."""
        with self._lock:
            self._ranges = {**self._ranges, device: dict(ranges)}

    def subscribe(self, sink: ReadingSink) -> None:
        with self._lock:
            self._reading_sinks = [*self._reading_sinks, sink]

    def subscribe_status(self, sink: StatusSink) -> None:
        with self._lock:
            self._status_sinks = [*self._status_sinks, sink]

    def publish(self, reading: Reading) -> None:
        self.counters.readings += 1
        if INVALID not in reading.flags and not plausible(
            reading.channel, reading.value, self._ranges.get(reading.device)
        ):
            reading = replace(reading, flags=reading.flags | {INVALID})
            self.counters.implausible += 1
            per = self.counters.per_device_implausible
            per[reading.device] = per.get(reading.device, 0) + 1
        for sink in self._reading_sinks:  # copy-on-write list: no lock on the hot path
            try:
                sink(reading)
            except Exception:  # one failing subscriber must not starve the others
                self.counters.subscriber_errors += 1
                log.exception("reading subscriber %r failed", sink)

    def publish_many(self, readings: list[Reading]) -> None:
        for r in readings:
            self.publish(r)

    def report_malformed(self, device: str, problem: str) -> None:
        """A frame that failed to parse: counted and dropped, never passed on."""
        self.counters.malformed_frames += 1
        per = self.counters.per_device_malformed
        per[device] = per.get(device, 0) + 1
        log.debug("malformed frame from %s: %s", device, problem)

    def report_status(self, status: DeviceStatus) -> None:
        for sink in self._status_sinks:
            try:
                sink(status)
            except Exception:
                self.counters.subscriber_errors += 1
                log.exception("status subscriber %r failed", sink)
