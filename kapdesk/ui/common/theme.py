"""Colours and the style sheet: a calm dark theme, a dim in-session theme for the dosing
room, and a light day theme for paperwork; alarm colours are the same vivid ones in all.

Channel colours follow patient-monitor custom (heart rate green, SpO2 cyan, blood pressure
red-pink) so staff read them at a glance; everything else stays low-contrast grey-blue.
The dim theme is warm and low in blue and in luminance (a patient under an eye mask, a
therapist whose eyes have adapted to the dark), yet its text keeps WCAG AA contrast.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QWidget


@dataclass(frozen=True)
class Theme:
    """Every colour a widget may use, by the role it plays.

    Widgets never write a colour of their own: they take a role from here (through the
    application style sheet, ``set_role``, or ``active()`` when they paint), so a theme
    switch re-colours everything and ``contrast_pairs`` can check every pairing.
    """

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
    button: str
    button_hover: str
    badge_background: str
    badge_text: str
    label: str
    #: messages that went well / need a look / went wrong (text on the panel)
    ok: str
    warn: str
    error: str
    #: tags, links, a chosen option
    link: str
    #: a search hit inside text
    hit: str
    #: a patient's intention, quoted
    intention: str
    #: the border of an unchecked checkbox or radio button (a control: 3:1)
    control_border: str
    #: a scheduled check that is due / late / missed
    due_background: str
    due_text: str
    overdue_background: str
    overdue_text: str
    missed_text: str
    #: a safety flag (questionnaire item 9): it must stand out in every theme
    flag_background: str
    flag_text: str
    flag_border: str
    #: alarm colours for text on the panel (lists, the log): the vivid banner colours
    #: fail on a light panel, so each theme has its own
    alarm_text: dict[str, str]
    #: the banner when nothing alarms, and its unlit half of a flash
    banner_calm_background: str
    banner_calm_border: str
    banner_calm_text: str
    banner_unlit_background: str
    #: questionnaire score lines (journal review)
    score: dict[str, str] = field(default_factory=dict)


DARK = Theme(
    name="dark",
    label="Dark",
    background="#0d1117",
    panel="#151b23",
    panel_border="#252d38",
    text="#d5dde8",
    muted="#8b96a5",
    accent="#6ea8fe",
    plot_background="#0f141b",
    grid_alpha=0.12,
    channel={
        "heart_rate": "#4fd17f",
        "pulse_rate": "#3fae6c",
        "spo2": "#46c8e8",
        "nibp_systolic": "#ff8a8a",
        "nibp_diastolic": "#ff8a8a",
        "nibp_mean": "#d87a7a",
        "pleth": "#46c8e8",
    },
    button="#1d2530",
    button_hover="#243040",
    badge_background="#3a2f0b",
    badge_text="#ffd866",
    ok="#8fd6a0",
    warn="#f0b36a",
    error="#ffb4a8",
    link="#9ecbff",
    hit="#ffd866",
    intention="#e8d9b0",
    control_border="#7d8896",
    due_background="#2a2616",
    due_text="#e6cf8a",
    overdue_background="#33261a",
    overdue_text="#f0b98a",
    missed_text="#ff9f8f",
    flag_background="#5a1414",
    flag_text="#ffe3e3",
    flag_border="#ff3b30",
    alarm_text={"high": "#ff6b61", "medium": "#ffcc00", "low": "#36c5f0"},
    banner_calm_background="#152018",
    banner_calm_border="#20402a",
    banner_calm_text="#7fd69a",
    banner_unlit_background="#1a1410",
    score={"phq9": "#b39dff", "gad7": "#f0b35a"},
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
        "pulse_rate": "#3f875a",
        "spo2": "#4a9aa8",
        "nibp_systolic": "#c97a6e",
        "nibp_diastolic": "#c97a6e",
        "nibp_mean": "#a8665c",
        "pleth": "#4a9aa8",
    },
    button="#1c1611",
    button_hover="#261d16",
    badge_background="#2e220c",
    badge_text="#d9b45a",
    ok="#7fae7f",
    warn="#d09a5a",
    error="#e0907f",
    link="#c9a070",
    hit="#e0b860",
    intention="#c8b48a",
    control_border="#7a6650",
    due_background="#241c0e",
    due_text="#d4b46a",
    overdue_background="#2a1a10",
    overdue_text="#dc9a6a",
    missed_text="#e08a78",
    flag_background="#3a0e0c",
    flag_text="#f0c8c0",
    flag_border="#d0453a",
    alarm_text={"high": "#ff6b61", "medium": "#e6b800", "low": "#36b5e0"},
    banner_calm_background="#10140c",
    banner_calm_border="#243020",
    banner_calm_text="#7fa078",
    banner_unlit_background="#140e0a",
    score={"phq9": "#a890e0", "gad7": "#d09a50"},
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
        "pulse_rate": "#2a8050",
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
    ok="#1d6b3a",
    warn="#8a4f00",
    error="#b3261e",
    link="#1f5a9e",
    hit="#7a4d00",
    intention="#5c4a1f",
    control_border="#6f6a62",
    due_background="#fbeec4",
    due_text="#5c4200",
    overdue_background="#f8dcc4",
    overdue_text="#7a3300",
    missed_text="#a3221a",
    flag_background="#fde2e0",
    flag_text="#7a0f0a",
    flag_border="#c0271d",
    alarm_text={"high": "#b3261e", "medium": "#7a5c00", "low": "#0b6480"},
    banner_calm_background="#e6f2e8",
    banner_calm_border="#b5d6bd",
    banner_calm_text="#1d5e33",
    banner_unlit_background="#f6efe6",
    score={"phq9": "#5b3fb0", "gad7": "#9a5a00"},
)

#: Every theme by name, for a menu.
THEMES: dict[str, Theme] = {"dark": DARK, "dim": DIM, "day": DAY}

#: The vivid alarm colours of the banner when lit (black text on them), the same in
#: every theme as monitors keep them, and the alarm bands of the plots.
ALARM_COLOURS = {"high": "#ff3b30", "medium": "#ffcc00", "low": "#36c5f0"}
#: Text on a lit alarm colour.
ALARM_ON_TEXT = "#000000"

_active: Theme = DARK


class _ThemeNotifier(QObject):
    changed = Signal(object)  # the new Theme


_notifier: _ThemeNotifier | None = None


def active() -> Theme:
    """The theme the application shows now, for widgets that paint or write HTML."""
    return _active


def notifier() -> _ThemeNotifier:
    """Emits ``changed(theme)`` after every switch: connect a bound method of the widget
    (Qt drops the connection when the widget goes) to re-colour what it paints."""
    global _notifier
    if _notifier is None:
        _notifier = _ThemeNotifier()
    return _notifier


def styled_label(text: str, name: str) -> QLabel:
    """A label whose object name (``muted``, ``heading``, ``error``) picks its colour and
    size from the theme's style sheet."""
    label = QLabel(text)
    label.setObjectName(name)
    return label


