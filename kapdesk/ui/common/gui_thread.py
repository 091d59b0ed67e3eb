"""Keeping Qt objects on the GUI thread, where Qt requires them to live and die.

Two ways Python breaks that rule without any visible Qt call in a worker thread:

- **The cyclic garbage collector** runs in whichever thread happens to allocate when a
  threshold is crossed. A device reader or the recorder thread then destroys a window, a
  media player or a timer that Python owned, while the GUI thread may be using it. CI saw
  exactly such a crash: a segfault, at the end of a GUI test, in a thread with no Python
  frame. pyqtgraph ships the known remedy (``GarbageCollector``: automatic collection
  off, collections on a GUI timer); ``collect_on_gui_thread`` installs it.
- **Emitting a PySide signal from a plain Python thread** makes Qt adopt that thread and
  carries Python objects, and sometimes their last reference, inside Qt's queued events
  (crashes of this kind: PYSIDE-3124). ``ThreadInbox`` instead takes plain data through a
  ``queue.SimpleQueue``, which touches no Qt object, and a GUI timer hands it on.
"""

from __future__ import annotations

import gc
import itertools
import queue
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

from pyqtgraph.util.garbage_collector import GarbageCollector
from PySide6.QtCore import QObject, QTimer

T = TypeVar("T")

#: How often the GUI thread looks at what the collector has to do (seconds). Each look is
#: a call to ``gc.get_count()``; a collection runs only when a threshold is crossed.
GC_INTERVAL_S = 0.25

_collector: GarbageCollector | None = None


def collect_on_gui_thread() -> GarbageCollector:
    """Call on the GUI thread once the QApplication exists (idempotent)."""
    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=GC_INTERVAL_S)
    return _collector


def collecting_on_gui_thread() -> bool:
    """Whether a collector is installed (by this app or by whoever hosts it, e.g. tests)."""
    return _collector is not None


def stop_collecting_on_gui_thread() -> None:
    """Give collection back to the interpreter (before the QApplication goes away)."""
    global _collector
    if _collector is not None:
        _collector.timer.stop()
        _collector = None
        gc.enable()


class ThreadInbox(Generic[T]):
    """Items put from any thread, handed to ``handler`` on the GUI thread, in order.

    ``put`` is the queue's own method: a worker that holds it holds no Qt object. Put only
    plain data (domain objects, tuples), never a widget or a bound method of one, so that
    nothing Qt owns can lose its last reference on a worker thread. Keep a reference to
    the inbox itself: the timer holds ``drain`` only weakly.
    """

    def __init__(
        self, handler: Callable[[T], None], parent: QObject, interval_ms: int = 25
    ) -> None:
        self._queue: queue.SimpleQueue[T] = queue.SimpleQueue()
        self.put: Callable[[T], None] = self._queue.put
        self._handler = handler
        self._timer = QTimer(parent)
        self._timer.timeout.connect(self.drain)
        self._timer.start(interval_ms)

    def drain(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            self._handler(item)

    def close(self) -> None:
        """Stop handing items on and drop what is queued (on the GUI thread)."""
        self._timer.stop()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return


class FutureBridge:
    """Delivers a worker thread's Future outcome to a GUI-thread callback.

    The callback stays on the GUI side, in a table keyed by a number; the Future only
    carries the number, so the writer thread never holds a reference to a widget.
    """

    def __init__(self, parent: QObject, interval_ms: int = 20) -> None:
        self._pending: dict[int, Callable[[Future[Any]], None]] = {}
        self._numbers = itertools.count()
        self._inbox: ThreadInbox[tuple[int, Future[Any]]] = ThreadInbox(
            self._deliver, parent, interval_ms
        )

    def watch(self, fut: Future[Any], callback: Callable[[Future[Any]], None]) -> None:
        number = next(self._numbers)
        self._pending[number] = callback
        put = self._inbox.put
        fut.add_done_callback(lambda f: put((number, f)))

    def _deliver(self, item: tuple[int, Future[Any]]) -> None:
        number, fut = item
        callback = self._pending.pop(number, None)
        if callback is not None:
            callback(fut)
