"""The monitor benchmark (issue 4, item 5): kapdesk's real parts under the issue's loads.

One process, the real app: a ``Runtime`` on an SQLite file in a temporary directory (alarm
service thread, recorder thread, trend store) and the real ``MainWindow`` shown offscreen
with its own event loop and 33 ms frame timer. A producer thread publishes readings into
``runtime.hub`` at the load's rates in real time. Phases, each on a fresh runtime:

1. realistic and 2. stress load: arrival -> on-screen latency, CPU, frame costs;
3. alarm latency while a timer keeps the GUI thread busy most of the time;
4. the same loads drawn by a naive plot (append + ``setData`` per reading), as ratios;
5. memory growth over a simulated 8-hour session (session clock at high speed).

Prints a table and, last, one JSON line. Run it with ``scripts/benchmark [--quick]``;
docs/benchmark.md says what each figure means and how it is measured.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyqtgraph as pg
import PySide6
from PySide6.QtCore import QEventLoop, QObject, QTimer
from PySide6.QtWidgets import QApplication

from benchmarks.loads import (
    REALISTIC,
    STRESS,
    Episode,
    EpisodeRecord,
    Load,
    Producer,
    SimulatedTime,
    prefill,
)
from benchmarks.naive_plot import NaivePlot
from benchmarks.probes import CpuMeter, GcPauses, ScreenProbe, percentile, rss_mb
from benchmarks.startup_benchmark import measure_startup
from benchmarks.storage_benchmark import measure_storage
from kapdesk.app import freeze_startup_objects
from kapdesk.demo.script import demo_patient
from kapdesk.domain.access import Actor, Role
from kapdesk.domain.alarms import AlarmTransition, Condition, TransitionKind
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import open_database
from kapdesk.ui.common import theme
from kapdesk.ui.common.gui_thread import collect_on_gui_thread
from kapdesk.ui.main_window import MainWindow

PROTOCOL = "im-ketamine"
#: History put in the trend store before each latency phase: the monitor's default window.
HISTORY_S = 15 * 60.0

#: The issue's targets.
TARGET_LATENCY_P99_MS = 50.0
TARGET_ALARM_LATE_MS = 100.0
TARGET_CPU_PERCENT = 25.0
TARGET_MEMORY_GROWTH_MB = 30.0
TARGET_DB_MB_PER_HOUR = 1.5  # issue 13: <= 3 MB per 2-hour session
TARGET_EXPORT_2H_S = 3.0
TARGET_TREND_MS = 100.0
TARGET_MIGRATION_2H_S = 10.0
TARGET_STARTUP_S = 1.5  # issue 14: encrypted database, to the first frame

#: who the benchmark's sessions are run by (both clinical roles, as a small clinic's)
CLINICIAN = Actor({Role.THERAPIST, Role.MEDICAL_STAFF}, "Benchmark Clinician", username="bench")


@dataclass(frozen=True)
class Config:
    """How long each phase runs (real seconds unless stated)."""

    mode: str
    realistic_s: float
    stress_s: float
    alarm_s: float
    naive_realistic_s: float
    naive_stress_s: float
    memory_hours: float  # simulated session hours
    memory_warmup_min: float = 10.0  # simulated minutes before the first RSS reading
    storage_hours: float = 2.0  # session hours written for the storage figures (issue 13)
    gui_block_ms: int = 300  # the simulated heavy redraw during the alarm phase...
    gui_block_every_ms: int = 500  # ...started this often (the GUI is busy 60 % of the time)
    startup_runs: int = 5  # starts of the encrypted demo and of a clinic database (issue 14)


FULL = Config("full", 60, 30, 45, 30, 15, memory_hours=8.0)
QUICK = Config("quick", 6, 4, 14, 4, 3, memory_hours=0.5, storage_hours=0.1, startup_runs=1)

# -- small Qt helpers ---------------------------------------------------------------------


def run_loop_until(predicate: Callable[[], bool], timeout_s: float) -> bool:
    """Run the Qt event loop (paints, timers, queued signals) until ``predicate`` holds."""
    loop = QEventLoop()
    deadline = time.perf_counter() + timeout_s

    def check() -> None:
        if predicate() or time.perf_counter() >= deadline:
            loop.quit()

    poll = QTimer()
    poll.timeout.connect(check)
    poll.start(50)
    if not predicate():
        loop.exec()
    poll.stop()
    return predicate()


def run_loop_for(seconds: float) -> None:
    end = time.perf_counter() + seconds
    run_loop_until(lambda: time.perf_counter() >= end, seconds + 1)


class GuiBlocker(QObject):
    """Keeps the GUI thread busy in Python (holding the GIL, like a heavy redraw) for
    ``block_ms`` every ``every_ms``."""

    def __init__(self, block_ms: int, every_ms: int) -> None:
        super().__init__()
        self.block_s = block_ms / 1000
        self.blocked_s = 0.0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._block)
        self._timer.start(every_ms)

    def _block(self) -> None:
        start = time.perf_counter()
        n = 0
        while time.perf_counter() - start < self.block_s:
            n += sum(range(200))
        self.blocked_s += time.perf_counter() - start

    def stop(self) -> None:
        self._timer.stop()


# -- the app under test -------------------------------------------------------------------


class Harness:
    """A real runtime on its own SQLite file with a session in progress, and (unless
    ``window`` is False) the real main window shown."""

    def __init__(self, workdir: Path, name: str, speed: float = 1.0, window: bool = True):
        self.engine = open_database(f"sqlite:///{workdir / name}.sqlite3")
        self.rt = Runtime.build(self.engine, speed=speed, protocol=PROTOCOL, actor=CLINICIAN)
        self.rt.controller.open(demo_patient(), protocol=PROTOCOL)
        self.rt.controller.start()
        self.window: MainWindow | None = None
        if window:
            self.window = MainWindow(self.rt)
            self.window.show()
        freeze_startup_objects()  # as kapdesk.app does once its window is up
        collect_on_gui_thread()  # and, as it does, collect garbage only on the GUI thread
        run_loop_for(0.5)  # first layout and paints out of the way

    def threads(self) -> dict[str, int | None]:
        """Native ids of the app's threads, for the per-thread CPU split."""
        named = {t.name: t.native_id for t in threading.enumerate()}
        return {
            "gui": threading.main_thread().native_id,
            "alarms": named.get("alarm-service"),
            "recorder": named.get("kapdesk-recorder"),
        }

    def close(self) -> None:
        if self.window is not None:
            self.window.close()
            self.window.deleteLater()
            self.window = None
        self.rt.shutdown()
        run_loop_for(0.1)  # deleteLater
        gc.collect()  # here, on the GUI thread: Qt objects must not die on a producer thread
        self.engine.dispose()


