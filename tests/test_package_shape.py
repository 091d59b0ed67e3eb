"""The wheel installs one top-level package, ``kapdesk``, with the device profiles as
package data (issue 12: no top-level ``devices`` package in site-packages)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_wheel_holds_only_kapdesk_and_its_profiles(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True,
        cwd=tmp_path,
        timeout=240,
    )
    [wheel] = tmp_path.glob("kapdesk-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    dist_info = wheel.name.split("-py")[0] + ".dist-info"
    assert {n.split("/")[0] for n in names} == {"kapdesk", dist_info}
    profiles = [n for n in names if n.startswith("kapdesk/acquisition/profiles/")]
    assert len(profiles) == len(list((ROOT / "kapdesk/acquisition/profiles").glob("*.toml")))
    assert "kapdesk/storage/migrations/versions/0001_initial.py" in names
