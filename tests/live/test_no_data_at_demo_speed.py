"""Demo mode's emulated monitors, on their real transports, at --speed 20 and 60.

Silence is timed in real seconds: devices that keep streaming raise no "no data" alarm
however fast the session clock runs, and a device that really falls silent still raises
one within its time-out of real time. Every recorded alarm episode runs forward: one id,
raised first, nothing stamped before it, cleared last.
"""

from __future__ import annotations

import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable

import pytest
from access_support import CLINICIAN

from kapdesk.acquisition.ingest import LinkState
from kapdesk.demo.mode import start_demo
from kapdesk.demo.monitors import CUFF, OXIMETER, STRAP, EmulatedDevices
from kapdesk.domain.alarms import AlarmTransition, Condition, TransitionKind
from kapdesk.domain.clock import parse_iso_utc
from kapdesk.live.runtime import Runtime
from kapdesk.sim.emulators.ble_peripherals import HeartRateStrap
from kapdesk.storage.database import open_database
from kapdesk.storage.export import session_record

#: How long the devices stream before the silence, in real seconds.
STREAM_S = 4.0
#: The strap's time-out: twice its 1 s interval (catalog and protocol alike), real seconds.
TIME_OUT_S = 2.0


class Heard:
    """Every transition with the real (monotonic) time it reached the listener."""

    def __init__(self) -> None:
        self.items: list[tuple[float, AlarmTransition]] = []
        self._lock = threading.Lock()

    def __call__(self, tr: AlarmTransition) -> None:
        with self._lock:
            self.items.append((time.monotonic(), tr))

    def no_data(self) -> list[tuple[float, AlarmTransition]]:
        with self._lock:
            return [(m, tr) for m, tr in self.items if tr.condition is Condition.SIGNAL_LOST]


def wait_until(what: str, done: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.02)


@pytest.mark.parametrize("speed", [20.0, 60.0])
def test_streaming_devices_never_say_no_data_and_a_real_silence_does(
    db_url: str, speed: float
) -> None:
    rt = Runtime.build(open_database(db_url), speed=speed, flush_interval=0.05, actor=CLINICIAN)
    heard = Heard()
    rt.alarms.add_listener(heard)
    try:
        start_demo(rt)
        session = rt.controller.session
        assert session is not None and session.id is not None
        wait_until(
            "the emulated monitors connected",
            lambda: (
                {e.name for e in rt.devices.entries() if e.state is LinkState.CONNECTED}
                >= {STRAP, CUFF, OXIMETER}
            ),
            timeout=20,
        )
        wait_until(
            "heart rate and SpO2 arriving",
            lambda: rt.trends.last("heart_rate") is not None and rt.trends.last("spo2") is not None,
            timeout=10,
        )
        time.sleep(STREAM_S)  # STREAM_S x speed session seconds of monitoring
        assert heard.no_data() == [], heard.no_data()

        # A real silence: the strap keeps its link but sends nothing.
        [devices] = [s for s in rt.sources if isinstance(s, EmulatedDevices)]
        assert devices.world is not None
        [strap] = [p for p in devices.world.peripherals if isinstance(p, HeartRateStrap)]
        silent_from = time.monotonic()
        strap.silent = True
        wait_until("a no-data alarm", lambda: heard.no_data() != [], timeout=TIME_OUT_S + 3)
        [(raised_at, raised)] = heard.no_data()
        after = raised_at - silent_from
        # within its time-out of real time (plus the transport's and the tick's slack),
        # and not after its time-out of *session* time (0.1 s at x20), as it used to
        assert TIME_OUT_S - 0.5 <= after <= TIME_OUT_S + 1.0, after
        assert raised.transition is TransitionKind.RAISED
        assert raised.channel in ("heart_rate", STRAP)
        # says since when; never a measured duration ("nothing for 4.9 s") gone stale
        assert " since " in raised.message and not re.search(r"\d\.\d+ s", raised.message)
        strap.silent = False
        wait_until(
            "the no-data alarm cleared",
            lambda: any(tr.transition is TransitionKind.CLEARED for _, tr in heard.no_data()),
            timeout=5,
        )
        time.sleep(1.0)
        assert [tr.transition for _, tr in heard.no_data()] == [
            TransitionKind.RAISED,
            TransitionKind.CLEARED,
        ]  # one silence, one alarm: no chatter
    finally:
        rt.shutdown()

    record = session_record(rt.engine, session.id)
    episodes: dict[str, list[dict]] = defaultdict(list)
    for a in record["alarms"]:
        if a["transition"] in ("limit_changed", "audio_paused"):
            continue
        assert a["episode"], a
        episodes[a["episode"]].append(a)
    lost = [e for e in episodes.values() if e[0]["condition"] == "signal_lost"]
    assert len(lost) == 1
    for records in episodes.values():
        assert records[0]["transition"] == "raised", records
        times = [parse_iso_utc(a["t"]) for a in records]
        assert times == sorted(times), records
        cleared = [i for i, a in enumerate(records) if a["transition"] == "cleared"]
        assert cleared in ([], [len(records) - 1]), records
        assert len({(a["channel"], a["condition"]) for a in records}) == 1
