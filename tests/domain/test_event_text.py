"""One module puts events into words for every screen: the staff timeline and summary
(``describe``), the plot markers (``marker_label``) and the patient's journal view
(``for_patient``). Each kind the app records has a sentence; the patient sees only the
allow-listed kinds."""

from __future__ import annotations

import pytest

from kapdesk.domain.event_text import describe, for_patient, marker_label
from kapdesk.domain.journal import patient_timeline
from kapdesk.domain.session import EventKind, SessionEvent

DOSE = SessionEvent(
    10.0,
    EventKind.DOSE,
    "dosing",
    {"route": "im", "amount_mg": 60.0, "lot": "L7", "mg_per_kg": 0.75, "weight_kg": 80.0},
)
BOOSTER = SessionEvent(11.0, EventKind.DOSE, "dosing", {"booster": True, "number": 2})
BP = SessionEvent(
    12.0,
    EventKind.CHECK,
    "dosing",
    {"kind": "bp", "label": "Blood pressure", "systolic": 131, "diastolic": 84},
)
PHASE = SessionEvent(13.0, EventKind.PHASE_ENTERED, "recovery", {"label": "Recovery"})


@pytest.mark.parametrize("kind", list(EventKind))
def test_every_kind_has_a_sentence_without_raw_ids(kind: EventKind) -> None:
    text = describe(SessionEvent(0.0, kind, None, {}))
    assert text and "_" not in text, (kind, text)


def test_the_staff_sentence_carries_the_clinical_detail() -> None:
    text = describe(DOSE)
    assert text.startswith("Dose: 60 mg")
    assert "0.75 mg/kg at 80 kg" in text and "lot L7" in text
    assert describe(BP) == "Blood pressure: 131/84 mmHg"


def test_marker_labels_are_short_and_only_for_events_staff_act_on() -> None:
    assert marker_label(PHASE) == "Recovery"
    assert marker_label(BOOSTER) == "Booster 2"
    assert marker_label(BP) == "BP 131/84"
    assert marker_label(DOSE) == "Dose"
    assert marker_label(SessionEvent(0.0, EventKind.PHASE_ENDED, "dosing", {})) is None


def test_the_patient_never_sees_doses_baselines_or_staff_notes() -> None:
    assert for_patient(DOSE) is None
    assert for_patient(SessionEvent(0.0, EventKind.BASELINE, None, {"channel": "hr"})) is None
    assert for_patient(SessionEvent(0.0, EventKind.NOTE, None, {"text": "staff only"})) is None
    shared = SessionEvent(0.0, EventKind.NOTE, None, {"text": "well done", "for_patient": True})
    assert for_patient(shared) == "Note: well done"
    assert for_patient(PHASE) == "Recovery"


def test_the_patient_timeline_uses_the_same_words_in_time_order() -> None:
    stored = [
        {"t": 20.0, "kind": "eye_mask_on", "data": {}},
        {"t": 10.0, "kind": "dose", "data": dict(DOSE.data)},
        {"t": 5.0, "kind": "intention", "data": {"text": "to rest"}},
    ]
    items = patient_timeline(stored)
    assert [(i.t, i.text) for i in items] == [
        (5.0, "Your intention: \u201cto rest\u201d"),
        (20.0, "Eye mask on"),
    ]
