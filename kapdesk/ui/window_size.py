"""Windows open within the screen they are on: a 1280x720 clinic laptop is the measure."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QWidget


def fit_to_screen(window: QWidget, width: int, height: int) -> None:
    """Open at ``width`` x ``height``, or at the screen's available size if smaller (a
    1280x720 laptop), never beyond it."""
    screen = window.screen() or QApplication.primaryScreen()
    if screen is not None:
        room = screen.availableGeometry()
        width, height = min(width, room.width()), min(height, room.height())
    window.resize(width, height)
