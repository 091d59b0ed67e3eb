"""The alarm service thread, fed through a real IngestHub from other threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from alarm_test_support import HR_MEDIUM, SPO2_MEDIUM, limits

from kapdesk.acquisition.ingest import DeviceStatus, IngestHub, LinkState
from kapdesk.domain.alarms import (
    AlarmEngine,
    AlarmSettings,
    AlarmTransition,
    Condition,
    LimitError,
    Priority,
    TransitionKind,
)
from kapdesk.domain.readings import Reading
from kapdesk.live.alarm_service import AlarmService, anchored_clock

DELAY_S = 0.4


class Received:
    """A listener that notes each transition with the session-clock time it arrived."""

    def __init__(self, clock) -> None:
        self.clock = clock
        self.items: list[tuple[float, AlarmTransition]] = []
        self.event = threading.Event()

    def __call__(self, transition: AlarmTransition) -> None:
        self.items.append((self.clock(), transition))
        self.event.set()

    def wait_for(self, kind: TransitionKind, timeout: float = 3.0) -> tuple[float, AlarmTransition]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for arrived, tr in self.items:
                if tr.transition is kind:
                    return arrived, tr
            self.event.wait(0.01)
            self.event.clear()
        raise AssertionError(f"no {kind.value} transition within {timeout} s: {self.items}")


@pytest.fixture
def wiring() -> Iterator[tuple[IngestHub, AlarmService, Received]]:
    clock = anchored_clock()
    hub = IngestHub()
    received = Received(clock)
    engine = AlarmEngine(limits(SPO2_MEDIUM, HR_MEDIUM, delay_s=DELAY_S), AlarmSettings())
    service = AlarmService(engine, hub, [received], clock=clock)
    service.start()
    try:
        yield hub, service, received
    finally:
        service.stop()
        assert not service.is_alive()


def test_transition_arrives_soon_after_the_delay_expires(wiring):
    hub, service, received = wiring
    clock = received.clock
    first_t: list[float] = []

    def monitor() -> None:  # a producer thread, like a serial reader: a few values, then quiet
        for _ in range(3):
            t = clock()
            first_t.append(t)
            hub.publish(Reading("spo2", 89.0, "%", t, "oxi"))
            time.sleep(0.05)

    producer = threading.Thread(target=monitor)
    producer.start()
    producer.join()
    arrived, raised = received.wait_for(TransitionKind.RAISED)
    expires = first_t[0] + DELAY_S
    latency = arrived - expires
    assert raised.channel == "spo2" and raised.priority is Priority.MEDIUM
    assert raised.t >= expires - 1e-6  # never before the delay
    # The project's benchmark wants < 100 ms; a generous bound keeps this test calm on a
    # loaded 2-core machine while still failing if ticking were missing (no reading
    # arrives after the producer stops, so only a tick can raise this alarm).
    assert 0 <= latency < 0.5, f"latency {latency * 1000:.0f} ms"
    assert [s.condition for s in service.active_alarms()] == [Condition.BELOW_LOW_LIMIT]
    assert service.audio_state().sounding is Priority.MEDIUM


def test_device_status_becomes_technical_alarms(wiring):
    hub, _service, received = wiring
    clock = received.clock
    hub.report_status(DeviceStatus("oxi", LinkState.DISCONNECTED, clock(), "cable pulled"))
    _, lost = received.wait_for(TransitionKind.RAISED)
    assert (lost.condition, lost.channel) == (Condition.DEVICE_DISCONNECTED, "oxi")
    hub.report_status(DeviceStatus("oxi", LinkState.CONNECTED, clock()))
    _, back = received.wait_for(TransitionKind.CLEARED)
    assert (back.condition, back.channel) == (Condition.DEVICE_DISCONNECTED, "oxi")


def test_staff_actions_go_through_the_service_thread(wiring):
    hub, service, received = wiring
    hub.publish(Reading("heart_rate", 130.0, "/min", received.clock(), "strap"))
    received.wait_for(TransitionKind.RAISED)
    acks = service.acknowledge("RN Jones").result(timeout=2)
    assert [(a.transition, a.by) for a in acks] == [(TransitionKind.ACKNOWLEDGED, "RN Jones")]
    assert service.active_alarms()[0].acknowledged_by == "RN Jones"
    paused = service.pause_audio("RN Jones", 60).result(timeout=2)
    assert paused.transition is TransitionKind.AUDIO_PAUSED
    assert service.audio_state().paused
    changed = service.change_limit(
        "heart_rate", Condition.ABOVE_HIGH_LIMIT, Priority.MEDIUM, 125, "Dr Li"
    ).result(timeout=2)
    assert changed[0].transition is TransitionKind.LIMIT_CHANGED and changed[0].by == "Dr Li"
    refused = service.change_limit(
        "heart_rate", Condition.ABOVE_HIGH_LIMIT, Priority.MEDIUM, float("nan"), "Dr Li"
    )
    with pytest.raises(LimitError):
        refused.result(timeout=2)
    failed = service.report_technical(Condition.RECORDING_FAILED, "recorder", "disk full")
    assert failed.result(timeout=2)[0].priority is Priority.HIGH
    kinds = [tr.transition for _, tr in received.items]
    assert TransitionKind.LIMIT_CHANGED in kinds and TransitionKind.ACKNOWLEDGED in kinds


def test_a_failing_listener_does_not_silence_the_others(wiring):
    _hub, service, received = wiring

    def broken(_: AlarmTransition) -> None:
        raise RuntimeError("GUI adapter bug")

    service.add_listener(broken)
    service.report_technical(Condition.AUDIO_UNAVAILABLE, "speaker").result(timeout=2)
    _, tr = received.wait_for(TransitionKind.RAISED)
    assert tr.condition is Condition.AUDIO_UNAVAILABLE
    assert service.listener_errors == 1
    assert service.is_alive()
