"""Test settings and fixtures shared by every test: offscreen Qt, a private data directory,
a fresh database, the app's theme, and a real runtime with a stepped session clock.

Support modules live in tests/support (on sys.path through pyproject's ``pythonpath``);
tests/acquisition/ble/conftest.py and tests/storage/postgres/conftest.py add the BLE and
PostgreSQL fixtures (the BLE ``clock`` there, a real ``SessionClock``, replaces the
stepped one below)."""

from __future__ import annotations

import os

from access_support import CLINICIAN

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from session_test_support import SteppedClock

    from kapdesk.live.runtime import Runtime


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


@pytest.fixture
def runtime(db_url: str) -> Iterator[Runtime]:
    """A real runtime on a fresh database, at the accelerated session speed (``SPEED``)."""
    from session_test_support import SPEED

    from kapdesk.live.runtime import Runtime
    from kapdesk.storage.database import open_database

    rt = Runtime.build(open_database(db_url), speed=SPEED, actor=CLINICIAN)
    try:
        yield rt
    finally:
        rt.shutdown()


@pytest.fixture
def clock(runtime: Runtime) -> SteppedClock:
    """The runtime's session clock with its monotonic source under the test's control, so
    "45 minutes later" is instant and deterministic while every other part runs for real."""
    from session_test_support import SteppedClock

    stepped = SteppedClock(runtime, time.monotonic())
    runtime.clock.monotonic = stepped
    return stepped
