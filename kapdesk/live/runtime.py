"""The composition root: builds the data path once and tears it down in order.

hub -> (recorder, trend store[, alarm service]); sources publish into the hub; the session
controller records the timeline. The GUI and the tests both start from here, so they run
the same wiring. The screens take everything they show from here, as typed objects: the
controller, the alarm service, the trends, the devices, the patients, the journal, the
clinic's files and the record of past sessions; no screen opens a file or a database.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine

from kapdesk.acquisition.device_manager import DeviceEntry, DeviceManager
from kapdesk.acquisition.ingest import IngestHub
from kapdesk.config.alarms import load_clinic_settings, load_protocol_alarms
from kapdesk.config.clinic import ClinicConfig
from kapdesk.config.errors import ConfigFileError
from kapdesk.config.paths import clinic_file, find_protocol, music_config_file, protocols_dir
from kapdesk.config.security import load_sign_in_policy
from kapdesk.domain.access import Actor
from kapdesk.domain.alarms import (
    DEFAULT_EXPECTED_SOURCES,
    DEFAULT_SOURCE_GRACE_S,
    AlarmEngine,
    AlarmSettings,
    AlarmTransition,
    Condition,
)
from kapdesk.domain.audit import AuditAction
from kapdesk.domain.channels import CHANNELS, Sampling
from kapdesk.domain.clock import SessionClock
from kapdesk.domain.readings import Reading
from kapdesk.domain.session import EventKind, SessionEvent, SessionState
from kapdesk.live.alarm_service import AlarmService
from kapdesk.live.desk import Desk
from kapdesk.live.session_controller import SessionController
from kapdesk.live.trend_store import TrendStore
from kapdesk.storage.accounts import AccountStore
from kapdesk.storage.audit import AuditFilter, AuditLog
from kapdesk.storage.care_team import CareTeams
from kapdesk.storage.journal.store import JournalStore
from kapdesk.storage.patients import PatientDirectory
from kapdesk.storage.recorder import Recorder
from kapdesk.storage.records import (
    StoredSession,
    get_stored_session,
    load_alarm_transitions,
    load_events,
)
from kapdesk.storage.rescue import import_rescued
from kapdesk.storage.signals.reader import channel_names, iter_samples

log = logging.getLogger(__name__)


class Source(Protocol):
    def stop(self) -> None: ...


@dataclass
class Runtime:
    engine: Engine
    clock: SessionClock
    hub: IngestHub
    recorder: Recorder
    trends: TrendStore
    controller: SessionController
    alarms: AlarmService
    alarm_settings: AlarmSettings
    devices: DeviceManager
    #: who is at the keyboard, and whether it is locked: every service asks it
    desk: Desk
    protocol: str = "im-ketamine"  # whose alarm limits are in force
    #: cheap jobs the GUI timer runs on its thread (``tick``), e.g. demo mode's script
    housekeeping: list[Callable[[], None]] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    #: rescue files (and their row counts) imported at start (see storage.rescue)
    rescued_imported: list[tuple[Path, int]] = field(default_factory=list)
    #: the clinic's files (protocols, music, journal settings, sounds), each read once
    clinic: ClinicConfig = field(default_factory=ClinicConfig)

    @property
    def staff(self) -> str:
        """Who is recorded as doing what is done at this desk now: the signed-in user's
        username, or "at the bedside, not signed in"."""
        return self.desk.who()

    @property
    def audit(self) -> AuditLog:
        return self.desk.audit

    @property
    def accounts(self) -> AccountStore:
        return self.desk.accounts

    @property
    def care_teams(self) -> CareTeams:
        return self.desk.care

    @cached_property
    def journal(self) -> JournalStore:
        """The journal, written by the recorder's writer and stamped by the session clock."""
        return JournalStore(self.engine, self.recorder, self.clock.now, audit=self.audit)

    @cached_property
    def patients(self) -> PatientDirectory:
        return PatientDirectory(self.recorder, self.desk.current, self.audit, self.desk.care)

    def past_session(self, session_id: int) -> tuple[StoredSession, list[SessionEvent]]:
        """A stored session and its timeline, oldest event first."""
        return get_stored_session(self.engine, session_id), load_events(self.engine, session_id)

    @classmethod
    def build(
        cls,
        engine: Engine,
        speed: float = 1.0,
        flush_interval: float = 0.25,
        protocol: str = "im-ketamine",
        actor: Actor | None = None,
    ) -> Runtime:
        """Wire the data path: hub -> alarm service, recorder, trend store. ``actor``: a
        staff member already signed in (the command line, tests); the app signs in
        through its dialog."""
        rescued = import_rescued(engine)  # what a full disk kept from the last run
        clock = SessionClock(time.monotonic, time.time, speed)
        hub = IngestHub()
        limits = load_protocol_alarms(find_protocol(protocol)).limits
        settings = load_clinic_settings()
        alarms = AlarmService(AlarmEngine(limits, settings), clock=clock.now)
        recorder = Recorder(
            engine,
            flush_interval=flush_interval,
            on_failure=lambda msg: alarms.report_technical(
                Condition.RECORDING_FAILED, "recorder", msg
            ),
            on_recovered=lambda: alarms.resolve_technical(Condition.RECORDING_FAILED, "recorder"),
        )
        trends = TrendStore()
        alarms.attach(hub)  # alarms first: evaluated as each reading arrives
        hub.subscribe(recorder.record_reading)
        hub.subscribe(trends.add)
        alarms.add_listener(lambda tr: recorder.record_alarm(tr.to_dict(), tr.t))
        alarms.add_listener(lambda tr: audit_alarm_act(audit, recorder.session_id, tr))
        audit = AuditLog(engine, recorder)  # wall-clock times: the log is about people
        desk = Desk(AccountStore(engine, recorder, audit, load_sign_in_policy()), audit)
        controller = SessionController(recorder, clock, who=desk.current, care=desk.care)
        alarms.who = controller.actor  # the desk's user, or whom the controller acts as
        devices = DeviceManager(hub, clock.now)
        rt = cls(
            engine,
            clock,
            hub,
            recorder,
            trends,
            controller,
            alarms,
            settings,
            devices,
            desk,
            protocol,
        )
        rt.rescued_imported = rescued
        controller.add_listener(rt._on_session_event)
        devices.add_listener(rt._on_device_change)
        recorder.start()
        alarms.start()
        if actor is not None:
            desk.enter(actor, "signed in before start")
        rt.audit_clinic_files()
        return rt

    def audit_clinic_files(self) -> list[str]:
        """Protocols and clinic settings are files a clinic edits outside kapdesk: a file
        whose content changed since the audit log last saw it is recorded (its name and
        SHA-256; by whom is the file system's to say). The names recorded."""
        files = [clinic_file(), music_config_file(), *sorted(protocols_dir().glob("*.toml"))]
        seen: dict[str, str] = {}
        for action in (AuditAction.PROTOCOL_CHANGED, AuditAction.SETTING_CHANGED):
            for entry in reversed(self.audit.search(AuditFilter(action=action, limit=10_000))):
                if entry.subject.startswith("file:"):
                    seen[entry.subject] = str(entry.detail.get("sha256", ""))
        changed: list[str] = []
        for path in files:
            try:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                continue  # a missing optional file; start-up's check reports what matters
            subject = f"file:{path.parent.name}/{path.name}"
            if seen.get(subject) == digest:
                continue
            action = (
                AuditAction.PROTOCOL_CHANGED
                if path.parent == protocols_dir()
                else AuditAction.SETTING_CHANGED
            )
            outcome = "first seen" if subject not in seen else "changed since last start"
            self.audit.append(None, action, subject, outcome, {"sha256": digest}, user="")
            changed.append(subject)
        return changed

    def _on_session_event(self, event: SessionEvent) -> None:
        """Keep the alarm engine in step with the session: its protocol's limits when it
        starts or resumes, and the pre-dose baseline for the relative limits."""
        if event.kind == EventKind.BASELINE:
            self.alarms.set_baseline(str(event.data["channel"]), float(event.data["value"]))
        elif event.kind in (EventKind.SESSION_STARTED, EventKind.SESSION_RESUMED):
            session = self.controller.session
            if session is None:
                return
            if event.kind == EventKind.SESSION_STARTED:
                self.alarms.new_patient()  # the last patient's alarms are not this one's
            self._expect_sources(session.protocol)
            if session.protocol != self.protocol:
                try:
                    limits = load_protocol_alarms(find_protocol(session.protocol)).limits
                except ConfigFileError as exc:  # keep the limits in force; say why
                    log.warning("alarm limits stay those of %s: %s", self.protocol, exc)
                else:
                    self.protocol = session.protocol
                    self.alarms.replace_limits(limits)
            if event.kind == EventKind.SESSION_STARTED:
                for entry in self.devices.entries():  # the monitors it starts with
                    if entry.enabled:
                        self._on_device_change("connected", entry)
            elif not event.data.get("to_close"):  # resumed to carry on, not to end it
                self._restore_alarms(session.id)
                self._restore_trends(session.id)
                self.alarms.await_data(self._expected_sources(session.protocol)[0])
        elif event.kind in (EventKind.SESSION_COMPLETED, EventKind.SESSION_ABORTED):
            self.alarms.expect_sources(())  # no session, no source to miss

    def _restore_alarms(self, session_id: int | None) -> None:
        """Everything the alarm engine knew of a resumed session comes back from its
        record: baselines, limit changes, active and latched alarms, the audio pause."""
        if session_id is None:
            return
        baselines: dict[str, float] = {}
        for ev in self.controller.events:
            if ev.kind == EventKind.BASELINE:
                try:
                    baselines[str(ev.data["channel"])] = float(ev.data["value"])
                except (KeyError, TypeError, ValueError):
                    log.warning("baseline event without a usable value: %r", ev.data)
        record = load_alarm_transitions(self.engine, session_id)
        self.alarms.restore(baselines, record)

    def _restore_trends(self, session_id: int | None) -> None:
        """The session's trends so far come back from its record (``storage.signals``),
        so the monitor's windows, up to the whole session, show what came before the
        restart. Waveforms are not read back: only the live trace is drawn."""
        if session_id is None:
            return
        waveforms = {c.name for c in CHANNELS.values() if c.sampling is Sampling.WAVEFORM}
        with self.engine.connect() as conn:
            wanted = channel_names(conn) - waveforms
            for s in iter_samples(conn, session_id, wanted):
                self.trends.add(
                    Reading(s.channel, s.value, s.series.unit, s.t, s.series.device, s.flags)
                )

    def _expect_sources(self, protocol: str) -> None:
        self.alarms.expect_sources(*self._expected_sources(protocol))

    def _expected_sources(self, protocol: str) -> tuple[tuple[str, ...], float]:
        """The running session's protocol names the sources it needs (SpO2, NIBP ...)
        and their grace; a protocol file that cannot be read leaves the defaults, never
        no check at all."""
        try:
            p = self.clinic.protocol(protocol).protocol
        except (ConfigFileError, ValueError) as exc:
            log.warning("expected sources are the defaults: %s", exc)
            return DEFAULT_EXPECTED_SOURCES, DEFAULT_SOURCE_GRACE_S
        return tuple(p.expected_sources), p.source_grace_s

    def _on_device_change(self, change: str, entry: DeviceEntry) -> None:
        """A running session records the monitors it has, so a resume reconnects them."""
        session = self.controller.session
        if session is None or session.state is not SessionState.IN_PROGRESS:
            return
        self.controller.record(
            f"device_{change}",
            {
                "name": entry.name,
                "transport": entry.transport,
                "profile": entry.profile.key,
                "address": entry.address,
                "emulated": entry.emulated,
            },
        )

    def resume_session(self, session_id: int) -> SessionEvent:
        """Resume a session left open, monitoring and all: its alarm state comes back
        from the record (see ``_restore_alarms``), "no data" is raised for what its
        protocol expects until it flows, and the monitors it had are reconnected (demo
        mode starts its emulators instead: see ``kapdesk.demo.mode``)."""
        event = self.controller.resume(session_id)
        self.reconnect_session_devices()
        return event

    def reconnect_session_devices(self) -> list[str]:
        """Connect again the real monitors the session had when it stopped (not the ones
        staff took off, not demo emulators); the names connected. A monitor that cannot
        be found raises its own technical alarm through its transport; a profile no
        longer in the catalog is recorded as not reconnected."""
        catalog = self.devices.catalog
        present = {e.name for e in self.devices.entries()}
        done: list[str] = []
        for data in session_devices(self.controller.events).values():
            name = str(data.get("name", ""))
            if data.get("emulated") or not name or name in present:
                continue
            profile = catalog.get(str(data.get("profile", "")))
            address = str(data.get("address") or "")
            if profile is None or not address:
                self.controller.record(
                    EventKind.DEVICE_NOT_RECONNECTED,
                    {"name": name, "reason": f"no device profile {data.get('profile')!r}"},
                )
                continue
            try:
                if data.get("transport") == "ble":
                    self.devices.connect_ble(
                        profile, None if address == "(first found)" else address, name
                    )
                else:
                    self.devices.connect_serial(profile, address, name)
            except Exception as exc:  # one monitor that cannot start must not stop the rest
                log.exception("reconnecting %s failed", name)
                self.controller.record(
                    EventKind.DEVICE_NOT_RECONNECTED, {"name": name, "reason": str(exc)}
                )
                continue
            done.append(name)
        return done

    def current_vitals(self) -> dict[str, float]:
        """Latest values of the vitals a baseline and a discharge are judged on; a value
        blanked in the trends (artefact, sensor off) is not a current vital."""
        out: dict[str, float] = {}
        for ch in ("heart_rate", "spo2", "nibp_systolic", "nibp_diastolic"):
            last = self.trends.last(ch)
            if last is not None and last[1] == last[1]:  # NaN: blanked (artefact, sensor off)
                out[ch] = last[1]
        return out

    def tick(self) -> None:
        """Periodic housekeeping on the GUI thread (cheap), e.g. demo mode's script."""
        for job in list(self.housekeeping):
            job()

    def shutdown(self) -> None:
        """Alarms first (closing the app is not a device fault), then sources, then the
        recorder, which commits whatever is still queued."""
        self.alarms.stop()
        for source in self.sources:
            source.stop()
        self.sources.clear()
        self.devices.stop_all()
        self.recorder.stop()
        log.info(
            "recorder stopped: %d readings, %d events/alarms written",
            self.recorder.readings_written,
            self.recorder.events_written,
        )


