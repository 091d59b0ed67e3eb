"""The BLE loop thread: work submitted from other threads, and an orderly stop."""

from __future__ import annotations

import asyncio
import threading

import pytest

from kapdesk.acquisition.ble.loop_thread import AsyncioLoopThread, LoopThreadError


def test_runs_coroutines_on_its_own_thread() -> None:
    with AsyncioLoopThread("t") as loop_thread:

        async def where() -> str:
            await asyncio.sleep(0)
            return threading.current_thread().name

        assert loop_thread.run(where()) == "t"
        assert loop_thread.submit(where()).result(2) == "t"


def test_stop_cancels_pending_tasks_and_runs_their_cleanup() -> None:
    loop_thread = AsyncioLoopThread().start()
    cleaned = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            cleaned.set()

    future = loop_thread.submit(forever())
    loop_thread.stop(timeout=2)
    assert cleaned.is_set()
    assert future.cancelled()
    assert not loop_thread.is_running


def test_refuses_work_when_stopped_and_from_its_own_thread() -> None:
    loop_thread = AsyncioLoopThread()

    async def nothing() -> None:
        return None

    with pytest.raises(LoopThreadError):
        loop_thread.submit(nothing())
    loop_thread.start()
    try:

        async def nested() -> None:
            loop_thread.run(nothing())

        with pytest.raises(LoopThreadError, match="deadlock"):
            loop_thread.run(nested())
    finally:
        loop_thread.stop()
    with pytest.raises(LoopThreadError):
        loop_thread.run(nothing())
