"""Done means: a demo patient writes two entries after a demo session, one with a
questionnaire, one not shared; the therapist view shows the trend, finds the shared entry
by a word in it, and sees that the other exists without its text. Run through the app's
Runtime, so writes go through the one recorder thread as in the app."""

from __future__ import annotations

import pytest
from access_support import CLINICIAN
from pytestqt.qtbot import QtBot

from kapdesk.demo.journal import create_demo_journal, create_demo_session
from kapdesk.domain.access import Actor
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import open_database
from kapdesk.ui.journal.review import JournalReviewWindow
from kapdesk.ui.journal.widgets import snippet_html


@pytest.fixture
def runtime(db_url: str):
    rt = Runtime.build(open_database(db_url), actor=CLINICIAN)
    yield rt
    rt.shutdown()


def test_done_means_the_therapist_sees_trend_search_and_a_private_entry(
    qtbot: QtBot, runtime: Runtime
) -> None:
    patient_id, session_id = create_demo_session(runtime.engine)
    demo = create_demo_journal(runtime.journal, patient_id, session_id)
    win = JournalReviewWindow(runtime.journal, "Dr Demo")
    qtbot.addWidget(win)
    win.show()
    win.show_patient(patient_id)

    # Both entries are new to this reader; the private one is listed without its text.
    new = [win.new_list.item(i).text() for i in range(win.new_list.count())]
    assert len(new) == 2 and sum("private entry" in t for t in new) == 1
    assert not any("brother" in t for t in new)

    # The trend: screening and after-session scores for both questionnaires.
    assert win.trend.point_count("phq9") == 2 and win.trend.point_count("gad7") == 2
    assert "PHQ-9 5 (mild)" in win.latest_scores.text()

    # Search by a word of the shared entry finds it, with the word highlighted.
    win.search_box.setText("grandmother")
    win.run_search()
    assert win.results.count() == 1
    assert win.results.item(0).data(256) == demo.shared_entry_id
    assert win.search_box.text() and "1 shared entry" in win.results_label.text()
    win.search_box.setText("brother")  # a word only in the private entry
    win.run_search()
    assert win.results.count() == 0

    # The private entry is listed and opens as "exists", without its text.
    listed = [win.entry_list.item(i).text() for i in range(win.entry_list.count())]
    assert len(listed) == 2 and any("Private entry" in t for t in listed)
    view = win.open_entry(demo.private_entry_id)
    assert view.redacted
    shown = win.reader.toPlainText()
    assert "Private entry" in shown and "brother" not in shown
    view = win.open_entry(demo.shared_entry_id)
    assert "grandmother" in win.reader.toPlainText() and "PHQ-9: 5" in win.reader.toPlainText()

    # Opening both marked them read: nothing is new any more.
    win.refresh()
    assert win.new_list.count() == 0


def test_an_item9_answer_shows_at_once_and_is_acknowledged(qtbot: QtBot, runtime: Runtime):
    patient_id, session_id = create_demo_session(runtime.engine)
    create_demo_journal(runtime.journal, patient_id, session_id)
    win = JournalReviewWindow(runtime.journal, "Dr Demo")
    qtbot.addWidget(win)
    win.show()
    assert not win.banner.isVisible()  # the demo's screening flag was acknowledged

    runtime.journal.submit_questionnaire(
        Actor.patient(patient_id), patient_id, "phq9", [0, 0, 0, 0, 0, 0, 0, 0, 3]
    )
    qtbot.waitUntil(win.banner.isVisible, timeout=5000)  # the poll picks it up
    assert "item 9" in win.banner_text.text() and "Demo Patient" in win.banner_text.text()
    seen = []
    win.flag_seen.connect(seen.append)
    win.ack_button.click()
    assert seen and not win.banner.isVisible()


def test_snippets_escape_the_patients_text() -> None:
    assert snippet_html("<script>\x02x\x03</script>") == (
        "&lt;script&gt;<b class='hit'>x</b>&lt;/script&gt;"
    )


def test_the_window_takes_its_colours_from_the_active_theme(
    qtbot: QtBot, qapp, runtime: Runtime
) -> None:
    """Issue 10: a switch to the light day theme re-colours the plot, the reader and the
    search results; no widget keeps a colour of its own; the safety banner has its role."""
    from PySide6.QtWidgets import QWidget

    from kapdesk.ui.common import theme

    theme.apply(qapp, theme.DARK)  # from the dark theme, whatever an earlier test switched to
    patient_id, session_id = create_demo_session(runtime.engine)
    demo = create_demo_journal(runtime.journal, patient_id, session_id)
    win = JournalReviewWindow(runtime.journal, "Dr Demo")
    qtbot.addWidget(win)
    win.show()
    win.show_patient(patient_id)
    win.open_entry(demo.shared_entry_id)
    win.search_box.setText("grandmother")
    win.run_search()
    assert theme.DARK.text in win.reader.document().defaultStyleSheet()
    try:
        theme.apply(qapp, theme.DAY)

        assert win.trend.backgroundBrush().color().name() == theme.DAY.plot_background
        phq9_pen = win.trend.curves["phq9"].opts["pen"]
        assert phq9_pen.color().name() == theme.DAY.score["phq9"]
        assert win.trend.getAxis("left").textPen().color().name() == theme.DAY.muted

        sheet = win.reader.document().defaultStyleSheet()
        assert theme.DAY.text in sheet and theme.DARK.text not in sheet
        shown = win.reader.toHtml()  # re-rendered: the entry is still there, in day colours
        assert "grandmother" in shown
        assert theme.DAY.muted in shown and theme.DARK.muted not in shown

        label = win.results.itemWidget(win.results.item(0))
        assert win.results.count() == 1 and theme.DAY.hit in label.text()

        for widget in [win, *win.findChildren(QWidget)]:
            assert "#" not in widget.styleSheet(), (widget, widget.styleSheet())
        assert win.banner.property("role") == "flag"
    finally:
        theme.apply(qapp, theme.DARK)
    assert win.trend.backgroundBrush().color().name() == theme.DARK.plot_background
    assert theme.DARK.text in win.reader.document().defaultStyleSheet()


def test_entry_html_uses_theme_classes_not_colours(runtime: Runtime) -> None:
    """The reader's HTML names classes of ``theme.html_style``; it writes no colour."""
    from kapdesk.domain.access import Actor
    from kapdesk.ui.journal.review import entry_html

    patient_id, session_id = create_demo_session(runtime.engine)
    demo = create_demo_journal(runtime.journal, patient_id, session_id)
    store = runtime.journal
    therapist = Actor.therapist("Dr Demo")
    view = store.entry(therapist, demo.shared_entry_id)
    scores = [s for s in store.scores(therapist, patient_id) if s.entry_id == view.id]
    text = entry_html(view, "Demo Patient", scores)
    assert "color" not in text and "class='muted'" in text
    private = entry_html(store.entry(therapist, demo.private_entry_id), "Demo Patient", [])
    assert "color" not in private and "Private entry" in private
