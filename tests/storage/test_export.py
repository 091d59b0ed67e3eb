from __future__ import annotations

import io
import json
import time

from access_support import CLINICIAN

from kapdesk.demo.script import demo_patient
from kapdesk.domain.clock import parse_iso_utc
from kapdesk.domain.readings import SENSOR_OFF, Reading
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import open_database
from kapdesk.storage.export import session_record, write_json


def test_export_holds_the_whole_record_in_canonical_form(db_url: str) -> None:
    engine = open_database(db_url)
    rt = Runtime.build(engine, speed=1.0, flush_interval=0.05, actor=CLINICIAN)
    try:
        c = rt.controller
        session = c.open(demo_patient(), "im-ketamine")
        c.start()
        t0 = time.time()
        rt.hub.publish(Reading("heart_rate", 71, "/min", t=t0 + 1, device="strap"))
        rt.hub.publish(
            Reading("nibp_systolic", 135.0, "mm[Hg]", t=t0 + 2, device="cuff",
                    original_unit="kPa")
        )  # fmt: skip
        rt.hub.publish(
            Reading("spo2", 0, "%", t=t0 + 3, device="ox", flags=frozenset({SENSOR_OFF}))
        )
        c.advance()
        c.record("dose", {"route": "IM", "amount_mg": 50, "weight_kg": 70})
        rt.recorder.record_alarm(
            {"channel": "spo2", "priority": "high", "kind": "technical",
             "condition": "sensor_off", "transition": "raised", "value": None},
            t=t0 + 3,
        )  # fmt: skip
        rt.recorder.flush()
    finally:
        rt.shutdown()

    assert session.id is not None
    rec = session_record(engine, session.id)
    assert rec["format_version"] == 1
    assert rec["patient"]["display_name"] == "Demo Patient (emulated)"
    assert rec["session"]["state"] == "in_progress"
    assert rec["session"]["current_phase"] == "intention"
    assert [p["phase"] for p in rec["phases"]] == ["preparation", "intention"]
    assert rec["phases"][0]["ended_at"] == rec["phases"][1]["started_at"]
    assert [e["kind"] for e in rec["events"]][-1] == "dose"
    by_channel = {r["channel"]: r for r in rec["readings"]}
    assert by_channel["heart_rate"] == {
        "t": by_channel["heart_rate"]["t"], "channel": "heart_rate", "value": 71.0,
        "unit": "/min", "device": "strap", "flags": [],
    }  # fmt: skip
    assert by_channel["nibp_systolic"]["original_unit"] == "kPa"
    # 0 % is no measurement: flagged invalid as well as sensor off (issue 11 point 5)
    assert by_channel["spo2"]["flags"] == ["invalid", "sensor_off"]
    assert abs(parse_iso_utc(by_channel["heart_rate"]["t"]) - (t0 + 1)) < 1e-5
    assert all(r["t"].endswith("Z") for r in rec["readings"])
    assert rec["alarms"][0]["condition"] == "sensor_off"

    # The streamed writer gives the same record as the in-memory one.
    buf = io.StringIO()
    n = write_json(engine, session.id, buf)
    streamed = json.loads(buf.getvalue())
    assert n == 3
    streamed["exported_at"] = rec["exported_at"]
    assert streamed == rec
