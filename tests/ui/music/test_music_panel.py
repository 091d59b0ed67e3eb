"""The music panel drives a real player and shows what it does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from music_test_support import write_tone
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kapdesk.domain.music import MusicQueue, Playlist, Track
from kapdesk.ui.music.panel import TARGET_PX, MusicPanel
from kapdesk.ui.music.player import SessionMusicPlayer


def make(qtbot: QtBot, tmp_path: Path) -> tuple[MusicPanel, list[tuple[str, dict[str, Any]]]]:
    lists = {}
    for cue in ("settling", "onset"):
        tracks = tuple(
            Track(str(write_tone(tmp_path / cue / f"{i}.wav", 4.0)), f"{cue} track {i}")
            for i in (1, 2)
        )
        lists[cue] = Playlist(cue, tracks)
    events: list[tuple[str, dict[str, Any]]] = []
    player = SessionMusicPlayer(
        MusicQueue(lists), record=lambda k, d: events.append((k, d)), fade_ms=100
    )
    panel = MusicPanel(player)
    qtbot.addWidget(panel)
    panel.resize(640, 320)
    panel.show()
    return panel, events


def test_buttons_play_skip_and_show_the_track(qtbot: QtBot, tmp_path: Path) -> None:
    panel, events = make(qtbot, tmp_path)
    player = panel.player
    assert panel.play_pause.text() == "Play"
    assert panel.title.text() == "\u2014"
    qtbot.mouseClick(panel.play_pause, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(events) == 1, timeout=5000)
    assert panel.play_pause.text() == "Pause"
    assert panel.title.text() == "settling track 1"
    assert panel.cue.text() == "Settling \u00b7 following phases"
    qtbot.waitUntil(lambda: panel.time.text().startswith("0:01"), timeout=5000)
    assert panel.time.text().endswith("/ 0:04")
    assert panel.progress.value() > 0
    qtbot.mouseClick(panel.next, Qt.MouseButton.LeftButton)
    assert panel.title.text() == "settling track 2"
    qtbot.waitUntil(lambda: len(events) == 3, timeout=5000)
    assert [d["reason"] for _, d in events] == ["play", "skipped", "skipped"]
    player.shutdown()


def test_follow_toggle_playlist_choice_and_volume(qtbot: QtBot, tmp_path: Path) -> None:
    panel, events = make(qtbot, tmp_path)
    player = panel.player
    assert panel.follow.isChecked()
    qtbot.mouseClick(panel.follow, Qt.MouseButton.LeftButton)
    assert not player.follow_phases
    assert "held by therapist" in panel.cue.text()
    qtbot.mouseClick(panel.follow, Qt.MouseButton.LeftButton)
    assert player.follow_phases

    panel.playlists.setCurrentIndex(panel.playlists.findData("onset"))
    panel.playlists.activated.emit(panel.playlists.currentIndex())
    assert player.cue == "onset" and not player.follow_phases
    assert not panel.follow.isChecked()
    assert panel.title.text() == "onset track 1"

    panel.volume.setValue(35)
    assert player.volume == 0.35
    assert panel.volume_value.text() == "35%"
    player.set_volume(0.9)
    assert panel.volume.value() == 90
    player.on_phase("dosing")  # held: the phase does not change the music
    assert panel.title.text() == "onset track 1"
    assert events == []  # nothing played
    player.shutdown()


def test_notice_and_large_targets(qtbot: QtBot, tmp_path: Path) -> None:
    panel, _ = make(qtbot, tmp_path)
    player = panel.player
    assert panel.notice.isVisible() is (not player.available)
    assert panel.notice.text() == player.notice
    for button in (panel.previous, panel.play_pause, panel.next, panel.follow):
        assert button.height() >= TARGET_PX
        assert button.fontMetrics().horizontalAdvance(button.text()) < button.width()
    image = panel.grab()
    assert not image.isNull() and image.width() >= 600
    image.save(str(tmp_path / "music-panel.png"))
    assert (tmp_path / "music-panel.png").stat().st_size > 1000
