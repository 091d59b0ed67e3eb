"""One block of one channel's samples as compact bytes, and back.

Why hand-written: the samples are a few dozen to a few hundred (time, value, flags)
triples, and what makes them small is knowing what they are: times a steady cadence in
microseconds (delta-encoded: a regular stream's deltas repeat), values usually whole
numbers on a fixed scale (a pleth count, beats per minute, RR intervals in 1/1024 s), so
delta-encoded integers of the narrowest type that holds them; flags nearly always the
same for a whole block. ``zlib`` (the standard compressor) then squeezes the repetition.
General-purpose formats (Parquet, HDF5) are made for large columnar files, not for a
block rewritten every quarter second inside a database row.

Lossless as every export shows it: times are kept to the microsecond, rounded exactly as
``datetime.fromtimestamp`` rounds them (so ISO 8601 times come out identical); values keep
every bit (a value the integer scale cannot hold exactly, NaN and infinities included, is
kept as a raw float64 exception); every sample keeps its own flags, in its own order, and
its place in the order samples arrived across all channels (``seq``), so samples of
several channels stamped with the same time come back in the order they came.

Layout (version 1), all little-endian, the whole zlib-compressed::

    u8 version | u32 n
    times:  i64 first_us | u8 dtype | deltas (n-1)
    order:  i64 first | u8 dtype | deltas (n-1)      (arrival order, for equal times)
    values: u8 mode; mode 0: f64 scale | i64 first | u8 dtype | deltas (n-1)
                               | u32 k | u32 index[k] | f64 value[k]
                     mode 1: f64 value[n]
    flags:  u16 m | m x (u16 length | utf-8 "a,b") | (m > 1) u8/u16 index[n]
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

VERSION = 1
#: Scales tried for whole-number values, smallest first: integers, tenths, hundredths,
#: thousandths, and the 1/1024 s of Bluetooth RR intervals.
SCALES = (1.0, 10.0, 100.0, 1000.0, 1024.0)
_DTYPES: tuple[np.dtype[Any], ...] = tuple(
    np.dtype(t).newbyteorder("<") for t in ("i1", "i2", "i4", "i8")
)
_RANGES = tuple((int(np.iinfo(t).min), int(np.iinfo(t).max)) for t in ("i1", "i2", "i4", "i8"))
_LIMIT = 2.0**52  # integers beyond this are not exact in float64 either


class BlockFormatError(ValueError):
    """Stored bytes that are not a block this version of kapdesk can read."""


@dataclass(frozen=True, slots=True)
class Block:
    """Samples of one channel from one device: times (epoch seconds), values, flags."""

    t: npt.NDArray[np.float64]
    value: npt.NDArray[np.float64]
    flags: tuple[frozenset[str], ...]
    us: npt.NDArray[np.int64]  # the times as stored: whole epoch microseconds
    seq: npt.NDArray[np.int64]  # arrival order across channels (ties in time)

    def __len__(self) -> int:
        return len(self.t)


def epoch_us(t: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Epoch seconds to whole microseconds, rounded half-even on the fraction exactly as
    ``datetime.fromtimestamp`` rounds (so ``iso_utc`` of the stored time is unchanged)."""
    arr = np.asarray(t, dtype=np.float64)
    whole = np.floor(arr)
    us = np.rint((arr - whole) * 1e6)  # arr - floor(arr) is exact for doubles
    return (whole.astype(np.int64) * 1_000_000 + us.astype(np.int64)).astype(np.int64)


def seconds(us: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Whole microseconds back to epoch seconds (within 0.12 us, so they round back)."""
    whole = us // 1_000_000
    return whole.astype(np.float64) + (us - whole * 1_000_000).astype(np.float64) / 1e6


def _narrowest(deltas: npt.NDArray[np.int64]) -> int:
    if len(deltas) == 0:
        return 0
    lo, hi = int(deltas.min()), int(deltas.max())
    for code, (low, high) in enumerate(_RANGES):
        if low <= lo and hi <= high:
            return code
    return len(_DTYPES) - 1


def _pack_ints(values: npt.NDArray[np.int64]) -> bytes:
    first = int(values[0]) if len(values) else 0
    deltas = np.diff(values)
    code = _narrowest(deltas)
    return struct.pack("<qB", first, code) + deltas.astype(_DTYPES[code]).tobytes()


def _unpack_ints(buf: memoryview, pos: int, n: int) -> tuple[npt.NDArray[np.int64], int]:
    first, code = struct.unpack_from("<qB", buf, pos)
    pos += 9
    if code >= len(_DTYPES):
        raise BlockFormatError(f"unknown integer width {code}")
    dt = _DTYPES[code]
    size = dt.itemsize * max(0, n - 1)
    deltas = np.frombuffer(buf[pos : pos + size], dtype=dt).astype(np.int64)
    pos += size
    out = np.empty(n, dtype=np.int64)
    if n:
        out[0] = first
        np.cumsum(deltas, out=out[1:])
        out[1:] += first
    return out, pos


def _exceptions(values: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Values no integer scale can hold: NaN, infinities and -0.0 (its sign would be lost)."""
    special: npt.NDArray[np.bool_] = ~np.isfinite(values) | ((values == 0) & np.signbit(values))
    return special


def _scaled(values: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.int64]] | None:
    """The smallest scale at which every value is an exact integer, if any."""
    for scale in SCALES:
        scaled = values * scale
        if len(values) and np.abs(scaled).max() >= _LIMIT:
            return None
        ints = np.rint(scaled)
        if np.array_equal((ints / scale).view(np.int64), values.view(np.int64)):
            return scale, ints.astype(np.int64)
    return None