def set_role(widget: QWidget, role: str) -> None:
    """Give a widget a colour/size role from the application style sheet (``role``
    property) and re-polish it, since Qt re-reads a property selector only on polish."""
    set_style_property(widget, "role", role)


def set_style_property(widget: QWidget, name: str, value: str) -> None:
    """Set a property the application style sheet selects on (``role``, ``alarm``) and
    re-polish the widget; nothing happens when it already has that value."""
    if (widget.property(name) or "") == value:
        return
    widget.setProperty(name, value)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()


def html_style(t: Theme | None = None) -> str:
    """CSS for rich-text documents (summaries, journal entries), from the theme."""
    t = t or _active
    return (
        f"body {{ color: {t.text}; font-size: 16px; }}"
        f" h2 {{ font-size: 20px; }}"
        f" h3 {{ font-size: 18px; color: {t.accent}; margin-top: 14px; }}"
        f" .muted {{ color: {t.muted}; }} .ok {{ color: {t.ok}; }}"
        f" .warn {{ color: {t.warn}; }} .error {{ color: {t.error}; }}"
        f" .missed {{ color: {t.missed_text}; }} .tag {{ color: {t.link}; }}"
        f" .hit {{ color: {t.hit}; font-weight: bold; }}"
        f" .flag {{ color: {t.error}; font-weight: bold; }}"
        f" td {{ padding: 2px 10px 2px 0; }}"
    )


