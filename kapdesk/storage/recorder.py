"""The one writer thread: every write to the database goes through here.

Readings arrive at up to hundreds per second and are committed in blocks
(``kapdesk.storage.signals``) at most ``flush_interval`` old, so a crash loses at most
that much signal. Session events and alarm
transitions are committed at once (after flushing the readings queued before them, so the
record keeps its order). Other writes (creating a patient or a session) run on this thread
too via ``call``, so there is exactly one writer and SQLite never sees two.

If a write fails (disk full, server gone) nothing is dropped: the batch is kept and retried,
and ``on_failure`` is told once per outage so the alarm system can raise a technical alarm
(recorded, like its end, once the disk has room again). What is still unwritten when the
recorder stops is written to a rescue file elsewhere (``kapdesk.storage.rescue``) and
said so, and the next start imports it: nothing queued is dropped silently.
So that no single value can make a batch fail for ever, labels are clipped to their
column's length: PostgreSQL enforces VARCHAR lengths, SQLite does not.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, String
from sqlalchemy.orm import Session as OrmSession

from kapdesk.domain.readings import Reading
from kapdesk.domain.session import SessionEvent
from kapdesk.storage.models import AlarmRow, SessionEventRow
from kapdesk.storage.signals.writer import BlockWriter, ReadingSamples

log = logging.getLogger(__name__)
T = TypeVar("T")

_STOP = object()


@dataclass(frozen=True, slots=True)
class _Alarm:
    session_id: int | None
    record: Mapping[str, Any]
    t: float


@dataclass(frozen=True, slots=True)
class _Event:
    session_id: int
    event: SessionEvent
    committed: Future[None]


@dataclass(frozen=True, slots=True)
class _Call:
    fn: Callable[[OrmSession], Any]
    future: Future[Any]


class Recorder:
    def __init__(
        self,
        engine: Engine,
        flush_interval: float = 0.25,
        on_failure: Callable[[str], object] | None = None,
        on_recovered: Callable[[], object] | None = None,
    ) -> None:
        self.engine = engine
        self.flush_interval = flush_interval
        self.on_failure = on_failure
        self.on_recovered = on_recovered
        self.session_id: int | None = None
        self.readings_written = 0
        self.events_written = 0
        self.commits = 0  # transactions committed (readings are batched into few)
        self.failing = False
        #: why the last write failed, in words for staff ("" while writing works)
        self.last_error = ""
        #: where what could not be written at stop went (None: everything was written)
        self.rescued_to: Path | None = None
        self.rescued = (0, 0)  # readings, events and alarms written to the rescue file
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._blocks = BlockWriter()  # readings not yet committed, in their blocks
        self._pending: list[_Event | _Alarm] = []
        self._thread = threading.Thread(target=self._run, name="kapdesk-recorder", daemon=True)

    # -- any thread -----------------------------------------------------------------------

    def start(self) -> Recorder:
        self._thread.start()
        return self

    def record_reading(self, reading: Reading) -> None:
        """Hot path (called by the ingest hub for every reading): one queue put."""
        self._queue.put((self.session_id, reading))

    def record_event(self, session_id: int, event: SessionEvent) -> Future[None]:
        """Queue a session event; the future resolves once it is committed."""
        fut: Future[None] = Future()
        self._queue.put(_Event(session_id, event, fut))
        return fut

    def record_alarm(self, record: Mapping[str, Any], t: float) -> None:
        """An alarm transition as ``AlarmTransition.to_dict()`` gives it."""
        self._queue.put(_Alarm(self.session_id, dict(record), t))

    def call(self, fn: Callable[[OrmSession], T], timeout: float = 30.0) -> T:
        """Run ``fn(orm_session)`` on the writer thread, commit, and return its result."""
        fut: Future[T] = Future()
        self._queue.put(_Call(fn, fut))
        return fut.result(timeout)

    def submit(self, fn: Callable[[OrmSession], T]) -> Future[T]:
        """Like ``call`` but without waiting: for the GUI thread, which must never block."""
        fut: Future[T] = Future()
        self._queue.put(_Call(fn, fut))
        return fut

    def backlog(self) -> tuple[int, int]:
        """Readings, and events and alarms, queued but not yet committed (any thread; a
        moment's snapshot)."""
        return self._blocks.unsaved, len(self._pending)

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything queued so far is committed."""
        self.call(lambda _s: None, timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Commit what is queued and stop; what cannot be committed (disk still full)
        goes to a rescue file that the next start imports (``rescued_to``)."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)
        if self._thread.is_alive() or not (self._blocks.unsaved or self._pending):
            return
        from kapdesk.storage.rescue import write_rescue

        rows = self._rows()
        self.rescued = (self._blocks.unsaved, len(self._pending))
        self.rescued_to = write_rescue(self.engine, rows)
        if self.rescued_to is None:
            log.critical(
                "recording failed and no rescue file could be written: %d readings and %d"
                " events/alarms are lost (%s)",
                *self.rescued,
                self.last_error,
            )
        else:
            log.error(
                "recording failed (%s): %d readings and %d events/alarms written to %s;"
                " the next start imports them",
                self.last_error,
                *self.rescued,
                self.rescued_to,
            )

    # -- writer thread --------------------------------------------------------------------

    def _run(self) -> None:
        deadline: float | None = None  # when the oldest unwritten reading must be committed
        retry_at = 0.0  # after a failed write, wait before trying again
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                item = self._queue.get(timeout=wait)
            except queue.Empty:
                item = None
            if item is _STOP:
                while not self._queue.empty():  # whatever was queued before the stop
                    item = self._queue.get_nowait()
                    if isinstance(item, tuple):
                        self._blocks.add(*item)
                    elif isinstance(item, _Event | _Alarm):
                        self._pending.append(item)
                    elif isinstance(item, _Call):
                        self._write_all()
                        self._run_call(item)
                self._write_all()
                return
            if isinstance(item, tuple):
                self._blocks.add(*item)
                if deadline is None:
                    deadline = time.monotonic() + self.flush_interval
            elif isinstance(item, _Event | _Alarm):
                self._pending.append(item)
            elif isinstance(item, _Call):
                self._write_all()
                self._run_call(item)
            now = time.monotonic()
            due = (
                bool(self._pending)
                or self._blocks.unsaved >= 20000
                or (deadline is not None and now >= deadline)
            )
            if due and now >= retry_at:
                if self._write_all():
                    deadline = None
                else:  # everything is kept; try again shortly
                    retry_at = now + 1.0
                    deadline = retry_at
            elif not self._blocks.unsaved and not self._pending:
                deadline = None

    def _rows(self) -> list[tuple[type[Any], dict[str, Any]]]:
        """What is queued, as (table, row) in the order it must be written."""
        rows: list[tuple[type[Any], dict[str, Any]]] = [
            (ReadingSamples, r) for r in self._blocks.unsaved_samples()
        ]
        return rows + self._record_rows()

    def _record_rows(self) -> list[tuple[type[Any], dict[str, Any]]]:
        rows: list[tuple[type[Any], dict[str, Any]]] = []
        for p in self._pending:
            if isinstance(p, _Event):
                ev = p.event
                rows.append(
                    (
                        SessionEventRow,
                        {
                            "session_id": p.session_id,
                            "t": ev.t,
                            "kind": _clip(ev.kind, _EVENT_LEN["kind"]),
                            "phase": _clip(ev.phase, _EVENT_LEN["phase"]),
                            "data": dict(ev.data),
                        },
                    )
                )
            else:
                rows.append((AlarmRow, _alarm_row(p)))
        return rows

    def _write_all(self) -> bool:
        """Commit queued readings, then events and alarms in arrival order."""
        if not self._blocks.unsaved and not self._pending:
            return True
        try:
            with OrmSession(self.engine) as s, s.begin():
                blocks_committed = self._blocks.write(s)
                for table, row in self._record_rows():
                    s.add(table(**row))
        except Exception as exc:
            if not self.failing:
                log.exception("recording failed")
                self.failing = True
                self.last_error = failure_text(exc)
                if self.on_failure:
                    self.on_failure(f"{self.last_error}; kept in memory, retried every second")
            return False
        self.commits += 1
        self.readings_written += blocks_committed()
        self.events_written += len(self._pending)
        for p in self._pending:
            if isinstance(p, _Event):
                p.committed.set_result(None)
        self._pending = []
        if self.failing:
            self.failing = False
            self.last_error = ""
            if self.on_recovered:
                self.on_recovered()
        return True

    def _run_call(self, call: _Call) -> None:
        try:
            with OrmSession(self.engine, expire_on_commit=False) as s, s.begin():
                result = call.fn(s)
        except BaseException as exc:
            call.future.set_exception(exc)
        else:
            call.future.set_result(result)


def _lengths(model: type[Any]) -> dict[str, int]:
    """The declared length of each VARCHAR column of ``model`` (Text has none)."""
    return {
        c.name: c.type.length
        for c in model.__table__.columns
        if isinstance(c.type, String) and c.type.length
    }


_EVENT_LEN = _lengths(SessionEventRow)
_ALARM_LEN = _lengths(AlarmRow)

S = TypeVar("S", str, str | None)


def _clip(value: S, length: int) -> S:
    """``value`` cut to ``length`` characters (the alarm's JSON record keeps it whole)."""
    return value[:length] if value is not None else value


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def failure_text(exc: BaseException) -> str:
    """Why a write failed, in words for staff rather than a driver's message."""
    text = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    low = text.lower()
    if "disk is full" in low or "no space" in low or "disk full" in low:
        return "the disk the database is on is full"
    if "readonly" in low or "read-only" in low:
        return "the database cannot be written (read-only)"
    return f"the database cannot be written ({text[:120]})"


def _alarm_row(p: _Alarm) -> dict[str, Any]:
    rec = p.record
    return {
        "session_id": p.session_id,
        "t": p.t,
        "kind": _clip(str(rec.get("kind", "")), _ALARM_LEN["kind"]),
        "priority": _clip(str(rec.get("priority", "")), _ALARM_LEN["priority"]),
        "channel": _clip(rec.get("channel"), _ALARM_LEN["channel"]),
        "condition": _clip(str(rec.get("condition", "")), _ALARM_LEN["condition"]),
        "transition": _clip(str(rec.get("transition", "")), _ALARM_LEN["transition"]),
        "value": rec.get("value"),
        "episode": _clip(_text_or_none(rec.get("episode")), _ALARM_LEN["episode"]),
        "data": dict(rec),
    }
