"""``kapdesk journal demo`` and ``kapdesk journal export``, run as a user would: the
export signs in, holds only what the signed-in user may read, and is audited."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from access_support import cli_user

from kapdesk.domain.access import Role
from kapdesk.storage.database import open_database


def kapdesk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kapdesk", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_demo_then_export_markdown_and_html(db_url: str, tmp_path: Path) -> None:
    demo = kapdesk("journal", "demo", "--database-url", db_url)
    assert demo.returncode == 0, demo.stderr
    assert "demo patient 1, session 1" in demo.stdout

    nobody = kapdesk("journal", "export", "--patient", "1", "--database-url", db_url)
    assert nobody.returncode == 2 and "--user" in nobody.stderr and not nobody.stdout
    therapist = cli_user(db_url, "clinician", {Role.ADMIN, Role.THERAPIST})
    outside = kapdesk(
        "journal", "export", "--patient", "1", "--database-url", db_url, env=therapist
    )
    assert outside.returncode == 2 and "care team" in outside.stderr and not outside.stdout
    care = kapdesk(
        "users", "care", "clinician", "--add", "1", "--database-url", db_url, env=therapist
    )
    assert care.returncode == 0, care.stderr
    assert "Demo Patient (journal)" in care.stdout
    md = kapdesk("journal", "export", "--patient", "1", "--database-url", db_url, env=therapist)
    assert md.returncode == 0, md.stderr
    assert md.stdout.startswith("# Integration journal: Demo Patient (journal)")
    assert "grandmother's kitchen" in md.stdout
    assert "Private entry" in md.stdout and "brother" not in md.stdout
    assert "PHQ-9 12 (moderate)  ⚠ item 9 above 0" in md.stdout

    out = tmp_path / "journal.html"
    html = kapdesk(
        "journal", "export", "--patient", "1", "--format", "html", "-o", str(out),
        "--database-url", db_url, env=therapist,
    )  # fmt: skip
    assert html.returncode == 0, html.stderr
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "grandmother&#x27;s kitchen" in page
    assert "brother" not in page
    assert out.stat().st_mode & 0o777 == 0o600

    mine = kapdesk(
        "journal", "export", "--patient", "1", "--for", "patient", "--database-url", db_url,
        env=therapist,
    )  # fmt: skip
    assert mine.returncode == 2 and "brother" not in mine.stdout  # only the patient reads it
    assert "patient mode" in mine.stderr

    nurse = cli_user(db_url, "nurse", {Role.MEDICAL_STAFF})
    refused = kapdesk("journal", "export", "--patient", "1", "--database-url", db_url, env=nurse)
    assert refused.returncode == 2 and "not allowed" in refused.stderr and not refused.stdout

    audit = kapdesk("audit", "list", "--action", "export", "--database-url", db_url, env=therapist)
    assert audit.returncode == 0, audit.stderr
    assert audit.stdout.count("patient:1/journal") == 2  # markdown to stdout, html to a file


def test_export_of_an_unknown_patient_says_so(db_url: str) -> None:
    open_database(db_url).dispose()
    therapist = cli_user(db_url)
    r = kapdesk("journal", "export", "--patient", "99", "--database-url", db_url, env=therapist)
    assert r.returncode == 2 and "no patient with id 99" in r.stderr


def test_the_journal_demo_never_goes_into_a_clinics_database(db_url: str) -> None:
    cli_user(db_url)  # a clinic account
    r = kapdesk("journal", "demo", "--database-url", db_url)
    assert r.returncode == 2 and "demo database" in r.stderr