def contrast_pairs(t: Theme) -> list[tuple[str, str, str, float]]:
    """Every foreground/background pairing the UI uses, with its WCAG AA minimum:
    4.5 for text, 3 for large text (numerals, headings) and for controls."""
    pairs: list[tuple[str, str, str, float]] = []
    for surface_name, surface in (("background", t.background), ("panel", t.panel)):
        for name in (
            "text",
            "muted",
            "ok",
            "warn",
            "error",
            "link",
            "hit",
            "intention",
            "missed_text",
            "accent",
        ):
            pairs.append((f"{name} on {surface_name}", getattr(t, name), surface, 4.5))
        for channel, colour in t.channel.items():
            pairs.append((f"{channel} numerals on {surface_name}", colour, surface, 3.0))
        for priority, colour in t.alarm_text.items():
            pairs.append((f"{priority} alarm text on {surface_name}", colour, surface, 4.5))
        pairs.append((f"control border on {surface_name}", t.control_border, surface, 3.0))
        for name in ("due_text", "overdue_text", "missed_text"):  # rows of the checks list
            pairs.append((f"{name} on {surface_name}", getattr(t, name), surface, 4.5))
        for name, colour in t.score.items():
            pairs.append((f"{name} score line on {surface_name}", colour, surface, 3.0))
    pairs += [
        ("text on button", t.text, t.button, 4.5),
        ("text on hovered button", t.text, t.button_hover, 4.5),
        ("muted (disabled) on button", t.muted, t.button, 3.0),
        ("badge", t.badge_text, t.badge_background, 4.5),
        ("due check", t.due_text, t.due_background, 4.5),
        ("late check", t.overdue_text, t.overdue_background, 4.5),
        ("safety flag", t.flag_text, t.flag_background, 4.5),
        ("safety flag border", t.flag_border, t.background, 3.0),
        ("calm banner", t.banner_calm_text, t.banner_calm_background, 4.5),
        ("selected text", t.background if _is_light(t.accent) else "#ffffff", t.accent, 4.5),
        ("grid-less plot axis", t.muted, t.plot_background, 4.5),
    ]
    for priority, colour in ALARM_COLOURS.items():
        pairs.append((f"lit {priority} banner", ALARM_ON_TEXT, colour, 4.5))
        pairs.append(
            (f"unlit {priority} banner", t.alarm_text[priority], t.banner_unlit_background, 4.5)
        )
    return pairs


def _is_light(colour: str) -> bool:
    return relative_luminance(colour) > 0.18


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
    pal.setColor(QPalette.ColorRole.HighlightedText, QColor(selected_text(theme)))
    pal.setColor(QPalette.ColorRole.ToolTipBase, QColor(theme.panel))
    pal.setColor(QPalette.ColorRole.ToolTipText, QColor(theme.text))
    pal.setColor(QPalette.ColorRole.Link, QColor(theme.link))
    app.setPalette(pal)
    app.setStyleSheet(style_sheet(theme))
    global _active
    changed = theme != _active
    _active = theme
    if changed:
        notifier().changed.emit(theme)


def selected_text(t: Theme) -> str:
    """Text on the accent colour (a selected list row)."""
    return t.background if _is_light(t.accent) else "#ffffff"


