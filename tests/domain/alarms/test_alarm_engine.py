"""Alarm engine behaviour, one rule per test, driven with explicit times."""

from __future__ import annotations

import math

import pytest
from alarm_test_support import (
    HR_HIGH,
    HR_MEDIUM,
    SPO2_HIGH,
    SPO2_MEDIUM,
    SYS_HIGH,
    SYS_RISE,
    T0,
    limits,
    only,
    reading,
    settings,
)

from kapdesk.domain import time_text
from kapdesk.domain.alarms import (
    AlarmEngine,
    AlarmKind,
    AlarmTransition,
    ChannelTiming,
    Condition,
    LimitError,
    Priority,
    TransitionKind,
)
from kapdesk.domain.readings import INVALID, SENSOR_OFF

RAISED, CLEARED, ESCALATED, CONDITION_ENDED = (
    TransitionKind.RAISED,
    TransitionKind.CLEARED,
    TransitionKind.ESCALATED,
    TransitionKind.CONDITION_ENDED,
)


def feed(engine: AlarmEngine, channel: str, values: list[float], start: float = 0.0):
    """One value a second from ``start``, ticking at each reading's time as replay does."""
    out: list[AlarmTransition] = []
    for i, v in enumerate(values):
        r = reading(channel, v, start + i)
        out += engine.tick(r.t) + engine.on_reading(r)
    return out


# -- condition delay and immediacy -------------------------------------------------------


def test_continuous_alarm_waits_for_the_delay_then_raises_on_the_first_tick_after_it():
    engine = AlarmEngine(limits(SPO2_MEDIUM, delay_s=10))
    assert engine.on_reading(reading("spo2", 90, 0)) == []
    assert engine.tick(T0 + 9.95) == []
    raised = engine.tick(T0 + 10.0)
    assert [(t.transition, t.priority, t.t) for t in raised] == [(RAISED, Priority.MEDIUM, T0 + 10)]
    assert raised[0].value == 90 and raised[0].limit == 92
    assert raised[0].message == "** SpO₂ 90 % < 92"


def test_alarm_raised_by_the_reading_that_completes_the_delay():
    engine = AlarmEngine(limits(SPO2_MEDIUM, delay_s=5))
    out = feed(engine, "spo2", [97, 91, 91, 91, 91, 91, 90])
    # the tick at 6 s (before that reading is judged) finds 91 beyond the limit for 5 s
    assert [(t.transition, t.t - T0, t.value) for t in out] == [(RAISED, 6.0, 91)]


def test_single_sample_spike_is_suppressed():
    engine = AlarmEngine(limits(SPO2_MEDIUM, SPO2_HIGH, delay_s=5))
    out = feed(engine, "spo2", [97, 80, 97, 97, 97, 97, 97, 97, 97, 97])
    assert out == []
    assert engine.active_alarms() == []


def test_nibp_reading_alarms_at_once():
    engine = AlarmEngine(limits(SYS_HIGH, delay_s=30))
    out = engine.on_reading(reading("nibp_systolic", 185, 0))
    assert [(t.transition, t.priority, t.t, t.value) for t in out] == [
        (RAISED, Priority.HIGH, T0, 185)
    ]
    assert out[0].message == "*** NIBP systolic 185 mmHg > 180"


def test_nan_is_a_gap_that_restarts_the_delay():
    engine = AlarmEngine(limits(SPO2_MEDIUM, delay_s=3))
    # without the gap the alarm would be raised at 3 s; after it the run starts at 3 s
    assert feed(engine, "spo2", [90, 90, math.nan, 90, 90, 90]) == []
    [raised] = engine.tick(T0 + 6)
    assert raised.transition is RAISED


# -- hysteresis, latching -----------------------------------------------------------------


def test_value_hovering_on_the_limit_does_not_chatter():
    engine = AlarmEngine(limits(SPO2_MEDIUM, delay_s=2, hysteresis=2), settings(latching=False))
    out = feed(engine, "spo2", [91, 91, 91] + [92, 91.5, 93, 91, 93.9, 92.5] * 5)
    assert len(only(out, RAISED)) == 1
    assert only(out, CLEARED) == []
    cleared = feed(engine, "spo2", [94], start=100)
    assert [(t.transition, t.value) for t in cleared] == [(CLEARED, 94)]


