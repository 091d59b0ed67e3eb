"""The demo runs the whole arc as a careful clinic would (issue 10, item 11): checklist
before the dose, every scheduled check as it falls due, check-ins under the eye mask,
discharge with the protocol's score, and nothing the app would refuse."""

from __future__ import annotations

from session_test_support import SteppedClock

from kapdesk.demo.script import DemoScript, demo_patient
from kapdesk.domain.alarms import Condition
from kapdesk.domain.schedule import SlotState
from kapdesk.live.runtime import Runtime


def test_the_demo_script_runs_the_whole_arc(runtime: Runtime, clock: SteppedClock) -> None:
    c = runtime.controller
    c.open(demo_patient(), "im-ketamine")
    script = DemoScript(
        c,
        baseline=lambda: {
            "heart_rate": 74.0, "spo2": 98.0, "nibp_systolic": 126.0, "nibp_diastolic": 80.0,
        },
    )  # fmt: skip
    for _minute in range(0, 112 * 2):  # the GUI polls every frame; here twice a minute
        script.poll(runtime.clock.elapsed())
        clock.minutes(0.5)
    assert script.problems == []
    kinds = [e.kind for e in c.events]
    first_dose = kinds.index("dose")
    assert kinds.index("checklist") < first_dose
    assert kinds.count("check") >= 6 and kinds.count("check_in") >= 2
    assert kinds[-2:] == ["phase_ended", "session_completed"] or kinds[-1] == "session_completed"
    [discharge] = [e for e in c.events if e.kind == "discharge"]
    assert discharge.data["score"]["total"] == discharge.data["score"]["max_total"]
    outcome = c.check_outcome()
    assert outcome["missed"] == [] and outcome["skipped"] == []
    assert c.schedule().by_state(SlotState.DONE)


def test_the_demo_nurse_acknowledges_an_alarm_after_a_while(
    runtime: Runtime, clock: SteppedClock
) -> None:
    acknowledged: list[str] = []

    class Alarms:
        def active_alarms(self):
            return runtime.alarms.active_alarms()

        def acknowledge(self, by: str):
            acknowledged.append(by)
            return runtime.alarms.acknowledge(by=by).result(2)

    c = runtime.controller
    c.open(demo_patient(), "im-ketamine")
    script = DemoScript(c, alarms=Alarms(), ack_after_s=60.0)
    script.poll(runtime.clock.elapsed())  # starts the session
    runtime.alarms.report_technical(Condition.RECORDING_FAILED, "test", "disk full").result(2)
    script.poll(runtime.clock.elapsed())
    assert acknowledged == []  # not at once: the demo lets the alarm show first
    clock.minutes(1.5)
    script.poll(runtime.clock.elapsed())
    assert acknowledged == ["Demo RN"]
    assert not any(a.audible for a in runtime.alarms.active_alarms())
