"""`kapdesk replay` on a live session's export reproduces the alarms the session raised."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from access_support import CLINICIAN

from kapdesk.cli import main
from kapdesk.demo.script import demo_patient
from kapdesk.domain.clock import parse_iso_utc
from kapdesk.domain.readings import Reading
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import open_database
from kapdesk.storage.export import write_json

PHYSIOLOGICAL_TRANSITIONS = {
    "raised",
    "escalated",
    "condition_ended",
    "condition_returned",
    "cleared",
}


def scripted_vitals(second: int) -> list[Reading]:
    """A minute of a session: SpO2 falls below 88 % for 20 s, one cuff reading is severe."""
    spo2 = 86.0 if 15 <= second < 35 else 97.0
    out = [Reading("heart_rate", 74.0, "/min"), Reading("spo2", spo2, "%")]
    if second in (5, 30):
        sys_, dia = (128.0, 80.0) if second == 5 else (204.0, 116.0)
        out += [Reading("nibp_systolic", sys_, "mm[Hg]"), Reading("nibp_diastolic", dia, "mm[Hg]")]
    return out


def test_replay_reproduces_live_alarms(db_url: str, tmp_path: Path, capsys) -> None:
    rt = Runtime.build(open_database(db_url), speed=10.0, flush_interval=0.05, actor=CLINICIAN)
    session = rt.controller.open(demo_patient(), "im-ketamine")
    rt.controller.start()
    t_start = rt.clock.elapsed()

    def feed() -> None:  # a monitor sending once per session second, in real time
        for second in range(60):
            while rt.clock.elapsed() - t_start < second:
                time.sleep(0.005)
            now = rt.clock.now()
            for r in scripted_vitals(second):
                rt.hub.publish(r.at(now, "monitor"))

    producer = threading.Thread(target=feed)
    producer.start()
    producer.join(30)
    time.sleep(0.3)  # let the alarm service's last tick land
    rt.shutdown()

    export = tmp_path / "session.json"
    with export.open("w") as f:
        write_json(rt.engine, session.id or 0, f)
    live = [
        a
        for a in json.loads(export.read_text())["alarms"]
        if a["kind"] == "physiological" and a["transition"] in PHYSIOLOGICAL_TRANSITIONS
    ]
    assert {(a["channel"], a["transition"]) for a in live} >= {
        ("spo2", "raised"),
        ("nibp_systolic", "raised"),
    }

    capsys.readouterr()
    assert main(["replay", str(export), "--protocol", "im-ketamine"]) == 0
    replayed = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if json.loads(line)["kind"] == "physiological"
    ]

    def key(a: dict) -> tuple:
        return (a["channel"], a["condition"], a["priority"], a["transition"], a["value"])

    assert [key(a) for a in replayed] == [key(a) for a in live]
    for a, b in zip(replayed, live, strict=True):
        # Live, the engine ticks every 50 ms real time (0.5 s of session time at 10x);
        # replay ticks at reading times. The moments agree to within that.
        assert parse_iso_utc(a["t"]) == pytest.approx(parse_iso_utc(b["t"]), abs=1.1)
