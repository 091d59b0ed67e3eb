"""Starting the desktop app: database, runtime, window; optional screenshot and exit."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from kapdesk.domain.access import Role
from kapdesk.storage.database import (
    DatabaseError,
    DatabaseLocked,
    default_url,
    open_database,
    sqlite_file,
)

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from kapdesk.live.runtime import Runtime
    from kapdesk.storage.encryption import DataKey
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


def process_age_s() -> float:
    """Seconds since this process started (Linux: its start time in /proc against the
    boot clock), so start-up is measured from the launch, interpreter and imports included;
    elsewhere, since this module was imported."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        return time.clock_gettime(time.CLOCK_BOOTTIME) - started
    except (OSError, ValueError, IndexError, AttributeError):
        return time.monotonic() - _IMPORTED


_IMPORTED = time.monotonic()


def build_main_window(app: QApplication, runtime: Runtime, demo: bool = False) -> MainWindow:
    """The window exactly as the app shows it: the default theme applied to the whole
    application first (the window's theme switcher takes over from there). GUI tests
    build their window through here, so they see what a clinic sees."""
    from kapdesk.ui.common import theme
    from kapdesk.ui.main_window import MainWindow

    theme.apply(app, theme.DARK)
    return MainWindow(runtime, demo=demo)


def _sign_in_at_start(app: QApplication, runtime: Runtime, args: argparse.Namespace) -> bool:
    """Who is at the keyboard, before any window shows a patient: the first start makes
    the clinic's admin account; then someone signs in (or quits: False). Demo mode makes
    its demo accounts (only in a database without a clinic's) and shows their password;
    a demo screenshot signs in as the demo clinician."""
    from kapdesk.ui.common import theme
    from kapdesk.ui.common.sign_in import FirstStartDialog, SignInDialog

    theme.apply(app, theme.DARK)  # the dialogs come before the window: theme them too
    demo_accounts: list[tuple[str, frozenset[Role]]] = []
    if args.demo:
        from kapdesk.demo.accounts import (
            DEMO_PASSWORD,
            ClinicDatabaseError,
            ensure_demo_accounts,
        )

        try:
            demo_accounts = [(a.username, a.roles) for a in ensure_demo_accounts(runtime.accounts)]
        except ClinicDatabaseError as exc:
            print(f"kapdesk: {exc}", file=sys.stderr)
            _show_refusal(str(exc))
            return False
        if args.screenshot:
            runtime.desk.sign_in(demo_accounts[0][0], DEMO_PASSWORD)
            return True
    elif runtime.accounts.remove_demo_accounts():
        log.info("demo accounts removed from this clinic database")
    if args.screenshot:
        return True  # a screenshot of the signed-out window
    if runtime.accounts.count() == 0:
        first = FirstStartDialog(runtime.desk)
        return first.exec() == FirstStartDialog.DialogCode.Accepted
    dialog = SignInDialog(runtime.desk, demo_accounts, DEMO_PASSWORD if args.demo else "")
    return dialog.exec() == SignInDialog.DialogCode.Accepted


def _database_key(
    app: QApplication, url: str, args: argparse.Namespace
) -> tuple[bool, DataKey | None]:
    """(go on, key) for the database at ``url``. An SQLite file is always encrypted: the
    first start sets the clinic's passphrase (and encrypts a database an older kapdesk
    left plain, verified before the plain copy goes); later starts take the key from the
    keyring or ask for the passphrase or the recovery key. Demo mode encrypts its own
    database with the demo passphrase. A server database (PostgreSQL) keeps its data at
    rest under the server's own encryption (docs/security.md): no key here."""
    from kapdesk.storage import encryption, keys

    path = sqlite_file(url)
    if path is None:
        return True, None
    try:
        if args.demo:
            if not keys.has_key_file(path) and _holds_clinic_accounts(path):
                raise DatabaseError(
                    f"{path} holds a clinic's staff accounts: demo mode does not use it"
                    " (run the demo without --database-url: it has a database of its own)."
                    " Nothing was changed."
                )
            return True, keys.set_up_demo_key(path)
        if not keys.has_key_file(path) and encryption.is_encrypted(path):
            # an encrypted database whose key file is gone: never make a new key file over
            # it (that would lock its records away); say how to get the key back
            raise DatabaseError(
                f"{path} is encrypted (or not a database at all) and its key file"
                f" {encryption.key_file_path(path)} is missing. Put the key file back from the"
                " backup, or make a new one with the recovery key: kapdesk recover-key"
                + (f" --database-url {url}" if url else "")
                + ". Nothing was changed."
            )
        if not keys.has_key_file(path):
            if args.screenshot:
                raise DatabaseError(
                    f"{path} is not set up yet: start kapdesk once (it sets the clinic's"
                    " passphrase), then take screenshots"
                )
            return _set_up_encryption(app, path)
        key = keys.known_key(path)
    except encryption.EncryptionError as exc:
        raise DatabaseError(str(exc)) from exc
    if key is not None:
        return True, key
    if args.screenshot:
        raise DatabaseLocked(path)
    from kapdesk.ui.common import theme
    from kapdesk.ui.common.passphrase import UnlockDialog

    theme.apply(app, theme.DARK)
    info = encryption.key_file_info(path)
    dialog = UnlockDialog(
        unlock=lambda passphrase: encryption.unlock(path, passphrase),
        unlock_with_recovery=lambda recovery: encryption.unlock_with_recovery_key(path, recovery),
        recovery_problem=encryption.recovery_key_problem,
        clinic_name=info.clinic_name,
        database_path=str(path),
    )
    if dialog.exec() != UnlockDialog.DialogCode.Accepted:
        return False, None
    assert isinstance(dialog.result_key, encryption.DataKey)
    return True, dialog.result_key


