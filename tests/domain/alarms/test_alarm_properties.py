"""Properties of the engine over generated value sequences (hypothesis)."""

from __future__ import annotations

from alarm_test_support import HR_HIGH, HR_MEDIUM, SPO2_HIGH, SPO2_MEDIUM, SYS_HIGH, T0, limits
from hypothesis import given, settings
from hypothesis import strategies as st

from kapdesk.domain.alarms import AlarmEngine, AlarmSettings, Priority, TransitionKind
from kapdesk.domain.readings import Reading

RAISED, CLEARED, ESCALATED = (
    TransitionKind.RAISED,
    TransitionKind.CLEARED,
    TransitionKind.ESCALATED,
)
LOW_LIMIT = 92.0
DELAY = 5.0
MARGIN = 2.0

steps = st.lists(
    st.tuples(st.floats(0.2, 1.0), st.floats(80, 100, allow_nan=False)), min_size=1, max_size=80
)


def run(engine: AlarmEngine, channel: str, seq: list[tuple[float, float]], unit: str = "%"):
    t = T0
    times: list[tuple[float, float]] = []
    out = []
    for dt, value in seq:
        t += dt
        times.append((t, value))
        out += engine.tick(t)
        out += engine.on_reading(Reading(channel, value, unit, t))
    return times, out


@settings(max_examples=200, deadline=None)
@given(steps)
def test_raised_exactly_when_the_value_stayed_beyond_the_limit_for_the_delay(seq):
    engine = AlarmEngine(
        limits(SPO2_MEDIUM, delay_s=DELAY, hysteresis=MARGIN), AlarmSettings(latching=False)
    )
    times, out = run(engine, "spo2", seq)
    raised = [tr.t for tr in out if tr.transition is RAISED]
    # Reference model: a run of readings below the limit; once its start is DELAY old at
    # some tick (reading time) and no alarm is active, the alarm is raised at that tick.
    expected: list[float] = []
    active = False
    run_start: float | None = None
    for t, value in times:
        if run_start is not None and not active and t - run_start >= DELAY - 1e-6:
            expected.append(t)  # the tick at t, before this reading is judged
            active = True
        if value < LOW_LIMIT:
            if run_start is None:
                run_start = t
        else:
            run_start = None
        if active and value >= LOW_LIMIT + MARGIN:
            active = False
        if run_start is not None and not active and t - run_start >= DELAY - 1e-6:
            expected.append(t)
            active = True
    assert raised == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(LOW_LIMIT - 3, LOW_LIMIT + MARGIN - 0.01), min_size=1, max_size=80))
def test_a_value_hovering_around_the_limit_raises_at_most_once_and_never_chatters(values):
    engine = AlarmEngine(
        limits(SPO2_MEDIUM, delay_s=2, hysteresis=MARGIN), AlarmSettings(latching=False)
    )
    _, out = run(engine, "spo2", [(1.0, v) for v in values])
    assert len([tr for tr in out if tr.transition is RAISED]) <= 1
    assert [tr for tr in out if tr.transition is CLEARED] == []


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0.2, 3.0), st.floats(20, 200)), min_size=1, max_size=80),
    st.booleans(),
)
def test_each_alarm_is_raised_then_escalated_upwards_then_cleared(seq, latching):
    engine = AlarmEngine(
        limits(HR_MEDIUM, HR_HIGH, delay_s=2),
        AlarmSettings(latching=latching, escalate_after_s={Priority.MEDIUM: 20}),
    )
    _, out = run(engine, "heart_rate", seq, "/min")
    state: dict[tuple[str, str], Priority] = {}
    episode: dict[tuple[str, str], str] = {}
    ended: dict[tuple[str, str], bool] = {}
    last_t: dict[tuple[str, str], float] = {}
    seen_episodes: set[str] = set()
    for tr in out:
        key = (tr.channel, tr.condition.value)
        if tr.transition is RAISED:
            assert key not in state
            state[key] = tr.priority
            assert tr.episode is not None and tr.episode not in seen_episodes
            seen_episodes.add(tr.episode)
            episode[key], ended[key] = tr.episode, False
        else:
            assert tr.episode == episode[key]  # every later record names its raise
            assert tr.t >= last_t[key]
        last_t[key] = tr.t
        if tr.transition is ESCALATED:
            assert tr.priority.rank > state[key].rank
            state[key] = tr.priority
        elif tr.transition is TransitionKind.CONDITION_ENDED:
            assert latching and not ended[key]  # only a latched alarm outlives its condition
            ended[key] = True
        elif tr.transition is TransitionKind.CONDITION_RETURNED:
            assert ended[key]
            ended[key] = False
        elif tr.transition is CLEARED:
            assert not ended[key]  # no acknowledgement here: latched alarms never clear
            assert tr.priority is state.pop(key)
    assert {(s.channel, s.condition.value) for s in engine.active_alarms()} == set(state)
    for s in engine.active_alarms():
        assert s.latched == ended[(s.channel, s.condition.value)]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(100, 220), min_size=1, max_size=40))
def test_every_nibp_reading_beyond_the_limit_alarms_at_its_own_time(values):
    engine = AlarmEngine(limits(SYS_HIGH, hysteresis=0), AlarmSettings(latching=False))
    for i, v in enumerate(values):
        t = T0 + 300 * i
        engine.tick(t)
        engine.on_reading(Reading("nibp_systolic", v, "mm[Hg]", t))
        active = engine.active_alarms()
        assert bool(active) == (v > 180)
        if active:
            assert active[0].value == v


@settings(max_examples=100, deadline=None)
@given(steps)
def test_no_alarm_while_within_limits_whatever_the_timing(seq):
    engine = AlarmEngine(limits(SPO2_MEDIUM, SPO2_HIGH, delay_s=0))
    inside = [(dt, max(v, LOW_LIMIT)) for dt, v in seq]
    _, out = run(engine, "spo2", inside)
    assert out == []