@contextmanager
def harness(workdir: Path, name: str, speed: float = 1.0, window: bool = True) -> Iterator[Harness]:
    h = Harness(workdir, name, speed, window)
    try:
        yield h
    finally:
        h.close()


def feed(h: Harness, producer: Producer) -> CpuMeter:
    """Start ``producer``, run the GUI until it is done, and meter the CPU meanwhile."""
    meter = CpuMeter(h.threads())
    pauses = GcPauses()
    producer.start()
    run_loop_until(lambda: not producer.is_alive(), producer.duration_s / h.rt.clock.speed + 30)
    producer.stop_event.set()
    producer.join(5)
    meter.stop()
    meter.gc_pauses_s = pauses.stop().pauses_s
    return meter


def _ms(values_s: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values_s, 50) * 1000, 2),
        "p99": round(percentile(values_s, 99) * 1000, 2),
        "max": round(max(values_s, default=math.nan) * 1000, 2),
        "n": len(values_s),
    }


def _cpu_figures(meter: CpuMeter, producer: Producer) -> dict[str, Any]:
    app_cpu_s = meter.cpu_s - producer.cpu_s
    return {
        "app_cpu_percent": round(meter.percent(app_cpu_s), 1),
        "process_cpu_percent": round(meter.percent(), 1),
        "thread_cpu_percent": {
            **{k: round(meter.percent(v), 1) for k, v in meter.per_thread_s.items()},
            "producer (the emulated devices)": round(meter.percent(producer.cpu_s), 1),
        },
        "wall_s": round(meter.wall_s, 2),
        "gc_pauses": len(meter.gc_pauses_s),
        "gc_max_pause_ms": round(max(meter.gc_pauses_s, default=0.0) * 1000, 1),
    }


