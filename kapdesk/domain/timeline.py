"""What a session's timeline says: when the first dose was given, whether the eye mask is
on, the last checklist, the pre-dose vitals, the checks done so far.

Pure functions over the recorded events (oldest first), so the session controller, a
resumed session and a test all answer these questions the same way, without a database
or a clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kapdesk.domain.schedule import CheckResult
from kapdesk.domain.session import EventKind, SessionEvent

#: The two channels of a blood-pressure baseline, in (systolic, diastolic) order.
BP_CHANNELS = ("nibp_systolic", "nibp_diastolic")

Events = Sequence[SessionEvent]


def doses(events: Events) -> list[SessionEvent]:
    """Every dose and booster, in the order given."""
    return [e for e in events if e.kind == EventKind.DOSE]


def first_dose_t(events: Events) -> float | None:
    """When the first dose was given: the schedule and the observation time count from it."""
    return next((e.t for e in events if e.kind == EventKind.DOSE), None)


def mask_on_since(events: Events) -> float | None:
    """When the eye mask went on, if it is on now (None: off, or never put on)."""
    for e in reversed(events):
        if e.kind == EventKind.EYE_MASK_ON:
            return e.t
        if e.kind == EventKind.EYE_MASK_OFF:
            return None
    return None


def last_check_in_t(events: Events) -> float | None:
    return max((e.t for e in events if e.kind == EventKind.CHECK_IN), default=None)


def last_checklist(events: Events) -> Mapping[str, Any] | None:
    """The last recorded pre-dose checklist (its ``cleared``, ``blocking``, ``items``...)."""
    for e in reversed(events):
        if e.kind == EventKind.CHECKLIST:
            return e.data
    return None


def intention(events: Events) -> str | None:
    """The intention last set (None: none set yet)."""
    for e in reversed(events):
        if e.kind == EventKind.INTENTION:
            return str(e.data.get("text", ""))
    return None


def check_results(events: Events, bp_check_ids: Iterable[str]) -> list[CheckResult]:
    """Every check recorded, for the schedule. A cleared checklist's blood pressure counts
    as a reading for each of the protocol's BP checks (``bp_check_ids``)."""
    bp_ids = list(bp_check_ids)
    out: list[CheckResult] = []
    for e in events:
        d = e.data
        if e.kind == EventKind.CHECKLIST and "bp" in d:
            bp = d["bp"]
            out += [CheckResult(c, e.t, bp["systolic"], bp["diastolic"]) for c in bp_ids]
        if e.kind != EventKind.CHECK:
            continue
        out.append(
            CheckResult(
                str(d.get("check")),
                e.t,
                systolic=d.get("systolic"),
                diastolic=d.get("diastolic"),
                score=d.get("total"),
            )
        )
    return out


def baseline_vitals(events: Events, on_record: Mapping[str, float]) -> dict[str, float]:
    """Pre-dose values: those recorded in the session, else the patient record's."""
    out = dict(on_record)
    for e in events:
        if e.kind == EventKind.BASELINE and "channel" in e.data:
            out[str(e.data["channel"])] = float(e.data["value"])
    return out


def pre_dose_bp(baseline: Mapping[str, float]) -> tuple[float, float] | None:
    """The (systolic, diastolic) baseline, if both are known."""
    if all(ch in baseline for ch in BP_CHANNELS):
        return baseline[BP_CHANNELS[0]], baseline[BP_CHANNELS[1]]
    return None


def pre_dose_moaas(events: Events) -> int | None:
    """The last MOAA/S recorded before the first dose (by timeline order)."""
    score: int | None = None
    for e in events:
        if e.kind == EventKind.DOSE:
            break
        if e.kind == EventKind.CHECK and e.data.get("scale") == "moaas":
            total = e.data.get("total")
            score = int(total) if total is not None else None
    return score


def clock_segments(events: Events) -> list[tuple[float, Mapping[str, Any]]]:
    """The start and every resume with the clock data recorded with it, for
    ``kapdesk.domain.clock.resume_point``."""
    return [
        (e.t, e.data)
        for e in events
        if e.kind in (EventKind.SESSION_STARTED, EventKind.SESSION_RESUMED)
    ]


def session_span(events: Events) -> tuple[float | None, float | None]:
    """When the session started and when it ended (completed or ended early), if it has."""
    started = next((e.t for e in events if e.kind == EventKind.SESSION_STARTED), None)
    ended = next(
        (e.t for e in events if e.kind in (EventKind.SESSION_COMPLETED, EventKind.SESSION_ABORTED)),
        None,
    )
    return started, ended


def mask_periods(events: Events) -> list[tuple[float, float]]:
    """Each time the eye mask was on, as (on, off); a mask still on is not listed."""
    out: list[tuple[float, float]] = []
    on_t: float | None = None
    for e in events:
        if e.kind == EventKind.EYE_MASK_ON:
            on_t = e.t
        elif e.kind == EventKind.EYE_MASK_OFF and on_t is not None:
            out.append((on_t, e.t))
            on_t = None
    return out
