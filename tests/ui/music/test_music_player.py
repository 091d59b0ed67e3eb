"""SessionMusicPlayer on a real QMediaPlayer playing generated WAV files (no audio device
needed: QMediaPlayer plays on and its position advances)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from music_test_support import write_tone
from PySide6.QtMultimedia import QMediaDevices, QtAudio
from pytestqt.qtbot import QtBot

from kapdesk.domain.music import MusicQueue, Playlist, Track
from kapdesk.ui.music.player import NO_AUDIO_NOTICE, SessionMusicPlayer

FADE_MS = 150
Events = list[tuple[str, dict[str, Any]]]

# The FFmpeg backend logs failed opens of the deliberately broken file as a warning.
BAD_FILE_LOGS = ["Could not open media", "mediadataholder", "Invalid data found"]


def make_queue(tmp: Path, seconds: dict[str, list[float]]) -> MusicQueue:
    lists = {}
    for cue, lengths in seconds.items():
        tracks = []
        for i, s in enumerate(lengths, start=1):
            path = write_tone(tmp / cue / f"{i:02d}.wav", s, 220.0 * i)
            tracks.append(Track(str(path), f"{cue} {i}"))
        lists[cue] = Playlist(cue, tuple(tracks), str(tmp / cue))
    return MusicQueue(lists)


@pytest.fixture
def events() -> Events:
    return []


def make_player(qtbot: QtBot, queue: MusicQueue, events: Events) -> SessionMusicPlayer:
    player = SessionMusicPlayer(
        queue, record=lambda kind, data: events.append((kind, data)), fade_ms=FADE_MS
    )
    yield_player: SessionMusicPlayer = player
    return yield_player


def summary(events: Events) -> list[tuple[str, str, str]]:
    return [(k.removeprefix("music_track_"), d["title"], d["reason"]) for k, d in events]


def wait_events(qtbot: QtBot, events: Events, n: int, timeout: int = 10_000) -> None:
    qtbot.waitUntil(lambda: len(events) >= n, timeout=timeout)


def test_play_records_start_and_fades_in(qtbot: QtBot, tmp_path: Path, events: Events) -> None:
    queue = make_queue(tmp_path, {"settling": [3.0]})
    player = make_player(qtbot, queue, events)
    volumes: list[float] = []
    player.output.volumeChanged.connect(volumes.append)
    player.set_volume(0.8)
    player.play()
    wait_events(qtbot, events, 1)
    assert summary(events) == [("started", "settling 1", "play")]
    assert events[0][1]["cue"] == "settling"
    assert events[0][1]["path"] == queue.playlists["settling"].tracks[0].path
    assert events[0][1]["position_s"] == 0.0
    qtbot.waitUntil(lambda: player.gain == 1.0 and not player.fading, timeout=5000)
    # The fade-in is a ramp: many distinct steps rising from silence to the set volume.
    ramp = volumes[volumes.index(0.0) :]
    assert len(ramp) >= 3
    assert ramp == sorted(ramp)
    assert ramp[-1] == pytest.approx(player.output.volume())
    assert player.output.volume() == pytest.approx(
        QtAudio.convertVolume(
            0.8, QtAudio.VolumeScale.LogarithmicVolumeScale, QtAudio.VolumeScale.LinearVolumeScale
        )
    )
    qtbot.waitUntil(lambda: player.position_ms() > 300, timeout=5000)
    player.shutdown()
    assert summary(events)[-1] == ("stopped", "settling 1", "stopped")
    assert events[-1][1]["position_s"] > 0.2


def test_end_of_track_advances_and_loops(qtbot: QtBot, tmp_path: Path, events: Events) -> None:
    queue = make_queue(tmp_path, {"settling": [0.6, 0.6]})
    player = make_player(qtbot, queue, events)
    player.play()
    wait_events(qtbot, events, 5)
    assert summary(events)[:5] == [
        ("started", "settling 1", "play"),
        ("stopped", "settling 1", "ended"),
        ("started", "settling 2", "advanced"),
        ("stopped", "settling 2", "ended"),
        ("started", "settling 1", "advanced"),
    ]
    assert events[1][1]["position_s"] == pytest.approx(0.6, abs=0.05)
    player.shutdown()


def test_skip_fades_out_then_starts_the_next(qtbot: QtBot, tmp_path: Path, events: Events) -> None:
    queue = make_queue(tmp_path, {"onset": [4.0, 4.0, 4.0]})
    player = make_player(qtbot, queue, events)
    player.play()
    qtbot.waitUntil(lambda: player.gain == 1.0 and not player.fading, timeout=5000)
    gains: list[float] = []
    player.output.volumeChanged.connect(lambda _v: gains.append(player.gain))
    player.next()
    assert player.current is not None and player.current.title == "onset 2"
    assert len(events) == 1  # still fading out: the stop lands once it is silent
    wait_events(qtbot, events, 3)
    assert summary(events) == [
        ("started", "onset 1", "play"),
        ("stopped", "onset 1", "skipped"),
        ("started", "onset 2", "skipped"),
    ]
    fade_out = gains[: gains.index(0.0) + 1]
    assert len(fade_out) >= 3 and fade_out == sorted(fade_out, reverse=True)
    assert fade_out[0] > 0.5  # starts from where it was: no jump to silence
    player.previous()
    wait_events(qtbot, events, 5)
    assert summary(events)[3:] == [
        ("stopped", "onset 2", "skipped"),
        ("started", "onset 1", "previous"),
    ]
    player.shutdown()


def test_phase_changes_switch_playlists_unless_held(
    qtbot: QtBot, tmp_path: Path, events: Events
) -> None:
    queue = make_queue(tmp_path, {c: [5.0, 5.0] for c in ("settling", "onset", "peak", "return")})
    player = make_player(qtbot, queue, events)
    player.on_phase("preparation")
    assert events == [] and player.cue == "settling"  # not playing yet: only selected
    player.play()
    wait_events(qtbot, events, 1)
    player.on_phase("intention")  # same cue: no change
    player.on_phase("dosing")
    wait_events(qtbot, events, 3)
    assert summary(events) == [
        ("started", "settling 1", "play"),
        ("stopped", "settling 1", "phase_change"),
        ("started", "onset 1", "phase_change"),
    ]
    assert [d["cue"] for _, d in events] == ["settling", "settling", "onset"]

    player.set_follow_phases(False)  # the therapist holds this playlist
    player.on_phase("experience")
    qtbot.wait(3 * FADE_MS)
    assert len(events) == 3 and player.cue == "onset"

    player.set_follow_phases(True)  # released: go to what the phase asks for
    wait_events(qtbot, events, 5)
    assert summary(events)[3:] == [
        ("stopped", "onset 1", "phase_change"),
        ("started", "peak 1", "phase_change"),
    ]
    player.choose_playlist("return")
    assert not player.follow_phases
    wait_events(qtbot, events, 7)
    assert summary(events)[5:] == [
        ("stopped", "peak 1", "playlist_chosen"),
        ("started", "return 1", "playlist_chosen"),
    ]
    player.set_follow_phases(True)
    player.on_phase("discharge")  # silence: fade out and stop
    # Discharge asks for silence before the release's switch finished fading: one stop.
    wait_events(qtbot, events, 8)
    qtbot.wait(2 * FADE_MS)
    assert summary(events)[7:] == [("stopped", "return 1", "phase_change")]
    assert not player.playing and player.current is None
    player.shutdown()
    assert len(events) == 8  # nothing was left open


def test_pause_and_resume(qtbot: QtBot, tmp_path: Path, events: Events) -> None:
    queue = make_queue(tmp_path, {"peak": [5.0]})
    player = make_player(qtbot, queue, events)
    player.play()
    qtbot.waitUntil(lambda: player.position_ms() > 400, timeout=5000)
    player.pause()
    wait_events(qtbot, events, 2)
    paused_at = events[1][1]["position_s"]
    assert summary(events)[1] == ("stopped", "peak 1", "paused")
    assert paused_at >= 0.4
    qtbot.wait(300)
    assert player.position_ms() == pytest.approx(paused_at * 1000, abs=150)
    player.toggle()
    wait_events(qtbot, events, 3)
    assert summary(events)[2] == ("started", "peak 1", "resumed")
    assert events[2][1]["position_s"] == pytest.approx(paused_at, abs=0.15)
    player.shutdown()


@pytest.mark.qt_log_ignore(*BAD_FILE_LOGS)
def test_a_bad_file_is_reported_and_skipped(qtbot: QtBot, tmp_path: Path, events: Events) -> None:
    bad = tmp_path / "peak" / "00 broken.wav"
    bad.parent.mkdir()
    bad.write_bytes(b"RIFF this is not audio at all" * 10)
    good = write_tone(tmp_path / "peak" / "01 good.wav", 3.0)
    queue = MusicQueue(
        {"peak": Playlist("peak", (Track(str(bad), "broken"), Track(str(good), "good")))}
    )
    player = make_player(qtbot, queue, events)
    problems: list[str] = []
    player.problem.connect(problems.append)
    player.play()
    qtbot.waitUntil(lambda: any(k == "music_track_started" for k, _ in events), timeout=10_000)
    failed = [d for k, d in events if k == "music_track_failed"]
    assert [d["title"] for d in failed] == ["broken"]
    assert failed[0]["error"]
    assert summary(events)[-1] == ("started", "good", "after_error")
    assert problems and "broken" in problems[0] and "skipping" in problems[0]
    player.shutdown()


@pytest.mark.qt_log_ignore(*BAD_FILE_LOGS)
def test_a_playlist_of_bad_files_stops_with_a_message(
    qtbot: QtBot, tmp_path: Path, events: Events
) -> None:
    tracks = []
    for i in range(2):
        p = tmp_path / f"bad{i}.wav"
        p.write_bytes(b"not audio" * 20)
        tracks.append(Track(str(p), f"bad {i}"))
    player = make_player(qtbot, MusicQueue({"onset": Playlist("onset", tuple(tracks))}), events)
    problems: list[str] = []
    player.problem.connect(problems.append)
    player.play()
    qtbot.waitUntil(lambda: not player.playing, timeout=10_000)
    assert [k for k, _ in events] == ["music_track_failed", "music_track_failed"]
    assert "no playable track in the onset playlist" in problems[-1]


def test_a_failing_timeline_does_not_stop_the_music(qtbot: QtBot, tmp_path: Path) -> None:
    queue = make_queue(tmp_path, {"settling": [0.5, 3.0]})

    def broken_record(kind: str, data: dict[str, Any]) -> None:
        raise RuntimeError("no session in progress")

    player = SessionMusicPlayer(queue, record=broken_record, fade_ms=FADE_MS)
    problems: list[str] = []
    player.problem.connect(problems.append)
    player.play()
    qtbot.waitUntil(lambda: player.current is not None and player.current.title == "settling 2")
    qtbot.waitUntil(lambda: len(problems) >= 3, timeout=5000)
    assert "could not record music_track_started on the timeline" in problems[0]
    assert player.playing
    player.shutdown()


def test_no_audio_output_is_a_notice_and_music_goes_on(
    qtbot: QtBot, tmp_path: Path, events: Events
) -> None:
    queue = make_queue(tmp_path, {"settling": [2.0]})
    player = make_player(qtbot, queue, events)
    has_output = bool(QMediaDevices.audioOutputs())
    assert player.available is has_output
    assert player.notice == ("" if has_output else NO_AUDIO_NOTICE)
    player.play()
    wait_events(qtbot, events, 1)
    assert events[0][1]["audible"] is has_output
    qtbot.waitUntil(lambda: player.position_ms() > 200, timeout=5000)
    player.shutdown()