# -- phases ---------------------------------------------------------------------------------


def measure_kapdesk(workdir: Path, load: Load, seconds: float) -> dict[str, Any]:
    """Arrival -> on-screen latency, CPU and frame costs of the real window under ``load``."""
    with harness(workdir, f"kapdesk-{load.name}") as h:
        assert h.window is not None
        monitor = h.window.monitor
        plots = monitor.plots
        probe = ScreenProbe(plots, plots.newest_shown, [*plots.traces, "pleth"])
        refresh_s: list[float] = []
        untimed_refresh = monitor.refresh

        def timed_refresh(frame_ms: int) -> None:  # the pull + setData half of a frame
            start = time.perf_counter()
            untimed_refresh(frame_ms)
            refresh_s.append(time.perf_counter() - start)

        monitor.refresh = timed_refresh  # type: ignore[method-assign]
        history = prefill(h.rt.trends, h.rt.clock, load, HISTORY_S)
        run_loop_for(0.5)  # the first frames draw the history; not measured
        refresh_s.clear()
        probe.paint_s.clear()
        producer = Producer(h.rt.hub, h.rt.clock, load, seconds, probe.add)
        meter = feed(h, producer)
        run_loop_for(0.3)  # let the last readings reach the screen (not metered)
        probe.detach()
        return {
            "load": load.name,
            "readings_per_s": round(load.readings_per_s, 1),
            "readings": producer.published,
            "history_readings": history,
            "latency_ms": _ms(probe.latencies_s),
            "sampled": probe.sampled,
            "unshown": probe.unshown(),
            **_cpu_figures(meter, producer),
            "frames": len(refresh_s),
            "refresh_ms": _ms(refresh_s),
            "paint_ms": _ms(probe.paint_s),
            "producer_max_lag_ms": round(producer.max_lag_s * 1000, 1),
        }


def measure_naive(
    workdir: Path, load: Load, seconds: float, drain_s: float = 2.0
) -> dict[str, Any]:
    """The same load through :class:`NaivePlot`, with the same runtime behind it."""
    with harness(workdir, f"naive-{load.name}", window=False) as h:
        naive = NaivePlot(theme.DARK)
        naive.resize(1060, 680)  # about the trend area of the 1440x900 main window
        naive.show()
        submitted = 0

        def submit(reading: Any) -> None:
            nonlocal submitted
            if reading.channel in naive.curves:
                submitted += 1
                naive.submit(reading)

        h.rt.hub.subscribe(submit)
        prefill(h.rt.trends, h.rt.clock, load, HISTORY_S)  # the same history as kapdesk's
        naive.load_history(h.rt.trends)
        probe = ScreenProbe(naive, naive.newest_shown, naive.curves)
        run_loop_for(0.2)
        producer = Producer(h.rt.hub, h.rt.clock, load, seconds, probe.add)
        meter = feed(h, producer)
        behind = submitted - naive.drawn
        run_loop_until(lambda: naive.drawn >= submitted, drain_s)
        naive.accepting = False  # stop drawing; what is still queued is dropped
        run_loop_until(lambda: naive.drawn + naive.dropped >= submitted, 30)
        probe.detach()
        result = {
            "load": load.name,
            "readings": producer.published,
            "latency_ms": _ms(probe.latencies_s),
            "sampled": probe.sampled,
            "unshown": probe.unshown(),
            **_cpu_figures(meter, producer),
            "set_data_calls": naive.drawn,
            "set_data_ms_total": round(naive.set_data_s * 1000, 1),
            "paint_ms": _ms(probe.paint_s),
            "behind_at_end_of_feed": behind,
            "never_drawn": naive.dropped,
        }
        naive.close()
        naive.deleteLater()
        return result


def alarm_episodes(seconds: float, delay_s: float, no_data_s: float) -> tuple[Episode, ...]:
    """SpO2 below the high-priority limit and heart rate above it, each held past the
    condition delay; the pulse rate going silent past its "no data" time; all repeated
    while they fit in the phase."""
    episodes: list[Episode] = []
    for channel, value, first in (("spo2", 85.0, 1.0), ("heart_rate", 150.0, 1.4)):
        length = delay_s + 2.5
        start = first
        while start + delay_s + 1.0 < seconds:
            episodes.append(Episode(channel, start, length, value))
            start += length + 3.0
    start = 1.5
    while start + no_data_s + 1.0 < seconds:
        episodes.append(Episode("pulse_rate", start, no_data_s + 1.5, None))
        start += no_data_s + 3.0
    return tuple(episodes)


