"""The dialogs of issue 10 take every colour from the theme: no widget style sheet, no
colour literal (theme.py's rule; a theme switch then re-colours them with the rest)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

UI = Path(__file__).resolve().parents[2] / "kapdesk" / "ui"
FILES = (
    "monitor/limits_dialog.py",
    "devices/panel.py",
    "session/dialogs.py",
    "common/screen_fit.py",
)


@pytest.mark.parametrize("name", FILES)
def test_no_style_sheet_or_colour_of_its_own(name: str) -> None:
    text = (UI / name).read_text(encoding="utf-8")
    assert "setStyleSheet" not in text
    assert not re.findall(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b", text)
    assert "color:" not in text and "colour:" not in text
