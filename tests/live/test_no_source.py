"""A running session whose protocol expects SpO2 and NIBP but has no monitor for them
raises "No SpO₂ source" / "No NIBP source", and clears each when a source connects or the
session ends; recorded with one episode per alarm."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from access_support import CLINICIAN

from kapdesk.acquisition.ingest import DeviceStatus, LinkState
from kapdesk.config.paths import find_protocol
from kapdesk.demo.script import demo_patient
from kapdesk.domain.alarms import AlarmTransition, Condition, TransitionKind
from kapdesk.domain.clock import parse_iso_utc
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import open_database
from kapdesk.storage.export import session_record

GRACE_S = 0.5


class Heard:
    def __init__(self) -> None:
        self.items: list[tuple[float, AlarmTransition]] = []
        self._lock = threading.Lock()

    def __call__(self, tr: AlarmTransition) -> None:
        with self._lock:
            self.items.append((time.monotonic(), tr))

    def no_source(self, transition: TransitionKind) -> dict[str, tuple[float, AlarmTransition]]:
        with self._lock:
            return {
                tr.channel: (m, tr)
                for m, tr in self.items
                if tr.condition is Condition.NO_SOURCE and tr.transition is transition
            }


def wait_until(what: str, done: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.02)


def test_missing_spo2_and_nibp_sources_alarm_and_clear(db_url: str, tmp_path: Path) -> None:
    protocol = tmp_path / "im-ketamine.toml"
    shutil.copy(find_protocol("im-ketamine"), protocol)
    text = protocol.read_text(encoding="utf-8")
    assert "source_grace_s = 20" in text
    protocol.write_text(text.replace("source_grace_s = 20", f"source_grace_s = {GRACE_S}"))

    rt = Runtime.build(open_database(db_url), speed=20.0, flush_interval=0.05, actor=CLINICIAN)
    heard = Heard()
    rt.alarms.add_listener(heard)
    try:
        session = rt.controller.open(demo_patient(), str(protocol))
        assert session.id is not None
        # only a heart-rate strap is connected
        rt.hub.report_status(
            DeviceStatus("strap", LinkState.CONNECTED, rt.clock.now(), channels=("heart_rate",))
        )
        started = time.monotonic()
        rt.controller.start()
        wait_until("two no-source alarms", lambda: len(heard.no_source(TransitionKind.RAISED)) == 2)
        raised = heard.no_source(TransitionKind.RAISED)
        assert set(raised) == {"spo2", "nibp"}  # the strap provides the heart rate
        assert raised["spo2"][1].message.startswith("** No SpO₂ source")
        assert raised["nibp"][1].message.startswith("** No NIBP source")
        for arrived, _ in raised.values():  # after the grace of real time, promptly
            assert GRACE_S - 0.05 <= arrived - started <= GRACE_S + 1.0
        assert {a.condition for a in rt.alarms.active_alarms()} == {Condition.NO_SOURCE}

        # an oximeter connects: SpO2 has a source, NIBP still has none
        rt.hub.report_status(
            DeviceStatus(
                "oximeter", LinkState.CONNECTED, rt.clock.now(), channels=("spo2", "pulse_rate")
            )
        )
        wait_until("SpO2 cleared", lambda: "spo2" in heard.no_source(TransitionKind.CLEARED))
        time.sleep(0.2)
        assert set(heard.no_source(TransitionKind.CLEARED)) == {"spo2"}
        # the session ends: nothing is expected any more
        rt.controller.abort("test over")
        wait_until("NIBP cleared", lambda: "nibp" in heard.no_source(TransitionKind.CLEARED))
    finally:
        rt.shutdown()

    alarms = [a for a in session_record(rt.engine, session.id)["alarms"]]
    lost = [a for a in alarms if a["condition"] == "no_source"]
    assert sorted((a["channel"], a["transition"]) for a in lost) == [
        ("nibp", "cleared"),
        ("nibp", "raised"),
        ("spo2", "cleared"),
        ("spo2", "raised"),
    ]
    for channel in ("spo2", "nibp"):
        raise_, clear = (a for a in lost if a["channel"] == channel)
        assert raise_["transition"] == "raised" and clear["transition"] == "cleared"
        assert raise_["episode"] == clear["episode"] is not None
        assert parse_iso_utc(clear["t"]) >= parse_iso_utc(raise_["t"])
        assert raise_["kind"] == "technical"
