"""Ring buffers of recent readings that the GUI pulls from at its own frame rate.

Writers (the ingest hub, on device threads) only append under a short lock; the GUI
timer asks for a time window and gets contiguous numpy views. Each buffer stores every
sample twice in a double-length array (the Friture trick), so the newest ``n`` samples are
always one contiguous slice: no copy, no ``np.append`` per reading.
"""

from __future__ import annotations

import threading
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from kapdesk.domain.channels import CHANNELS, Sampling
from kapdesk.domain.readings import INVALID, SENSOR_OFF, SIGNAL_ARTIFACT, Reading

FloatArray = npt.NDArray[np.float64]


def peak_envelope(t: FloatArray, v: FloatArray, bucket_s: float) -> tuple[FloatArray, FloatArray]:
    """Reduce (t, v) to at most two points per ``bucket_s`` of time, as a monitor draws a
    dense trace: each bucket's minimum at its first sample's time and its maximum at its
    last's. A bucket of one sample stays one point, so sparse data comes back as it is.

    Buckets are aligned to absolute time (``[k * bucket_s, (k + 1) * bucket_s)``), not to
    the data: a bucket that is complete never changes, so a plot can keep what it drew and
    add only the newest bucket. A bucket holding a NaN (a gap) is NaN, so gaps stay
    visible; the curve ends at the newest sample's time.
    """
    n = len(t)
    if n < 2 or bucket_s <= 0:
        return t.copy(), v.copy()
    k = np.floor(t / bucket_s)
    starts = np.flatnonzero(np.concatenate(([True], k[1:] != k[:-1])))
    if len(starts) == n:  # one sample per bucket: nothing to reduce
        return t.copy(), v.copy()
    ends = np.append(starts[1:], n) - 1  # index of each bucket's last sample
    out_t = np.empty(2 * len(starts))
    out_v = np.empty(2 * len(starts))
    out_t[0::2], out_t[1::2] = t[starts], t[ends]
    out_v[0::2] = np.minimum.reduceat(v, starts)
    out_v[1::2] = np.maximum.reduceat(v, starts)
    keep = np.ones(len(out_t), dtype=bool)
    keep[1::2] = ends > starts  # a one-sample bucket: one point, not the same one twice
    return out_t[keep], out_v[keep]


class RingBuffer:
    """Fixed-capacity (time, value) history."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._t = np.zeros(2 * capacity)
        self._v = np.zeros(2 * capacity)
        self._head = 0  # index of the next write in [0, capacity)
        self._count = 0
        self.version = 0  # bumped on every append, so a view can skip unchanged data

    def append(self, t: float, v: float) -> None:
        i = self._head
        self._t[i] = self._t[i + self.capacity] = t
        self._v[i] = self._v[i + self.capacity] = v
        self._head = (i + 1) % self.capacity
        self._count = min(self._count + 1, self.capacity)
        self.version += 1

    def __len__(self) -> int:
        return self._count

    def latest(self, n: int | None = None) -> tuple[FloatArray, FloatArray]:
        """The newest ``n`` samples (all when None), oldest first, as views."""
        n = self._count if n is None else min(n, self._count)
        end = self._head + self.capacity
        return self._t[end - n : end], self._v[end - n : end]

    def since(self, t0: float) -> tuple[FloatArray, FloatArray]:
        t, v = self.latest()
        i = int(np.searchsorted(t, t0, side="left"))
        return t[i:], v[i:]

    def last(self) -> tuple[float, float] | None:
        if not self._count:
            return None
        i = (self._head - 1) % self.capacity
        return float(self._t[i]), float(self._v[i])


class TrendStore:
    """One ring buffer per channel, fed by the ingest hub."""

    #: Capacity per sampling kind: 12 h of 1 Hz trends; ~10 min of 100 Hz waveform.
    CAPACITY: ClassVar[dict[Sampling, int]] = {
        Sampling.CONTINUOUS: 12 * 3600,
        Sampling.DISCRETE: 2000,
        Sampling.EVENT: 12 * 3600 * 2,
        Sampling.WAVEFORM: 60_000,
    }

    def __init__(self) -> None:
        self._buffers: dict[str, RingBuffer] = {}
        self._flags: dict[str, frozenset[str]] = {}
        self.lock = threading.Lock()

    def add(self, reading: Reading) -> None:
        """Hub subscriber: a sensor-off, invalid or artefact-flagged value is stored as
        NaN, a gap in the trend, as monitors blank an artefact rather than draw a spike
        through the alarm bands a review would read as a desaturation. The recorder
        keeps the value itself with its flag; the numerics say "artefact?"."""
        value = reading.value
        if reading.flags & {SENSOR_OFF, INVALID, SIGNAL_ARTIFACT}:
            value = float("nan")
        with self.lock:
            buf = self._buffers.get(reading.channel)
            if buf is None:
                ch = CHANNELS.get(reading.channel)
                cap = self.CAPACITY[ch.sampling if ch else Sampling.CONTINUOUS]
                buf = self._buffers[reading.channel] = RingBuffer(cap)
            buf.append(reading.t, value)
            self._flags[reading.channel] = reading.flags

    def channels(self) -> list[str]:
        with self.lock:
            return list(self._buffers)

    def since(self, channel: str, t0: float) -> tuple[FloatArray, FloatArray]:
        """Copies of the samples of ``channel`` from ``t0`` on (copied under the lock so a
        writer cannot change them while the GUI draws)."""
        with self.lock:
            buf = self._buffers.get(channel)
            if buf is None:
                return np.empty(0), np.empty(0)
            t, v = buf.since(t0)
            return t.copy(), v.copy()

    def envelope(
        self, channel: str, t0: float, bucket_s: float
    ) -> tuple[FloatArray, FloatArray, int]:
        """:func:`peak_envelope` of the samples of ``channel`` from ``t0`` on, computed
        from views under the lock instead of copying the whole window, and the buffer's
        version it was taken at (what :meth:`appended_since` continues from)."""
        with self.lock:
            buf = self._buffers.get(channel)
            if buf is None:
                return np.empty(0), np.empty(0), -1
            t, v = buf.since(t0)
            out_t, out_v = peak_envelope(t, v, bucket_s)
            return out_t, out_v, buf.version

    def appended_since(self, channel: str, version: int) -> tuple[FloatArray, FloatArray, int]:
        """Copies of the samples appended after ``version`` (in arrival order), and the
        version now. A view draws these on top of what it drew at ``version``."""
        with self.lock:
            buf = self._buffers.get(channel)
            if buf is None:
                return np.empty(0), np.empty(0), -1
            t, v = buf.latest(max(0, buf.version - max(version, 0)))
            return t.copy(), v.copy(), buf.version

    def version(self, channel: str) -> int:
        """Changes whenever ``channel`` gets a sample; lets a view skip unchanged data."""
        buf = self._buffers.get(channel)
        return -1 if buf is None else buf.version

    def last(self, channel: str) -> tuple[float, float, frozenset[str]] | None:
        with self.lock:
            buf = self._buffers.get(channel)
            if buf is None or not len(buf):
                return None
            last = buf.last()
            assert last is not None
            return last[0], last[1], self._flags.get(channel, frozenset())
