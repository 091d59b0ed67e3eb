"""The canonical session record as JSON (format documented in docs/session-record.md).

Reports, replays and future exports (PDF, CSV, FHIR, EDF+) all start from this one
record, so it holds everything: patient reference, phases, events, every reading, alarms.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session as OrmSession

from kapdesk.domain.clock import iso_utc
from kapdesk.domain.session import EventKind
from kapdesk.storage.models import (
    AlarmRow,
    PatientRow,
    SessionEventRow,
    SessionRow,
)
from kapdesk.storage.signals.reader import iter_record_json, iter_record_readings

FORMAT = "kapdesk-session"
FORMAT_VERSION = 1


class SessionNotFoundError(LookupError):
    pass


def _iso(t: float | None) -> str | None:
    return None if t is None else iso_utc(t)


def _phases(events: list[SessionEventRow]) -> list[dict[str, Any]]:
    """Phase intervals derived from the phase_entered / phase_ended events."""
    out: list[dict[str, Any]] = []
    for ev in events:
        if ev.kind == EventKind.PHASE_ENTERED:
            out.append(
                {
                    "phase": ev.phase,
                    "label": ev.data.get("label"),
                    "started_at": _iso(ev.t),
                    "ended_at": None,
                }
            )
        elif ev.kind == EventKind.PHASE_ENDED and out and out[-1]["phase"] == ev.phase:
            out[-1]["ended_at"] = _iso(ev.t)
    return out


def session_record(engine: Engine, session_id: int) -> dict[str, Any]:
    """The whole record of one session as a JSON-ready dict (readings included)."""
    record = _header(engine, session_id)
    record["readings"] = list(iter_readings(engine, session_id))
    return record


def _header(engine: Engine, session_id: int) -> dict[str, Any]:
    with OrmSession(engine) as s:
        row = s.get(SessionRow, session_id)
        if row is None:
            raise SessionNotFoundError(f"no session with id {session_id}")
        patient = s.get(PatientRow, row.patient_id)
        assert patient is not None
        events = list(
            s.scalars(
                select(SessionEventRow)
                .where(SessionEventRow.session_id == session_id)
                .order_by(SessionEventRow.t, SessionEventRow.id)
            )
        )
        alarms = list(
            s.scalars(
                select(AlarmRow)
                .where(AlarmRow.session_id == session_id)
                .order_by(AlarmRow.t, AlarmRow.id)  # id: the engine's own order within a t
            )
        )
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "exported_at": iso_utc(time.time()),
            "session": {
                "id": row.id,
                "uid": row.uid,
                "protocol": row.protocol,
                "state": row.state,
                "current_phase": row.current_phase,
                "started_at": _iso(row.started_at),
                "ended_at": _iso(row.ended_at),
                "clock_speed": row.clock_speed,
            },
            "patient": {
                "id": patient.id,
                "uid": patient.uid,
                "display_name": patient.display_name,
            },
            "phases": _phases(events),
            "events": [
                {"t": iso_utc(e.t), "kind": e.kind, "phase": e.phase, "data": e.data}
                for e in events
            ],
            # the column, not the JSON, for the episode: records made before it existed
            # got theirs from migration 0003
            "alarms": [a.data | {"t": iso_utc(a.t), "episode": a.episode} for a in alarms],
        }


def iter_readings(engine: Engine, session_id: int) -> Iterator[dict[str, Any]]:
    """Every reading of the session in its exported form, in time order."""
    return iter_record_readings(engine, session_id)


def write_json(engine: Engine, session_id: int, out: IO[str]) -> int:
    """Stream the record to ``out``; readings are written one per line so a long
    session never has to fit in memory. Returns the number of readings written."""
    header = _header(engine, session_id)
    alarms = header.pop("alarms")
    body = json.dumps(header, indent=1, ensure_ascii=False)
    out.write(body[:-2] + ',\n "readings": [')  # reopen the object before its closing brace
    n = 0
    for text in iter_record_json(engine, session_id):
        out.write(("\n  " if n == 0 else ",\n  ") + text)
        n += 1
    out.write("\n ],\n " + json.dumps("alarms") + ": ")
    out.write(json.dumps(alarms, ensure_ascii=False))
    out.write("\n}\n")
    return n
