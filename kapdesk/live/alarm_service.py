"""The live alarm wiring: one thread owns the engine, fed from the ingest hub.

Readings and device status arrive on producer threads (BLE loop, serial readers); the
hub subscribers here only put them on a queue, so no producer ever waits on alarm
logic and nothing is evaluated on the GUI thread. The service thread drains the queue,
ticks the engine every 50 ms so condition delays end on time even when a channel goes
quiet, and hands each transition to listeners (recorder, GUI adapter) on its own
thread: a Qt listener must forward it with a queued signal. Staff actions (acknowledge,
pause audio, change a limit) are queued too, so only this thread touches the engine.

Two clocks: the session clock stamps what is recorded (and runs ``--speed`` times fast in
demo mode); the real monotonic clock times silence. Each reading is given its real arrival
time when it is queued, and every tick passes the real time too, so "no data" means a
device silent for so many real seconds whatever the demo speed.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from kapdesk.acquisition.ingest import DeviceStatus, IngestHub, LinkState
from kapdesk.domain.access import (
    AT_THE_BEDSIDE,
    Actor,
    can_change_alarm_limits,
    can_pause_alarm_audio,
    require_actor,
)
from kapdesk.domain.alarms import (
    AlarmEngine,
    AlarmLimits,
    AlarmState,
    AlarmTransition,
    AudioState,
    Condition,
    EngineSnapshot,
    Priority,
)
from kapdesk.domain.listeners import Listeners
from kapdesk.domain.readings import Reading

log = logging.getLogger(__name__)

TransitionListener = Callable[[AlarmTransition], None]
Clock = Callable[[], float]

#: How often the engine is ticked; the project's target is a transition within 100 ms
#: of a delay expiring.
TICK_S = 0.05
#: At most this many queued items are judged before a tick that is due.
MAX_DRAIN = 10_000


def anchored_clock() -> Clock:
    """Epoch seconds that advance with the monotonic clock (a wall-clock jump moves nothing).

    The same anchoring the session clock uses; pass the session's own clock instead
    when there is one, so ticks and reading times share a time line.
    """
    wall0 = time.time()
    mono0 = time.monotonic()
    return lambda: wall0 + (time.monotonic() - mono0)


@dataclass(frozen=True, slots=True)
class _Arrival:
    reading: Reading
    real_t: float  # monotonic seconds when the hub handed it over


@dataclass(frozen=True, slots=True)
class _Command:
    action: Callable[[AlarmEngine], Any]
    done: Future[Any]


_STOP = object()


class AlarmService(threading.Thread):
    """Owns an :class:`AlarmEngine` on a thread of its own."""

    def __init__(
        self,
        engine: AlarmEngine,
        hub: IngestHub | None = None,
        listeners: Iterable[TransitionListener] = (),
        clock: Clock | None = None,
        tick_s: float = TICK_S,
        real_clock: Clock = time.monotonic,
    ) -> None:
        """``clock``: the session clock (stamps); ``real_clock``: real seconds on a
        monotonic scale (times silence)."""
        super().__init__(name="alarm-service", daemon=True)
        self._engine = engine
        #: who is acting (the runtime's desk): set by the runtime; None: no access control
        self.who: Callable[[], Actor | None] | None = None
        self._inbox: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._listeners: Listeners[[AlarmTransition]] = Listeners("alarm", log)
        for listener in listeners:
            self._listeners.add(listener)
        self._clock = clock if clock is not None else anchored_clock()
        self._real_clock = real_clock
        self._tick_s = tick_s
        self._active: tuple[AlarmState, ...] = ()
        self._audio = AudioState(None, None)
        self._limits: AlarmLimits = engine.limits
        self._stopping = False
        if hub is not None:
            self.attach(hub)

    # -- producers (any thread) ----------------------------------------------------

    def attach(self, hub: IngestHub) -> None:
        hub.subscribe(self.submit_reading)
        hub.subscribe_status(self.submit_status)

    def submit_reading(self, reading: Reading) -> None:
        if not self._stopping:  # the hub has no unsubscribe: don't queue into a dead thread
            self._inbox.put(_Arrival(reading, self._real_clock()))

    def submit_status(self, status: DeviceStatus) -> None:
        if not self._stopping:
            self._inbox.put(status)

    @property
    def listener_errors(self) -> int:
        return self._listeners.errors

    def add_listener(self, listener: TransitionListener) -> None:
        self._listeners.add(listener)  # copy-on-write, read lock-free

    def remove_listener(self, listener: TransitionListener) -> None:
        """A window that closes stops listening (no-op if it never did)."""
        self._listeners.remove(listener)

    # -- staff actions and system failures (any thread) ----------------------------

    def _author(self, by: str | None, check: Callable[[Actor], bool] | None, what: str) -> str:
        """Who an act is recorded as: the signed-in user of the runtime's desk (``who``),
        else ``by``; ``AccessDenied`` when the desk's user may not do it. A bare service
        (no ``who``: tests of the alarms alone) records ``by`` as given."""
        if self.who is None:
            return by or AT_THE_BEDSIDE
        actor = self.who()
        if check is not None:
            require_actor(actor, check, what)
        if actor is None or not actor.is_staff:
            return AT_THE_BEDSIDE
        return actor.who

    def acknowledge(
        self, by: str | None = None, channel: str | None = None, condition: Condition | None = None
    ) -> Future[list[AlarmTransition]]:
        """Open to whoever is at the bedside: signed in, it is recorded as them; on a locked
        screen, as "at the bedside, not signed in"."""
        who = self._author(by, None, "acknowledging alarms")
        return self._call(lambda e: e.acknowledge(who, self._clock(), channel, condition))

    def pause_audio(
        self, by: str | None = None, duration_s: float | None = None
    ) -> Future[AlarmTransition]:
        who = self._author(by, can_pause_alarm_audio, "pausing alarm sound (medical staff)")
        return self._call(lambda e: e.pause_audio(who, self._clock(), duration_s))

    def change_limit(
        self,
        channel: str,
        condition: Condition,
        priority: Priority,
        threshold: float | None,
        by: str | None = None,
    ) -> Future[list[AlarmTransition]]:
        """Change a limit for this session; the future raises LimitError if it is refused,
        the call ``AccessDenied`` if the signed-in user may not change limits."""
        who = self._author(by, can_change_alarm_limits, "changing alarm limits (medical staff)")
        return self._call(
            lambda e: e.change_limit(channel, condition, priority, threshold, who, self._clock())
        )

    def replace_limits(self, limits: AlarmLimits) -> Future[None]:
        """The session's protocol limits, when a session with another protocol starts."""
        return self._call(lambda e: e.replace_limits(limits))

    def new_patient(self) -> Future[list[AlarmTransition]]:
        """The previous patient's physiological alarms end (see ``AlarmEngine.new_patient``)."""
        return self._call(lambda e: e.new_patient(self._clock()))

    def restore(
        self, baselines: Mapping[str, float], record: Iterable[AlarmTransition]
    ) -> Future[list[AlarmTransition]]:
        """A resumed session's state, rebuilt from its record (``AlarmEngine.restore``)."""
        kept = dict(baselines)
        transitions = tuple(record)
        return self._call(lambda e: e.restore(kept, transitions, self._clock()))

    def snapshot(self) -> Future[EngineSnapshot]:
        """The engine's session state, taken on its own thread (for tests and diagnostics)."""
        return self._call(lambda e: e.snapshot())

    def set_baseline(self, channel: str, value: float) -> Future[None]:
        return self._call(lambda e: e.set_baseline(channel, value))

    def expect_sources(
        self, sources: Iterable[str], grace_s: float | None = None
    ) -> Future[list[AlarmTransition]]:
        """The sources the running session's protocol expects (none: no session); one
        missing for ``grace_s`` real seconds raises "No ... source". The future raises
        ValueError for an unknown source."""
        names = tuple(sources)
        return self._call(
            lambda e: e.expect_sources(names, self._clock(), self._real_clock(), grace_s)
        )

    def await_data(self, sources: Iterable[str]) -> Future[list[AlarmTransition]]:
        """A resumed session's sources: "No data" for each that does not deliver soon
        (``AlarmEngine.await_data``)."""
        names = tuple(sources)
        return self._call(lambda e: e.await_data(names, self._clock(), self._real_clock()))

    def report_technical(
        self, condition: Condition, source: str, message: str = ""
    ) -> Future[list[AlarmTransition]]:
        """E.g. the recorder's ``recording_failed`` or the sound player's ``audio_unavailable``."""
        return self._call(lambda e: e.technical(condition, source, self._clock(), message))

    def resolve_technical(self, condition: Condition, source: str) -> Future[list[AlarmTransition]]:
        return self._call(lambda e: e.technical_resolved(condition, source, self._clock()))

    # -- state for the UI (any thread; snapshots replaced whole) -------------------

    def active_alarms(self) -> tuple[AlarmState, ...]:
        return self._active

    def audio_state(self) -> AudioState:
        return self._audio

    def limits(self) -> AlarmLimits:
        """The limits in force now (changes by staff included); a snapshot, any thread."""
        return self._limits

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping = True
        self._inbox.put(_STOP)
        if self.is_alive():
            self.join(timeout)

    # -- the thread ------------------------------------------------------------------

    def run(self) -> None:
        next_tick = time.monotonic()
        while True:
            wait = next_tick - time.monotonic()
            try:
                item = self._inbox.get(timeout=wait) if wait > 0 else self._inbox.get_nowait()
            except queue.Empty:
                item = None
            if item is _STOP:
                return
            if item is not None:
                self._handle(item)
            if time.monotonic() >= next_tick:
                # judge what arrived before this tick first, so a backlog never looks
                # like silence
                for _ in range(MAX_DRAIN):
                    try:
                        item = self._inbox.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        return
                    self._handle(item)
                self._emit(self._engine.tick(self._clock(), self._real_clock()))
                self._publish_state()
                next_tick += self._tick_s
                if next_tick < time.monotonic():  # fell behind (suspend): don't burst
                    next_tick = time.monotonic() + self._tick_s

    def _handle(self, item: object) -> None:
        try:
            if isinstance(item, _Arrival):
                self._emit(self._engine.on_reading(item.reading, item.real_t))
            elif isinstance(item, DeviceStatus):
                self._emit(self._status(item))
            elif isinstance(item, _Command):
                self._run_command(item)
        except Exception:  # one bad input must not stop the alarms
            log.exception("alarm service could not handle %r", item)

    def _status(self, status: DeviceStatus) -> list[AlarmTransition]:
        engine = self._engine
        if status.state is LinkState.DISCONNECTED:
            return engine.device_lost(status.device, status.t, status.detail)
        if status.state is LinkState.CONNECTED:
            return engine.device_restored(status.device, status.t, status.channels)
        if status.state is LinkState.NO_DATA:
            return engine.device_silent(status.device, status.t, status.detail)
        return []  # CONNECTING: still disconnected until CONNECTED

    def _run_command(self, command: _Command) -> None:
        if not command.done.set_running_or_notify_cancel():
            return
        try:
            result = command.action(self._engine)
        except Exception as e:  # handed back to the caller through the future
            command.done.set_exception(e)
            return
        if isinstance(result, AlarmTransition):
            self._emit([result])
        elif isinstance(result, list):
            self._emit([r for r in result if isinstance(r, AlarmTransition)])
        self._publish_state()  # before the caller wakes, so it sees its own action
        command.done.set_result(result)

    def _call(self, action: Callable[[AlarmEngine], Any]) -> Future[Any]:
        done: Future[Any] = Future()
        self._inbox.put(_Command(action, done))
        return done

    def _emit(self, transitions: list[AlarmTransition]) -> None:
        if transitions:
            self._publish_state()
        for transition in transitions:  # a failing recorder or GUI must not silence alarms
            self._listeners.notify(transition)

    def _publish_state(self) -> None:
        self._active = tuple(self._engine.active_alarms())
        self._audio = self._engine.audio_state()
        self._limits = self._engine.limits
