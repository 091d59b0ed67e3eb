"""Test settings shared by every test: offscreen Qt, a private data directory."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import pytest


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A fresh SQLite file for one test."""
    return f"sqlite:///{tmp_path / 'kapdesk-test.sqlite3'}"


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Never touch the developer's real per-user database from a test."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.delenv("KAPDESK_DATABASE_URL", raising=False)


@pytest.fixture(scope="session", autouse=True)
def _collect_on_gui_thread(qapp):
    """As the app does (kapdesk/ui/common/gui_thread.py): the garbage collector runs only on the
    GUI thread, so a test's device or writer thread never destroys Qt objects that an
    earlier test left in reference cycles."""
    from kapdesk.ui.common.gui_thread import collect_on_gui_thread, stop_collecting_on_gui_thread

    collector = collect_on_gui_thread()
    yield collector
    stop_collecting_on_gui_thread()


@pytest.fixture(autouse=True)
def _collect_between_tests(_collect_on_gui_thread):
    """Tests that never run the event loop still get their garbage collected (here, on
    the GUI thread), when the collector's thresholds say so."""
    yield
    _collect_on_gui_thread.check()


@pytest.fixture
def app_theme(qapp):
    """The app's own theme and style sheet (fonts, paddings), as the clinic sees them;
    restored after the test."""
    from PySide6.QtCore import QCoreApplication, QEvent

    from kapdesk.ui.common import theme

    palette, sheet = qapp.palette(), qapp.styleSheet()
    theme.apply(qapp)
    yield
    # the test's windows are closed and only marked for deletion by now: delete them
    # first, under the style sheet they were polished with (dropping the app's style
    # sheet under widgets that are deleted later crashes the next style-sheet change)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qapp.setPalette(palette)
    qapp.setStyleSheet(sheet)