def _pack_values(values: npt.NDArray[np.float64]) -> bytes:
    n = len(values)
    special = _exceptions(values)
    exact_positions = np.flatnonzero(~special)
    exceptions = np.flatnonzero(special)
    scaled = _scaled(values[exact_positions])
    if scaled is None or len(exceptions) * 4 > n:
        return struct.pack("<B", 1) + values.astype("<f8").tobytes()
    scale, finite_ints = scaled
    ints = np.zeros(n, dtype=np.int64)
    ints[exact_positions] = finite_ints
    # an exception takes its predecessor's integer, so it costs a zero delta
    for i in exceptions:
        ints[i] = ints[i - 1] if i > 0 else 0
    return (
        struct.pack("<Bd", 0, scale)
        + _pack_ints(ints)
        + struct.pack("<I", len(exceptions))
        + exceptions.astype("<u4").tobytes()
        + values[exceptions].astype("<f8").tobytes()
    )


def _unpack_values(buf: memoryview, pos: int, n: int) -> tuple[npt.NDArray[np.float64], int]:
    (mode,) = struct.unpack_from("<B", buf, pos)
    pos += 1
    if mode == 1:
        out = np.frombuffer(buf[pos : pos + 8 * n], dtype="<f8").astype(np.float64)
        return out, pos + 8 * n
    if mode != 0:
        raise BlockFormatError(f"unknown value encoding {mode}")
    (scale,) = struct.unpack_from("<d", buf, pos)
    ints, pos = _unpack_ints(buf, pos + 8, n)
    values = ints.astype(np.float64) / scale
    (k,) = struct.unpack_from("<I", buf, pos)
    pos += 4
    idx = np.frombuffer(buf[pos : pos + 4 * k], dtype="<u4").astype(np.int64)
    pos += 4 * k
    values[idx] = np.frombuffer(buf[pos : pos + 8 * k], dtype="<f8")
    return values, pos + 8 * k


def _pack_flags(flags: Sequence[frozenset[str]]) -> bytes:
    table: dict[frozenset[str], int] = {}
    idx = [table.setdefault(f, len(table)) for f in flags]
    out = [struct.pack("<H", len(table))]
    for f in table:
        text = ",".join(sorted(f)).encode()
        out.append(struct.pack("<H", len(text)) + text)
    if len(table) > 1:
        out.append(np.asarray(idx, dtype="<u1" if len(table) <= 256 else "<u2").tobytes())
    return b"".join(out)


def _unpack_flags(buf: memoryview, pos: int, n: int) -> tuple[tuple[frozenset[str], ...], int]:
    (m,) = struct.unpack_from("<H", buf, pos)
    pos += 2
    table: list[frozenset[str]] = []
    for _ in range(m):
        (length,) = struct.unpack_from("<H", buf, pos)
        text = bytes(buf[pos + 2 : pos + 2 + length]).decode()
        table.append(frozenset(text.split(",")) if text else frozenset())
        pos += 2 + length
    if m == 0:
        return (), pos
    if m == 1:
        return (table[0],) * n, pos
    dt = np.dtype("<u1" if m <= 256 else "<u2")
    idx = np.frombuffer(buf[pos : pos + dt.itemsize * n], dtype=dt)
    return tuple(table[i] for i in idx), pos + dt.itemsize * n


def encode(
    t: Iterable[float],
    values: Iterable[float],
    flags: Sequence[frozenset[str]],
    seq: Iterable[int] | None = None,
) -> bytes:
    """``len(flags)`` samples as one compressed block; ``seq``: their arrival order
    across channels (default: 0, 1, 2 ...)."""
    ts = np.fromiter(t, dtype=np.float64)
    vs = np.fromiter(values, dtype=np.float64)
    n = len(ts)
    order = np.arange(n, dtype=np.int64) if seq is None else np.fromiter(seq, dtype=np.int64)
    if len(vs) != n or len(flags) != n or len(order) != n:
        raise ValueError(
            f"{n} times, {len(vs)} values, {len(flags)} flag sets and {len(order)} places"
        )
    raw = b"".join(
        (
            struct.pack("<BI", VERSION, n),
            _pack_ints(epoch_us(ts)),
            _pack_ints(order),
            _pack_values(vs),
            _pack_flags(flags),
        )
    )
    return zlib.compress(raw, 6)


def decode(data: bytes) -> Block:
    """The samples of a block made by ``encode``."""
    try:
        raw = zlib.decompress(data)
    except zlib.error as exc:
        raise BlockFormatError(f"not a compressed block: {exc}") from None
    buf = memoryview(raw)
    try:
        version, n = struct.unpack_from("<BI", buf, 0)
        if version != VERSION:
            raise BlockFormatError(f"block version {version}; this kapdesk reads {VERSION}")
        us, pos = _unpack_ints(buf, 5, n)
        seq, pos = _unpack_ints(buf, pos, n)
        values, pos = _unpack_values(buf, pos, n)
        flags, pos = _unpack_flags(buf, pos, n)
    except struct.error as exc:
        raise BlockFormatError(f"truncated block: {exc}") from None
    if pos != len(raw) or not len(us) == len(seq) == len(values) == len(flags) == n:
        raise BlockFormatError("block length does not match its contents")
    return Block(seconds(us), values, flags, us, seq)
