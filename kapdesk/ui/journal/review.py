"""The therapist's journal review: new entries across patients, one patient's journal,
full-text search, the PHQ-9/GAD-7 course of care, and safety flags shown first.

Everything it shows comes from ``JournalStore`` with a therapist actor, so what a patient
did not share arrives here already without its text: the window cannot show what it never
receives. It polls the database every few seconds (cheap indexed queries), so a PHQ-9
item-9 answer written in patient mode on another screen or laptop appears here at once.
"""

from __future__ import annotations

import html
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from kapdesk.domain import time_text
from kapdesk.domain.access import AccessDenied, Actor, can_see_patient
from kapdesk.domain.journal import CHECKIN_SCALES, EntryView
from kapdesk.domain.questionnaires import INSTRUMENTS
from kapdesk.storage.journal.questionnaires import SafetyFlag, ScorePoint
from kapdesk.storage.journal.search import SearchHit
from kapdesk.storage.journal.store import JournalStore
from kapdesk.ui.common import theme
from kapdesk.ui.journal.widgets import snippet_html

POLL_MS = 3000

#: Sizes only: every colour comes from the application style sheet of the active theme
#: (``theme.style_sheet``) or from ``theme.active()``, so a theme switch re-colours all.
#: No rule for QWidget or QLabel here: a window's own sheet outranks the application's,
#: and would override the sizes of the label roles (title, heading, emphasis).
REVIEW_SIZES = """
QListWidget, QTabBar, QPushButton { font-size: 15px; }
QTextBrowser { padding: 10px; font-size: 16px; }
QLineEdit { padding: 6px; font-size: 16px; }
QListWidget::item { padding: 5px 2px; }
QTabBar::tab { padding: 7px 14px; }
"""


def hit_css(t: theme.Theme) -> str:
    """A ``<style>`` for a rich-text QLabel (it has no default style sheet): search hits
    in the theme's hit colour."""
    return f"<style>.hit {{ color: {t.hit}; font-weight: bold; }}</style>"


def _item(text: str, data: Any) -> QListWidgetItem:
    item = QListWidgetItem(text)
    item.setData(Qt.ItemDataRole.UserRole, data)
    return item


def entry_html(view: EntryView, patient: str, scores: list[ScorePoint]) -> str:
    """An entry for reading; a not-shared entry is shown as existing, nothing more."""
    when = html.escape(time_text.date_and_time(view.created_at))
    head = f"<p class='muted'>{html.escape(patient)} \u00b7 {when}"
    head += f" \u00b7 version {view.revision}" if view.revision else " \u00b7 draft"
    head += " \u00b7 about a session</p>" if view.session_id else "</p>"
    if view.redacted:
        return (
            head + "<p style='font-size:18px'><b>Private entry.</b> The patient chose not to "
            "share this entry; it exists, and its text stays with them.</p>"
        )
    parts = [head]
    if view.tags:
        parts.append(
            "<p>"
            + " ".join(f"<span class='tag'>#{html.escape(t)}</span>" for t in view.tags)
            + "</p>"
        )
    if view.checkin is not None and not view.checkin.empty:
        values = view.checkin.as_dict()
        cells = [
            f"{label} {values[n]}/10" for n, label, *_ in CHECKIN_SCALES if values[n] is not None
        ]
        joined = " \u00b7 ".join(cells)
        parts.append(f"<p class='muted'>Check-in: {joined}</p>")
    body = html.escape(view.text or "").replace("\n", "<br>")
    parts.append(f"<p style='font-size:17px; line-height:140%'>{body}</p>")
    for sp in scores:
        name = INSTRUMENTS[sp.instrument].name
        flag = " <b class='flag'>\u26a0 item 9 answered above 0</b>" if sp.flags else ""
        parts.append(f"<p>{name}: <b>{sp.total}</b> ({html.escape(sp.band)}){flag}</p>")
    return "".join(parts)


