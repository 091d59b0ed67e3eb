"""How the alarm list and log word a latched alarm's condition end and its episode."""

from __future__ import annotations

from kapdesk.domain import time_text
from kapdesk.domain.alarms import (
    AlarmEngine,
    AlarmLimits,
    AlarmSettings,
    Condition,
    LimitRule,
    Priority,
)
from kapdesk.domain.readings import Reading
from kapdesk.ui.monitor.alarm_views import alarm_text, log_line

T0 = 1_795_957_200.0
HR_HIGH = LimitRule("heart_rate", Condition.ABOVE_HIGH_LIMIT, Priority.HIGH, 140)


def test_latched_alarm_shows_when_its_condition_ended_and_the_log_names_the_episode():
    engine = AlarmEngine(AlarmLimits((HR_HIGH,), default_delay_s=0), AlarmSettings(latching=True))
    raised = engine.on_reading(Reading("heart_rate", 150, "/min", T0, "strap"))
    ended = engine.on_reading(Reading("heart_rate", 90, "/min", T0 + 30, "strap"))
    [state] = engine.active_alarms()
    assert alarm_text(state) == (
        f"*** Heart rate 150 bpm > 140  [latched: ended {time_text.clock_time_s(T0 + 30)}]"
    )
    line = log_line(ended[0])
    assert line.startswith(f"{time_text.clock_time_s(T0 + 30)}  condition ended ")
    assert "Condition ended: Heart rate 150 bpm > 140 (now 90 bpm)" in line
    assert line.endswith(f"[#{raised[0].episode}]")
