"""Qt objects live and die on the GUI thread: worker threads reach the GUI through plain
queues, garbage is collected only on the GUI thread, media players are made by Qt."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import threading
import weakref
from concurrent.futures import Future
from pathlib import Path

import shiboken6
from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from kapdesk.ui.common.gui_thread import FutureBridge, ThreadInbox
from kapdesk.ui.common.media import media_player

ROOT = Path(__file__).resolve().parents[3]


def test_inbox_hands_worker_items_to_the_gui_thread_in_order(qtbot: QtBot) -> None:
    owner = QObject()
    seen: list[tuple[int, int]] = []
    inbox: ThreadInbox[int] = ThreadInbox(
        lambda i: seen.append((i, threading.get_ident())), owner, 5
    )
    workers = [
        threading.Thread(target=lambda k=k: [inbox.put(k * 1000 + i) for i in range(200)])
        for k in range(3)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    qtbot.waitUntil(lambda: len(seen) == 600, timeout=2000)
    assert {t for _, t in seen} == {threading.get_ident()}
    for k in range(3):  # each worker's items in the order it put them
        mine = [i for i, _ in seen if i // 1000 == k]
        assert mine == sorted(mine) and len(mine) == 200
    inbox.close()
    inbox.put(1)
    qtbot.wait(30)
    assert len(seen) == 600  # closed: nothing more is handed on


def test_future_bridge_calls_back_on_the_gui_thread_and_the_future_holds_no_callback(
    qtbot: QtBot,
) -> None:
    owner = QObject()
    bridge = FutureBridge(owner, interval_ms=5)
    calls: list[tuple[int, int]] = []

    class Receiver:  # stands in for a window: what the callback belongs to
        def done(self, fut: Future[int]) -> None:
            calls.append((fut.result(), threading.get_ident()))

    receiver = Receiver()
    fut: Future[int] = Future()
    bridge.watch(fut, receiver.done)
    gone = weakref.ref(receiver)
    worker = threading.Thread(target=lambda: fut.set_result(42))
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(calls) == 1, timeout=2000)
    assert calls == [(42, threading.get_ident())]
    del receiver
    gc.collect()
    # The writer thread may keep the future as long as it likes: it holds no widget.
    assert gone() is None and fut.done()


def test_garbage_is_collected_on_the_gui_thread_only(_collect_on_gui_thread) -> None:
    collector = _collect_on_gui_thread  # the app's collector, installed by conftest
    assert not gc.isenabled()
    died_on: list[int] = []

    class Holder(QObject):
        pass

    class Box:
        pass

    def make_cycle() -> None:
        box = Box()
        box.holder = Holder()  # type: ignore[attr-defined]
        box.holder.box = box  # type: ignore[attr-defined]  # a cycle: only gc frees it
        weakref.finalize(box, lambda: died_on.append(threading.get_ident()))

    def allocate(n: int) -> None:  # container allocations, as a busy thread makes them
        junk = []
        for i in range(n):
            junk.append([i])
            if len(junk) > 1000:
                junk.clear()

    make_cycle()
    worker = threading.Thread(target=allocate, args=(300_000,))  # every generation's worth
    worker.start()
    worker.join()
    assert died_on == []  # the worker's allocations collected nothing
    for _ in range(300):  # the GUI timer's ticks, with allocations between them
        alive = [[i] for i in range(1_000)]  # counted by the collector while they live
        collector.check()
        del alive
        if died_on:
            break
    assert died_on == [threading.get_ident()]


def test_media_players_are_made_by_qt_not_by_python(qtbot: QtBot) -> None:
    owner = QObject()
    player, output = media_player(owner)
    # Made from Python they would be shiboken subclasses whose virtual methods take the
    # GIL, called from FFmpeg's threads: the deadlock media.py explains.
    assert not shiboken6.createdByPython(player)
    assert not shiboken6.createdByPython(output)
    assert player.parent() is owner and player.audioOutput() is output


def test_stopping_and_switching_tracks_in_a_loop_never_hangs(tmp_path: Path) -> None:
    """The loop that hung every time (3 of 3 runs, within 400 cycles) with players made
    from Python (see media.py)."""
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from PySide6.QtCore import QObject, QUrl
        from PySide6.QtWidgets import QApplication
        from kapdesk.ui.common.media import media_player
        app = QApplication([])
        owner = QObject()
        files = [{str(ROOT / "resources/sounds/alarm-low.wav")!r},
                 {str(ROOT / "resources/sounds/alarm-high.wav")!r}]
        for i in range(400):
            player, _ = media_player(owner)
            player.setSource(QUrl.fromLocalFile(files[i % 2]))
            player.play()
            end = time.monotonic() + 0.01 * (i % 5)
            while time.monotonic() < end:
                app.processEvents()
            player.stop()
            player.setSource(QUrl())
            player.deleteLater()
            app.processEvents()
        print("cycles", i + 1)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "cycles 400" in done.stdout