def style_sheet(t: Theme) -> str:
    """The application style sheet: every widget's colours, by object name or ``role``."""
    alarm_borders = "\n".join(
        f'    QFrame#panel[alarm="{p}"] {{ border: 3px solid {c}; }}'
        for p, c in ALARM_COLOURS.items()
    )
    return f"""
    QWidget {{ color: {t.text}; font-size: 14px; }}
    QMainWindow, QDialog, QWidget#central {{ background: {t.background}; }}
    QFrame#panel {{ background: {t.panel}; border: 1px solid {t.panel_border};
                    border-radius: 8px; }}
{alarm_borders}
    QLabel#muted, QLabel[role="muted"] {{ color: {t.muted}; }}
    QLabel#heading, QLabel[role="heading"] {{ font-size: 18px; font-weight: 600; }}
    QLabel[role="title"] {{ font-size: 22px; font-weight: 600; }}
    QLabel[role="large"] {{ font-size: 17px; }}
    QLabel[role="emphasis"] {{ font-size: 18px; font-weight: 600; }}
    QLabel[role="ok"] {{ color: {t.ok}; }}
    QLabel[role="warn"] {{ color: {t.warn}; }}
    QLabel[role="error"] {{ color: {t.error}; }}
    QLabel[role="intention"] {{ color: {t.intention}; font-style: italic; font-size: 16px; }}
    QLabel[role="mono"] {{ font-family: 'DejaVu Sans Mono', monospace; }}
    QLabel#badge {{ background: {t.badge_background}; color: {t.badge_text}; border-radius: 6px;
                   padding: 2px 8px; font-weight: 600; }}
    QLabel#notice, QLabel[role="notice"] {{ color: {t.badge_text};
                   background: {t.badge_background}; border-radius: 6px; padding: 6px 10px; }}
    QLabel[role="due"] {{ background: {t.due_background}; color: {t.due_text};
                   border-radius: 6px; padding: 6px 10px; }}
    QLabel[role="late"] {{ background: {t.overdue_background}; color: {t.overdue_text};
                   border-radius: 6px; padding: 6px 10px; }}
    QLabel[role="calm"] {{ background: {t.button}; color: {t.text};
                   border-radius: 6px; padding: 6px 10px; }}
    QFrame[role="flag"], QLabel[role="flag"] {{ background: {t.flag_background};
                   color: {t.flag_text}; border: 2px solid {t.flag_border};
                   border-radius: 8px; padding: 8px 12px; font-size: 17px; font-weight: 700; }}
    QFrame[role="flag"] QLabel {{ color: {t.flag_text}; background: transparent; border: none;
                   padding: 0; }}
    QListWidget, QTreeWidget, QTableWidget {{ background: {t.panel};
                   border: 1px solid {t.panel_border}; border-radius: 8px; padding: 4px; }}
    QListWidget::item {{ padding: 4px 2px; border-bottom: 1px solid {t.panel_border}; }}
    QListWidget::item:selected, QTreeWidget::item:selected {{ background: {t.accent};
                   color: {selected_text(t)}; }}
    QTextBrowser, QTextEdit, QPlainTextEdit, QLineEdit, QSpinBox, QDoubleSpinBox,
    QComboBox, QDateTimeEdit {{ background: {t.panel}; border: 1px solid {t.control_border};
                   border-radius: 6px; padding: 4px; selection-background-color: {t.accent};
                   selection-color: {selected_text(t)}; }}
    QTextBrowser {{ border-color: {t.panel_border}; padding: 6px; }}
    QPlainTextEdit#journalText {{ font-size: 18px; padding: 10px; }}
    QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus, QSpinBox:focus,
    QDoubleSpinBox:focus, QComboBox:focus {{ border: 1px solid {t.accent}; }}
    QComboBox QAbstractItemView {{ background: {t.panel}; color: {t.text};
                   selection-background-color: {t.accent}; }}
    QCheckBox::indicator, QRadioButton::indicator {{ width: 16px; height: 16px;
                   border: 2px solid {t.control_border}; background: {t.panel}; }}
    QCheckBox::indicator {{ border-radius: 4px; }}
    QRadioButton::indicator {{ border-radius: 10px; }}
    QCheckBox::indicator:checked, QRadioButton::indicator:checked {{
                   background: {t.accent}; border-color: {t.accent}; }}
    QCheckBox::indicator:hover, QRadioButton::indicator:hover {{ border-color: {t.text}; }}
    QRadioButton:checked {{ color: {t.link}; font-weight: 600; }}
    QCheckBox:disabled, QRadioButton:disabled, QLabel:disabled {{ color: {t.muted}; }}
    QStatusBar {{ color: {t.muted}; }}
    QToolTip {{ color: {t.text}; background: {t.panel}; border: 1px solid {t.panel_border}; }}
    QPushButton {{ background: {t.button}; border: 1px solid {t.panel_border};
                   border-radius: 6px; padding: 6px 14px; }}
    QPushButton:hover {{ background: {t.button_hover}; }}
    QPushButton:checked {{ border: 2px solid {t.accent}; }}
    QPushButton:focus {{ border: 1px solid {t.accent}; }}
    QPushButton:disabled {{ color: {t.muted}; }}
    QPushButton[role="large"] {{ font-size: 16px; }}
    QLineEdit[role="pin"] {{ font-size: 22px; padding: 6px; }}
    QProgressBar {{ background: {t.button}; border: none; border-radius: 3px; }}
    QProgressBar::chunk {{ background: {t.accent}; border-radius: 3px; }}
    QTabBar::tab {{ background: {t.button}; color: {t.text}; padding: 6px 12px;
                   border: 1px solid {t.panel_border}; }}
    QTabBar::tab:selected {{ background: {t.panel}; border-bottom: 2px solid {t.accent}; }}
    QHeaderView::section {{ background: {t.button}; color: {t.text}; padding: 4px;
                   border: 1px solid {t.panel_border}; }}
    QGroupBox {{ border: 1px solid {t.panel_border}; border-radius: 6px; margin-top: 14px;
                   padding-top: 6px; }}
    QGroupBox::title {{ subcontrol-origin: margin; left: 8px; padding: 0 4px;
                   color: {t.muted}; }}
    QPlainTextEdit[role="large"] {{ font-size: 17px; }}
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
