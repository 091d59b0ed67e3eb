"""The data key in a real desktop keyring (issue 14 point 4): GNOME Keyring's Secret
Service on a private D-Bus session, as on a clinic's Linux desktop. The set-up keeps the
key there (as the app's "remember on this computer" does), a second process opens the
encrypted database without being asked for anything, and once the key is forgotten a
third process is refused until the passphrase is given."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PASSPHRASE = "the clinic passphrase 1"

STEPS = {
    "remember": """
        from kapdesk.storage import encryption
        from kapdesk.storage.database import open_database
        import keyring
        backend = type(keyring.get_keyring()).__module__
        assert "SecretService" in backend, backend
        assert encryption.keyring_problem() is None
        done = encryption.create_key_file(PATH, PASSPHRASE, "Lakeside Clinic")
        assert encryption.store_in_keyring(done.info.database_id, done.data_key)
        open_database(URL, done.data_key).dispose()
        print("kept in", backend)
    """,
    "open": """
        from sqlalchemy import text
        from kapdesk.storage.database import open_database
        engine = open_database(URL)  # nothing given: the keyring's key
        with engine.connect() as c:
            version = c.execute(text("SELECT version_num FROM alembic_version")).scalar()
            print("opened, revision", version)
        engine.dispose()
    """,
    "forget": """
        from kapdesk.storage import encryption
        info = encryption.key_file_info(PATH)
        assert encryption.forget_keyring(info.database_id)
        print("forgotten")
    """,
    "refused": """
        from kapdesk.storage.database import DatabaseLocked, open_database
        try:
            open_database(URL)
        except DatabaseLocked as exc:
            print("locked:", exc)
        else:
            raise SystemExit("opened without a key")
    """,
}


def test_the_key_in_gnome_keyring_opens_the_database_in_another_process(tmp_path: Path) -> None:
    missing = [p for p in ("dbus-run-session", "gnome-keyring-daemon") if not shutil.which(p)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: apt-get install dbus gnome-keyring")
    db = tmp_path / "clinic.sqlite3"
    head = f"PATH = {str(db)!r}\nURL = 'sqlite:///{db}'\nPASSPHRASE = {PASSPHRASE!r}\n"
    scripts = []
    for name, body in STEPS.items():
        script = tmp_path / f"{name}.py"
        script.write_text(head + textwrap.dedent(body), encoding="utf-8")
        scripts.append(f"{sys.executable} {script}")
    session = (
        "eval $(printf 'login keyring' | gnome-keyring-daemon --unlock --components=secrets"
        " --daemonize) && export GNOME_KEYRING_CONTROL && " + " && ".join(scripts)
    )
    run = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", session],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    out = run.stdout
    assert run.returncode == 0, run.stderr + out
    assert "kept in keyring.backends.SecretService" in out
    assert "opened, revision" in out and "forgotten" in out and "locked:" in out
    assert PASSPHRASE not in db.with_name(db.name + ".key.json").read_text()
