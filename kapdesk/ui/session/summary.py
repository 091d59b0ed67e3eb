"""A readable summary of one session, built from its recorded timeline.

Written for the clinician signing off and for integration later: who, which protocol,
checklist and overrides, intention, doses, checks, eye mask, notes, discharge, and any
gap while the app was closed. Built only from events, so it is the same after a resume
or from the database.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtWidgets import QTextBrowser, QWidget

from kapdesk.domain import time_text, timeline
from kapdesk.domain.event_text import describe as describe_event
from kapdesk.domain.session import EventKind, SessionEvent
from kapdesk.live.session_controller import SessionController
from kapdesk.ui.common import theme


def _e(text: Any) -> str:
    return html.escape(str(text))


def summary_html(
    patient: str,
    protocol: str,
    events: Sequence[SessionEvent],
    observation_min: float | None,
    checks: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The summary as simple HTML (a QTextBrowser shows it; it prints as is).
    ``checks``: the scheduled checks by outcome (``done``, ``missed``, ``skipped``)."""

    def describe(e: SessionEvent) -> str:
        return describe_event(e, protocol)

    ev = list(events)
    started, ended = timeline.session_span(ev)
    out = [f"<h2>{_e(patient)}</h2><p class='muted'>{_e(protocol)}"]
    if started is not None:
        day = time_text.day(started)
        span = ""
        if ended:
            span = (
                f", {time_text.clock_time(started)}\u2013{time_text.clock_time(ended)}"
                f" ({time_text.duration(ended - started)})"
            )
        out.append(f" \u00b7 {day}{span}")
    out.append("</p>")

    def section(title: str, rows: list[str]) -> None:
        if rows:
            out.append(f"<h3>{_e(title)}</h3><ul>")
            out.extend(f"<li>{r}</li>" for r in rows)
            out.append("</ul>")

    checklist = [e for e in ev if e.kind == EventKind.CHECKLIST]
    rows = []
    for e in checklist[-1:]:
        rows.append(f"{time_text.clock_time(e.t)} \u2014 {_e(describe(e))}")
        for item in e.data.get("items", []):
            ov = item.get("override")
            if ov:
                rows.append(
                    f"{_e(item['label'])}: {_e(item['detail'])} \u2014 overridden by "
                    f"{_e(ov['by'])} ({_e(ov['role'])}): \u201c{_e(ov['reason'])}\u201d"
                )
    section("Before dosing", rows)
    intention = timeline.intention(ev)
    if intention is not None:
        said = _e(intention)
        out.append(f"<h3>Intention</h3><p class='quote'>\u201c{said}\u201d</p>")
    doses = [e for e in ev if e.kind == EventKind.DOSE]
    section("Medicine", [f"{time_text.clock_time(e.t)} \u2014 {_e(describe(e))}" for e in doses])
    recorded = [e for e in ev if e.kind == EventKind.CHECK]
    rows = [f"{time_text.clock_time(e.t)} \u2014 {_e(describe(e))}" for e in recorded]
    if checks is not None:
        done = len(checks.get("done", ()))
        rows.insert(0, f"<span class='ok'>{done} scheduled check(s) done</span>")
        for label in checks.get("missed", ()):
            rows.append(f"<span class='missed'>\u2717 Missed: {_e(label)}</span>")
        for label in checks.get("skipped", ()):
            rows.append(f"<span class='warn'>\u2717 Not done at discharge: {_e(label)}</span>")
    section("Checks", rows)
    mask_rows = [
        f"{time_text.clock_time(on)}\u2013{time_text.clock_time(off)}"
        f" ({time_text.duration(off - on)})"
        for on, off in timeline.mask_periods(ev)
    ]
    check_ins = sum(e.kind == EventKind.CHECK_IN for e in ev)
    if check_ins:
        mask_rows.append(f"{check_ins} check-in(s)")
    section("Eye mask", mask_rows)
    section(
        "Notes",
        [
            f"{time_text.clock_time(e.t)} \u2014 {_e(e.data.get('text', ''))}"
            for e in ev
            if e.kind == EventKind.NOTE
        ],
    )
    gaps = [e for e in ev if e.kind == EventKind.SESSION_RESUMED]
    section(
        "Interruptions", [f"{time_text.clock_time(e.t)} \u2014 {_e(describe(e))}" for e in gaps]
    )
    discharge = [e for e in ev if e.kind == EventKind.DISCHARGE]
    rows = []
    for e in discharge[-1:]:
        rows.append(f"{time_text.clock_time(e.t)} \u2014 {_e(describe(e))}")
        observed = e.data.get("observed_min")
        if observed is not None:
            need = f" (minimum {observation_min:g} min)" if observation_min else ""
            rows.append(f"Observed {observed:g} min after the dose{need}")
        for c in e.data.get("criteria", []):
            mark = "\u2713" if c.get("met") else "\u2717"
            text = f"{mark} {_e(c['label'])}: {_e(c['detail'])}"
            ov = c.get("override")
            if ov:
                text += f" \u2014 overridden by {_e(ov['by'])}: \u201c{_e(ov['reason'])}\u201d"
            rows.append(text)
    section("Discharge", rows)
    section(
        "Timeline",
        [
            f"{time_text.clock_time(e.t)} \u2014 {_e(describe(e))}"
            for e in ev
            if e.kind not in (EventKind.PHASE_ENDED, EventKind.BASELINE)
        ],
    )
    return "".join(out)


class SessionSummaryView(QTextBrowser):
    """Shows ``summary_html`` large and calm, in the colours of the active theme (the
    app turns to the day theme at discharge: the summary follows every switch)."""

    def __init__(self, html_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Session summary")
        self.setMinimumSize(640, 520)
        self.setOpenExternalLinks(False)
        self.html_text = html_text
        self.render_in(theme.active())
        theme.notifier().changed.connect(self.render_in)

    def render_in(self, t: theme.Theme) -> None:
        self.document().setDefaultStyleSheet(
            theme.html_style(t) + " h2 { font-size: 24px; margin-bottom: 2px; }"
            " .quote { font-style: italic; font-size: 17px; } li { margin-bottom: 3px; }"
        )
        self.setHtml(self.html_text)

    @classmethod
    def for_controller(cls, controller: SessionController) -> SessionSummaryView:
        patient = controller.patient.display_name if controller.patient else "?"
        protocol = controller.protocol
        name = (
            protocol.name
            if protocol
            else (controller.session.protocol if controller.session else "")
        )
        return cls(
            summary_html(
                patient,
                name,
                controller.events,
                protocol.observation_min if protocol else None,
                controller.check_outcome(),
            )
        )
