"""The one listener helper every publisher uses: a raising listener is counted and logged,
the others are still told, removal works while publishing."""

from __future__ import annotations

import pytest

from kapdesk.domain.listeners import Listeners


def test_a_raising_listener_is_counted_and_the_rest_are_told(
    caplog: pytest.LogCaptureFixture,
) -> None:
    told: list[tuple[str, int]] = []
    listeners: Listeners[[str, int]] = Listeners("test")

    def broken(name: str, n: int) -> None:
        raise ValueError(name)

    listeners.add(lambda name, n: told.append(("first", n)))
    listeners.add(broken)
    listeners.add(lambda name, n: told.append(("last", n)))
    listeners.notify("x", 1)
    listeners.notify("x", 2)
    assert told == [("first", 1), ("last", 1), ("first", 2), ("last", 2)]
    assert listeners.errors == 2
    assert "test listener" in caplog.text


def test_remove_and_a_listener_that_removes_itself() -> None:
    listeners: Listeners[[int]] = Listeners("test")
    told: list[int] = []

    def once(n: int) -> None:
        told.append(n)
        listeners.remove(once)

    listeners.add(once)
    listeners.add(told.append)
    listeners.notify(1)
    listeners.notify(2)
    assert told == [1, 1, 2]
    listeners.remove(once)  # not listening any more: a no-op
    assert len(listeners) == 1
