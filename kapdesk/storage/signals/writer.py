"""Readings into blocks, on the recorder's writer thread.

Each (session, device, channel, unit) has one open block. A sample joins it; the block is
written at the next flush (at most ``flush_interval`` after the sample came, 0.25 s by
default) and rewritten at later flushes while it grows, so a kill -9 loses at most that
quarter second. A block closes, and the next sample starts a new one, once it holds a
second of a stream of at least ``MIN_SAMPLES`` samples a second (a waveform: about a
second a block) or spans ``MAX_SPAN_S`` (a 1 Hz vital: a minute a block; a blood pressure
every few minutes: one value a block). The minute summaries (``reading_minutes``) are
kept up to date the same way.

Device names and channels are looked up in small tables (``devices``, ``channels``); an id
is remembered only once the row that made it is committed, and a name another workstation
stored first (PostgreSQL) is found again rather than failing the write.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession

from kapdesk.domain.readings import NOT_A_MEASUREMENT, Reading
from kapdesk.storage.models import ChannelRow, DeviceRow, ReadingBlockRow, ReadingMinuteRow
from kapdesk.storage.signals.codec import encode

#: A block spanning a second closes once it holds this many samples (a waveform's second).
MIN_SAMPLES = 32
#: No block spans more than this (a 1 Hz vital: a minute a block).
MAX_SPAN_S = 60.0
#: Nor holds more samples than this (a 250 Hz stress stream still closes every second).
MAX_SAMPLES = 4096


def _length(column: Any) -> int:
    """A VARCHAR column's declared length: labels are clipped to it (PostgreSQL enforces
    it, SQLite does not)."""
    assert isinstance(column.type, String) and column.type.length
    return int(column.type.length)


DEVICE_LEN = _length(DeviceRow.__table__.c.name)
CHANNEL_LEN = _length(ChannelRow.__table__.c.name)
UNIT_LEN = _length(ChannelRow.__table__.c.unit)

ChannelKey = tuple[str, str, str]  # name, unit, original unit ("" when the same)
SeriesKey = tuple[int | None, str, ChannelKey]  # session, device, channel


class ReadingSamples:
    """Marker for rescue files: rows that are samples, to be written as blocks."""


def channel_key(channel: str, unit: str, original_unit: str | None) -> ChannelKey:
    return (channel[:CHANNEL_LEN], unit[:UNIT_LEN], (original_unit or "")[:UNIT_LEN])


@dataclass(slots=True)
class _Minute:
    minute: int
    n: int = 0
    measured: int = 0
    low: float | None = None
    high: float | None = None
    total: float = 0.0
    row_id: int | None = None
    dirty: bool = True

    def add(self, value: float, flags: frozenset[str]) -> None:
        self.n += 1
        self.dirty = True
        if not math.isfinite(value) or flags & NOT_A_MEASUREMENT:
            return
        self.measured += 1
        self.total += value
        self.low = value if self.low is None else min(self.low, value)
        self.high = value if self.high is None else max(self.high, value)


@dataclass(slots=True)
class _Block:
    key: SeriesKey
    t: list[float] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    flags: list[frozenset[str]] = field(default_factory=list)
    seq: list[int] = field(default_factory=list)  # arrival order across series
    saved: int = 0  # samples committed
    row_id: int | None = None

    def takes(self, t: float) -> bool:
        """Whether a sample at ``t`` still belongs in this block."""
        n = len(self.t)
        if n == 0:
            return True
        span = abs(t - self.t[0])
        return n < MAX_SAMPLES and span < MAX_SPAN_S and not (n >= MIN_SAMPLES and span >= 1.0)


@dataclass(slots=True)
class _Series:
    block: _Block
    minutes: dict[int, _Minute] = field(default_factory=dict)


class BlockWriter:
    """The open blocks and minute summaries of every series, and their writes."""

    def __init__(self) -> None:
        self._series: dict[SeriesKey, _Series] = {}
        self._closed: list[_Block] = []  # closed, not yet committed in full
        self._device_ids: dict[str, int] = {}
        self._channel_ids: dict[ChannelKey, int] = {}
        self.unsaved = 0  # samples not yet committed
        self._newest_t = -math.inf  # the newest sample time added
        self._arrived = 0  # samples added so far: each one's place in arrival order

    def add(self, session_id: int | None, r: Reading) -> None:
        self.add_sample(
            session_id,
            r.device,
            channel_key(r.channel, r.unit, r.original_unit),
            r.t,
            float(r.value),
            r.flags,
        )

    def add_sample(
        self,
        session_id: int | None,
        device: str,
        channel: ChannelKey,
        t: float,
        value: float,
        flags: frozenset[str],
        seq: int | None = None,
    ) -> None:
        """One sample; ``seq``: its place in arrival order (default: after the last)."""
        self._arrived = self._arrived + 1 if seq is None else max(self._arrived, seq + 1)
        key: SeriesKey = (session_id, device[:DEVICE_LEN], channel)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series(_Block(key))
        block = series.block
        if not block.takes(t):
            if block.saved < len(block.t):
                self._closed.append(block)
            block = series.block = _Block(key)
        block.t.append(t)
        block.value.append(value)
        block.flags.append(flags)
        block.seq.append(self._arrived - 1 if seq is None else seq)
        minute = int(t // 60)
        summary = series.minutes.get(minute)
        if summary is None:
            summary = series.minutes[minute] = _Minute(minute)
        summary.add(value, flags)
        self.unsaved += 1
        self._newest_t = max(self._newest_t, t)

    # -- writing ----------------------------------------------------------------------------

    def write(self, s: OrmSession) -> Callable[[], int]:
        """Write every sample not yet committed within ``s``'s transaction; the returned
        function, called once that transaction has committed, marks them saved and gives
        how many there were. (If the transaction fails, do not call it: everything stays
        unsaved, to be written again.)"""
        devices: dict[str, int] = {}
        channels: dict[ChannelKey, int] = {}
        done: list[tuple[_Block, int, int]] = []  # block, row id, samples saved
        minutes: list[tuple[_Minute, int]] = []
        block_updates: list[dict[str, Any]] = []  # one executemany per table and flush
        minute_updates: list[dict[str, Any]] = []
        open_blocks = [sr.block for sr in self._series.values()]
        for block in [*self._closed, *open_blocks]:
            n = len(block.t)
            if block.saved == n:
                continue
            session_id, device, channel = block.key
            device_id = self._device_id(s, device, devices)
            channel_id = self._channel_id(s, channel, channels)
            row = {
                "t0": min(block.t),
                "t1": max(block.t),
                "n": n,
                "data": encode(block.t, block.value, block.flags, block.seq),
            }
            if block.row_id is None:
                ids = {"session_id": session_id, "device_id": device_id, "channel_id": channel_id}
                row_id = s.execute(
                    insert(ReadingBlockRow).values(ids | row).returning(ReadingBlockRow.id)
                ).scalar_one()
            else:
                row_id = block.row_id
                block_updates.append({"id": row_id} | row)
            done.append((block, row_id, n))
        for key, series in self._series.items():
            session_id, device, channel = key
            for summary in series.minutes.values():
                if not summary.dirty:
                    continue
                device_id = self._device_id(s, device, devices)
                channel_id = self._channel_id(s, channel, channels)
                values = {
                    "n": summary.n,
                    "measured": summary.measured,
                    "low": summary.low,
                    "high": summary.high,
                    "total": summary.total,
                }
                if summary.row_id is None:
                    ids = {
                        "session_id": session_id,
                        "device_id": device_id,
                        "channel_id": channel_id,
                        "minute": summary.minute,
                    }
                    row_id = s.execute(
                        insert(ReadingMinuteRow).values(ids | values).returning(ReadingMinuteRow.id)
                    ).scalar_one()
                else:
                    row_id = summary.row_id
                    minute_updates.append({"id": row_id} | values)
                minutes.append((summary, row_id))
        if block_updates:  # ORM bulk UPDATE by primary key
            s.execute(update(ReadingBlockRow), block_updates)
        if minute_updates:
            s.execute(update(ReadingMinuteRow), minute_updates)

        def committed() -> int:
            self._device_ids.update(devices)
            self._channel_ids.update(channels)
            saved = 0
            for block, row_id, n in done:
                saved += n - block.saved
                block.row_id, block.saved = row_id, n
            self._closed = [b for b in self._closed if b.saved < len(b.t)]
            for summary, row_id in minutes:  # (samples are added on this same thread only)
                summary.row_id, summary.dirty = row_id, False
            for key, series in list(self._series.items()):
                block = series.block
                if block.saved == len(block.t) and block.t[-1] < self._newest_t - MAX_SPAN_S:
                    del self._series[key]  # gone quiet (a session ended): its block is closed
                    continue
                newest = max(series.minutes)  # only the newest minute can still grow
                for m in [m for m, x in series.minutes.items() if m < newest and not x.dirty]:
                    del series.minutes[m]
            self.unsaved -= saved
            return saved

        return committed

    def unsaved_samples(self) -> list[dict[str, Any]]:
        """Every sample not yet committed, as rescue-file rows (in arrival order per series)."""
        out: list[dict[str, Any]] = []
        for block in [*self._closed, *(sr.block for sr in self._series.values())]:
            session_id, device, (channel, unit, original_unit) = block.key
            for i in range(block.saved, len(block.t)):
                out.append(
                    {
                        "session_id": session_id,
                        "t": block.t[i],
                        "channel": channel,
                        "value": block.value[i],
                        "unit": unit,
                        "device": device,
                        "flags": ",".join(sorted(block.flags[i])),
                        "original_unit": original_unit or None,
                        "seq": block.seq[i],
                    }
                )
        return out

    # -- lookups ---------------------------------------------------------------------------

    def _device_id(self, s: OrmSession, name: str, staged: dict[str, int]) -> int:
        found = self._device_ids.get(name) or staged.get(name)
        if found is None:
            found = staged[name] = _get_or_create(
                s, DeviceRow, {"name": name}, select(DeviceRow.id).where(DeviceRow.name == name)
            )
        return found

    def _channel_id(self, s: OrmSession, key: ChannelKey, staged: dict[ChannelKey, int]) -> int:
        found = self._channel_ids.get(key) or staged.get(key)
        if found is None:
            name, unit, original_unit = key
            found = staged[key] = _get_or_create(
                s,
                ChannelRow,
                {"name": name, "unit": unit, "original_unit": original_unit},
                select(ChannelRow.id).where(
                    ChannelRow.name == name,
                    ChannelRow.unit == unit,
                    ChannelRow.original_unit == original_unit,
                ),
            )
        return found


def _get_or_create(s: OrmSession, table: type[Any], values: Mapping[str, Any], query: Any) -> int:
    """The id of the row with ``values``, inserting it if there is none; a row another
    writer inserted meanwhile is found again (a savepoint keeps our transaction)."""
    found = s.execute(query).scalar()
    if found is not None:
        return int(found)
    try:
        with s.begin_nested():
            row = s.execute(insert(table).values(dict(values)).returning(table.id))
            return int(row.scalar_one())
    except IntegrityError:
        return int(s.execute(query).scalar_one())


def write_samples(s: OrmSession, rows: Iterable[Mapping[str, Any]]) -> int:
    """Write sample rows (as rescue files hold them: session_id, t, channel, value, unit,
    device, flags "a,b", original_unit, and optionally seq, their arrival order) as
    blocks; how many."""
    writer = BlockWriter()
    for r in rows:
        flags = str(r.get("flags") or "")
        writer.add_sample(
            r.get("session_id"),
            str(r.get("device") or ""),
            channel_key(str(r["channel"]), str(r["unit"]), r.get("original_unit")),
            float(r["t"]),
            float(r["value"]),
            frozenset(flags.split(",")) if flags else frozenset(),
            None if r.get("seq") is None else int(r["seq"]),
        )
    return writer.write(s)()