def test_clear_delay_holds_the_alarm_until_the_value_stays_inside():
    engine = AlarmEngine(
        limits(SPO2_MEDIUM, delay_s=0, spo2=ChannelTiming(clear_delay_s=3)),
        settings(latching=False),
    )
    feed(engine, "spo2", [90])
    assert feed(engine, "spo2", [97, 97, 97], start=1) == []
    assert [t.transition for t in feed(engine, "spo2", [97], start=4)] == [CLEARED]


def test_non_latching_alarm_clears_when_the_condition_ends():
    engine = AlarmEngine(limits(SPO2_MEDIUM, delay_s=0), settings(latching=False))
    out = feed(engine, "spo2", [90, 97])
    assert [t.transition for t in out] == [RAISED, CLEARED]
    assert engine.active_alarms() == []


def test_latching_alarm_keeps_signalling_until_acknowledged():
    engine = AlarmEngine(limits(SPO2_MEDIUM, delay_s=0), settings(latching=True))
    out = feed(engine, "spo2", [90, 97, 97])
    assert [t.transition for t in out] == [RAISED, CONDITION_ENDED]
    raised, ended = out
    assert ended.t == T0 + 1  # when the value came back: how long it lasted is answerable
    assert ended.value == 97
    assert ended.episode == raised.episode and raised.episode
    assert ended.message.startswith("Condition ended: SpO₂ 90 % < 92 (now 97 %)")
    [state] = engine.active_alarms()
    assert state.latched and state.audible
    assert state.condition_ended_at == T0 + 1
    assert state.episode == raised.episode
    assert engine.audio_state().sounding is Priority.MEDIUM
    acked = engine.acknowledge("RN Jones", T0 + 5)
    assert [(t.transition, t.by, t.t, t.episode) for t in acked] == [
        (TransitionKind.ACKNOWLEDGED, "RN Jones", T0 + 5, raised.episode),
        (CLEARED, None, T0 + 5, raised.episode),  # the signal ends when acknowledged
    ]
    assert engine.active_alarms() == []


def test_unlatched_alarm_records_no_separate_condition_end():
    engine = AlarmEngine(limits(SPO2_MEDIUM, delay_s=0), settings(latching=False))
    out = feed(engine, "spo2", [90, 97])
    assert [t.transition for t in out] == [RAISED, CLEARED]
    assert out[1].t == T0 + 1 and out[0].episode == out[1].episode


def test_each_alarm_episode_has_its_own_id():
    engine = AlarmEngine(limits(SPO2_MEDIUM, HR_MEDIUM, delay_s=0), settings(latching=False))
    out = feed(engine, "spo2", [90, 97, 90, 97]) + feed(engine, "heart_rate", [130], start=5)
    assert [t.transition for t in out] == [RAISED, CLEARED, RAISED, CLEARED, RAISED]
    ids = [t.episode for t in out]
    assert ids[0] == ids[1] and ids[2] == ids[3]
    assert len({ids[0], ids[2], ids[4]}) == 3
    assert None not in ids
    # the same readings give the same ids (replay reproduces the live record)
    again = AlarmEngine(limits(SPO2_MEDIUM, HR_MEDIUM, delay_s=0), settings(latching=False))
    out2 = feed(again, "spo2", [90, 97, 90, 97]) + feed(again, "heart_rate", [130], start=5)
    assert [t.episode for t in out2] == ids


def test_a_clear_is_never_stamped_before_its_raise():
    """A reading stamped on its device's thread can reach the engine after a tick that
    was stamped later; its records take the episode's latest time."""
    engine = AlarmEngine(limits(SPO2_MEDIUM, spo2=ChannelTiming(expected_interval_s=1)))
    engine.on_reading(reading("spo2", 97, 0))
    [lost] = engine.tick(T0 + 3.0)
    [back] = engine.on_reading(reading("spo2", 97, 2.5))  # stamped before the raise
    assert (lost.transition, back.transition) == (RAISED, CLEARED)
    assert back.episode == lost.episode
    assert back.t >= lost.t


