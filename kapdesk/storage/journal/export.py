"""A patient's journal as a readable file (Markdown or HTML) for the integration meeting
or the patient's own copy.

Built from ``JournalStore`` with the reader's actor, so an export holds only what that
reader may read: for the therapist, a not-shared entry appears as existing, without its
text. Times are ISO 8601 UTC like every kapdesk export.
"""

from __future__ import annotations

import html
import time

from kapdesk.domain import access
from kapdesk.domain.access import Actor
from kapdesk.domain.clock import iso_utc
from kapdesk.domain.journal import CHECKIN_SCALES, EntryView
from kapdesk.domain.questionnaires import INSTRUMENTS
from kapdesk.storage.journal.questionnaires import ScorePoint
from kapdesk.storage.journal.store import JournalStore

PRIVATE_NOTE = "Private entry: the patient chose not to share it. Its text is not included."


def _when(t: float) -> str:
    return iso_utc(t)[:16] + "Z"  # minutes are enough to read; ISO 8601 UTC


def _checkin(view: EntryView) -> str:
    if view.checkin is None or view.checkin.empty:
        return ""
    values = view.checkin.as_dict()
    return ", ".join(
        f"{label} {values[n]}/10" for n, label, *_ in CHECKIN_SCALES if values[n] is not None
    )


def _score_line(sp: ScorePoint) -> str:
    flag = "  ⚠ item 9 above 0" if sp.flags else ""
    return f"{_when(sp.t)}  {INSTRUMENTS[sp.instrument].name} {sp.total} ({sp.band}){flag}"


def journal_markdown(store: JournalStore, actor: Actor, patient_id: int) -> str:
    access.require(access.can_export_journal(actor, patient_id), "export this journal")
    name = store.patient_name(actor, patient_id)
    entries = sorted(store.entries(actor, patient_id), key=lambda v: v.created_at)
    scores = store.scores(actor, patient_id)
    out = [
        f"# Integration journal: {name}",
        "",
        f"Exported {iso_utc(time.time())} for {actor.role_names} {actor.name}. "
        f"{len(entries)} entries. Times are UTC.",
        "",
        "## Questionnaires",
        "",
    ]
    out += [f"- {_score_line(sp)}" for sp in scores] or ["- none yet"]
    out.append("")
    out.append("## Entries")
    for v in entries:
        out += ["", f"### {_when(v.created_at)}" + (" (about a session)" if v.session_id else "")]
        out.append("")
        if v.redacted:
            out.append(f"*{PRIVATE_NOTE}*")
            continue
        meta = []
        if not v.shared:
            meta.append("not shared with the therapist")
        if v.tags:
            meta.append("tags: " + ", ".join(v.tags))
        if _checkin(v):
            meta.append("check-in: " + _checkin(v))
        if meta:
            out += [f"*{'; '.join(meta)}*", ""]
        out += [f"> {line}" if line else ">" for line in (v.text or "").splitlines()]
    return "\n".join(out) + "\n"


def journal_html(store: JournalStore, actor: Actor, patient_id: int) -> str:
    access.require(access.can_export_journal(actor, patient_id), "export this journal")
    name = html.escape(store.patient_name(actor, patient_id))
    entries = sorted(store.entries(actor, patient_id), key=lambda v: v.created_at)
    scores = store.scores(actor, patient_id)
    parts = [
        "<!doctype html><html lang='en'><meta charset='utf-8'>",
        f"<title>Integration journal: {name}</title>",
        "<style>body{font:17px/1.55 Georgia,serif;max-width:46em;margin:2em auto;color:#222}"
        "h3{margin-top:2em;border-top:1px solid #ccc;padding-top:.6em}"
        ".meta{color:#666;font-style:italic}.flag{color:#b00;font-weight:bold}"
        ".private{color:#666;background:#f3f3f3;padding:.6em}</style>",
        f"<h1>Integration journal: {name}</h1>",
        f"<p class='meta'>Exported {iso_utc(time.time())} for {actor.role_names} "
        f"{html.escape(actor.name)}. Times are UTC.</p>",
        "<h2>Questionnaires</h2><ul>",
    ]
    for sp in scores:
        line = html.escape(_score_line(sp).replace("  ⚠ item 9 above 0", ""))
        flag = " <span class='flag'>⚠ item 9 above 0</span>" if sp.flags else ""
        parts.append(f"<li>{line}{flag}</li>")
    parts.append("</ul><h2>Entries</h2>")
    for v in entries:
        about = " (about a session)" if v.session_id else ""
        parts.append(f"<h3>{_when(v.created_at)}{about}</h3>")
        if v.redacted:
            parts.append(f"<p class='private'>{PRIVATE_NOTE}</p>")
            continue
        meta = [m for m in (", ".join(v.tags or ()), _checkin(v)) if m]
        if meta:
            parts.append(f"<p class='meta'>{html.escape(' · '.join(meta))}</p>")
        for para in (v.text or "").split("\n\n"):
            parts.append("<p>" + html.escape(para).replace("\n", "<br>") + "</p>")
    parts.append("</html>\n")
    return "\n".join(parts)
