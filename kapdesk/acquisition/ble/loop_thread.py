"""A dedicated thread that owns one asyncio event loop for all BLE work.

bleak is asyncio-only, and the Qt GUI thread must never block on a device; qasync and
QtAsyncio bind the loop to the GUI (see pitfalls.md "bleak inside a Qt app"). So every BLE
coroutine runs on this thread's loop and callers submit work with
``asyncio.run_coroutine_threadsafe``. Readings leave through ``IngestHub`` whose
subscribers are thread-safe, so nothing has to hop back to the GUI thread here.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Self, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class LoopThreadError(RuntimeError):
    """The loop thread is not running (not started yet, or already stopped)."""


class AsyncioLoopThread:
    """One asyncio loop running forever on its own daemon thread, stopped in order."""

    def __init__(self, name: str = "kapdesk-ble") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> Self:
        if self._thread is not None:
            raise LoopThreadError(f"{self._name} already started")
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(_log_loop_exception)
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()
        self._ready.wait()
        return self

    def _run(self) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(self._ready.set)
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel every task, wait for them to finish, stop the loop and join the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or loop.is_closed():
            return
        if thread.is_alive():
            try:
                fut = asyncio.run_coroutine_threadsafe(_cancel_all_tasks(), loop)
                fut.result(timeout)
            except (concurrent.futures.TimeoutError, RuntimeError):
                log.warning("%s: tasks did not finish within %.1f s", self._name, timeout)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- submitting work --------------------------------------------------------------------

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None or not self.is_running:
            raise LoopThreadError(f"{self._name} is not running")
        return self._loop

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def in_loop_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule a coroutine on the loop; the returned future is safe to wait on."""
        try:
            loop = self.loop
        except LoopThreadError:
            coro.close()  # never awaited otherwise, which would warn
            raise
        return asyncio.run_coroutine_threadsafe(coro, loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = 30.0) -> T:
        """Run a coroutine on the loop and wait for its result (never from the loop itself)."""
        if self.in_loop_thread():
            coro.close()
            raise LoopThreadError("run() from the loop thread would deadlock; await instead")
        return self.submit(coro).result(timeout)

    def call_soon(self, fn: Callable[..., object], *args: object) -> None:
        self.loop.call_soon_threadsafe(fn, *args)


async def _cancel_all_tasks() -> None:
    current = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
    loop = asyncio.get_running_loop()
    await loop.shutdown_asyncgens()


def _log_loop_exception(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Log, don't print: a stray callback error must not look like a crash on stderr."""
    exc = context.get("exception")
    log.error("BLE loop: %s", context.get("message"), exc_info=exc)
