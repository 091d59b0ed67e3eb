"""Windows that fit a small clinic screen (a 1280x720 laptop, issue 10).

A dialog's form goes in a ``FitScroll``: as big as its content where the screen allows,
scrolling vertically (never sideways) where it does not, so the dialog's own buttons
always stay on screen. ``fitted_size`` is the size to open a window at: its preferred
size within the screen's free area (Qt alone caps a new window at 2/3 of the screen).
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QApplication, QFrame, QScrollArea, QWidget

#: The body of a dialog never asks for less height than this (it scrolls instead), and
#: its preferred height leaves this much of the screen for the title bar, heading, error
#: line and buttons.
BODY_MIN_HEIGHT = 160
CHROME_HEIGHT = 230
#: What a window manager adds above a window (its title bar), roughly.
WINDOW_FRAME_HEIGHT = 40


class FitScroll(QScrollArea):
    """A dialog's body: as big as its content where the screen allows, scrolling
    vertically (never sideways) where it does not."""

    def __init__(self, inner: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(inner)
        self.inner = inner

    def _bar(self) -> int:
        return self.verticalScrollBar().sizeHint().width()

    def sizeHint(self) -> QSize:
        hint = self.inner.sizeHint().expandedTo(self.inner.minimumSize())
        screen = self.screen().availableGeometry().height()
        height = min(hint.height(), max(BODY_MIN_HEIGHT, screen - CHROME_HEIGHT))
        return QSize(hint.width() + self._bar(), height)

    def minimumSizeHint(self) -> QSize:
        hint = self.inner.minimumSizeHint().expandedTo(self.inner.minimumSize())
        return QSize(hint.width() + self._bar(), min(hint.height(), BODY_MIN_HEIGHT))


def fitted_size(window: QWidget) -> QSize:
    """A window's preferred size within the screen's free area (leaving room for the
    title bar), never below its minimum."""
    hint = window.sizeHint()
    screen = window.screen()
    if screen is not None:
        free = screen.availableGeometry().size() - QSize(24, WINDOW_FRAME_HEIGHT)
        hint = hint.boundedTo(free)
    return hint.expandedTo(window.minimumSizeHint()).expandedTo(window.minimumSize())


def fit_to_screen(window: QWidget, width: int, height: int) -> None:
    """Open a main window at ``width`` x ``height``, or at the screen's available size if
    smaller (a 1280x720 laptop), never beyond it."""
    screen = window.screen() or QApplication.primaryScreen()
    if screen is not None:
        room = screen.availableGeometry()
        width, height = min(width, room.width()), min(height, room.height())
    window.resize(width, height)
