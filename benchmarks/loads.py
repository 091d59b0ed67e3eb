"""The benchmark's loads and the producer thread that feeds them into the ingest hub.

The producer stands in for the transports: it publishes each stream at its rate, in real
time on the session clock (or faster, when the clock runs at a higher speed), with each
reading stamped at its due time. Alarm episodes (a value beyond a limit, a channel going
silent) are driven through the same readings, so the alarm service sees what it would see
from a monitor.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from kapdesk.acquisition.ingest import IngestHub
from kapdesk.domain.channels import CHANNELS
from kapdesk.domain.clock import SessionClock
from kapdesk.domain.readings import Reading
from kapdesk.live.trend_store import TrendStore

#: A probe is told (channel, reading time, perf_counter at publish) for sampled readings.
ProbeSink = Callable[[str, float, float], None]


@dataclass(frozen=True, slots=True)
class Stream:
    """One channel from one device at a fixed rate."""

    channel: str
    rate_hz: float
    device: str
    phase_s: float = 0.0  # offset of the first sample, so streams do not all tick together

    @property
    def unit(self) -> str:
        return CHANNELS[self.channel].unit


@dataclass(frozen=True, slots=True)
class Load:
    name: str
    streams: tuple[Stream, ...]

    @property
    def readings_per_s(self) -> float:
        return sum(s.rate_hz for s in self.streams)


#: The issue's realistic load: a chest strap (HR with RR intervals), an oximeter (SpO2,
#: pulse rate at 1 Hz, pleth at 100 Hz) and a cuff every 2 minutes (3 values).
REALISTIC = Load(
    "realistic",
    (
        Stream("heart_rate", 1.0, "chest-strap", 0.11),
        Stream("rr_interval", 72 / 60, "chest-strap", 0.13),  # one per beat at ~72 /min
        Stream("spo2", 1.0, "oximeter", 0.0),
        Stream("pulse_rate", 1.0, "oximeter", 0.0),
        Stream("pleth", 100.0, "oximeter", 0.0),
        Stream("nibp_systolic", 1 / 120, "cuff", 5.0),
        Stream("nibp_diastolic", 1 / 120, "cuff", 5.0),
        Stream("nibp_mean", 1 / 120, "cuff", 5.0),
    ),
)

#: The issue's stress load: 8 channels at 250 Hz each (2000 readings/s), every plotted
#: channel plus one the plots do not show (the hub, alarms and recorder still take it).
STRESS = Load(
    "stress",
    tuple(
        Stream(name, 250.0, "stress-rig", i * 0.0005)
        for i, name in enumerate(
            (
                "pleth",
                "heart_rate",
                "pulse_rate",
                "spo2",
                "nibp_systolic",
                "nibp_diastolic",
                "nibp_mean",
                "perfusion_index",
            )
        )
    ),
)


def normal_value(channel: str, s: float) -> float:
    """A calm patient's value at session second ``s``: inside every alarm limit."""
    hr = 72.0 + 3.0 * math.sin(2 * math.pi * s / 60.0)
    match channel:
        case "heart_rate":
            return hr
        case "pulse_rate":
            return hr + 1.0
        case "rr_interval":
            return 60.0 / hr
        case "spo2":
            return 97.0 + math.sin(2 * math.pi * s / 90.0)
        case "pleth":
            beat = (s * hr / 60.0) % 1.0
            return 50.0 + 40.0 * math.exp(-((beat - 0.25) ** 2) / 0.02)
        case "nibp_systolic":
            return 122.0
        case "nibp_diastolic":
            return 78.0
        case "nibp_mean":
            return 93.0
        case _:
            return 3.2


def prefill(store: TrendStore, clock: SessionClock, load: Load, window_s: float) -> int:
    """Put the last ``window_s`` seconds of each stream of ``load`` into ``store`` (as
    much as its ring buffers keep), so the trends hold a full window, as they do an hour
    into a session: an empty store would flatter every frame that redraws a trace.

    Straight into the trend store, not through the hub: this is history already seen,
    not new readings for the alarm engine and the recorder. Returns how many it added.
    """
    now_s = clock.elapsed()
    added = 0
    for stream in load.streams:
        capacity = TrendStore.CAPACITY[CHANNELS[stream.channel].sampling]
        n = min(int(window_s * stream.rate_hz), capacity)
        for k in range(n, 0, -1):
            s = now_s - k / stream.rate_hz
            value = normal_value(stream.channel, s)
            store.add(Reading(stream.channel, value, stream.unit, clock.to_epoch(s), stream.device))
        added += n
    return added


@dataclass(frozen=True, slots=True)
class Episode:
    """From ``start_s`` (phase seconds) for ``length_s``, ``channel`` reads ``value``, or
    sends nothing when ``value`` is None (a lost signal)."""

    channel: str
    start_s: float
    length_s: float
    value: float | None

    def covers(self, channel: str, s: float) -> bool:
        return channel == self.channel and self.start_s <= s < self.start_s + self.length_s


