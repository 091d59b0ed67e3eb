"""The one place for access checks, and what the patient may see of a session."""

from __future__ import annotations

import pytest

from kapdesk.domain import access
from kapdesk.domain.access import Actor
from kapdesk.domain.journal import (
    CheckIn,
    JournalEntry,
    JournalError,
    normalize_tags,
    patient_timeline,
    session_intention,
    view_of,
)
from kapdesk.domain.staff_pin import PinError, PinGate, hash_pin, verify_pin

THERAPIST = Actor.therapist("dr")
NURSE = Actor.medical_staff("nurse")
ADMIN = Actor.admin("admin")
ALICE = Actor.patient(1)
BOB = Actor.patient(2)

SHARED = JournalEntry(patient_id=1, body="shared words", tags=("a",), shared=True, id=10)
PRIVATE = JournalEntry(patient_id=1, body="private words", tags=("b",), shared=False, id=11)


@pytest.mark.parametrize(
    ("actor", "entry", "exists", "text"),
    [
        (ALICE, SHARED, True, True),
        (ALICE, PRIVATE, True, True),
        (BOB, SHARED, False, False),
        (BOB, PRIVATE, False, False),
        (THERAPIST, SHARED, True, True),
        (THERAPIST, PRIVATE, True, False),
        (NURSE, SHARED, False, False),
        (ADMIN, SHARED, False, False),
    ],
)
def test_who_sees_what_of_an_entry(actor: Actor, entry: JournalEntry, exists: bool, text: bool):
    assert access.can_see_entry_exists(actor, entry) is exists
    assert access.can_read_entry_text(actor, entry) is text
    view = view_of(actor, entry)
    assert (view is not None) is exists
    if view is not None:
        assert (view.text == entry.body) is text
        assert view.redacted is (not text)
        if not text:
            assert view.tags is None and view.checkin is None


def test_only_the_patient_writes_their_journal() -> None:
    assert access.can_write_entry(ALICE, 1)
    assert not access.can_write_entry(BOB, 1)
    assert not access.can_write_entry(THERAPIST, 1)


def test_safety_flags_reach_clinical_staff_and_only_staff_leave_patient_mode() -> None:
    assert access.can_see_safety_flags(THERAPIST) and access.can_see_safety_flags(NURSE)
    assert not access.can_see_safety_flags(ALICE)
    assert not access.can_leave_patient_mode(ALICE) and access.can_leave_patient_mode(NURSE)
    assert access.can_search(THERAPIST, None) and not access.can_search(ALICE, None)
    assert access.can_search(ALICE, 1) and not access.can_search(ALICE, 2)
    with pytest.raises(access.AccessDenied, match="not allowed: x"):
        access.require(False, "x")


def test_an_actor_is_either_a_patient_with_an_id_or_staff_without() -> None:
    with pytest.raises(ValueError):
        Actor(access.Role.PATIENT, "p")
    with pytest.raises(ValueError):
        Actor(access.Role.THERAPIST, "t", 3)


def test_checkin_scales_and_tags() -> None:
    assert CheckIn(mood=0, energy=10).as_dict()["energy"] == 10
    for bad in (11, -1, True, 2.5):
        with pytest.raises(JournalError):
            CheckIn(mood=bad)  # type: ignore[arg-type]
    assert normalize_tags("#Grief, family  Family;sleep!") == ("grief", "family", "sleep")
    assert normalize_tags("") == ()


def test_the_patient_sees_phases_intention_music_and_notes_for_them_only() -> None:
    events = [
        {"t": 1, "kind": "session_started", "data": {"protocol": "im"}},
        {"t": 2, "kind": "phase_entered", "data": {"label": "Intention setting"}},
        {"t": 3, "kind": "intention", "data": {"text": "be kind"}},
        {"t": 4, "kind": "dose", "data": {"lot": "LOT-42", "amount_mg": 50}},
        {"t": 5, "kind": "baseline", "data": {"channel": "heart_rate", "value": 70}},
        {"t": 6, "kind": "music_track_started", "data": {"title": "Daylight"}},
        {"t": 7, "kind": "note", "data": {"text": "BP high, watch", "for_patient": False}},
        {"t": 8, "kind": "note", "data": {"text": "you smiled", "for_patient": True}},
        {"t": 9, "kind": "alarm", "data": {"message": "SpO2 low"}},
        {"t": 10, "kind": "eye_mask_on", "data": {}},
    ]
    texts = " | ".join(i.text for i in patient_timeline(events))
    assert "Intention setting" in texts and "be kind" in texts
    assert "Music: Daylight" in texts and "you smiled" in texts and "Eye mask on" in texts
    for hidden in ("LOT-42", "50", "heart_rate", "BP high", "SpO2"):
        assert hidden not in texts
    assert session_intention(events) == "be kind"


def test_the_pin_is_hashed_salted_and_checked() -> None:
    h1, h2 = hash_pin("2468"), hash_pin("2468")
    assert "2468" not in h1 and h1 != h2  # salted
    assert verify_pin("2468", h1) and not verify_pin("2469", h1)
    with pytest.raises(PinError):
        hash_pin("12")
    with pytest.raises(PinError):
        verify_pin("2468", "plaintext")


def test_wrong_pins_lock_out_for_a_while_even_the_right_one() -> None:
    gate = PinGate(hash_pin("2468"), max_attempts=3, lockout_s=30)
    assert not gate.attempt("1", 0) and not gate.attempt("2", 1)
    assert not gate.attempt("3", 2)  # third wrong: locked
    assert gate.locked_for(2) == pytest.approx(30)
    assert not gate.attempt("2468", 10)  # right PIN, still locked
    assert gate.attempt("2468", 33)


def test_a_therapist_reads_only_the_patients_in_their_care_and_an_unrestricted_one_all() -> None:
    mine = THERAPIST.with_care({1})
    other = JournalEntry(patient_id=2, body="bob's words", shared=True, id=12)
    assert access.can_see_patient(mine, 1) and access.can_read_entry_text(mine, SHARED)
    assert not access.can_see_patient(mine, 2) and not access.can_read_entry_text(mine, other)
    assert view_of(mine, other) is None  # not even that it exists
    assert not access.can_read_entry_text(mine, PRIVATE)  # in care, still not private text
    nobody = THERAPIST.with_care(())
    assert not access.can_see_patient(nobody, 1) and access.can_list_patients(nobody)
    assert THERAPIST.care_of is None and access.can_read_entry_text(THERAPIST, other)
    assert mine == THERAPIST.with_care({2})  # the same person, whatever their care
    assert access.can_change_care_team(NURSE) and access.can_change_care_team(ADMIN)
    assert not access.can_change_care_team(ALICE)
