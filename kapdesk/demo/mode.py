"""Demo mode on a running runtime: a demo patient, emulated monitors, the scripted session.

The runtime knows nothing of demo mode: this module opens the demo session through the
controller, adds the emulators as sources and runs the script from the runtime's
housekeeping tick (the GUI timer), so demo and clinic use run the same wiring.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kapdesk.demo.accounts import SCRIPT_ACTOR, join_demo_care_team
from kapdesk.demo.monitors import EmulatedDevices
from kapdesk.demo.script import DemoScript, demo_patient, emulated_patient
from kapdesk.domain.session import SessionEvent
from kapdesk.live.runtime import Runtime
from kapdesk.sim.direct_source import EmulatedSource
from kapdesk.sim.emulated_monitor import EmulatedMonitor

DEMO_PROTOCOL = "im-ketamine"


@dataclass
class DemoMode:
    """The demo running on a runtime: its script (for what it has done so far)."""

    runtime: Runtime
    script: DemoScript

    def poll(self) -> None:
        # the script's doses, checks and notes are the demo clinician's, whoever is
        # signed in at the keyboard (or nobody: the demo runs on while locked)
        with self.runtime.controller.acting_as(SCRIPT_ACTOR):
            self.script.poll(self.runtime.clock.elapsed())


def _attach(rt: Runtime) -> DemoMode:
    """A script on the runtime's session, run by its housekeeping tick."""
    demo = DemoMode(rt, DemoScript(rt.controller, baseline=rt.current_vitals, alarms=rt.alarms))
    rt.housekeeping.append(demo.poll)
    return demo


def start_demo(
    rt: Runtime, seed: int = 1, devices: Literal["emulated", "direct"] = "emulated"
) -> DemoMode:
    """Demo patient, emulated monitors, and the scripted session.

    ``devices="emulated"`` (the default) reads BLE and serial emulators through the real
    transports; ``"direct"`` feeds the emulated monitor's readings straight into the hub
    (no Bluetooth or pty), for the fastest start in tests.
    """
    with rt.controller.acting_as(SCRIPT_ACTOR):
        session = rt.controller.open(demo_patient(), protocol=DEMO_PROTOCOL)
    join_demo_care_team(rt.care_teams, session.patient_id)
    demo = _attach(rt)
    demo.poll()  # starts the session at t=0
    patient = emulated_patient(seed)
    if devices == "direct":
        rt.sources.append(EmulatedSource(EmulatedMonitor(patient), rt.hub, rt.clock).start())
    else:
        rt.sources.append(EmulatedDevices(patient, rt.devices, rt.clock).start())
    return demo


def resume_demo(rt: Runtime, session_id: int, seed: int = 1) -> tuple[DemoMode, SessionEvent]:
    """Resume a demo session left open: the session and its monitoring as
    ``Runtime.resume_session`` does, new emulators (the old ones died with their
    process), and the script carrying on from where the session is (steps already done
    are not done again)."""
    with rt.controller.acting_as(SCRIPT_ACTOR):
        event = rt.resume_session(session_id)
    demo = _attach(rt)
    demo.script.resume_at(rt.clock.elapsed())
    rt.sources.append(EmulatedDevices(emulated_patient(seed), rt.devices, rt.clock).start())
    return demo, event
