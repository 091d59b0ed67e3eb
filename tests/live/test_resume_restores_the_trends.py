"""Issue 13 point 2: a resumed session's trends come back from its record (the one read
path, ``storage.signals.reader``), so the monitor's windows up to "whole session" show
what came before the restart; waveforms are not read back."""

from __future__ import annotations

import math

from access_support import CLINICIAN
from session_test_support import make_patient

from kapdesk.domain.readings import SENSOR_OFF, Reading
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import open_database


def test_resume_refills_the_trends_from_the_record(db_url: str) -> None:
    rt = Runtime.build(open_database(db_url), actor=CLINICIAN)
    rt.controller.open(make_patient(), "im-ketamine")
    rt.controller.start()
    t0 = rt.clock.now() - 600
    for i in range(600):  # ten minutes of heart rate and pleth, before the "crash"
        rt.hub.publish(Reading("heart_rate", 60 + i % 20, "/min", t0 + i, "strap"))
        rt.hub.publish(Reading("pleth", 50, "1", t0 + i + 0.5, "oximeter"))
    rt.hub.publish(Reading("spo2", 0, "%", t0 + 1, "oximeter", frozenset({SENSOR_OFF})))
    sid = rt.controller.session.id
    rt.shutdown()

    rt2 = Runtime.build(open_database(db_url), actor=CLINICIAN)
    try:
        assert rt2.trends.since("heart_rate", 0)[0].size == 0
        rt2.resume_session(sid)
        t, v = rt2.trends.since("heart_rate", 0)
        assert len(t) == 600 and list(v[:3]) == [60.0, 61.0, 62.0]
        assert abs(t[0] - t0) < 1e-6 and (t[1:] > t[:-1]).all()  # to the microsecond, in order
        _, spo2 = rt2.trends.since("spo2", 0)
        assert len(spo2) == 1 and math.isnan(spo2[0])  # flagged: a gap, as live
        assert "pleth" not in rt2.trends.channels()
    finally:
        rt2.shutdown()