#: The alarm transitions that are a person's act, and how the audit log names them.
_ALARM_ACTS = {
    "acknowledged": AuditAction.ALARM_ACKNOWLEDGED,
    "limit_changed": AuditAction.LIMIT_CHANGED,
    "audio_paused": AuditAction.ALARM_AUDIO_PAUSED,
}


def audit_alarm_act(audit: AuditLog, session_id: int | None, tr: AlarmTransition) -> None:
    """An acknowledgement, a limit change or a sound pause goes into the audit log too
    (queued: this runs on the alarm thread), named by who did it."""
    action = _ALARM_ACTS.get(tr.transition.value)
    if action is None:
        return
    subject = f"session:{session_id}" if session_id is not None else "alarms"
    audit.append_later(
        None,
        action,
        subject,
        detail={"channel": tr.channel, "condition": tr.condition.value, "limit": tr.limit},
        user=tr.by or "",
    )


def session_devices(events: list[SessionEvent]) -> dict[str, dict[str, object]]:
    """The monitors a session's record says it had when it stopped: name -> what was
    recorded when it connected, without those staff took off since."""
    out: dict[str, dict[str, object]] = {}
    for ev in events:
        name = str(ev.data.get("name", ""))
        if ev.kind == EventKind.DEVICE_CONNECTED and name:
            out[name] = dict(ev.data)
        elif ev.kind == EventKind.DEVICE_DISCONNECTED:
            out.pop(name, None)
    return out
