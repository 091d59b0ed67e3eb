"""Readings at their real size: one row per block of samples, not one per sample.

Creates ``devices`` and ``channels`` (names stored once), ``reading_blocks`` (the samples
of one channel from one device, encoded by ``kapdesk.storage.signals.codec``) and
``reading_minutes`` (a row per channel and minute: count, low, high, sum), converts every
row of ``readings`` into them, checks the conversion, and only then drops ``readings``.

The check: for every (session, device, channel, unit) the samples read back from the
stored blocks, in order, must equal the rows they came from, in id order: the same count,
the same time to the microsecond (what every export shows), the same value bit for bit,
the same flags. A difference raises, and the migration's one transaction (see
``kapdesk.storage.database``) rolls back: the file keeps its row-per-sample readings,
untouched and usable, and start-up says why.

Blocks are grouped as the recorder groups them (``kapdesk.storage.signals.writer``) and
each sample keeps its row's id as its place in the arrival order, so samples with the
same time keep the order the rows had.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import sqlalchemy as sa
from alembic import op

from kapdesk.storage.signals.codec import decode, encode, epoch_us

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The grouping rule at the time of this migration (kapdesk.storage.signals.writer).
MIN_SAMPLES = 32
MAX_SPAN_S = 60.0
MAX_SAMPLES = 4096
NOT_A_MEASUREMENT = frozenset({"invalid", "searching", "probe_error"})
ROWS_PER_FETCH = 20_000

Series = tuple[Any, str, str, str, str]  # session, device, channel, unit, original unit


class ConversionMismatch(RuntimeError):
    """The blocks do not give back the rows: nothing is committed."""


def _readings() -> sa.Table:
    """The row-per-sample table as revision 0003 left it (only the columns read here)."""
    return sa.Table(
        "readings",
        sa.MetaData(),
        *(sa.Column(c, sa.Integer()) for c in ("id", "session_id")),
        *(sa.Column(c, sa.Float()) for c in ("t", "value")),
        *(sa.Column(c, sa.String()) for c in ("channel", "unit", "device", "flags")),
        sa.Column("original_unit", sa.String()),
    )


def _create_tables() -> dict[str, sa.Table]:
    """The new tables, made; each as ``op.create_table`` returns it, to query."""
    made: dict[str, sa.Table] = {}
    made["devices"] = op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
    )
    made["channels"] = op.create_table(
        "channels",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("original_unit", sa.String(16), nullable=False),
        sa.UniqueConstraint("name", "unit", "original_unit"),
    )
    made["reading_blocks"] = op.create_table(
        "reading_blocks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("sessions.id"), nullable=True),
        sa.Column("device_id", sa.Integer(), sa.ForeignKey("devices.id"), nullable=False),
        sa.Column("channel_id", sa.Integer(), sa.ForeignKey("channels.id"), nullable=False),
        sa.Column("t0", sa.Float(), nullable=False),
        sa.Column("t1", sa.Float(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_reading_blocks_session_t0", "reading_blocks", ["session_id", "t0"])
    made["reading_minutes"] = op.create_table(
        "reading_minutes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("sessions.id"), nullable=True),
        sa.Column("device_id", sa.Integer(), sa.ForeignKey("devices.id"), nullable=False),
        sa.Column("channel_id", sa.Integer(), sa.ForeignKey("channels.id"), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("measured", sa.Integer(), nullable=False),
        sa.Column("low", sa.Float(), nullable=True),
        sa.Column("high", sa.Float(), nullable=True),
        sa.Column("total", sa.Float(), nullable=False),
    )
    op.create_index(
        "ix_reading_minutes_session", "reading_minutes", ["session_id", "channel_id", "minute"]
    )
    return made


def _flagset(text: str | None) -> frozenset[str]:
    return frozenset(text.split(",")) if text else frozenset()


def _digest(us: Any, values: Any, flags: Any, seq: Any, h: Any) -> None:
    """Add a block's samples to a series' running digest: the times in microseconds,
    every bit of the values, each sample's flags, their order."""
    h.update(np.asarray(us, dtype="<i8").tobytes())
    h.update(np.asarray(seq, dtype="<i8").tobytes())
    h.update(np.asarray(values, dtype="<f8").tobytes())
    h.update(";".join(",".join(sorted(f)) for f in flags).encode() + b"|")


class _Open:
    """The block being filled for one series."""

    __slots__ = ("first_id", "flags", "seq", "t", "value")

    def __init__(self, first_id: int) -> None:
        self.first_id = first_id
        self.t: list[float] = []
        self.value: list[float] = []
        self.flags: list[frozenset[str]] = []
        self.seq: list[int] = []  # the rows' ids: their order, for samples at one time

    def takes(self, t: float) -> bool:
        n = len(self.t)
        if n == 0:
            return True
        span = abs(t - self.t[0])
        return n < MAX_SAMPLES and span < MAX_SPAN_S and not (n >= MIN_SAMPLES and span >= 1.0)


def _rows(conn: sa.Connection, readings: sa.Table) -> Iterator[Any]:
    q = sa.select(
        readings.c.id,
        readings.c.session_id,
        readings.c.t,
        readings.c.channel,
        readings.c.value,
        readings.c.unit,
        readings.c.device,
        readings.c.flags,
        readings.c.original_unit,
    ).order_by(readings.c.session_id, readings.c.id)
    yield from conn.execute(q.execution_options(yield_per=ROWS_PER_FETCH))