def test_latched_alarm_acknowledged_while_present_clears_when_condition_ends():
    engine = AlarmEngine(limits(SPO2_MEDIUM, delay_s=0), settings(latching=True))
    feed(engine, "spo2", [90])
    engine.acknowledge("Dr Li", T0 + 1)
    assert [t.transition for t in feed(engine, "spo2", [97], start=2)] == [CLEARED]


# -- acknowledge, audio pause -------------------------------------------------------------


def test_acknowledge_silences_the_current_condition_only():
    engine = AlarmEngine(limits(SPO2_MEDIUM, SPO2_HIGH, HR_MEDIUM, delay_s=0))
    feed(engine, "spo2", [90])
    [ack] = engine.acknowledge("RN Jones", T0 + 1)
    assert (ack.channel, ack.by, ack.t) == ("spo2", "RN Jones", T0 + 1)
    [state] = engine.active_alarms()
    assert (state.acknowledged_by, state.acknowledged_at, state.audible) == (
        "RN Jones",
        T0 + 1,
        False,
    )
    assert engine.audio_state().highest_audible is None
    # a new condition on another channel sounds
    feed(engine, "heart_rate", [130], start=2)
    assert engine.audio_state().sounding is Priority.MEDIUM
    engine.acknowledge("RN Jones", T0 + 3, channel="heart_rate")
    assert engine.audio_state().sounding is None
    # an escalated condition sounds again
    out = feed(engine, "spo2", [85], start=4)
    assert [(t.transition, t.priority) for t in out] == [(ESCALATED, Priority.HIGH)]
    assert engine.audio_state().sounding is Priority.HIGH
    spo2 = next(s for s in engine.active_alarms() if s.channel == "spo2")
    assert spo2.audible and spo2.acknowledged_by is None


def test_audio_pause_expires_and_sound_returns_if_the_condition_persists():
    engine = AlarmEngine(limits(SPO2_MEDIUM, delay_s=0), settings(audio_pause_s=120))
    feed(engine, "spo2", [90])
    paused = engine.pause_audio("RN Jones", T0 + 1)
    assert (paused.transition, paused.by, paused.value) == (
        TransitionKind.AUDIO_PAUSED,
        "RN Jones",
        120,
    )
    assert engine.audio_paused_until == T0 + 121
    engine.tick(T0 + 120.9)
    assert engine.audio_state().sounding is None
    assert engine.audio_state().highest_audible is Priority.MEDIUM
    engine.tick(T0 + 121)
    assert engine.audio_paused_until is None
    assert engine.audio_state().sounding is Priority.MEDIUM


def test_audio_pause_ends_for_a_new_alarm_unless_the_clinic_says_otherwise():
    for ends, expected in ((True, Priority.MEDIUM), (False, None)):
        engine = AlarmEngine(
            limits(SPO2_MEDIUM, HR_MEDIUM, delay_s=0), settings(new_alarm_ends_audio_pause=ends)
        )
        feed(engine, "spo2", [90])
        engine.pause_audio("x", T0 + 1)
        feed(engine, "heart_rate", [130], start=2)
        assert engine.audio_state().sounding is expected


# -- escalation ---------------------------------------------------------------------------


def test_crossing_the_high_limit_escalates_the_existing_alarm():
    engine = AlarmEngine(limits(SPO2_MEDIUM, SPO2_HIGH, delay_s=2), settings(latching=False))
    out = feed(engine, "spo2", [91, 91, 91, 86, 86, 86, 95])
    assert [(t.transition, t.priority, t.t - T0) for t in out] == [
        (RAISED, Priority.MEDIUM, 2.0),
        (ESCALATED, Priority.HIGH, 5.0),
        (CLEARED, Priority.HIGH, 6.0),
    ]
    assert out[1].limit == 88 and out[1].message == "*** SpO₂ 86 % < 88"


def test_persisting_medium_alarm_escalates_after_the_clinic_time():
    engine = AlarmEngine(
        limits(HR_MEDIUM, HR_HIGH, delay_s=0),
        settings(escalate_after_s={Priority.MEDIUM: 60}),
    )
    feed(engine, "heart_rate", [125])
    assert engine.tick(T0 + 59.9) == []
    [esc] = engine.tick(T0 + 60)
    assert (esc.transition, esc.priority, esc.limit) == (ESCALATED, Priority.HIGH, 120)
    assert len(engine.active_alarms()) == 1