def measure_alarms(workdir: Path, seconds: float, block_ms: int, every_ms: int) -> dict[str, Any]:
    """How late each alarm comes after its condition delay expires, with a busy GUI."""
    with harness(workdir, "alarms") as h:
        rt = h.rt
        limits = rt.alarms.limits()
        delay_s = limits.delay_for("spo2")
        assert delay_s == limits.delay_for("heart_rate")
        interval = limits.expected_interval_for("pulse_rate")
        assert interval is not None
        no_data_s = 2 * interval  # the engine's "no data" time: twice the expected interval
        raised: list[tuple[str, Condition, float]] = []

        def on_transition(tr: AlarmTransition) -> None:  # alarm thread
            if tr.transition is TransitionKind.RAISED:
                raised.append((tr.channel, tr.condition, rt.clock.now()))

        rt.alarms.add_listener(on_transition)
        episodes = alarm_episodes(seconds, delay_s, no_data_s)
        acks = tuple(
            (e.start_s + e.length_s + 1.0, lambda: rt.alarms.acknowledge(by="benchmark"))
            for e in episodes
            if e.value is not None
        )
        producer = Producer(rt.hub, rt.clock, REALISTIC, seconds, episodes=episodes, actions=acks)
        blocker = GuiBlocker(block_ms, every_ms)
        meter = feed(h, producer)
        blocker.stop()
        end_t = rt.clock.now()
        late = _match_alarms(producer.records, raised, delay_s, no_data_s, end_t)
        return {
            "condition_delay_s": delay_s,
            "no_data_after_s": no_data_s,
            "episodes": len(late["all"]) + late["missed"],
            "late_ms": _ms(late["all"]),
            "late_ms_by_condition": {
                k: _ms(v) for k, v in late.items() if k not in ("all", "missed")
            },
            "missed": late["missed"],
            "gui_busy_percent": round(100 * blocker.blocked_s / meter.wall_s, 1),
            "gc_max_pause_ms": round(max(meter.gc_pauses_s, default=0.0) * 1000, 1),
        }


def _match_alarms(
    records: list[EpisodeRecord],
    raised: list[tuple[str, Condition, float]],
    delay_s: float,
    no_data_s: float,
    end_t: float,
) -> dict[str, Any]:
    """Pair each episode with the alarm it raised; lateness = raised - delay expiry."""
    out: dict[str, Any] = {"all": [], "missed": 0}
    used: set[int] = set()
    for record in records:
        e = record.episode
        if e.value is None:
            if record.last_before_t is None:
                continue
            expiry, wanted = record.last_before_t + no_data_s, {Condition.SIGNAL_LOST}
            label = "no data (pulse rate)"
        else:
            if record.first_beyond_t is None:
                continue
            expiry = record.first_beyond_t + delay_s
            wanted = {Condition.BELOW_LOW_LIMIT, Condition.ABOVE_HIGH_LIMIT}
            label = f"{e.channel} beyond limit"
        if expiry + 1.0 > end_t:
            continue  # the phase ended too soon to judge this one
        match = next(
            (
                i
                for i, (channel, condition, at) in enumerate(raised)
                if i not in used
                and channel == e.channel
                and condition in wanted
                and expiry - 1.0 <= at <= expiry + 5.0
            ),
            None,
        )
        if match is None:
            out["missed"] += 1
            continue
        used.add(match)
        late = raised[match][2] - expiry
        out["all"].append(late)
        out.setdefault(label, []).append(late)
    return out


