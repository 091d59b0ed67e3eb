"""The one way readings come back from the database, in time order, for every reader:
the JSON export (and the exports built on it), replay, resume, the trend history.

Blocks are read in the order of their first sample and merged: a sample is given out
once no block still to be read can hold an earlier one (every later block starts at or
after the last one read). Samples with the same time come in the order they arrived
(each keeps its place in the arrival order: ``codec.Block.seq``). Work is done a chunk of
blocks at a time with numpy, so a two-hour session streams in seconds without ever being
held whole.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Engine, func, select

from kapdesk.storage.models import ChannelRow, DeviceRow, ReadingBlockRow, ReadingMinuteRow
from kapdesk.storage.signals.codec import decode, epoch_us

#: Blocks decoded before the samples that are certainly next are given out.
CHUNK_BLOCKS = 256


@dataclass(frozen=True, slots=True)
class Series:
    """Where a sample comes from and what it is."""

    device: str
    channel: str
    unit: str
    original_unit: str | None


@dataclass(frozen=True, slots=True)
class Sample:
    t: float
    value: float
    flags: frozenset[str]
    series: Series

    @property
    def channel(self) -> str:
        return self.series.channel


@dataclass(frozen=True, slots=True)
class Chunk:
    """Consecutive samples in time order, as columns: ``series[k]`` says what sample
    ``i`` is for ``k = series_index[i]``."""

    us: npt.NDArray[np.int64]  # epoch microseconds
    t: npt.NDArray[np.float64]
    value: npt.NDArray[np.float64]
    flags: list[frozenset[str]]
    series_index: npt.NDArray[np.int32]
    series: list[Series]

    def __len__(self) -> int:
        return len(self.us)


class _Pending:
    """Decoded samples not yet given out."""

    def __init__(self) -> None:
        self.parts: list[tuple[Any, ...]] = []

    def add(self, us: Any, t: Any, v: Any, f: list[frozenset[str]], k: int, seq: Any) -> None:
        self.parts.append((us, t, v, f, np.full(len(us), k, np.int32), seq))

    def take_before(self, cutoff: int | None, series: list[Series]) -> Chunk | None:
        """Every pending sample earlier than ``cutoff`` (all of them for None), sorted."""
        if not self.parts:
            return None
        us = np.concatenate([p[0] for p in self.parts])
        t = np.concatenate([p[1] for p in self.parts])
        v = np.concatenate([p[2] for p in self.parts])
        f = np.empty(len(us), dtype=object)
        f[:] = [x for p in self.parts for x in p[3]]
        k = np.concatenate([p[4] for p in self.parts])
        seq = np.concatenate([p[5] for p in self.parts])
        order = np.lexsort((seq, us))  # time, then arrival order
        us, t, v, f, k, seq = (a[order] for a in (us, t, v, f, k, seq))
        cut = len(us) if cutoff is None else int(np.searchsorted(us, cutoff, side="left"))
        rest = slice(cut, None)
        left = (us[rest], t[rest], v[rest], list(f[rest]), k[rest], seq[rest])
        self.parts = [] if cut == len(us) else [left]
        if cut == 0:
            return None
        return Chunk(us[:cut], t[:cut], v[:cut], list(f[:cut]), k[:cut], series)


def _lookups(conn: Connection) -> tuple[dict[int, str], dict[int, tuple[str, str, str]]]:
    devices = {i: n for i, n in conn.execute(select(DeviceRow.id, DeviceRow.name))}
    channels = {
        i: (n, u, o)
        for i, n, u, o in conn.execute(
            select(ChannelRow.id, ChannelRow.name, ChannelRow.unit, ChannelRow.original_unit)
        )
    }
    return devices, channels


def iter_chunks(
    engine: Engine | Connection,
    session_id: int | None,
    channels: Collection[str] | None = None,
) -> Iterator[Chunk]:
    """Every sample of ``session_id`` (None: recorded outside any session), in time order;
    only those of ``channels`` when given."""
    if isinstance(engine, Engine):
        with engine.connect() as conn:
            yield from iter_chunks(conn, session_id, channels)
        return
    conn = engine
    devices, channel_rows = _lookups(conn)
    series: list[Series] = []
    series_of: dict[tuple[int, int], int] = {}
    pending = _Pending()
    q = (
        select(
            ReadingBlockRow.id,
            ReadingBlockRow.device_id,
            ReadingBlockRow.channel_id,
            ReadingBlockRow.t0,
            ReadingBlockRow.data,
        )
        .where(
            ReadingBlockRow.session_id == session_id
            if session_id is not None
            else ReadingBlockRow.session_id.is_(None)
        )
        .order_by(ReadingBlockRow.t0, ReadingBlockRow.id)
        .execution_options(yield_per=CHUNK_BLOCKS)
    )
    if channels is not None:
        wanted = [i for i, (name, *_) in channel_rows.items() if name in set(channels)]
        q = q.where(ReadingBlockRow.channel_id.in_(wanted))
    for read, (_id, device_id, channel_id, t0, data) in enumerate(conn.execute(q), 1):
        key = (device_id, channel_id)
        k = series_of.get(key)
        if k is None:
            name, unit, original_unit = channel_rows[channel_id]
            k = series_of[key] = len(series)
            series.append(Series(devices[device_id], name, unit, original_unit or None))
        block = decode(data)
        pending.add(block.us, block.t, block.value, list(block.flags), k, block.seq)
        if read % CHUNK_BLOCKS == 0:  # no later block starts before t0
            chunk = pending.take_before(int(epoch_us([t0])[0]), series)
            if chunk is not None:
                yield chunk
    chunk = pending.take_before(None, series)
    if chunk is not None:
        yield chunk


def iter_samples(
    engine: Engine | Connection,
    session_id: int | None,
    channels: Collection[str] | None = None,
) -> Iterator[Sample]:
    """``iter_chunks`` one sample at a time."""
    for chunk in iter_chunks(engine, session_id, channels):
        for i in range(len(chunk)):
            yield Sample(
                float(chunk.t[i]),
                float(chunk.value[i]),
                chunk.flags[i],
                chunk.series[chunk.series_index[i]],
            )


def _record_json_parts(s: Series) -> tuple[str, str]:
    """The JSON text of an exported reading around its time and value
    (``docs/session-record.md``), made once per series: it is the same for every sample."""
    head = '", "channel": ' + json.dumps(s.channel, ensure_ascii=False) + ', "value": '
    tail = ', "unit": ' + json.dumps(s.unit, ensure_ascii=False)
    tail += ', "device": ' + json.dumps(s.device, ensure_ascii=False) + ', "flags": '
    return head, tail


def iter_record_json(engine: Engine | Connection, session_id: int) -> Iterator[str]:
    """Each reading as the JSON text ``json.dumps`` makes of its exported form, in order.

    Written out by hand (the same text, byte for byte) because it is the one loop of an
    export that runs per sample: two hours of readings in about a second."""
    parts: dict[int, tuple[str, str]] = {}
    flag_text: dict[frozenset[str], str] = {}
    for chunk in iter_chunks(engine, session_id):
        times = np.datetime_as_string(chunk.us.astype("datetime64[us]"), unit="us")
        for i in range(len(chunk)):
            k = int(chunk.series_index[i])
            if k not in parts:
                parts[k] = _record_json_parts(chunk.series[k])
            head, tail = parts[k]
            flags = chunk.flags[i]
            ft = flag_text.get(flags)
            if ft is None:
                ft = flag_text[flags] = json.dumps(sorted(flags), ensure_ascii=False)
            orig = chunk.series[k].original_unit
            more = (', "original_unit": ' + json.dumps(orig, ensure_ascii=False)) if orig else ""
            yield (
                '{"t": "' + str(times[i]) + "Z" + head + json.dumps(float(chunk.value[i]))
                + tail + ft + more + "}"
            )  # fmt: skip


def iter_record_readings(engine: Engine | Connection, session_id: int) -> Iterator[dict[str, Any]]:
    """Each reading in its exported form (``docs/session-record.md``), in time order."""
    for chunk in iter_chunks(engine, session_id):
        times = np.datetime_as_string(chunk.us.astype("datetime64[us]"), unit="us")
        for i in range(len(chunk)):
            s = chunk.series[chunk.series_index[i]]
            item: dict[str, Any] = {
                "t": str(times[i]) + "Z",
                "channel": s.channel,
                "value": float(chunk.value[i]),
                "unit": s.unit,
                "device": s.device,
                "flags": sorted(chunk.flags[i]),
            }
            if s.original_unit:
                item["original_unit"] = s.original_unit
            yield item


# -- what a session holds, without reading its samples --------------------------------------


def sample_counts(engine: Engine | Connection) -> dict[int | None, int]:
    """How many samples each session holds."""
    q = select(ReadingBlockRow.session_id, func.sum(ReadingBlockRow.n)).group_by(
        ReadingBlockRow.session_id
    )
    return {sid: int(n or 0) for sid, n in _execute(engine, q)}


def last_sample_t(engine: Engine | Connection, session_id: int) -> float | None:
    q = select(func.max(ReadingBlockRow.t1)).where(ReadingBlockRow.session_id == session_id)
    rows = list(_execute(engine, q))
    return rows[0][0] if rows else None


@dataclass(frozen=True, slots=True)
class MinuteTrend:
    """One channel over a session, a point per minute: the minute's start (epoch s), its
    lowest, highest and mean measured value (NaN for a minute with samples but no
    measurement, e.g. the sensor off)."""

    t: npt.NDArray[np.float64]
    low: npt.NDArray[np.float64]
    high: npt.NDArray[np.float64]
    mean: npt.NDArray[np.float64]


def minute_trend(engine: Engine | Connection, session_id: int, channel: str) -> MinuteTrend:
    """The whole session's trend of ``channel`` from the minute summaries (a row a minute,
    whatever the rate), every device that sent it together."""
    q = (
        select(
            ReadingMinuteRow.minute,
            func.min(ReadingMinuteRow.low),
            func.max(ReadingMinuteRow.high),
            func.sum(ReadingMinuteRow.total),
            func.sum(ReadingMinuteRow.measured),
        )
        .join(ChannelRow, ChannelRow.id == ReadingMinuteRow.channel_id)
        .where(ReadingMinuteRow.session_id == session_id, ChannelRow.name == channel)
        .group_by(ReadingMinuteRow.minute)
        .order_by(ReadingMinuteRow.minute)
    )
    rows = list(_execute(engine, q))
    nan = float("nan")
    return MinuteTrend(
        np.array([m * 60.0 for m, *_ in rows], dtype=np.float64),
        np.array([nan if lo is None else lo for _, lo, *_ in rows], dtype=np.float64),
        np.array([nan if hi is None else hi for _, _, hi, *_ in rows], dtype=np.float64),
        np.array([total / n if n else nan for *_, total, n in rows], dtype=np.float64),
    )


def _execute(engine: Engine | Connection, q: Any) -> list[Any]:
    if isinstance(engine, Engine):
        with engine.connect() as conn:
            return list(conn.execute(q))
    return list(engine.execute(q))


def channel_names(engine: Engine | Connection) -> set[str]:
    """Every channel name stored (in any session)."""
    return {name for (name,) in _execute(engine, select(ChannelRow.name).distinct())}