# -- technical alarms ---------------------------------------------------------------------


def test_signal_lost_after_twice_the_expected_interval_and_cleared_by_data():
    engine = AlarmEngine(limits(SPO2_MEDIUM, spo2=ChannelTiming(expected_interval_s=1)))
    engine.on_reading(reading("spo2", 97, 0))
    assert engine.tick(T0 + 2.0) == []
    [lost] = engine.tick(T0 + 2.05)
    assert (lost.kind, lost.condition, lost.channel, lost.transition) == (
        AlarmKind.TECHNICAL,
        Condition.SIGNAL_LOST,
        "spo2",
        RAISED,
    )
    assert engine.tick(T0 + 5) == []  # once, not per tick
    [back] = engine.on_reading(reading("spo2", 97, 6))
    assert (back.condition, back.transition) == (Condition.SIGNAL_LOST, CLEARED)


def test_no_data_is_timed_in_real_seconds_not_in_accelerated_session_time():
    """At --speed 60 a strap's frames come 3 session seconds apart (one per 50 ms poll):
    more than twice its 1 s interval of session time, but only 50 ms of real time."""
    engine = AlarmEngine(limits(HR_MEDIUM, heart_rate=ChannelTiming(expected_interval_s=1)))
    speed, out = 60.0, []
    for k in range(200):  # 10 real seconds
        real = k * 0.05
        t = T0 + real * speed
        out += engine.tick(t, real) + engine.on_reading(
            reading("heart_rate", 70, t - T0, device="strap"), real
        )
    assert out == []
    # now a real silence: 2 real seconds (120 session seconds) later it is "no data"
    last_real, last_t = 199 * 0.05, T0 + 199 * 0.05 * speed
    assert engine.tick(last_t + 1.9 * speed, last_real + 1.9) == []
    [lost] = engine.tick(last_t + 2.1 * speed, last_real + 2.1)
    assert (lost.condition, lost.channel, lost.transition) == (
        Condition.SIGNAL_LOST,
        "heart_rate",
        RAISED,
    )
    # the message says since when (session time of the last value), never a duration
    since = time_text.clock_time_s(last_t)
    assert lost.message == f"** No data: Heart rate from strap since {since}"


def test_a_devices_own_no_data_says_since_when_and_is_not_doubled():
    engine = AlarmEngine(limits(SPO2_MEDIUM, spo2=ChannelTiming(expected_interval_s=1)))
    engine.on_reading(reading("spo2", 97, 0, device="oxi"))
    [silent] = engine.device_silent("oxi", T0 + 2.5, "silent for more than 2 s")
    since = time_text.clock_time_s(T0)
    assert silent.message == f"** No data: oxi since {since} (silent for more than 2 s)"
    assert engine.tick(T0 + 3) == []  # the device's alarm already says it
    [back] = engine.on_reading(reading("spo2", 97, 4, device="oxi"))
    assert (back.transition, back.episode) == (CLEARED, silent.episode)
    # the other way round: the channel noticed first, the device's report adds nothing
    [lost] = engine.tick(T0 + 6.5)
    assert lost.channel == "spo2"
    assert engine.device_silent("oxi", T0 + 6.6) == []


def test_nibp_has_no_no_data_alarm():
    engine = AlarmEngine(limits(SYS_HIGH))
    engine.on_reading(reading("nibp_systolic", 120, 0))
    assert engine.tick(T0 + 3600) == []


def test_sensor_off_raises_a_technical_alarm_and_no_physiological_one():
    engine = AlarmEngine(limits(SPO2_MEDIUM, delay_s=0))
    out = engine.on_reading(reading("spo2", 0, 0, SENSOR_OFF, device="oxi"))
    assert [(t.kind, t.condition, t.channel, t.transition) for t in out] == [
        (AlarmKind.TECHNICAL, Condition.SENSOR_OFF, "oxi", RAISED)
    ]
    assert engine.on_reading(reading("spo2", 0, 1, SENSOR_OFF, device="oxi")) == []
    assert engine.tick(T0 + 1.5) == []  # no low-SpO2 alarm from a sensor that is off
    [back] = engine.on_reading(reading("spo2", 97, 2, device="oxi"))
    assert (back.condition, back.transition) == (Condition.SENSOR_OFF, CLEARED)
    assert engine.active_alarms() == []


