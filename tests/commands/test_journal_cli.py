"""``kapdesk journal demo`` and ``kapdesk journal export``, run as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kapdesk.storage.database import open_database


def kapdesk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kapdesk", *args], capture_output=True, text=True, timeout=60
    )


def test_demo_then_export_markdown_and_html(db_url: str, tmp_path: Path) -> None:
    demo = kapdesk("journal", "demo", "--database-url", db_url)
    assert demo.returncode == 0, demo.stderr
    assert "demo patient 1, session 1" in demo.stdout

    md = kapdesk("journal", "export", "--patient", "1", "--database-url", db_url)
    assert md.returncode == 0, md.stderr
    assert md.stdout.startswith("# Integration journal: Demo Patient (journal)")
    assert "grandmother's kitchen" in md.stdout
    assert "Private entry" in md.stdout and "brother" not in md.stdout
    assert "PHQ-9 12 (moderate)  ⚠ item 9 above 0" in md.stdout

    out = tmp_path / "journal.html"
    html = kapdesk(
        "journal", "export", "--patient", "1", "--format", "html", "-o", str(out),
        "--database-url", db_url,
    )  # fmt: skip
    assert html.returncode == 0, html.stderr
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "grandmother&#x27;s kitchen" in page
    assert "brother" not in page

    mine = kapdesk(
        "journal", "export", "--patient", "1", "--for", "patient", "--database-url", db_url
    )
    assert "brother" in mine.stdout  # the patient's own copy is complete


def test_export_of_an_unknown_patient_says_so(db_url: str) -> None:
    open_database(db_url).dispose()  # a read-only export never creates one (issue 11 point 8)
    r = kapdesk("journal", "export", "--patient", "99", "--database-url", db_url)
    assert r.returncode == 2 and "no patient with id 99" in r.stderr
