"""Tell screen readers what changed: an alarm raised or ended, the banner's message.

Qt >= 6.8 has ``QAccessibleAnnouncementEvent`` (a live-region message, polite or
assertive); an older Qt gets a name-change event on the widget, which readers that
follow it still speak. ``announced`` keeps the last messages for tests and for staff
asking "what did it just say".
"""

from __future__ import annotations

from collections import deque

from PySide6.QtGui import QAccessible, QAccessibleEvent
from PySide6.QtWidgets import QWidget

try:  # Qt 6.8+
    from PySide6.QtGui import QAccessibleAnnouncementEvent
except ImportError:  # pragma: no cover - older Qt
    QAccessibleAnnouncementEvent = None  # type: ignore[assignment,misc]

#: The latest announcements, newest last: (text, assertive).
announced: deque[tuple[str, bool]] = deque(maxlen=50)


def announce(widget: QWidget, text: str, assertive: bool = False) -> None:
    """Speak ``text`` for ``widget``: assertive interrupts (a high-priority alarm),
    polite waits for the reader to finish."""
    announced.append((text, assertive))
    event: QAccessibleEvent
    if QAccessibleAnnouncementEvent is not None:
        event = QAccessibleAnnouncementEvent(widget, text)
        event.setPoliteness(
            QAccessible.AnnouncementPoliteness.Assertive
            if assertive
            else QAccessible.AnnouncementPoliteness.Polite
        )
    else:  # pragma: no cover - older Qt
        widget.setAccessibleName(text)
        event = QAccessibleEvent(widget, QAccessible.Event.NameChanged)
    QAccessible.updateAccessibility(event)


def value_changed(widget: QWidget, text: str) -> None:
    """A numeral's new value: its accessible name says it, and readers focused on it
    hear the change (no announcement: a heart rate each second would drown speech)."""
    widget.setAccessibleName(text)
    QAccessible.updateAccessibility(QAccessibleEvent(widget, QAccessible.Event.NameChanged))
