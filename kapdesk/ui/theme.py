"""Colours and the style sheet: a calm dark theme, a dim in-session theme for the dosing
room, and a light day theme for paperwork; alarm colours are the same vivid ones in all.

Channel colours follow patient-monitor custom (heart rate green, SpO2 cyan, blood pressure
red-pink) so staff read them at a glance; everything else stays low-contrast grey-blue.
The dim theme is warm and low in blue and in luminance (a patient under an eye mask, a
therapist whose eyes have adapted to the dark), yet its text keeps WCAG AA contrast.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QPalette
from PySide6.QtWidgets import QApplication


@dataclass(frozen=True)
class Theme:
    name: str
    background: str
    panel: str
    panel_border: str
    text: str
    muted: str
    accent: str
    plot_background: str
    grid_alpha: float
    channel: dict[str, str]
    # Defaults are the dark theme's original values, so DARK looks as it always did.
    button: str = "#1d2530"
    button_hover: str = "#243040"
    badge_background: str = "#3a2f0b"
    badge_text: str = "#ffd866"
    label: str = ""


DARK = Theme(
    name="dark",
    background="#0d1117",
    panel="#151b23",
    panel_border="#252d38",
    text="#d5dde8",
    muted="#7d8896",
    accent="#6ea8fe",
    plot_background="#0f141b",
    grid_alpha=0.12,
    label="Dark",
    channel={
        "heart_rate": "#4fd17f",
        "pulse_rate": "#2f8f57",
        "spo2": "#46c8e8",
        "nibp_systolic": "#ff8a8a",
        "nibp_diastolic": "#ff8a8a",
        "nibp_mean": "#c86a6a",
        "pleth": "#46c8e8",
    },
)

#: For the treatment room during a session: warm near-black, amber-grey text, channel
#: colours kept in their usual hues but dimmer, nothing bright except alarms.
DIM = Theme(
    name="dim",
    label="Dim (in session)",
    background="#0a0806",
    panel="#120e0b",
    panel_border="#2a2119",
    text="#bfa98f",
    muted="#8f7a64",
    accent="#c98a4b",
    plot_background="#0c0907",
    grid_alpha=0.08,
    channel={
        "heart_rate": "#4a9e68",
        "pulse_rate": "#36724c",
        "spo2": "#4a9aa8",
        "nibp_systolic": "#c97a6e",
        "nibp_diastolic": "#c97a6e",
        "nibp_mean": "#9a5e55",
        "pleth": "#4a9aa8",
    },
    button="#1c1611",
    button_hover="#261d16",
    badge_background="#2e220c",
    badge_text="#d9b45a",
)

#: For the rest of the day (intake, notes, journals): light, warm paper, calm accents.
DAY = Theme(
    name="day",
    label="Day",
    background="#f3f0eb",
    panel="#fcfbf9",
    panel_border="#d6cfc4",
    text="#1f2328",
    muted="#575f6a",
    accent="#2a64a8",
    plot_background="#fcfbf9",
    grid_alpha=0.18,
    channel={
        "heart_rate": "#1d7f45",
        "pulse_rate": "#3f9a63",
        "spo2": "#0b7894",
        "nibp_systolic": "#c0392b",
        "nibp_diastolic": "#c0392b",
        "nibp_mean": "#8e2b20",
        "pleth": "#0b7894",
    },
    button="#e8e3dc",
    button_hover="#ddd6cc",
    badge_background="#fbeec4",
    badge_text="#6b4d00",
)

#: Every theme by name, for a menu.
THEMES: dict[str, Theme] = {"dark": DARK, "dim": DIM, "day": DAY}

ALARM_COLOURS = {"high": "#ff3b30", "medium": "#ffcc00", "low": "#36c5f0"}


def apply(app: QApplication, theme: Theme = DARK) -> None:
    pal = QPalette()
    pal.setColor(QPalette.ColorRole.Window, QColor(theme.background))
    pal.setColor(QPalette.ColorRole.WindowText, QColor(theme.text))
    pal.setColor(QPalette.ColorRole.Base, QColor(theme.panel))
    pal.setColor(QPalette.ColorRole.AlternateBase, QColor(theme.background))
    pal.setColor(QPalette.ColorRole.Text, QColor(theme.text))
    pal.setColor(QPalette.ColorRole.Button, QColor(theme.panel))
    pal.setColor(QPalette.ColorRole.ButtonText, QColor(theme.text))
    pal.setColor(QPalette.ColorRole.Highlight, QColor(theme.accent))
    pal.setColor(QPalette.ColorRole.PlaceholderText, QColor(theme.muted))
    app.setPalette(pal)
    app.setStyleSheet(style_sheet(theme))


def style_sheet(t: Theme) -> str:
    return f"""
    QWidget {{ color: {t.text}; font-size: 14px; }}
    QMainWindow, QWidget#central {{ background: {t.background}; }}
    QFrame#panel {{ background: {t.panel}; border: 1px solid {t.panel_border};
                    border-radius: 8px; }}
    QLabel#muted {{ color: {t.muted}; }}
    QLabel#heading {{ font-size: 18px; font-weight: 600; }}
    QLabel#badge {{ background: {t.badge_background}; color: {t.badge_text}; border-radius: 6px;
                   padding: 2px 8px; font-weight: 600; }}
    QListWidget {{ background: {t.panel}; border: 1px solid {t.panel_border};
                   border-radius: 8px; padding: 4px; }}
    QStatusBar {{ color: {t.muted}; }}
    QPushButton {{ background: {t.button}; border: 1px solid {t.panel_border};
                   border-radius: 6px; padding: 6px 14px; }}
    QPushButton:hover {{ background: {t.button_hover}; }}
    QPushButton:checked {{ border: 2px solid {t.accent}; }}
    QPushButton:disabled {{ color: {t.muted}; }}
    QProgressBar {{ background: {t.button}; border: none; border-radius: 3px; }}
    QProgressBar::chunk {{ background: {t.accent}; border-radius: 3px; }}
    QLabel#notice {{ color: {t.badge_text}; background: {t.badge_background}; }}
    """


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of a ``#rrggbb`` colour (0 black .. 1 white)."""
    c = QColor(colour)

    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio (1..21); body text needs 4.5, large text 3.

    Hand-written: it is the two-line formula from WCAG 2.x, not worth a dependency.
    """
    a, b = relative_luminance(foreground), relative_luminance(background)
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)


class ThemeSwitcher(QObject):
    """Switches the application's theme (palette and style sheet) and says so.

    Widgets that paint theme colours themselves (plots) listen to ``theme_changed``.
    ``actions()`` gives checkable menu actions, one per theme, for the main window.
    """

    theme_changed = Signal(object)  # the new Theme

    def __init__(self, app: QApplication, theme: Theme = DARK, parent: QObject | None = None):
        super().__init__(parent)
        self.app = app
        self.theme = theme
        self._group: QActionGroup | None = None

    def set_theme(self, theme: Theme | str) -> None:
        if isinstance(theme, str):
            if theme not in THEMES:
                raise KeyError(f"unknown theme {theme!r}; themes are {list(THEMES)}")
            theme = THEMES[theme]
        apply(self.app, theme)
        changed = theme != self.theme
        self.theme = theme
        if self._group is not None:
            for action in self._group.actions():
                action.setChecked(action.data() == theme.name)
        if changed:
            self.theme_changed.emit(theme)

    def for_session(self, in_session: bool) -> None:
        """Dim while a session runs in the room, day theme otherwise."""
        self.set_theme(DIM if in_session else DAY)

    def actions(self, parent: QObject) -> list[QAction]:
        """Exclusive, checkable actions (Dark, Dim, Day) to put in a "View" menu."""
        self._group = QActionGroup(parent)
        self._group.setExclusive(True)
        for theme in THEMES.values():
            action = QAction(theme.label or theme.name.capitalize(), parent)
            action.setCheckable(True)
            action.setData(theme.name)
            action.setChecked(theme == self.theme)
            action.triggered.connect(lambda _c=False, name=theme.name: self.set_theme(name))
            self._group.addAction(action)
        return self._group.actions()