def measure_memory(workdir: Path, hours: float, warmup_min: float) -> dict[str, Any]:
    """RSS after a warm-up vs after a simulated session of ``hours``, fed as fast as the
    app takes it (simulated session time; the GUI keeps refreshing on its own timer)."""
    with harness(workdir, "memory") as h:
        rt = h.rt
        simulated = SimulatedTime(rt.clock.monotonic())
        rt.clock.monotonic = simulated  # the alarm service and the GUI read this clock too

        def alarms_caught_up() -> None:  # a no-op command queued behind every reading
            rt.alarms.resolve_technical(Condition.RECORDING_FAILED, "benchmark").result(60)

        def settle() -> float:
            rt.recorder.flush(60)
            alarms_caught_up()
            run_loop_for(0.3)
            gc.collect()
            return rss_mb()

        samples: list[tuple[float, float]] = []
        syncs = (
            # The alarm engine must not fall behind the clock (it would see "no data"),
            (0.5, alarms_caught_up),
            # nor the recorder build a backlog a real-time session never has.
            (60.0, lambda: rt.recorder.flush(60)),
            (hours * 3600 / 16, lambda: samples.append((rt.clock.elapsed() / 3600, rss_mb()))),
        )

        def producer(seconds: float) -> Producer:
            return Producer(rt.hub, rt.clock, REALISTIC, seconds, simulated=simulated, syncs=syncs)

        warmup = producer(warmup_min * 60)
        feed(h, warmup)
        rss_start = settle()
        objects_start = len(gc.get_objects())
        session = producer(hours * 3600)
        meter = feed(h, session)
        rss_end = settle()
        return {
            "simulated_hours": hours,
            "readings": warmup.published + session.published,
            "readings_written": rt.recorder.readings_written,
            "rss_start_mb": round(rss_start, 1),
            "rss_end_mb": round(rss_end, 1),
            "growth_mb": round(rss_end - rss_start, 1),
            "python_objects_growth": len(gc.get_objects()) - objects_start,
            "rss_trend_mb": [(round(hh, 2), round(mb, 1)) for hh, mb in samples],
            "wall_s": round(meter.wall_s, 1),
            "speedup": round(hours * 3600 / meter.wall_s, 1),
            "gc_max_pause_ms": round(max(meter.gc_pauses_s, default=0.0) * 1000, 1),
        }


# -- the run and its report ---------------------------------------------------------------


def _ratio(a: float, b: float) -> float:
    return round(a / b, 1) if b > 0 and math.isfinite(a) and math.isfinite(b) else math.nan


