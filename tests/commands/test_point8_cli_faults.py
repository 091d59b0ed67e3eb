"""Issue 11 point 8: the CLI's smaller faults. ``replay`` refuses times it cannot show,
``export -o`` fails cleanly (no traceback, no ``.part`` left), read-only commands never
write (no database made on a misspelt path, a refused newer schema left byte for byte),
and a database on a read-only file system can still be exported."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from access_support import sign_in_cli

from kapdesk.cli import main
from kapdesk.demo.journal import create_demo_session
from kapdesk.storage.database import open_database


def made_database(path: Path) -> tuple[str, int, int]:
    """A database with one demo patient and session: (url, patient id, session id)."""
    url = f"sqlite:///{path}"
    engine = open_database(url)
    patient_id, session_id = create_demo_session(engine)
    engine.dispose()
    return url, patient_id, session_id


@pytest.mark.parametrize("bad", ["1e308", "nan", "inf", "-inf", "-1", "1969-12-31T00:00:00Z"])
def test_point8_replay_refuses_a_time_it_cannot_show(tmp_path: Path, capsys, bad: str) -> None:
    csv = tmp_path / "r.csv"
    csv.write_text(f"time,channel,value,unit\n0,heart_rate,70,/min\n{bad},heart_rate,190,/min\n")
    assert main(["replay", "--protocol", "im-ketamine", str(csv)]) == 2
    err = capsys.readouterr().err
    assert "line 3" in err and "time" in err


def test_point8_export_into_a_missing_directory(tmp_path: Path, capsys, monkeypatch) -> None:
    url, _, session_id = made_database(tmp_path / "k.sqlite3")
    sign_in_cli(monkeypatch, url)
    out = tmp_path / "no-such-dir" / "out.json"
    code = main(["--database-url", url, "export", "--session", str(session_id), "-o", str(out)])
    assert code == 2
    assert "no directory" in capsys.readouterr().err
    assert not out.parent.exists()


def test_point8_a_failed_export_leaves_no_part_file(tmp_path: Path, capsys, monkeypatch) -> None:
    url, _, _ = made_database(tmp_path / "k.sqlite3")
    sign_in_cli(monkeypatch, url)
    out = tmp_path / "out.json"
    assert main(["--database-url", url, "export", "--session", "999", "-o", str(out)]) == 2
    assert "999" in capsys.readouterr().err
    assert not any(p.name.startswith("out.json") for p in tmp_path.iterdir())


READ_ONLY = [
    ["sessions", "list"],
    ["export", "--session", "1"],
    ["journal", "export", "--patient", "1"],
]


@pytest.mark.parametrize("command", READ_ONLY, ids=lambda c: " ".join(c[:2]))
def test_point8_a_misspelt_path_is_reported_not_created(
    tmp_path: Path, capsys, command: list[str]
) -> None:
    missing = tmp_path / "kapdsk.sqlite3"
    assert main([*command, "--database-url", f"sqlite:///{missing}"]) == 2
    assert f"no database at {missing}" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", READ_ONLY, ids=lambda c: " ".join(c[:2]))
def test_point8_a_refused_newer_schema_is_left_byte_for_byte(
    tmp_path: Path, capsys, command: list[str]
) -> None:
    path = tmp_path / "newer.sqlite3"
    made_database(path)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=DELETE")  # as a newer kapdesk might leave it
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.close()
    before = path.read_bytes()
    assert main([*command, "--database-url", f"sqlite:///{path}"]) == 2
    assert "newer" in capsys.readouterr().err
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["newer.sqlite3"]


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(writable dir, the same dir read-only): a read-only bind mount, since root ignores
    chmod; as an ordinary user chmod 555 does it."""
    rw = tmp_path / "rw"
    rw.mkdir()
    if os.geteuid() != 0:
        yield rw, rw
        rw.chmod(0o755)
        return
    ro = tmp_path / "ro"
    ro.mkdir()
    subprocess.run(["mount", "--bind", str(rw), str(ro)], check=True)
    try:
        yield rw, ro
    finally:
        subprocess.run(["umount", "--lazy", str(ro)], check=True)


def test_point8_a_database_in_a_read_only_directory_is_refused_unaudited(
    read_only_dir: tuple[Path, Path], tmp_path: Path, capsys, monkeypatch
) -> None:
    """Reading patient data is audited (issue 14): a database that cannot take the audit
    entry (a read-only file system) is not read at all; the command says why."""
    rw, ro = read_only_dir
    rw_url, patient_id, session_id = made_database(rw / "k.sqlite3")
    sign_in_cli(monkeypatch, rw_url)
    if ro == rw:
        rw.chmod(0o555)
    else:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(ro)], check=True)
    url = f"sqlite:///{ro / 'k.sqlite3'}"
    out = tmp_path / "export.json"
    export = ["--database-url", url, "export", "--session", str(session_id), "-o", str(out)]
    for command in (
        export,
        ["sessions", "list", "--json", "--database-url", url],
        ["journal", "export", "--patient", str(patient_id), "--database-url", url],
    ):
        assert main(command) == 2
        captured = capsys.readouterr()
        assert "audit" in captured.err and "read-only" in captured.err, captured.err
        assert not captured.out
    assert not out.exists()