def upgrade() -> None:
    t = _create_tables() | {"readings": _readings()}
    conn = op.get_bind()
    devices: dict[str, int] = {}
    channels: dict[tuple[str, str, str], int] = {}
    expected: dict[Series, tuple[int, Any]] = {}  # series -> (count, digest)

    def device_id(name: str) -> int:
        if name not in devices:
            devices[name] = conn.execute(
                sa.insert(t["devices"]).values(name=name).returning(t["devices"].c.id)
            ).scalar_one()
        return devices[name]

    def channel_id(name: str, unit: str, original: str) -> int:
        key = (name, unit, original)
        if key not in channels:
            channels[key] = conn.execute(
                sa.insert(t["channels"])
                .values(name=name, unit=unit, original_unit=original)
                .returning(t["channels"].c.id)
            ).scalar_one()
        return channels[key]

    def flush_session(session: Any, closed: list[tuple[Series, _Open]]) -> None:
        closed.sort(key=lambda item: item[1].first_id)  # ids in the order of first rows
        blocks = []
        minutes: dict[tuple[Series, int], list[Any]] = {}
        for series, block in closed:
            count, h = expected.get(series, (0, None))
            h = h or hashlib.sha256()
            _digest(epoch_us(block.t), block.value, block.flags, block.seq, h)
            expected[series] = (count + len(block.t), h)
            _, device, channel, unit, original = series
            ids = {
                "device_id": device_id(device),
                "channel_id": channel_id(channel, unit, original),
            }
            blocks.append(
                {
                    "session_id": session,
                    **ids,
                    "t0": min(block.t),
                    "t1": max(block.t),
                    "n": len(block.t),
                    "data": encode(block.t, block.value, block.flags, block.seq),
                }
            )
            for ti, vi, fi in zip(block.t, block.value, block.flags, strict=True):
                m = minutes.setdefault((series, int(ti // 60)), [ids, 0, 0, None, None, 0.0])
                m[1] += 1
                if math.isfinite(vi) and not fi & NOT_A_MEASUREMENT:
                    m[2] += 1
                    m[3] = vi if m[3] is None else min(m[3], vi)
                    m[4] = vi if m[4] is None else max(m[4], vi)
                    m[5] += vi
        for start in range(0, len(blocks), 500):
            conn.execute(sa.insert(t["reading_blocks"]), blocks[start : start + 500])
        rows = [
            {
                "session_id": session,
                **ids,
                "minute": minute,
                "n": n,
                "measured": measured,
                "low": low,
                "high": high,
                "total": total,
            }
            for ((_, minute), (ids, n, measured, low, high, total)) in minutes.items()
        ]
        for start in range(0, len(rows), 500):
            conn.execute(sa.insert(t["reading_minutes"]), rows[start : start + 500])

    current_session: Any = object()
    open_blocks: dict[Series, _Open] = {}
    closed: list[tuple[Series, _Open]] = []
    for row_id, session, ti, channel, value, unit, device, flags, original in _rows(
        conn, t["readings"]
    ):
        if session != current_session:
            if closed or open_blocks:
                flush_session(current_session, closed + list(open_blocks.items()))
            current_session, open_blocks, closed = session, {}, []
        series: Series = (session, device or "", channel, unit, original or "")
        block = open_blocks.get(series)
        if block is None or not block.takes(ti):
            if block is not None:
                closed.append((series, block))
            block = open_blocks[series] = _Open(row_id)
        block.t.append(ti)
        block.value.append(value)
        block.flags.append(_flagset(flags))
        block.seq.append(row_id)
    if closed or open_blocks:
        flush_session(current_session, closed + list(open_blocks.items()))
    _verify(conn, t, expected)
    op.drop_index("ix_readings_session_t", table_name="readings")
    op.drop_table("readings")


def _verify(conn: sa.Connection, t: dict[str, sa.Table], expected: dict[Series, Any]) -> None:
    """Read every block back and compare it with the rows it came from (see the module
    docstring); raise on the first difference."""
    names = {i: n for i, n in conn.execute(sa.select(t["devices"].c.id, t["devices"].c.name))}
    chans = {
        i: (n, u, o)
        for i, n, u, o in conn.execute(
            sa.select(
                t["channels"].c.id,
                t["channels"].c.name,
                t["channels"].c.unit,
                t["channels"].c.original_unit,
            )
        )
    }
    b = t["reading_blocks"]
    got: dict[Series, tuple[int, Any]] = {}
    q = sa.select(b.c.session_id, b.c.device_id, b.c.channel_id, b.c.n, b.c.data).order_by(b.c.id)
    for session, dev, chan, n, data in conn.execute(q.execution_options(yield_per=2000)):
        block = decode(data)
        if len(block) != n:
            raise ConversionMismatch(f"a block says {n} samples and holds {len(block)}")
        series: Series = (session, names[dev], *chans[chan])
        count, h = got.get(series, (0, None))
        h = h or hashlib.sha256()
        _digest(block.us, block.value, block.flags, block.seq, h)
        got[series] = (count + n, h)
    want = {k: (c, h.hexdigest()) for k, (c, h) in expected.items()}
    have = {k: (c, h.hexdigest()) for k, (c, h) in got.items()}
    if want != have:
        bad = sorted(set(want) ^ set(have)) or [k for k in want if want[k] != have.get(k)]
        raise ConversionMismatch(
            f"the converted readings differ from the rows for {len(bad)} series, e.g. {bad[0]}"
        )


def downgrade() -> None:
    raise NotImplementedError("readings are not turned back into a row per sample")