class ScoreTrend(pg.PlotWidget):
    """PHQ-9 and GAD-7 totals across the course of care; flagged answers ringed in the
    theme's flag colour. Re-coloured on every theme switch."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent, axisItems={"bottom": pg.DateAxisItem()})
        self.setYRange(0, 27)
        self.setLabel("left", "total")
        self.setMouseEnabled(x=False, y=False)
        self.legend = self.addLegend(offset=(10, 5))
        self.curves: dict[str, pg.PlotDataItem] = {}
        for iid in ("phq9", "gad7"):
            self.curves[iid] = self.plot(
                [], [], name=INSTRUMENTS[iid].name, symbol="o", symbolSize=9, symbolPen=None
            )
        self.flagged = pg.ScatterPlotItem(size=18, brush=None, symbol="o")
        self.addItem(self.flagged)
        self.threshold = pg.InfiniteLine(pos=10, angle=0)
        self.addItem(self.threshold)  # 10: "moderate" on both scales
        self.recolour(theme.active())
        theme.notifier().changed.connect(self.recolour)

    def recolour(self, t: theme.Theme) -> None:
        """Background, grid, axes, legend and every line in the colours of ``t``."""
        self.setBackground(t.plot_background)
        self.showGrid(x=True, y=True, alpha=t.grid_alpha)
        for ax in ("left", "bottom"):
            self.getAxis(ax).setTextPen(t.muted)
            self.getAxis(ax).setPen(t.muted)  # the grid is drawn in it, at grid_alpha
        self.setLabel("left", "total", color=t.muted)
        for iid, curve in self.curves.items():
            colour = t.score[iid]
            curve.setPen(pg.mkPen(colour, width=2))
            curve.setSymbolBrush(colour)
        self.flagged.setPen(pg.mkPen(t.flag_border, width=3))
        self.threshold.setPen(pg.mkPen(t.muted, width=1, style=Qt.PenStyle.DashLine))
        self.legend.setLabelTextColor(t.text)
        for _sample, label in self.legend.items:
            label.setText(label.text)  # LabelItem renders its colour only in setText

    def show_scores(self, points: list[ScorePoint]) -> None:
        for iid, curve in self.curves.items():
            pts = [p for p in points if p.instrument == iid]
            curve.setData([p.t for p in pts], [p.total for p in pts])
        flagged = [p for p in points if p.flags]
        self.flagged.setData([p.t for p in flagged], [p.total for p in flagged])
        if points:
            lo, hi = min(p.t for p in points), max(p.t for p in points)
            pad = max(3600.0, (hi - lo) * 0.08)
            self.setXRange(lo - pad, hi + pad)

    def point_count(self, instrument: str) -> int:
        x, _y = self.curves[instrument].getData()
        return 0 if x is None else len(x)


class JournalReviewWindow(QMainWindow):
    """For the therapist: review, read, search, follow scores, act on safety flags."""

    flag_seen = Signal(int)  # safety flag id acknowledged

    def __init__(
        self, store: JournalStore, reader: str | Actor, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.actor = reader if isinstance(reader, Actor) else Actor.therapist(reader)
        self.patient_id: int | None = None
        self.open_flags: list[SafetyFlag] = []
        self.current: EntryView | None = None
        self._entry_html = ""  # the entry shown in the reader, re-rendered on a switch
        self._hits: list[SearchHit] = []  # the search results shown, re-rendered on a switch
        self.setWindowTitle("Journal review")
        self.setStyleSheet(REVIEW_SIZES)

        central = QWidget()
        central.setObjectName("central")
        outer = QVBoxLayout(central)
        outer.setContentsMargins(16, 12, 16, 12)
        outer.setSpacing(10)
        outer.addWidget(self._safety_banner())
        outer.addLayout(self._search_row())
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self._left())
        split.addWidget(self._center())
        split.setStretchFactor(1, 1)
        split.setSizes([380, 980])
        outer.addWidget(split, 1)
        self.setCentralWidget(central)
        self.resize(1400, 880)

        self.poll = QTimer(self)
        self.poll.setInterval(POLL_MS)
        self.poll.timeout.connect(self.refresh)
        self.poll.start()
        self.refresh()
        patients = self.store.patients(self.actor)
        if patients:
            self.show_patient(patients[0][0])
        self.apply_theme()
        theme.notifier().changed.connect(self.apply_theme)

    def apply_theme(self, _t: theme.Theme | None = None) -> None:
        """Follow a theme switch: the widgets follow the application style sheet and the
        plot re-colours itself; the rich text here is re-rendered in the new colours."""
        self._render_entry()
        self._render_hits()

    # -- layout ---------------------------------------------------------------------------

    def _safety_banner(self) -> QFrame:
        self.banner = QFrame()
        self.banner.setObjectName("safetyBanner")
        theme.set_role(self.banner, "flag")  # flag colours in every theme, for its labels too
        row = QHBoxLayout(self.banner)
        row.setContentsMargins(14, 8, 10, 8)
        self.banner_text = QLabel("")
        theme.set_role(self.banner_text, "emphasis")
        self.banner_text.setWordWrap(True)
        self.ack_button = QPushButton("Seen \u2014 I will follow up")
        self.ack_button.clicked.connect(self.acknowledge_first_flag)
        self.banner_open = QPushButton("Open journal")
        self.banner_open.clicked.connect(self._open_flagged_patient)
        row.addWidget(self.banner_text, 1)
        row.addWidget(self.banner_open)
        row.addWidget(self.ack_button)
        self.banner.hide()
        return self.banner

    def _search_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        title = QLabel("Journal review")
        theme.set_role(title, "title")
        who = QLabel(f"as {self.actor.name}")
        theme.set_role(who, "muted")
        self.search_box = QLineEdit()
        self.search_box.setPlaceholderText("Search shared entries of all patients\u2026")
        self.search_box.returnPressed.connect(self.run_search)
        go = QPushButton("Search")
        go.clicked.connect(self.run_search)
        row.addWidget(title)
        row.addWidget(who)
        row.addSpacing(20)
        row.addWidget(self.search_box, 1)
        row.addWidget(go)
        return row

    def _left(self) -> QWidget:
        self.left_tabs = QTabWidget()
        self.new_list = QListWidget()
        self.new_list.setWordWrap(True)
        self.new_list.itemClicked.connect(self._open_item)
        self.patient_list = QListWidget()
        self.patient_list.itemClicked.connect(
            lambda it: self.show_patient(int(it.data(Qt.ItemDataRole.UserRole)))
        )
        self.results = QListWidget()
        self.results.setWordWrap(True)
        self.results.itemClicked.connect(self._open_item)
        self.results_label = QLabel("")
        theme.set_role(self.results_label, "muted")
        results_tab = QWidget()
        rv = QVBoxLayout(results_tab)
        rv.setContentsMargins(4, 4, 4, 4)
        rv.addWidget(self.results_label)
        rv.addWidget(self.results, 1)
        self.left_tabs.addTab(self.new_list, "New entries")
        self.left_tabs.addTab(self.patient_list, "Patients")
        self.left_tabs.addTab(results_tab, "Search")
        return self.left_tabs

    def _center(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        v.setContentsMargins(0, 0, 0, 0)
        self.patient_title = QLabel("")
        self.patient_title.setWordWrap(True)
        theme.set_role(self.patient_title, "heading")
        self.latest_scores = QLabel("")
        theme.set_role(self.latest_scores, "muted")
        v.addWidget(self.patient_title)
        v.addWidget(self.latest_scores)
        body = QSplitter(Qt.Orientation.Horizontal)
        self.entry_list = QListWidget()
        self.entry_list.setWordWrap(True)
        self.entry_list.itemClicked.connect(self._open_item)
        self.reader = QTextBrowser()
        self.reader.setOpenLinks(False)
        body.addWidget(self.entry_list)
        body.addWidget(self.reader)
        body.setSizes([300, 650])
        v.addWidget(body, 3)
        self.trend = ScoreTrend()
        self.trend.setMinimumHeight(220)
        v.addWidget(self.trend, 2)
        return w

    # -- data -----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Safety flags, new entries and the patient list (polled)."""
        self.open_flags = self.store.safety_flags(self.actor)
        if self.open_flags:
            f = self.open_flags[0]
            more = f"  (+{len(self.open_flags) - 1} more)" if len(self.open_flags) > 1 else ""
            self.banner_text.setText(
                f"\u26a0 SAFETY: {f.patient_name} \u2014 {f.message}, "
                f"{time_text.date_and_time(f.raised_at)}.{more}"
            )
            self.banner.show()
        else:
            self.banner.hide()
        self.new_list.clear()
        for ne in self.store.new_entries(self.actor):
            v = ne.entry
            text = "private entry (not shared)" if v.redacted else _first_line(v.text)
            when = time_text.date_and_time(v.updated_at)
            self.new_list.addItem(_item(f"{ne.patient_name} \u00b7 {when}\n{text}", v.id))
        self.left_tabs.setTabText(0, f"New entries ({self.new_list.count()})")
        selected = self.patient_id
        self.patient_list.clear()
        for pid, name in self.store.patients(self.actor):
            item = _item(name, pid)
            self.patient_list.addItem(item)
            item.setSelected(pid == selected)

    def use_actor(self, actor: Actor) -> None:
        """The reader's access changed (their care team): what they may no longer read
        leaves the screen at once."""
        self.actor = actor
        if self.patient_id is not None and not can_see_patient(actor, self.patient_id):
            self.patient_id = None
            self.patient_title.setText("")
            self.latest_scores.setText("")
            self.entry_list.clear()
            self.reader.clear()
            self._entry_html = ""
            self.current = None
        self._hits = [h for h in self._hits if can_see_patient(actor, h.entry.patient_id)]
        self._render_hits()
        self.refresh()

    def show_patient(self, patient_id: int) -> None:
        self.patient_id = patient_id
        name = self.store.patient_name(self.actor, patient_id)
        self.patient_title.setText(f"{name}: journal")
        self.entry_list.clear()
        for v in self.store.entries(self.actor, patient_id):
            text = "Private entry (not shared)" if v.redacted else _first_line(v.text)
            self.entry_list.addItem(_item(f"{time_text.date_and_time(v.created_at)}\n{text}", v.id))
        scores = self.store.scores(self.actor, patient_id)
        self.trend.show_scores(scores)
        latest = []
        for iid, inst in INSTRUMENTS.items():
            last = [s for s in scores if s.instrument == iid]
            if last:
                latest.append(f"{inst.name} {last[-1].total} ({last[-1].band})")
        self.latest_scores.setText(
            "Latest: " + " \u00b7 ".join(latest) if latest else "No questionnaires yet"
        )
        self.reader.clear()
        self._entry_html = ""
        self.current = None

    def open_entry(self, entry_id: int) -> EntryView:
        view = self.store.entry(self.actor, entry_id)
        if view.patient_id != self.patient_id:
            self.show_patient(view.patient_id)
        name = self.store.patient_name(self.actor, view.patient_id)
        scores = [
            s for s in self.store.scores(self.actor, view.patient_id) if s.entry_id == view.id
        ]
        self._entry_html = entry_html(view, name, scores)
        self._render_entry()
        self.current = view
        self.store.mark_read(self.actor, entry_id)
        return view

    def _render_entry(self) -> None:
        """The entry in the reader, in the active theme's colours (its default style sheet
        is read when the HTML is set, so it is set first and the HTML set again)."""
        self.reader.document().setDefaultStyleSheet(theme.html_style())
        if self._entry_html:
            self.reader.setHtml(self._entry_html)

    def _open_item(self, item: QListWidgetItem) -> None:
        self.open_entry(int(item.data(Qt.ItemDataRole.UserRole)))

    def run_search(self) -> None:
        query = self.search_box.text()
        hits = self.store.search(self.actor, query)
        self._hits = list(hits)
        self._render_hits()
        shown = html.escape(query.strip())
        self.results_label.setText(
            f"{len(hits)} shared entr{'y' if len(hits) == 1 else 'ies'} for \u201c{shown}\u201d"
            if shown
            else "Type words to search"
        )
        self.left_tabs.setCurrentIndex(2)

    def _render_hits(self) -> None:
        """The search results, their hits in the active theme's hit colour."""
        style = hit_css(theme.active())
        self.results.clear()
        for hit in self._hits:
            label = QLabel(
                f"{style}<b>{html.escape(hit.patient_name)}</b> \u00b7 "
                f"{html.escape(time_text.date_and_time(hit.entry.created_at))}<br>"
                f"{snippet_html(hit.snippet)}"
            )
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
            label.setContentsMargins(4, 4, 4, 4)
            item = _item("", hit.entry.id)
            self.results.addItem(item)
            item.setSizeHint(label.sizeHint())
            self.results.setItemWidget(item, label)

    def acknowledge_first_flag(self) -> None:
        if not self.open_flags:
            return
        flag = self.open_flags[0]
        self.store.acknowledge_flag(self.actor, flag.id)
        self.flag_seen.emit(flag.id)
        self.refresh()

    def _open_flagged_patient(self) -> None:
        """A flag reaches every clinician; its journal opens for the patient's care team
        (anyone else is told how to join, which is audited)."""
        if not self.open_flags:
            return
        flag = self.open_flags[0]
        try:
            self.show_patient(flag.patient_id)
        except AccessDenied:
            self.patient_title.setText(
                f"{flag.patient_name} is not in your care team: their journal opens for"
                " the therapists in it. Add yourself in the patient dialog if you take over."
            )


def _first_line(text: str | None) -> str:
    lines = [ln for ln in (text or "").splitlines() if ln.strip()]
    return lines[0][:80] if lines else "(empty)"
