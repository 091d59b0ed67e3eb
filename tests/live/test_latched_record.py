"""A live session (shipped clinic settings: latching on) records when a latched heart-rate
alarm's condition ended, apart from when its signal ended (acknowledged and cleared), and
both reach the session export and `kapdesk replay`."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from access_support import CLINICIAN

from kapdesk.cli import main
from kapdesk.demo.script import demo_patient
from kapdesk.domain.clock import parse_iso_utc
from kapdesk.domain.readings import Reading
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import open_database
from kapdesk.storage.export import write_json

SPEED = 20.0


def test_latched_hr_alarm_records_condition_ended_then_cleared_on_acknowledge(
    db_url: str, tmp_path: Path, capsys
) -> None:
    rt = Runtime.build(open_database(db_url), speed=SPEED, flush_interval=0.05, actor=CLINICIAN)
    assert rt.alarm_settings.latching  # the shipped clinic.toml latches
    session = rt.controller.open(demo_patient(), "im-ketamine")
    rt.controller.start()
    t_start = rt.clock.elapsed()
    high_until: list[float] = []

    def strap() -> None:  # HR once per session second: 150 for 30 s, then 80 for 15 s
        for second in range(45):
            while rt.clock.elapsed() - t_start < second:
                time.sleep(0.002)
            now = rt.clock.now()
            hr = 150.0 if second < 30 else 80.0
            if second == 30:
                high_until.append(now)
            rt.hub.publish(Reading("heart_rate", hr, "/min", now, "strap"))
            rt.hub.publish(Reading("spo2", 97.0, "%", now, "oximeter"))

    producer = threading.Thread(target=strap)
    producer.start()
    producer.join(30)
    time.sleep(0.2)
    [state] = [a for a in rt.alarms.active_alarms() if a.channel == "heart_rate"]
    assert state.latched and state.audible and state.condition_ended_at is not None
    acked = rt.alarms.acknowledge("RN Jones").result(5)
    assert [t.transition.value for t in acked if t.channel == "heart_rate"] == [
        "acknowledged",
        "cleared",
    ]
    rt.shutdown()

    export = tmp_path / "session.json"
    with export.open("w") as f:
        write_json(rt.engine, session.id or 0, f)
    hr = [a for a in json.loads(export.read_text())["alarms"] if a["channel"] == "heart_rate"]
    assert [a["transition"] for a in hr] == ["raised", "condition_ended", "acknowledged", "cleared"]
    assert len({a["episode"] for a in hr}) == 1 and hr[0]["episode"]
    raised, ended, acked_rec, cleared = (parse_iso_utc(a["t"]) for a in hr)
    assert raised < ended < acked_rec <= cleared
    # the condition ended when the value came back (not when someone acknowledged it)
    assert abs(ended - high_until[0]) <= 1.5  # a tick is 1 session second at x20
    assert hr[1]["value"] == 80.0
    assert hr[2]["by"] == "clinician"  # the signed-in user, whatever name was passed

    capsys.readouterr()
    assert main(["replay", str(export), "--protocol", "im-ketamine"]) == 0
    replayed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    replayed_hr = [a for a in replayed if a["channel"] == "heart_rate"]
    assert [a["transition"] for a in replayed_hr] == ["raised", "condition_ended"]
    assert abs(parse_iso_utc(replayed_hr[1]["t"]) - ended) <= 1.5