def test_invalid_reading_never_alarms():
    engine = AlarmEngine(limits(SPO2_MEDIUM, delay_s=0))
    assert engine.on_reading(reading("spo2", 50, 0, INVALID)) == []
    assert engine.tick(T0 + 1) == []


def test_device_disconnected_and_restored():
    engine = AlarmEngine(limits(SPO2_MEDIUM, spo2=ChannelTiming(expected_interval_s=1)))
    engine.on_reading(reading("spo2", 97, 0, device="oxi"))
    [lost] = engine.device_lost("oxi", T0 + 0.5, "link dropped")
    assert (lost.condition, lost.channel, lost.kind, lost.priority) == (
        Condition.DEVICE_DISCONNECTED,
        "oxi",
        AlarmKind.TECHNICAL,
        Priority.MEDIUM,
    )
    assert "link dropped" in lost.message
    assert engine.device_lost("oxi", T0 + 1) == []
    assert engine.tick(T0 + 10) == []  # no "no data" on top of the disconnection
    [back] = engine.device_restored("oxi", T0 + 11)
    assert (back.condition, back.transition) == (Condition.DEVICE_DISCONNECTED, CLEARED)


def test_recording_failure_is_a_high_priority_technical_alarm():
    engine = AlarmEngine(limits(SPO2_MEDIUM))
    [failed] = engine.technical(Condition.RECORDING_FAILED, "recorder", T0, "disk full")
    assert (failed.kind, failed.priority, failed.channel) == (
        AlarmKind.TECHNICAL,
        Priority.HIGH,
        "recorder",
    )
    assert failed.message == "*** Recording failed: disk full"
    assert engine.audio_state().sounding is Priority.HIGH
    [ok] = engine.technical_resolved(Condition.RECORDING_FAILED, "recorder", T0 + 5)
    assert ok.transition is CLEARED
    with pytest.raises(ValueError):
        engine.technical(Condition.BELOW_LOW_LIMIT, "x", T0)


def test_technical_and_physiological_alarms_are_kept_apart():
    engine = AlarmEngine(limits(SPO2_MEDIUM, delay_s=0))
    feed(engine, "spo2", [90])
    engine.technical(Condition.AUDIO_UNAVAILABLE, "speaker", T0 + 1)
    kinds = {s.condition: s.kind for s in engine.active_alarms()}
    assert kinds == {
        Condition.BELOW_LOW_LIMIT: AlarmKind.PHYSIOLOGICAL,
        Condition.AUDIO_UNAVAILABLE: AlarmKind.TECHNICAL,
    }
    assert engine.active_alarms()[0].priority is Priority.HIGH  # highest first


# -- baseline and limit changes -----------------------------------------------------------


def test_rise_from_baseline_is_inactive_until_a_baseline_is_set():
    engine = AlarmEngine(limits(SYS_HIGH, SYS_RISE), settings(latching=False))
    assert engine.on_reading(reading("nibp_systolic", 175, 0)) == []
    engine.set_baseline("nibp_systolic", 130)
    [raised] = engine.on_reading(reading("nibp_systolic", 171, 300))
    assert (raised.condition, raised.limit, raised.priority) == (
        Condition.RISE_FROM_BASELINE,
        170,
        Priority.MEDIUM,
    )
    assert raised.message == "** NIBP systolic 171 mmHg > 170 (baseline 130 +40)"
    [cleared] = engine.on_reading(reading("nibp_systolic", 160, 600))
    assert cleared.transition is CLEARED


