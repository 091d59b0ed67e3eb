"""Starting the desktop app: database, runtime, window; optional screenshot and exit."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kapdesk.storage.database import DatabaseError, open_database

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from kapdesk.live.runtime import Runtime
    from kapdesk.ui.main_window import MainWindow

log = logging.getLogger(__name__)


def freeze_startup_objects() -> None:
    """Move everything built at start-up (modules, Qt wrappers, the window) out of the
    garbage collector's view, so a full collection scans only what the session creates.

    The benchmark (docs/benchmark.md) measured collector pauses of 140-460 ms without
    this, which stall every Python thread, the alarm service's included; with it the
    longest pause fell to about 1 ms.
    """
    gc.collect()
    gc.freeze()


def build_main_window(app: QApplication, runtime: Runtime, demo: bool = False) -> MainWindow:
    """The window exactly as the app shows it: the default theme applied to the whole
    application first (the window's theme switcher takes over from there). GUI tests
    build their window through here, so they see what a clinic sees."""
    from kapdesk.ui.common import theme
    from kapdesk.ui.main_window import MainWindow

    theme.apply(app, theme.DARK)
    return MainWindow(runtime, demo=demo)


def run_app(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from kapdesk.live.runtime import Runtime
    from kapdesk.ui.common.gui_thread import (
        collect_on_gui_thread,
        collecting_on_gui_thread,
        stop_collecting_on_gui_thread,
    )

    try:
        engine = open_database(args.database_url)
    except DatabaseError as exc:
        print(f"kapdesk: {exc}", file=sys.stderr)
        return 2
    log.info("database: %s", engine.url.render_as_string(hide_password=True))

    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setApplicationName("kapdesk")
    from kapdesk.config.check import clinic_file_errors  # issue 11 point 6

    if problems := clinic_file_errors():
        from kapdesk.ui.common.clinic_errors import show_clinic_file_errors

        for problem in problems:
            print(f"kapdesk: {problem}", file=sys.stderr)
        show_clinic_file_errors(problems)
        engine.dispose()
        return 2
    runtime = Runtime.build(engine, speed=args.speed)
    resumed = False
    if args.demo:
        from kapdesk.demo.mode import resume_demo, start_demo

        if not args.screenshot:
            from kapdesk.ui.common import theme
            from kapdesk.ui.session.resume import offer_resume

            theme.apply(app, theme.DARK)  # the prompt comes before the window: theme it too

            # a demo session killed mid-way is offered like any other: resumed, it
            # carries on with new emulators and its script where it was
            resumed = offer_resume(runtime, None, lambda o: resume_demo(runtime, o.stored.id))
        if not resumed:
            start_demo(runtime)
    window = build_main_window(app, runtime, demo=args.demo)
    window.show()
    freeze_startup_objects()
    hosted_collector = collecting_on_gui_thread()  # a host's collector is the host's to stop
    collect_on_gui_thread()  # Qt objects must not be collected on a device thread
    if not args.demo and not args.screenshot:
        from kapdesk.ui.session.resume import offer_resume

        offer_resume(runtime, window)  # a session left open by a crash or a closed app
    status = 0
    if args.screenshot:
        target = Path(args.screenshot)

        def shoot() -> None:
            nonlocal status
            window.refresh()
            if not window.grab().save(str(target), "PNG"):
                print(f"kapdesk: cannot write screenshot {target}", file=sys.stderr)
                status = 1
            else:
                log.info("screenshot saved to %s", target)
            app.quit()

        QTimer.singleShot(int(args.after * 1000), shoot)
    try:
        rc = app.exec()
    finally:
        window.close()
        runtime.shutdown()
        rescued = runtime.recorder.rescued_to
        if rescued is not None:
            readings, records = runtime.recorder.rescued
            print(
                f"kapdesk: the database could not be written ({runtime.recorder.last_error});"
                f" {readings} readings and {records} events were saved to {rescued} and are"
                " added to the database at the next start",
                file=sys.stderr,
            )
        elif runtime.recorder.rescued != (0, 0):
            print("kapdesk: recording failed and unsaved data was lost", file=sys.stderr)
            status = status or 3
        if not hosted_collector:
            stop_collecting_on_gui_thread()
    return status or rc