def _holds_clinic_accounts(path: Path) -> bool:
    """Does this plain SQLite file hold any account that is not a demo one?"""
    import sqlite3

    if not path.is_file() or path.stat().st_size == 0:
        return False
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT count(*) FROM accounts WHERE NOT demo").fetchone()
    except sqlite3.DatabaseError:
        return False  # no accounts table (an older schema) or not plain SQLite
    finally:
        conn.close()
    return bool(row and row[0])


def _set_up_encryption(app: QApplication, path: Path) -> tuple[bool, DataKey | None]:
    """The clinic's passphrase, once: a key file, the recovery key shown, optionally the
    key in the OS keyring. ``open_database`` then encrypts an existing plain file."""
    from kapdesk.storage import encryption
    from kapdesk.ui.common import theme
    from kapdesk.ui.common.passphrase import SetPassphraseDialog

    theme.apply(app, theme.DARK)
    made: list[DataKey] = []

    def set_up(clinic: str, passphrase: str, remember: bool) -> str:
        done = encryption.create_key_file(path, passphrase, clinic)
        if remember and not encryption.store_in_keyring(done.info.database_id, done.data_key):
            log.warning("the key could not be kept in the keyring: the passphrase is asked")
        made.append(done.data_key)
        return done.recovery_key

    dialog = SetPassphraseDialog(
        set_up=set_up,
        keyring_reason=encryption.keyring_problem(),
        existing_data=path.exists() and path.stat().st_size > 0,
    )
    accepted = dialog.exec() == SetPassphraseDialog.DialogCode.Accepted
    if not made:
        return False, None
    # the key file exists once set up: even if the recovery page was closed, the
    # database is encrypted with that key (asked for at the next start otherwise)
    return accepted, made[0]


def _show_refusal(message: str) -> None:
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(QMessageBox.Icon.Warning, "kapdesk", message)
    box.exec()


def run_app(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from kapdesk.live.runtime import Runtime

    url = args.database_url or default_url(demo=args.demo)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setApplicationName("kapdesk")
    from kapdesk.ui.common.first_frame import log_first_frame

    log_first_frame(app, process_age_s)  # the benchmark's start-up figure
    from kapdesk.config.check import clinic_file_errors  # issue 11 point 6

    if problems := clinic_file_errors():
        from kapdesk.ui.common.clinic_errors import show_clinic_file_errors

        for problem in problems:
            print(f"kapdesk: {problem}", file=sys.stderr)
        show_clinic_file_errors(problems)
        return 2
    started = time.monotonic()
    try:
        go_on, key = _database_key(app, url, args)
        if not go_on:
            return 0
        engine = open_database(url, key)
    except DatabaseError as exc:
        print(f"kapdesk: {exc}", file=sys.stderr)
        if not args.screenshot:
            _show_refusal(str(exc))
        return 2
    log.info(
        "database: %s (%s, opened in %.2f s, %.2f s after start)",
        engine.url.render_as_string(hide_password=True),
        "encrypted" if key is not None else "not encrypted by kapdesk",
        time.monotonic() - started,
        process_age_s(),
    )
    runtime = Runtime.build(engine, speed=args.speed)
    if not _sign_in_at_start(app, runtime, args):
        runtime.shutdown()
        engine.dispose()
        return 0
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
    # imported here, not at the top: it loads pyqtgraph, which the first screen (unlock,
    # sign-in) does not need; start-up to that first frame is a benchmark figure
    from kapdesk.ui.common.gui_thread import (
        collect_on_gui_thread,
        collecting_on_gui_thread,
        stop_collecting_on_gui_thread,
    )

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
