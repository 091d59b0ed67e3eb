"""How the journal writes: through the app's single writer, or directly for tools.

In the app, writes go through ``Recorder.call`` (run on the writer thread, committed
before it returns, so an autosave that returned is on disk). Tools that run without the
app (the CLI, tests of the store alone) use ``DirectWriter``: one committed transaction
per call, on the caller's thread. Every journal concern writes through a ``Writer``.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Protocol, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session as OrmSession

T = TypeVar("T")


class Writer(Protocol):
    """What the store needs of the recorder: run ``fn(orm_session)`` and commit."""

    def call(self, fn: Callable[[OrmSession], T], timeout: float = 30.0) -> T: ...


class DirectWriter:
    """A writer for tools that run without the app (CLI, tests of the store alone): one
    committed transaction per call, on the caller's thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def call(self, fn: Callable[[OrmSession], T], timeout: float = 30.0) -> T:
        with OrmSession(self.engine, expire_on_commit=False) as s, s.begin():
            return fn(s)


def submit(writer: Writer, fn: Callable[[OrmSession], T]) -> Future[T]:
    """Queue ``fn`` on a writer that can (the recorder's ``submit``) without waiting;
    a writer that cannot runs it now, and the future is already resolved."""
    queue = getattr(writer, "submit", None)
    if queue is not None:
        fut: Future[T] = queue(fn)
        return fut
    done: Future[T] = Future()
    try:
        done.set_result(writer.call(fn))
    except Exception as exc:
        done.set_exception(exc)
    return done
