"""The music panel: what plays, and large controls a therapist can hit in a dim room.

Views observe, they own nothing: every action goes to ``SessionMusicPlayer`` and the panel
redraws from the player's signals.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from kapdesk.domain import time_text
from kapdesk.domain.music import SILENCE
from kapdesk.ui.common.theme import set_role
from kapdesk.ui.music.player import SessionMusicPlayer

#: Minimum height of a touch/click target (px); WCAG 2.5.5 asks for 44.
TARGET_PX = 48


def cue_label(cue: str | None) -> str:
    if cue is None:
        return "No playlist"
    if cue == SILENCE:
        return "Silence"
    return cue.replace("_", " ").capitalize()


class MusicPanel(QFrame):
    """Current cue and track, elapsed/length, play/pause, previous, next, volume, override."""

    def __init__(self, player: SessionMusicPlayer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.player = player
        self.setObjectName("panel")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 12, 16, 12)
        outer.setSpacing(8)

        top = QHBoxLayout()
        heading = QLabel("Music")
        heading.setObjectName("heading")
        self.cue = QLabel()
        self.cue.setObjectName("muted")
        self.playlists = QComboBox()
        self.playlists.setMinimumHeight(TARGET_PX - 8)
        self.playlists.setToolTip("Choose a playlist (this stops following the phases)")
        for cue in player.queue.cues:
            self.playlists.addItem(cue_label(cue), cue)
        self.playlists.activated.connect(self._playlist_chosen)
        top.addWidget(heading)
        top.addSpacing(8)
        top.addWidget(self.cue, 1)
        outer.addLayout(top)
        outer.addWidget(self.playlists)  # its own row: the dock stays laptop-narrow

        self.title = QLabel()
        set_role(self.title, "emphasis")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        outer.addWidget(self.title)

        progress_row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(6)
        self.progress.setRange(0, 1000)
        self.time = QLabel("0:00 / 0:00")
        self.time.setObjectName("muted")
        self.time.setMinimumWidth(110)
        self.time.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.time)
        outer.addLayout(progress_row)

        controls = QGridLayout()
        controls.setHorizontalSpacing(8)
        self.previous = self._button("Previous", player.previous)
        self.play_pause = self._button("Play", player.toggle)
        self.play_pause.setMinimumWidth(100)
        self.next = self._button("Next", player.next)
        self.follow = self._button("Follow phases", None)
        self.follow.setCheckable(True)
        self.follow.setToolTip(
            "On: the music changes with the session's phases.\n"
            "Off: stay on this playlist until you turn it on again."
        )
        self.follow.toggled.connect(player.set_follow_phases)
        controls.addWidget(self.previous, 0, 0)
        controls.addWidget(self.play_pause, 0, 1)
        controls.addWidget(self.next, 0, 2)
        controls.addWidget(self.follow, 1, 0, 1, 3)
        volume_label = QLabel("Volume")
        volume_label.setObjectName("muted")
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setRange(0, 100)
        self.volume.setMinimumHeight(TARGET_PX - 8)
        self.volume.setPageStep(10)
        self.volume.setValue(round(player.volume * 100))
        self.volume.valueChanged.connect(lambda v: player.set_volume(v / 100))
        self.volume_value = QLabel()
        self.volume_value.setObjectName("muted")
        self.volume_value.setMinimumWidth(44)
        volume_row = QHBoxLayout()
        volume_row.addWidget(volume_label)
        volume_row.addWidget(self.volume, 1)
        volume_row.addWidget(self.volume_value)
        controls.addLayout(volume_row, 2, 0, 1, 3)
        outer.addLayout(controls)

        self.notice = QLabel()
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        outer.addWidget(self.notice)
        self.problem = QLabel()
        self.problem.setObjectName("muted")
        self.problem.setWordWrap(True)
        self.problem.hide()
        outer.addWidget(self.problem)
        outer.addStretch(1)

        player.track_changed.connect(self.refresh)
        player.playing_changed.connect(lambda _p: self.refresh())
        player.follow_changed.connect(lambda _f: self.refresh())
        player.volume_changed.connect(lambda _v: self.refresh())
        player.notice_changed.connect(lambda _n: self.refresh())
        player.position_changed.connect(self._position)
        player.duration_changed.connect(lambda _d: self._position(player.position_ms()))
        player.problem.connect(self._show_problem)
        self.refresh()

    def _button(self, text: str, slot: object | None) -> QPushButton:
        b = QPushButton(text)
        b.setMinimumHeight(TARGET_PX)
        set_role(b, "large")
        if callable(slot):
            b.clicked.connect(lambda _checked=False: slot())
        return b

    def refresh(self) -> None:
        p = self.player
        mode = "following phases" if p.follow_phases else "held by therapist"
        self.cue.setText(f"{cue_label(p.cue)} \u00b7 {mode}")
        track = p.current
        self.title.setText(track.title if track else "\u2014")
        self.title.setToolTip(track.path if track else "")
        self.play_pause.setText("Pause" if p.playing else "Play")
        self.follow.blockSignals(True)
        self.follow.setChecked(p.follow_phases)
        self.follow.blockSignals(False)
        i = self.playlists.findData(p.cue)
        self.playlists.setCurrentIndex(i)
        value = round(p.volume * 100)
        if self.volume.value() != value:
            self.volume.blockSignals(True)
            self.volume.setValue(value)
            self.volume.blockSignals(False)
        self.volume_value.setText(f"{value}%")
        self.notice.setText(p.notice)
        self.notice.setVisible(bool(p.notice))
        self._position(p.position_ms())

    def _position(self, ms: int) -> None:
        duration = self.player.duration_ms()
        self.time.setText(
            f"{time_text.short_elapsed(ms // 1000)} / {time_text.short_elapsed(duration // 1000)}"
        )
        self.progress.setValue(int(1000 * ms / duration) if duration > 0 else 0)

    def _show_problem(self, message: str) -> None:
        self.problem.setText(message)
        self.problem.setVisible(bool(message))

    def _playlist_chosen(self, index: int) -> None:
        cue = self.playlists.itemData(index)
        if isinstance(cue, str) and cue != self.player.cue:
            self.player.choose_playlist(cue)
