"""The journal's demo scenario: a demo patient writes two entries after a demo session.

One entry is shared and comes with a PHQ-9 and a GAD-7; one is not shared. A screening
PHQ-9/GAD-7 two weeks earlier gives the trend plot a course of care to show (its PHQ-9
item 9 was answered "several days", flagged and acknowledged, so the flag's look is
visible too). Everything is written through ``JournalStore`` with the patient as the
actor, exactly as patient mode writes it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session as OrmSession

from kapdesk.demo.accounts import DEMO_THERAPISTS, SCRIPT_ACTOR
from kapdesk.domain.access import Actor
from kapdesk.domain.journal import CheckIn
from kapdesk.domain.patients import Patient
from kapdesk.domain.session import Session
from kapdesk.domain.staff_pin import DEMO_PIN, hash_pin
from kapdesk.storage.care_team import add_member
from kapdesk.storage.journal.store import JournalStore
from kapdesk.storage.models import SessionEventRow
from kapdesk.storage.records import add_patient, add_session, save_session_state
from kapdesk.storage.security_models import AccountRow

DAY = 24 * 3600.0
DEMO_THERAPIST = "Demo Therapist"

SHARED_TEXT = (
    "What images, feelings or body sensations do you remember?\n"
    "Warm light and the feeling of floating above the lake where we spent summers. "
    "During the second piece of music I saw my grandmother's kitchen and felt a deep "
    "gratitude I had not let myself feel in years.\n\n"
    "How did your intention show up during the session, if it did?\n"
    "I kept coming back to curiosity: instead of pushing the sadness away I stayed with it, "
    "and it softened."
)
PRIVATE_TEXT = (
    "Now that some time has passed, what has settled and what still feels unfinished?\n"
    "Something about my brother that I am not ready to talk about yet. I want to sit with "
    "it on my own for a while before the meeting."
)


@dataclass(frozen=True)
class DemoJournal:
    patient_id: int
    session_id: int
    shared_entry_id: int
    private_entry_id: int


def create_demo_session(engine: Engine, started_at: float | None = None) -> tuple[int, int]:
    """A demo patient and a completed demo session (intention, music, mask, a note for the
    patient, a dose with its lot number that patient mode must never show)."""
    t0 = started_at if started_at is not None else time.time() - 20 * 3600
    patient = Patient(
        display_name="Demo Patient (journal)",
        notes="Created by the journal demo. Not a real person.",
    )
    session = Session(None, "im-ketamine")
    events: list[tuple[float, str, dict[str, Any]]] = []

    def phase(evs: list[Any]) -> None:
        events.extend((e.t, e.kind, {"phase": e.phase, **dict(e.data)}) for e in evs)

    phase(session.start(t0))
    phase(session.advance(t0 + 180))
    events.append(
        (t0 + 420, "intention", {"text": "To meet what comes with curiosity and kindness."})
    )
    phase(session.advance(t0 + 540))
    events.append(
        (t0 + 600, "dose", {"route": "IM", "amount_mg": 50.0, "lot": "DEMO-0001", "mg_per_kg": 0.7})
    )
    phase(session.advance(t0 + 720))
    events.append((t0 + 750, "eye_mask_on", {}))
    events.append((t0 + 760, "music_track_started", {"title": "Spiegel im Spiegel"}))
    events.append((t0 + 1300, "music_track_started", {"title": "On the Nature of Daylight"}))
    events.append(
        (t0 + 1900, "note", {"text": "Patient smiled and said 'the kitchen'", "for_patient": True})
    )
    events.append((t0 + 2000, "note", {"text": "BP 142/88, settled", "for_patient": False}))
    events.append((t0 + 3300, "eye_mask_off", {}))
    phase(session.advance(t0 + 3360))
    phase(session.advance(t0 + 6000))
    phase(session.complete(t0 + 6600))

    def write(s: OrmSession) -> tuple[int, int]:
        add_patient(s, patient)
        session.patient_id = patient.id
        assert patient.id is not None
        present = s.scalars(
            select(AccountRow.username).where(AccountRow.username.in_(DEMO_THERAPISTS))
        )
        for username in list(present):  # the demo's therapists care for its patient
            add_member(s, patient.id, username, SCRIPT_ACTOR.who, t0)
        add_session(s, session)
        save_session_state(s, session)
        for t, kind, data in sorted(events, key=lambda e: e[0]):
            ph = data.pop("phase", None)
            s.add(SessionEventRow(session_id=session.id, t=t, kind=kind, phase=ph, data=data))
        assert patient.id is not None and session.id is not None
        return patient.id, session.id

    with OrmSession(engine, expire_on_commit=False) as s, s.begin():
        return write(s)


def create_demo_journal(
    store: JournalStore, patient_id: int, session_id: int | None
) -> DemoJournal:
    """The done-means scenario for ``patient_id`` after ``session_id``, written through
    ``store`` (the app's ``Runtime.journal``). Sets the demo PIN if none is set."""
    if store.staff_pin_hash() is None:
        store.set_staff_pin_hash(hash_pin(DEMO_PIN))
    patient = Actor.patient(patient_id)
    now = store.now()

    screening = JournalStore(store.engine, store.writer, now=lambda: now - 14 * DAY)
    screening.submit_questionnaire(patient, patient_id, "phq9", [2, 2, 1, 2, 1, 2, 1, 0, 1], 1)
    screening.submit_questionnaire(patient, patient_id, "gad7", [2, 2, 2, 1, 1, 1, 1], 1)
    therapist = Actor.therapist(DEMO_THERAPIST)
    for flag in screening.safety_flags(therapist):
        if flag.patient_id == patient_id:
            screening.acknowledge_flag(therapist, flag.id)

    shared = store.create_entry(patient, patient_id, session_id, "after-session", shared=True)
    assert shared.id is not None
    store.autosave(
        patient,
        shared.id,
        SHARED_TEXT,
        tags="gratitude, family, music",
        checkin=CheckIn(mood=7, anxiety=3, sleep=6, energy=5),
    )
    store.save(patient, shared.id)
    store.submit_questionnaire(
        patient, patient_id, "phq9", [1, 1, 1, 1, 0, 1, 0, 0, 0], 0, shared.id
    )
    store.submit_questionnaire(patient, patient_id, "gad7", [1, 1, 1, 1, 0, 1, 0], 0, shared.id)

    private = store.create_entry(patient, patient_id, session_id, "24-48h", shared=False)
    assert private.id is not None
    store.autosave(patient, private.id, PRIVATE_TEXT, tags="brother")
    store.save(patient, private.id)
    return DemoJournal(patient_id, session_id or 0, shared.id, private.id)
