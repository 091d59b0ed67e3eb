"""Every way an event is put into words, in one place: ``describe`` writes the sentence a
clinician reads on the timeline and in the session summary, ``marker_label`` the short
label of a plot marker, ``for_patient`` the line a patient may see beside a journal
entry. No screen shows a raw id ("nibp_diastolic", "phase_change", a bare "Check")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kapdesk.domain import time_text
from kapdesk.domain.channels import CHANNELS
from kapdesk.domain.dosing import route_phrase
from kapdesk.domain.session import EventKind, SessionEvent

#: Why the music changed, in words.
MUSIC_REASONS = {
    "phase_change": "the phase changed",
    "session_started": "the session started",
    "session_end": "the session ended",
    "stopped": "stopped by staff",
    "skipped": "skipped by staff",
    "playlist_chosen": "playlist chosen by staff",
    "resumed": "resumed",
    "after_error": "after a playback error",
    "ended": "track ended",
    "advanced": "next track",
    "play": "started",
}


def channel_name(channel: Any) -> str:
    c = CHANNELS.get(str(channel))
    return c.label if c else str(channel).replace("_", " ")


def channel_unit(channel: Any) -> str:
    c = CHANNELS.get(str(channel))
    return c.display_unit if c else ""


def _num(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def _words(text: Any) -> str:
    return str(text).replace("_", " ")


def describe(event: SessionEvent, protocol_name: str = "") -> str:
    """One line for ``event``; ``protocol_name`` names the protocol in "Session started"."""
    d: Mapping[str, Any] = event.data
    match event.kind:
        case EventKind.SESSION_STARTED:
            name = protocol_name or _words(d.get("protocol", ""))
            return f"Session started ({name})" if name else "Session started"
        case EventKind.PHASE_ENTERED:
            label = d.get("label") or _words(event.phase or "").capitalize()
            skipped = d.get("skipped")
            if skipped:
                why = f": {_words(d['reason'])}" if d.get("reason") else ""
                return f"Phase: {label} (skipped {', '.join(map(_words, skipped))}{why})"
            return f"Phase: {label}"
        case EventKind.DOSE:
            kind = f"Booster {d.get('number', '')}" if d.get("booster") else "Dose"
            extra = f" over {d['infusion_min']:g} min" if "infusion_min" in d else ""
            weight = f" at {_num(d['weight_kg'])} kg" if d.get("weight_kg") else ""
            per_kg = f", {d['mg_per_kg']} mg/kg{weight}" if d.get("mg_per_kg") else ""
            route = route_phrase(str(d.get("route", "")))
            return (
                f"{kind}: {_num(d.get('amount_mg', '?'))} mg {route}"
                f"{per_kg}, lot {d.get('lot') or '-'}{extra}"
            )
        case EventKind.CHECK:
            what = d.get("slot") or d.get("label") or _words(d.get("check", "check"))
            if d.get("kind") == "bp" and "systolic" in d:
                result = f"{_num(d['systolic'])}/{_num(d.get('diastolic'))} mmHg"
            elif "total" in d:
                result = f"{d.get('total')}/{d.get('max_total')}"
                if d.get("sedated"):
                    result += " \u2014 sedated (below pre-dose)"
            else:
                result = "recorded"
            return f"{what}: {result}"
        case EventKind.CHECKLIST:
            state = "cleared" if d.get("cleared") else "NOT cleared"
            ov = d.get("overridden") or []
            return f"Pre-dose checklist {state}" + (
                f", overridden: {', '.join(map(_words, ov))}" if ov else ""
            )
        case EventKind.INTENTION:
            return f"Intention: \u201c{d.get('text', '')}\u201d"
        case EventKind.NOTE:
            return f"Note: {d.get('text', '')}"
        case EventKind.CHECK_IN:
            return "Check-in" + (f": {d['text']}" if d.get("text") else "")
        case EventKind.BASELINE:
            unit = channel_unit(d.get("channel"))
            return f"Pre-dose {channel_name(d.get('channel'))}: {_num(d.get('value'))}" + (
                f" {unit}" if unit else ""
            )
        case EventKind.MARKER:
            return "Marker" + (f" ({d['by']})" if d.get("by") else "")
        case EventKind.EYE_MASK_ON:
            return "Eye mask on"
        case EventKind.EYE_MASK_OFF:
            return "Eye mask off"
        case EventKind.SESSION_RESUMED:
            gap = d.get("gap_s")
            return "Resumed after a restart" + (
                f" (gap {time_text.duration(gap)})" if gap is not None else ""
            )
        case EventKind.DEVICE_CONNECTED:
            return f"Monitor connected: {d.get('name', '?')}"
        case EventKind.DEVICE_DISCONNECTED:
            return f"Monitor taken off: {d.get('name', '?')}"
        case EventKind.DEVICE_NOT_RECONNECTED:
            return f"Monitor not reconnected: {d.get('name', '?')} ({d.get('reason', '')})"
        case EventKind.DISCHARGE:
            early = " (early, overridden)" if d.get("early") else ""
            score = d.get("score") or {}
            if score:
                return f"Discharged{early}: score {score.get('total')}/{score.get('max_total')}"
            return f"Discharged{early}"
        case EventKind.SESSION_COMPLETED:
            return "Session completed"
        case EventKind.SESSION_ABORTED:
            return "Session ended early" + (f": {d['reason']}" if d.get("reason") else "")
        case (
            EventKind.MUSIC_TRACK_STARTED
            | EventKind.MUSIC_TRACK_STOPPED
            | EventKind.MUSIC_TRACK_FAILED
        ):
            verb = {
                "music_track_started": "Music",
                "music_track_stopped": "Music stopped",
                "music_track_failed": "Music could not play",
            }[event.kind]
            title = d.get("title") or "untitled track"
            why = MUSIC_REASONS.get(str(d.get("reason", "")), _words(d.get("reason", "")))
            playlist = _words(d.get("cue", "")).capitalize()
            detail = ", ".join(x for x in (playlist, why) if x)
            return f"{verb}: \u201c{title}\u201d" + (f" ({detail})" if detail else "")
        case _:
            return _words(event.kind).capitalize()


#: Plot-marker labels for events that need no detail (other kinds get no marker).
MARKER_LABELS: dict[str, str] = {
    EventKind.CHECKLIST: "Checklist",
    EventKind.INTENTION: "Intention",
    EventKind.DOSE: "Dose",
    EventKind.EYE_MASK_ON: "Mask on",
    EventKind.EYE_MASK_OFF: "Mask off",
    EventKind.CHECK_IN: "Check-in",
    EventKind.NOTE: "Note",
    EventKind.DISCHARGE: "Discharge",
    EventKind.SESSION_RESUMED: "Resumed",
    EventKind.MARKER: "Marker",
}


def marker_label(event: SessionEvent) -> str | None:
    """The label of a plot marker for ``event`` (None: no marker, e.g. phase_ended)."""
    d = event.data
    if event.kind == EventKind.PHASE_ENTERED:
        return str(d.get("label") or event.phase or "")
    if event.kind == EventKind.DOSE and d.get("booster"):
        return f"Booster {d.get('number', '')}".strip()
    if event.kind == EventKind.CHECK:
        if d.get("kind") == "bp":
            return f"BP {d.get('systolic', 0):g}/{d.get('diastolic', 0):g}"
        short = {"moaas": "MOAA/S"}.get(str(d.get("scale")), str(d.get("label", "Check")))
        return f"{short} {d.get('total')}"
    return MARKER_LABELS.get(event.kind)


def for_patient(event: SessionEvent) -> str | None:
    """The line a patient may see for ``event`` beside their journal, or None: an
    allow-list, so doses (lot numbers), baselines, alarms and staff notes never show."""
    data: Mapping[str, Any] = event.data
    match event.kind:
        case EventKind.SESSION_STARTED:
            return "Session began"
        case EventKind.PHASE_ENTERED:
            return str(data.get("label") or "New phase")
        case EventKind.INTENTION:
            return f"Your intention: \u201c{data.get('text', '')}\u201d"
        case EventKind.EYE_MASK_ON:
            return "Eye mask on"
        case EventKind.EYE_MASK_OFF:
            return "Eye mask off"
        case EventKind.MUSIC_TRACK_STARTED:
            title = data.get("title") or "a track"
            artist = data.get("artist")
            return f"Music: {title}" + (f" \u2014 {artist}" if artist else "")
        case EventKind.MUSIC_TRACK_STOPPED:
            return None  # the next track or the mask coming off says enough
        case EventKind.CHECK_IN | EventKind.CHECK | "checkin":
            note = data.get("for_patient_text") or data.get("text")
            return f"Check-in: {note}" if data.get("for_patient") and note else "Check-in"
        case EventKind.NOTE:
            if data.get("for_patient") and data.get("text"):
                return f"Note: {data['text']}"
            return None
        case EventKind.SESSION_COMPLETED:
            return "Session ended"
        case _:
            return None
