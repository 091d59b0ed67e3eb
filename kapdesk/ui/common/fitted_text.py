"""Text that grows and shrinks with its space, as bedside monitors scale their numerics.

A style sheet's ``font-size`` is fixed and overrides ``setFont``, so a QLabel cannot scale
its type to the tile it sits in: on a 1280x720 laptop 72 px numerals fell off the screen,
on a 1920x1080 screen or a full-screen second monitor they stayed small. This widget paints
its text itself, at the largest pixel size (between a floor and a ceiling) at which the
whole text fits its rectangle, word-wrapped if asked, so nothing is ever cut.

Qt has no widget that does this; the fit is a binary search over pixel sizes with
``QFontMetrics``, a few dozen lines.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from kapdesk.ui.common import theme
from kapdesk.ui.common.announce import value_changed


def fitting_pixel_size(
    font: QFont, text: str, box: QSize, lo: int, hi: int, wrap: bool = False
) -> int:
    """The largest pixel size in [lo, hi] at which ``text`` fits ``box`` (lo if none)."""
    flags = int(Qt.TextFlag.TextWordWrap.value) if wrap else 0
    probe = QFont(font)

    def fits(px: int) -> bool:
        probe.setPixelSize(px)
        bounds = QFontMetrics(probe).boundingRect(
            QRect(0, 0, box.width(), 100000), flags, text or " "
        )
        return bounds.width() <= box.width() and bounds.height() <= box.height()

    best = lo
    while lo <= hi:
        mid = (lo + hi) // 2
        if fits(mid):
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    return best


class FittedText(QWidget):
    """One text, painted in ``colour`` at the largest size that fits (``min_px`` to
    ``max_px``). The accessible name follows the text, so screen readers read it."""

    def __init__(
        self,
        text: str = "",
        *,
        min_px: int = 12,
        max_px: int = 200,
        bold: bool = True,
        monospace: bool = False,
        wrap: bool = False,
        alignment: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._text = text
        self.min_px = min_px
        self.max_px = max_px
        self.wrap = wrap
        self.alignment = alignment
        self.colour = QColor(theme.active().text)  # until the owner sets its role colour
        base = QFont("DejaVu Sans Mono" if monospace else self.font().family())
        if monospace:
            base.setStyleHint(QFont.StyleHint.Monospace)
        base.setBold(bold)
        self._font = base
        self._px = min_px
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName(text)
        self._refit()

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:
        if text == self._text:
            return
        self._text = text
        value_changed(self, f"{self.accessibleDescription()} {text}".strip())
        if not self.wrap:
            self.updateGeometry()  # its minimum width follows the text: never cut
        self._refit()
        self.update()

    def set_colour(self, colour: str | QColor) -> None:
        c = QColor(colour)
        if c != self.colour:
            self.colour = c
            self.update()

    def pixel_size(self) -> int:
        """The size the text is painted at now (for tests and the benchmark)."""
        return self._px

    def drawn_font(self) -> QFont:
        f = QFont(self._font)
        f.setPixelSize(self._px)
        return f

    def minimumSizeHint(self) -> QSize:
        f = QFont(self._font)
        f.setPixelSize(self.min_px)
        m = QFontMetrics(f)
        if self.wrap:
            return QSize(m.horizontalAdvance("M") * 8, m.height())
        return QSize(m.horizontalAdvance(self._text or " "), m.height())

    def sizeHint(self) -> QSize:
        f = QFont(self._font)
        f.setPixelSize(max(self.min_px, min(self.max_px, 48)))
        m = QFontMetrics(f)
        return QSize(m.horizontalAdvance(self._text or " "), m.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._refit()
        super().resizeEvent(event)

    def _refit(self) -> None:
        box = self.contentsRect().size()
        if box.width() <= 0 or box.height() <= 0:
            return
        self._px = fitting_pixel_size(
            self._font, self._text, box, self.min_px, self.max_px, self.wrap
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.setPen(self.colour)
        painter.setFont(self.drawn_font())
        flags = int(self.alignment.value)
        if self.wrap:
            flags |= int(Qt.TextFlag.TextWordWrap.value)
        painter.drawText(self.contentsRect(), flags, self._text)
