"""Alarm tones through QtMultimedia: the highest sounding priority's burst, repeated.

QMediaPlayer rather than QSoundEffect: QSoundEffect refuses to load when no audio
device is present, while QMediaPlayer keeps working (and its position advances), so the
same code path runs in a silent test machine and on a clinic laptop. With no output
device at all, ``available`` is False and the caller raises the technical alarm
``audio_unavailable``: an alarm system that cannot sound must say so.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtMultimedia import QAudioOutput, QMediaDevices, QMediaPlayer

from kapdesk.domain.alarms import Priority
from kapdesk.ui.common.media import media_player

#: Seconds between bursts (IEC 60601-1-8 allows 2.5-15 s for high, 2.5-30 s for medium;
#: a low-priority tone sounds once). Clinics can change these in resources/clinic.toml.
DEFAULT_REPEAT_S = {Priority.HIGH: 6.0, Priority.MEDIUM: 15.0, Priority.LOW: 0.0}


class AlarmSounder(QObject):
    availability_changed = Signal(bool)

    def __init__(
        self,
        sounds_dir: Path,
        repeat_s: dict[Priority, float] | None = None,
        volume: float = 1.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.repeat_s = {**DEFAULT_REPEAT_S, **(repeat_s or {})}
        self._players: dict[Priority, QMediaPlayer] = {}
        self._outputs: list[QAudioOutput] = []
        for p in Priority:
            path = sounds_dir / f"alarm-{p.value}.wav"
            if not path.is_file():
                raise FileNotFoundError(f"alarm tone missing: {path}")
            player, out = media_player(self)  # made by Qt: see media.py
            out.setVolume(volume)
            player.setSource(QUrl.fromLocalFile(str(path)))
            self._players[p] = player
            self._outputs.append(out)
        self.sounding: Priority | None = None
        self.bursts: list[tuple[float, Priority]] = []  # (monotonic time, priority) played
        self._repeat = QTimer(self)
        self._repeat.setSingleShot(True)
        self._repeat.timeout.connect(self._burst)
        self._devices = QMediaDevices(self)
        self._devices.audioOutputsChanged.connect(self._outputs_changed)
        self.available = bool(QMediaDevices.audioOutputs())

    def set_sounding(self, priority: Priority | None) -> None:
        """Called every frame with what the alarm engine says should sound."""
        if priority == self.sounding:
            return
        self.sounding = priority
        self._repeat.stop()
        for player in self._players.values():
            # pause(), not stop(): a paused player is rewound by the next burst and keeps
            # its FFmpeg threads; stop() tears them down (the hang that caused: media.py).
            if player.playbackState() == QMediaPlayer.PlaybackState.PlayingState:
                player.pause()
        if priority is not None:
            self._burst()

    def _burst(self) -> None:
        p = self.sounding
        if p is None:
            return
        player = self._players[p]
        player.setPosition(0)
        player.play()
        self.bursts.append((time.monotonic(), p))
        del self.bursts[:-100]
        if self.repeat_s[p] > 0:
            self._repeat.start(int(self.repeat_s[p] * 1000))

    def player(self, priority: Priority) -> QMediaPlayer:
        return self._players[priority]

    def _outputs_changed(self) -> None:
        available = bool(QMediaDevices.audioOutputs())
        if available != self.available:
            self.available = available
            self.availability_changed.emit(available)
