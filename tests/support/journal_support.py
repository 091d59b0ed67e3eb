"""Shared set-up for the journal tests: a migrated database with patients and a session."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session as OrmSession

from kapdesk.demo.journal import create_demo_session
from kapdesk.domain.patients import Patient
from kapdesk.domain.staff_pin import hash_pin
from kapdesk.storage.database import open_database
from kapdesk.storage.journal.store import JournalStore
from kapdesk.storage.records import add_patient

TEST_PIN = "2468"


@dataclass
class World:
    engine: Engine
    store: JournalStore
    alice: int  # patient with a session
    bob: int  # another patient
    alice_session: int
    bob_session: int


def make_world(db_url: str, pin: str | None = TEST_PIN) -> World:
    engine = open_database(db_url)
    alice, alice_session = create_demo_session(engine)
    bob, bob_session = create_demo_session(engine)
    with OrmSession(engine) as s, s.begin():
        add_patient(s, Patient("Carol"))
    store = JournalStore(engine)
    if pin is not None:
        store.set_staff_pin_hash(hash_pin(pin))
    return World(engine, store, alice, bob, alice_session, bob_session)
