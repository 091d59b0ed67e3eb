"""Axes that are cheap to redraw, for plots that change every frame.

Each frame repaints only a strip of the trends (the traces' tails), but Qt asks every
item under that strip for its bounds first, and an axis with a grid lies under all of
it. pyqtgraph computes an axis's bounds in Python on every call (a dozen calls a frame,
about a fifth of a small repaint, measured with ``scripts/benchmark``); they change
only when the layout does, so they are kept until the axis or its view moves or resizes.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsItem


class _SteadyBounds:
    """Mixin for ``pg.AxisItem``: ``boundingRect`` computed once per layout."""

    _bounds_key: Any = None
    _bounds = QRectF()

    def boundingRect(self) -> QRectF:
        axis: Any = self
        view = axis.linkedView()
        key = (
            axis.geometry(),
            None if view is None else view.geometry(),
            axis.grid,
            axis.style["tickLength"],
            axis.style["hideOverlappingLabels"],
        )
        if key != self._bounds_key:
            self._bounds_key = key
            self._bounds = super().boundingRect()  # type: ignore[misc]
        return QRectF(self._bounds)


class SteadyAxis(_SteadyBounds, pg.AxisItem):
    """A value axis (trends' left axes)."""


class SteadyDateAxis(_SteadyBounds, pg.DateAxisItem):
    """A time axis with clock-time labels."""


def steady_axis(axis: pg.AxisItem) -> None:
    """Make an axis cheap to redraw (measured with ``scripts/benchmark``).

    - An axis draws its grid across the whole plot, and stroking the grid was most of a
      repaint (~17 of 23 ms). Cached as a pixmap, it is redrawn only when its own range
      moves, not whenever a curve under it changes.
    - No automatic SI prefix: the labels carry no units, so a prefix never showed, but it
      re-set the label's HTML on every range change (every frame for the pleth strip),
      the hidden top and right axes' included: they follow the view's range too.
    """
    axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    axis.enableAutoSIPrefix(False)
