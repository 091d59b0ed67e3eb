"""The dim in-session theme and the day theme: legible text, vivid alarms, switching."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QMenu
from pytestqt.qtbot import QtBot

from kapdesk.ui.common.theme import (
    ALARM_COLOURS,
    DARK,
    DAY,
    DIM,
    THEMES,
    Theme,
    ThemeSwitcher,
    contrast_ratio,
    relative_luminance,
    style_sheet,
)

ALL = [DARK, DIM, DAY]


def test_contrast_formula_matches_wcag_examples() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)


@pytest.mark.parametrize("theme", ALL, ids=lambda t: t.name)
def test_text_is_legible_on_every_surface(theme: Theme) -> None:
    for surface in (theme.background, theme.panel, theme.button, theme.plot_background):
        assert contrast_ratio(theme.text, surface) >= 4.5, (theme.name, surface)
    for surface in (theme.background, theme.panel, theme.plot_background):
        # Muted text sits on panels and the window (on buttons only when disabled).
        assert contrast_ratio(theme.muted, surface) >= 4.5, (theme.name, "muted", surface)
    assert contrast_ratio(theme.badge_text, theme.badge_background) >= 4.5
    for channel, colour in theme.channel.items():
        assert contrast_ratio(colour, theme.plot_background) >= 3.0, (theme.name, channel)


def test_dim_is_darker_warmer_and_lower_glare_than_dark() -> None:
    assert relative_luminance(DIM.background) <= relative_luminance(DARK.background)
    assert relative_luminance(DIM.text) < relative_luminance(DARK.text)
    for colour in (DIM.background, DIM.panel, DIM.text, DIM.muted, DIM.accent):
        c = QColor(colour)
        assert c.blue() < c.red(), colour  # warm: less blue than red


def test_alarms_stay_vivid_in_every_theme() -> None:
    assert ALARM_COLOURS == {"high": "#ff3b30", "medium": "#ffcc00", "low": "#36c5f0"}
    dim_colours = [DIM.background, DIM.panel, DIM.button, DIM.text, DIM.muted, DIM.accent]
    for colour in ALARM_COLOURS.values():
        # The banner writes black on the alarm colour; on the dim room's background the
        # alarm colour itself reads at AA contrast.
        assert contrast_ratio("#000000", colour) >= 4.5
        assert contrast_ratio(colour, DIM.background) >= 4.5
        # Vivid: saturated and bright, where everything in the dim theme is muted and low.
        alarm = QColor(colour)
        assert alarm.hsvSaturationF() >= 0.75 and alarm.valueF() >= 0.94
    for colour in dim_colours:
        c = QColor(colour)
        assert c.hsvSaturationF() < 0.65 and c.valueF() < 0.8, colour


def test_day_is_a_light_theme() -> None:
    assert relative_luminance(DAY.background) > 0.8
    assert relative_luminance(DAY.text) < 0.05


def test_dark_style_sheet_kept_its_look() -> None:
    sheet = style_sheet(DARK)
    assert "background: #1d2530" in sheet and "background: #243040" in sheet
    assert "#3a2f0b" in sheet and "#ffd866" in sheet


def test_switcher_applies_palette_and_sheet_and_menu_actions(qtbot: QtBot) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    switcher = ThemeSwitcher(app)
    seen: list[Theme] = []
    switcher.theme_changed.connect(seen.append)
    menu = QMenu()
    qtbot.addWidget(menu)
    actions = switcher.actions(menu)
    assert [a.data() for a in actions] == list(THEMES)
    assert [a.isChecked() for a in actions] == [True, False, False]
    try:
        switcher.for_session(True)
        assert app.palette().color(QPalette.ColorRole.Window) == QColor(DIM.background)
        assert DIM.background in app.styleSheet()
        assert [a.isChecked() for a in actions] == [False, True, False]
        actions[2].trigger()
        assert switcher.theme is DAY
        assert app.palette().color(QPalette.ColorRole.WindowText) == QColor(DAY.text)
        assert seen == [DIM, DAY]
        with pytest.raises(KeyError, match="unknown theme 'neon'"):
            switcher.set_theme("neon")
    finally:
        app.setStyleSheet("")
        app.setPalette(QPalette())
