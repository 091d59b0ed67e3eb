"""The moment kapdesk first draws a window (the unlock or sign-in dialog, or the main
window when nothing asks first), logged once as "first frame N s after start": the
start-up figure the benchmark keeps (benchmarks/startup_benchmark.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget

log = logging.getLogger("kapdesk.app")


class _FirstPaint(QObject):
    def __init__(self, app: QApplication, age: Callable[[], float]) -> None:
        super().__init__(app)
        self.app = app
        self.age = age

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and isinstance(watched, QWidget):
            window = type(watched.window()).__name__
            log.info("first frame %.3f s after start (%s)", self.age(), window)
            self.app.removeEventFilter(self)  # once: no cost on later paints
        return False


def log_first_frame(app: QApplication, age: Callable[[], float]) -> None:
    app.installEventFilter(_FirstPaint(app, age))
