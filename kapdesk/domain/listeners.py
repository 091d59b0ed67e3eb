"""One way to tell listeners: every publisher (session controller, alarm service, device
manager) keeps its listeners in a :class:`Listeners`.

A listener that raises is logged and counted and the others are still told: a failing
window or recorder must never turn an action that already happened (a committed dose,
an alarm, a device connecting) into an exception for its caller. The list is copied on
write, so it is read without a lock from the publisher's thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, ParamSpec

P = ParamSpec("P")


class Listeners(Generic[P]):
    """Callables told of each publication, in the order they were added."""

    def __init__(self, what: str, log: logging.Logger | None = None) -> None:
        self.what = what  # "session event", "alarm", ...: named in the log
        self.errors = 0  # listeners that raised, since start
        self._log = log or logging.getLogger(__name__)
        self._items: tuple[Callable[P, object], ...] = ()

    def add(self, listener: Callable[P, object]) -> None:
        self._items = (*self._items, listener)

    def remove(self, listener: Callable[P, object]) -> None:
        """Stop telling ``listener`` (no-op if it never listened)."""
        self._items = tuple(x for x in self._items if x != listener)

    def __len__(self) -> int:
        return len(self._items)

    def notify(self, *args: P.args, **kwargs: P.kwargs) -> None:
        for listener in self._items:
            try:
                listener(*args, **kwargs)
            except Exception:
                self.errors += 1
                self._log.exception("%s listener %r failed", self.what, listener)