def test_limit_change_is_recorded_and_judged_at_once():
    engine = AlarmEngine(limits(HR_MEDIUM, delay_s=0), settings(latching=False))
    feed(engine, "heart_rate", [125])
    out = engine.change_limit(
        "heart_rate", Condition.ABOVE_HIGH_LIMIT, Priority.MEDIUM, 130, "Dr Li", T0 + 1
    )
    assert [(t.transition, t.by, t.value, t.limit) for t in out] == [
        (TransitionKind.LIMIT_CHANGED, "Dr Li", 120, 130),
        (CLEARED, None, 125, 120),
    ]
    assert "120 -> 130 by Dr Li" in out[0].message
    assert engine.limits.rule("heart_rate", Condition.ABOVE_HIGH_LIMIT, Priority.MEDIUM)


def test_a_limit_change_that_makes_no_sense_is_refused_and_changes_nothing():
    engine = AlarmEngine(limits(SPO2_MEDIUM, SPO2_HIGH))
    before = engine.limits
    with pytest.raises(LimitError, match="less severe"):
        engine.change_limit("spo2", Condition.BELOW_LOW_LIMIT, Priority.HIGH, 95, "x", T0)
    assert engine.limits is before


# -- records ------------------------------------------------------------------------------


def test_transition_dict_is_json_ready_with_utc_time():
    engine = AlarmEngine(limits(SPO2_HIGH, delay_s=0))
    [raised] = feed(engine, "spo2", [86])
    d = raised.to_dict()
    assert d == {
        "t": "2026-11-29T13:00:00.000000Z",
        "channel": "spo2",
        "priority": "high",
        "kind": "physiological",
        "condition": "below_low_limit",
        "transition": "raised",
        "value": 86.0,
        "limit": 88.0,
        "message": "*** SpO₂ 86 % < 88",
        "by": None,
        "episode": "1795957200000-1",
    }
    assert AlarmTransition.from_dict(d) == raised


def test_time_escalation_keeps_the_crossed_limit_in_its_message():
    engine = AlarmEngine(
        limits(HR_MEDIUM, HR_HIGH, delay_s=0),
        settings(escalate_after_s={Priority.MEDIUM: 30}),
    )
    feed(engine, "heart_rate", [125])
    engine.acknowledge("RN Jones", T0 + 1)
    [esc] = engine.tick(T0 + 30)
    assert esc.message == "*** Heart rate 125 bpm > 120, for over 30 s"
    assert engine.audio_state().sounding is Priority.HIGH  # escalation sounds again


def test_latched_condition_that_returns_is_the_same_alarm():
    engine = AlarmEngine(limits(SPO2_MEDIUM, delay_s=0), settings(latching=True))
    out = feed(engine, "spo2", [90, 97, 90, 97])
    assert [t.transition for t in out] == [
        RAISED,
        CONDITION_ENDED,
        TransitionKind.CONDITION_RETURNED,
        CONDITION_ENDED,
    ]
    assert [t.t for t in out] == [T0, T0 + 1, T0 + 2, T0 + 3]
    assert len({t.episode for t in out}) == 1
    [state] = engine.active_alarms()
    assert state.latched and state.condition_ended_at == T0 + 3


def test_acknowledge_can_target_one_condition():
    engine = AlarmEngine(limits(SPO2_MEDIUM, HR_MEDIUM, delay_s=0))
    feed(engine, "spo2", [90])
    feed(engine, "heart_rate", [130], start=1)
    [ack] = engine.acknowledge("Dr Li", T0 + 2, condition=Condition.ABOVE_HIGH_LIMIT)
    assert ack.channel == "heart_rate"
    audible = {s.channel: s.audible for s in engine.active_alarms()}
    assert audible == {"spo2": True, "heart_rate": False}
    assert engine.acknowledge("Dr Li", T0 + 3, channel="heart_rate") == []  # already silent


def test_pause_audio_rejects_a_nonsense_duration():
    engine = AlarmEngine(limits(SPO2_MEDIUM))
    with pytest.raises(ValueError, match="audio pause"):
        engine.pause_audio("x", T0, duration_s=-5)
    assert engine.audio_paused_until is None


# -- expected sources ---------------------------------------------------------------------


