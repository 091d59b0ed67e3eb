"""What the benchmark measures with: paint-end stamps, per-thread CPU, resident memory.

Linux only (``/proc``), like the machines the figures are quoted for.
"""

from __future__ import annotations

import gc
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QGraphicsView

_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (NaN for no values): what "p99" means in the report."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def rss_mb() -> float:
    """Resident set size now (VmRSS), in MB (2**20 bytes)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def thread_cpu_s(native_id: int) -> float:
    """CPU seconds (user + system) one thread of this process has used."""
    try:
        stat = Path(f"/proc/self/task/{native_id}/stat").read_text()
    except FileNotFoundError:  # the thread has ended
        return math.nan
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_S  # utime, stime


class GcPauses:
    """The garbage collector's pauses while active: each one stops every thread, the
    alarm service's included, so they belong next to the latencies."""

    def __init__(self) -> None:
        self.pauses_s: list[float] = []
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.pauses_s.append(time.perf_counter() - self._start)

    def stop(self) -> GcPauses:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)
        return self


class CpuMeter:
    """Process CPU over wall time, and where it went (per named thread).

    ``time.process_time`` counts every thread of the process; the per-thread split
    (from /proc, 10 ms resolution) shows which part of the app the CPU went to.
    """

    def __init__(self, threads: Mapping[str, int | None]) -> None:
        self._threads = {name: tid for name, tid in threads.items() if tid is not None}
        self._wall0 = time.perf_counter()
        self._cpu0 = time.process_time()
        self._per0 = {name: thread_cpu_s(tid) for name, tid in self._threads.items()}
        self.wall_s = 0.0
        self.cpu_s = 0.0
        self.per_thread_s: dict[str, float] = {}
        self.gc_pauses_s: list[float] = []  # filled in by whoever watched the collector

    def stop(self) -> CpuMeter:
        self.wall_s = time.perf_counter() - self._wall0
        self.cpu_s = time.process_time() - self._cpu0
        self.per_thread_s = {
            name: thread_cpu_s(tid) - self._per0[name] for name, tid in self._threads.items()
        }
        return self

    def percent(self, cpu_s: float | None = None) -> float:
        """``cpu_s`` (default: the whole process) as a percentage of one core."""
        used = self.cpu_s if cpu_s is None else cpu_s
        return 100.0 * used / self.wall_s if self.wall_s > 0 else math.nan


class ScreenProbe(QObject):
    """Stamps when sampled readings first reach the screen: the end of the first paint
    of the plot's viewport whose curves hold them.

    Installed as an event filter on a ``QGraphicsView``'s viewport: on a paint event it
    notes which pending readings the curves now contain (``newest(channel)``: the time of
    the newest sample a channel's curves hold), lets the view paint (the same call Qt's
    own viewport filter makes), then stamps ``perf_counter``. Nothing forces a paint:
    they happen when the event loop processes the widgets' update requests.
    """

    def __init__(
        self, view: QGraphicsView, newest: Callable[[str], float], channels: Collection[str]
    ):
        super().__init__()
        self._view = view
        self._newest = newest
        self._channels = frozenset(channels)
        self._lock = threading.Lock()
        self._pending: dict[str, deque[tuple[float, float]]] = {}
        self.latencies_s: list[float] = []
        self.paint_s: list[float] = []
        self.sampled = 0
        view.viewport().installEventFilter(self)

    def add(self, channel: str, t: float, arrival: float) -> None:
        """Producer thread: a reading of ``channel`` stamped ``t`` was published at ``arrival``."""
        if channel not in self._channels:
            return  # not drawn by this view
        with self._lock:
            self._pending.setdefault(channel, deque()).append((t, arrival))
            self.sampled += 1

    def unshown(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._pending.values())

    def detach(self) -> None:
        self._view.viewport().removeEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Paint:
            return False
        arrivals = self._in_curves()
        start = time.perf_counter()
        self._view.viewportEvent(event)  # the paint itself
        end = time.perf_counter()
        self.paint_s.append(end - start)
        self.latencies_s.extend(end - a for a in arrivals)
        return True

    def _in_curves(self) -> list[float]:
        """Arrival stamps of pending readings the curves now contain (they go out now)."""
        out: list[float] = []
        with self._lock:
            for channel, queue in self._pending.items():
                if not queue:
                    continue
                newest = self._newest(channel)
                if math.isnan(newest):
                    continue
                while queue and queue[0][0] <= newest:
                    out.append(queue.popleft()[1])
        return out