def phase(measure: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run one phase, then collect its garbage here, on the GUI thread: Qt objects left in
    reference cycles must not be destroyed by a collection that happens to run on the
    next phase's producer thread."""
    try:
        return measure(*args)
    finally:
        gc.collect()


def run(config: Config, workdir: Path, log: Callable[[str], None]) -> dict[str, Any]:
    results: dict[str, Any] = {"mode": config.mode, "config": asdict(config)}
    log(f"realistic load, {config.realistic_s:g} s ...")
    results["realistic"] = phase(measure_kapdesk, workdir, REALISTIC, config.realistic_s)
    log(f"stress load, {config.stress_s:g} s ...")
    results["stress"] = phase(measure_kapdesk, workdir, STRESS, config.stress_s)
    log(f"alarm latency with a busy GUI, {config.alarm_s:g} s ...")
    results["alarms"] = phase(
        measure_alarms, workdir, config.alarm_s, config.gui_block_ms, config.gui_block_every_ms
    )
    log(
        f"naive plot, realistic {config.naive_realistic_s:g} s + stress {config.naive_stress_s:g} s"
    )
    naive_realistic = phase(measure_naive, workdir, REALISTIC, config.naive_realistic_s)
    naive_stress = phase(measure_naive, workdir, STRESS, config.naive_stress_s)
    results["naive"] = {"realistic": naive_realistic, "stress": naive_stress}
    for name, naive in (("realistic", naive_realistic), ("stress", naive_stress)):
        ours = results[name]
        results["naive"][f"{name}_ratio"] = {
            "app_cpu": _ratio(naive["app_cpu_percent"], ours["app_cpu_percent"]),
            "gui_cpu": _ratio(
                naive["thread_cpu_percent"].get("gui", math.nan),
                ours["thread_cpu_percent"].get("gui", math.nan),
            ),
            "latency_p99": _ratio(naive["latency_ms"]["p99"], ours["latency_ms"]["p99"]),
        }
    log(f"memory over {config.memory_hours:g} simulated hours ...")
    results["memory"] = phase(
        measure_memory, workdir, config.memory_hours, config.memory_warmup_min
    )
    log(f"storage: {config.storage_hours:g} session hours in blocks and as rows ...")
    results["storage"] = phase(measure_storage, workdir, config.storage_hours)
    log("start-up with the encrypted demo database ...")
    results["startup"] = phase(measure_startup, workdir, config.startup_runs)
    results["targets"] = targets(results)
    results["machine"] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "pyside6": PySide6.__version__,
        "pyqtgraph": pg.__version__,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    return results


def targets(r: dict[str, Any]) -> dict[str, dict[str, Any]]:
    def t(value: float, limit: float) -> dict[str, Any]:
        return {"value": value, "limit": limit, "met": bool(value <= limit)}

    return {
        "latency_p99_realistic_ms": t(r["realistic"]["latency_ms"]["p99"], TARGET_LATENCY_P99_MS),
        "latency_p99_stress_ms": t(r["stress"]["latency_ms"]["p99"], TARGET_LATENCY_P99_MS),
        "alarm_late_max_ms": t(r["alarms"]["late_ms"]["max"], TARGET_ALARM_LATE_MS),
        "app_cpu_realistic_percent": t(r["realistic"]["app_cpu_percent"], TARGET_CPU_PERCENT),
        "memory_growth_mb": t(r["memory"]["growth_mb"], TARGET_MEMORY_GROWTH_MB),
        "db_mb_per_hour": t(r["storage"]["blocks"]["mb_per_hour"], TARGET_DB_MB_PER_HOUR),
        "export_2h_s": t(r["storage"]["blocks"]["export_s_per_2h"], TARGET_EXPORT_2H_S),
        "whole_session_trend_ms": t(r["storage"]["blocks"]["trend_ms"], TARGET_TREND_MS),
        "migration_2h_s": t(r["storage"]["rows"]["migration_s_per_2h"], TARGET_MIGRATION_2H_S),
        "startup_encrypted_s": t(r["startup"]["median_s"], TARGET_STARTUP_S),
    }


def report(r: dict[str, Any]) -> str:
    real, stress, alarms, naive, mem = (
        r["realistic"],
        r["stress"],
        r["alarms"],
        r["naive"],
        r["memory"],
    )
    tg = r["targets"]
    m = r["machine"]
    rows: list[tuple[str, str, str, str]] = []

    def row(label: str, value: Any, target: str = "", key: str | None = None) -> None:
        met = "" if key is None else ("yes" if tg[key]["met"] else "NO")
        rows.append((label, f"{value}", target, met))

    def lat(x: dict[str, Any]) -> str:
        return f"p50 {x['p50']:.1f} / p99 {x['p99']:.1f} / max {x['max']:.1f}"

    row(
        "arrival->on-screen, realistic (ms)",
        lat(real["latency_ms"]),
        "p99 <= 50",
        "latency_p99_realistic_ms",
    )
    row(
        "arrival->on-screen, stress (ms)",
        lat(stress["latency_ms"]),
        "p99 <= 50",
        "latency_p99_stress_ms",
    )
    row(
        f"alarm after delay expiry, GUI busy {alarms['gui_busy_percent']:.0f} % (ms)",
        lat(alarms["late_ms"]) + f"  ({alarms['late_ms']['n']} alarms, {alarms['missed']} missed)",
        "max <= 100",
        "alarm_late_max_ms",
    )
    row(
        "app CPU, realistic (% of one core)",
        real["app_cpu_percent"],
        "<= 25",
        "app_cpu_realistic_percent",
    )
    row("app CPU, stress (% of one core)", stress["app_cpu_percent"])
    row(
        f"memory growth over {mem['simulated_hours']:g} simulated h (MB)",
        f"{mem['growth_mb']:.1f}  ({mem['rss_start_mb']:.0f} -> {mem['rss_end_mb']:.0f})",
        "<= 30",
        "memory_growth_mb",
    )
    for name in ("realistic", "stress"):
        ratio = naive[f"{name}_ratio"]
        nv = naive[name]
        row(
            f"naive plot / kapdesk, {name}",
            f"app CPU x{ratio['app_cpu']}, GUI CPU x{ratio['gui_cpu']},"
            f" p99 latency x{ratio['latency_p99']}",
        )
        row(
            f"  naive {name}: CPU %, latency (ms)",
            f"{nv['app_cpu_percent']} %, {lat(nv['latency_ms'])},"
            f" {nv['behind_at_end_of_feed']} readings behind",
        )
    for name, x in (("realistic", real), ("stress", stress)):
        row(
            f"  kapdesk {name}: frame refresh / paint (ms)",
            f"refresh {lat(x['refresh_ms'])}; paint {lat(x['paint_ms'])}",
        )
        threads = ", ".join(f"{k} {v}" for k, v in x["thread_cpu_percent"].items())
        row(f"  kapdesk {name}: CPU % by thread", threads)
    row(
        "  longest garbage-collector pause (ms)",
        f"realistic {real['gc_max_pause_ms']}, stress {stress['gc_max_pause_ms']},"
        f" alarm phase {alarms['gc_max_pause_ms']}, memory phase {mem['gc_max_pause_ms']}",
    )
    row(
        "  memory: readings, Python objects added, RSS trend",
        f"{mem['readings']} in {mem['wall_s']} s (x{mem['speedup']}),"
        f" {mem['python_objects_growth']:+d} objects,"
        f" MB at h: {', '.join(f'{h:g}:{mb:.0f}' for h, mb in mem['rss_trend_mb'][::4])}",
    )
    st = r["storage"]
    blocks, rows_ = st["blocks"], st["rows"]
    row(
        "database per session hour, realistic (MB)",
        f"{blocks['mb_per_hour']:.2f}  (row per sample: {rows_['mb_per_hour']:.1f};"
        f" {blocks['bytes_per_reading']:.1f} vs {rows_['bytes_per_reading']:.0f} bytes a reading)",
        "<= 1.5",
        "db_mb_per_hour",
    )
    row(
        "JSON export of a 2-hour session (s)",
        f"{blocks['export_s_per_2h']:.2f}  (row per sample: {rows_['export_s_per_2h']:.2f})",
        "< 3",
        "export_2h_s",
    )
    row(
        "whole-session trend, 4 vitals (ms)",
        f"{blocks['trend_ms']:.1f}  ({blocks['trend_points']} minute points)",
        "< 100",
        "whole_session_trend_ms",
    )
    row(
        "migration of a 2-hour row-per-sample session (s)",
        f"{rows_['migration_s_per_2h']:.2f}  ({rows_['readings']} rows checked)",
        "< 10",
        "migration_2h_s",
    )
    row(
        "  storage: trends read back at a resume",
        f"{blocks['resume_trend_samples']} samples in {blocks['resume_trend_ms']:.0f} ms;"
        f" {blocks['readings']} readings in {blocks['blocks']} blocks"
        f" ({st['session_hours']:g} h written, figures scaled to the hour / 2 h)",
    )
    up = r["startup"]
    row(
        "start-up to the first frame (sign-in), encrypted database (s)",
        f"median {up['median_s']:.2f} / max {up['max_s']:.2f}  (demo and clinic starts;"
        f" the demo's first, key and accounts made: {up['demo_first_start_s']:.2f})",
        "median < 1.5",
        "startup_encrypted_s",
    )
    width = [max(len(rw[i]) for rw in rows) for i in range(4)]
    head = (
        f"kapdesk monitor benchmark ({r['mode']}) - {m['cpus']} CPUs, load {m['load_average']},"
        f" Python {m['python']}, PySide6 {m['pyside6']}, pyqtgraph {m['pyqtgraph']}"
    )
    lines = [head, ""]
    header = ("figure", "value", "target", "met")
    for rw in (header, *rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(rw, width, strict=True)).rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/benchmark",
        description="kapdesk monitor benchmark: latency, alarm timing, CPU, memory (issue 4)",
    )
    parser.add_argument("--quick", action="store_true", help="short phases (about a minute)")
    parser.add_argument("--json-only", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    def log(msg: str) -> None:
        if not args.json_only:
            print(msg, file=sys.stderr, flush=True)

    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setApplicationName("kapdesk-benchmark")
    theme.apply(app)
    with tempfile.TemporaryDirectory(prefix="kapdesk-bench-") as tmp:
        results = run(config, Path(tmp), log)
    if not args.json_only:
        print(report(results))
    print(json.dumps(results, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
