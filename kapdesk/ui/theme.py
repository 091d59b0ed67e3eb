"""Colours and the style sheet: a calm dark theme for a dim room, with vivid alarm colours.

Channel colours follow patient-monitor custom (heart rate green, SpO2 cyan, blood pressure
red-pink) so staff read them at a glance; everything else stays low-contrast grey-blue.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette
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
    QLabel#badge {{ background: #3a2f0b; color: #ffd866; border-radius: 6px;
                   padding: 2px 8px; font-weight: 600; }}
    QListWidget {{ background: {t.panel}; border: 1px solid {t.panel_border};
                   border-radius: 8px; padding: 4px; }}
    QStatusBar {{ color: {t.muted}; }}
    QPushButton {{ background: #1d2530; border: 1px solid {t.panel_border}; border-radius: 6px;
                   padding: 6px 14px; }}
    QPushButton:hover {{ background: #243040; }}
    """