def test_an_expected_source_no_device_provides_alarms_after_the_grace_and_clears():
    engine = AlarmEngine(limits(SPO2_MEDIUM))
    assert engine.expect_sources(["heart_rate", "spo2", "nibp"], T0, grace_s=10) == []
    engine.device_restored("strap", T0 + 1, channels=("heart_rate", "rr_interval"))
    assert engine.tick(T0 + 9.9) == []  # within the grace: monitors are still connecting
    out = engine.tick(T0 + 10)
    assert sorted((t.channel, t.condition, t.kind, t.transition) for t in out) == [
        ("nibp", Condition.NO_SOURCE, AlarmKind.TECHNICAL, RAISED),
        ("spo2", Condition.NO_SOURCE, AlarmKind.TECHNICAL, RAISED),
    ]
    by = {t.channel: t for t in out}
    assert by["spo2"].message.startswith("** No SpO₂ source: ")
    assert by["nibp"].message.startswith("** No NIBP source: ")
    assert engine.tick(T0 + 20) == []  # once, not per tick
    # an oximeter connects: its link's channels count at once (no reading needed)
    engine.device_restored("oximeter", T0 + 21, channels=("spo2", "pulse_rate"))
    [spo2_back] = engine.tick(T0 + 21.05)
    assert (spo2_back.channel, spo2_back.transition) == ("spo2", CLEARED)
    assert spo2_back.episode == by["spo2"].episode and spo2_back.t >= by["spo2"].t
    # the oximeter's link drops: its SpO2 is missing again, after the grace
    engine.device_lost("oximeter", T0 + 30)
    assert only(engine.tick(T0 + 30), RAISED) == []  # ticks notice it (every 50 ms live)
    assert [t.channel for t in only(engine.tick(T0 + 35), RAISED)] == []
    assert [t.channel for t in only(engine.tick(T0 + 40), RAISED)] == ["spo2"]
    # a cuff that only ever sent a reading counts (no link status from it)
    engine.on_reading(reading("nibp_systolic", 120, 41, device="cuff"))
    assert [t.channel for t in only(engine.tick(T0 + 41), CLEARED)] == ["nibp"]
    # the session ends: nothing is expected, what was missing clears
    [done] = engine.expect_sources((), T0 + 50)
    assert (done.channel, done.transition) == ("spo2", CLEARED)
    assert [a.condition for a in engine.active_alarms()] == [Condition.DEVICE_DISCONNECTED]


def test_a_pulse_rate_provides_heart_rate_and_unknown_sources_are_refused():
    engine = AlarmEngine(limits(SPO2_MEDIUM))
    engine.device_restored("oximeter", T0, channels=("spo2", "pulse_rate"))
    assert engine.expect_sources(["heart_rate"], T0, grace_s=0) == []
    assert engine.tick(T0 + 5) == []
    with pytest.raises(ValueError, match="unknown source 'spo3'"):
        engine.expect_sources(["spo3"], T0 + 6)
    with pytest.raises(ValueError, match="grace"):
        engine.expect_sources(["spo2"], T0 + 6, grace_s=-1)
    assert engine.expected_sources == ("heart_rate",)  # a refused call changes nothing


def test_source_grace_is_timed_in_real_seconds():
    engine = AlarmEngine(limits(SPO2_MEDIUM))
    engine.expect_sources(["spo2"], T0, real_t=100.0, grace_s=10)
    assert engine.tick(T0 + 600, 109.0) == []  # 10 min of x60 session time, 9 real s
    [raised] = engine.tick(T0 + 660, 110.0)
    assert (raised.channel, raised.condition) == ("spo2", Condition.NO_SOURCE)


def test_a_new_patient_ends_the_last_patients_alarms_and_keeps_alarming():
    engine = AlarmEngine(limits(SYS_HIGH, delay_s=30), settings(latching=True))
    engine.on_reading(reading("nibp_systolic", 210, 0))
    engine.on_reading(reading("nibp_systolic", 120, 60))  # back inside: latched, not gone
    assert [a.latched for a in engine.active_alarms()] == [True]
    out = engine.new_patient(T0 + 120)
    assert [(t.transition, t.by) for t in out] == [(CLEARED, "new session")]
    assert engine.active_alarms() == []
    again = engine.on_reading(reading("nibp_systolic", 200, 180))  # the next patient's
    assert [t.transition for t in again] == [RAISED]