@dataclass(slots=True)
class EpisodeRecord:
    """What the producer actually sent around an episode (epoch seconds)."""

    episode: Episode
    first_beyond_t: float | None = None  # the first reading carrying the episode's value
    last_before_t: float | None = None  # the last reading before a silence


class SimulatedTime:
    """A monotonic time source that the producer moves forward itself.

    Installed as the session clock's time source, it feeds a long session as fast as the
    app takes it: readings keep correct session times, the alarm service and the GUI read
    the same clock, and nothing piles up in a queue (a fast wall-driven clock runs ahead
    of what the app can process and makes a backlog, which is not what a session does).
    """

    def __init__(self, start: float) -> None:
        self._now = start

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += max(seconds, 1e-6)  # always forward, even by less than a float's step


#: (every so many session seconds, call): e.g. wait until the app has caught up.
Sync = tuple[float, Callable[[], object]]


class Producer(threading.Thread):
    """Publishes ``load`` into ``hub`` for ``duration_s`` session seconds: in real time,
    or, with ``simulated`` time installed in ``clock``, as fast as ``syncs`` allow."""

    def __init__(
        self,
        hub: IngestHub,
        clock: SessionClock,
        load: Load,
        duration_s: float,
        probe: ProbeSink | None = None,
        probe_interval_s: float = 0.1,
        episodes: tuple[Episode, ...] = (),
        actions: tuple[tuple[float, Callable[[], object]], ...] = (),
        simulated: SimulatedTime | None = None,
        syncs: tuple[Sync, ...] = (),
    ) -> None:
        super().__init__(name="benchmark-producer", daemon=True)
        self.hub = hub
        self.clock = clock
        self.load = load
        self.duration_s = duration_s
        self.probe = probe
        self.probe_interval_s = probe_interval_s  # per channel: one probed reading this often
        self.actions = actions  # (phase second, call), e.g. staff acknowledging an alarm
        self.records = [EpisodeRecord(e) for e in episodes]
        self.simulated = simulated
        self.syncs = syncs
        self.published = 0
        self.max_lag_s = 0.0  # how late (real seconds) the most overdue reading went out
        self.cpu_s = 0.0
        self.stop_event = threading.Event()

    def run(self) -> None:
        cpu0 = time.thread_time()
        try:
            self._feed()
        finally:
            self.cpu_s = time.thread_time() - cpu0

    def _feed(self) -> None:
        clock, speed = self.clock, self.clock.speed
        origin = clock.elapsed()
        streams = self.load.streams
        counts = [0] * len(streams)  # due time = origin + phase + k / rate (no drift)
        last_t: dict[str, float] = {}
        probed_at: dict[str, float] = {}
        pending_actions = sorted(self.actions, key=lambda a: a[0])
        next_sync = [every for every, _sync in self.syncs]
        while not self.stop_event.is_set():
            now = clock.elapsed() - origin
            if now >= self.duration_s:
                return
            while pending_actions and pending_actions[0][0] <= now:
                pending_actions.pop(0)[1]()
            next_due = math.inf
            for i, stream in enumerate(streams):
                while True:
                    due = stream.phase_s + counts[i] / stream.rate_hz
                    if due > now:
                        next_due = min(next_due, due)
                        break
                    counts[i] += 1
                    self.max_lag_s = max(self.max_lag_s, (now - due) / speed)
                    self._send(stream, due, origin, last_t, probed_at)
            if pending_actions:
                next_due = min(next_due, pending_actions[0][0])
            for i, (every, sync) in enumerate(self.syncs):
                if now >= next_sync[i]:
                    sync()
                    next_sync[i] = now + every
            wait = (min(next_due, self.duration_s) - (clock.elapsed() - origin)) / speed
            if self.simulated is not None:
                self.simulated.advance(wait)
            elif wait > 0:
                self.stop_event.wait(wait)

    def _send(
        self,
        stream: Stream,
        due: float,
        origin: float,
        last_t: dict[str, float],
        probed_at: dict[str, float],
    ) -> None:
        channel = stream.channel
        t = self.clock.to_epoch(origin + due)
        value = normal_value(channel, origin + due)
        for record in self.records:
            if record.episode.covers(channel, due):
                if record.episode.value is None:
                    if record.last_before_t is None:
                        record.last_before_t = last_t.get(channel)
                    return  # silent: nothing is sent
                value = record.episode.value
                if record.first_beyond_t is None:
                    record.first_beyond_t = t
        reading = Reading(channel, value, stream.unit, t, stream.device)
        probe = self.probe
        if probe is not None and due - probed_at.get(channel, -math.inf) >= self.probe_interval_s:
            probed_at[channel] = due
            arrival = time.perf_counter()
            self.hub.publish(reading)
            probe(channel, t, arrival)
        else:
            self.hub.publish(reading)
        last_t[channel] = t
        self.published += 1
