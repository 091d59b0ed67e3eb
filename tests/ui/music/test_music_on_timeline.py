"""Music wired to a real session: phases switch playlists and every track start and stop
is committed on the session's timeline (the exported record shows them)."""

from __future__ import annotations

from pathlib import Path

from access_support import CLINICIAN
from music_test_support import write_tone
from pytestqt.qtbot import QtBot

from kapdesk.demo.script import demo_patient
from kapdesk.domain.music import MusicQueue, Playlist, Track
from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import open_database
from kapdesk.storage.export import session_record
from kapdesk.ui.music.player import SessionMusicPlayer, follow_session


def test_phase_music_lands_on_the_session_timeline(
    qtbot: QtBot, tmp_path: Path, db_url: str
) -> None:
    lists = {
        cue: Playlist(cue, (Track(str(write_tone(tmp_path / f"{cue}.wav", 5.0)), cue.title()),))
        for cue in ("settling", "onset")
    }
    player = SessionMusicPlayer(MusicQueue(lists), fade_ms=100)
    rt = Runtime.build(open_database(db_url), speed=1.0, actor=CLINICIAN)
    try:
        follow_session(player, rt.controller)
        player.play()  # before the session: plays, but there is no timeline to record on
        qtbot.waitUntil(lambda: player.position_ms() > 100, timeout=5000)
        session = rt.controller.open(demo_patient(), "test-protocol")
        rt.controller.start()  # preparation -> settling (already playing it)
        qtbot.wait(200)
        rt.controller.enter("dosing", reason="test skips intention")
        qtbot.waitUntil(lambda: player.sounding is not None and player.sounding.title == "Onset")
        player.pause()
        qtbot.waitUntil(lambda: not player.fading, timeout=5000)
        assert session.id is not None
        events = session_record(rt.engine, session.id)["events"]
    finally:
        player.shutdown()
        rt.shutdown()
    music = [(e["kind"], e["data"]["title"], e["data"]["reason"], e["phase"])
             for e in events if e["kind"].startswith("music_")]  # fmt: skip
    assert music == [
        ("music_track_started", "Settling", "session_started", "preparation"),
        ("music_track_stopped", "Settling", "phase_change", "dosing"),
        ("music_track_started", "Onset", "phase_change", "dosing"),
        ("music_track_stopped", "Onset", "paused", "dosing"),
    ]
    kinds = [e["kind"] for e in events]
    assert kinds.index("phase_entered") < kinds.index("music_track_stopped")


def test_the_track_playing_at_discharge_is_closed_on_the_timeline(
    qtbot: QtBot, tmp_path: Path, db_url: str
) -> None:
    """Discharge enters the last phase and completes at once; the fade's stop would land
    after the end, so the player closes its track just before the session ends."""
    lists = {
        "settling": Playlist("settling", (Track(str(write_tone(tmp_path / "s.wav", 5.0)), "S"),))
    }
    player = SessionMusicPlayer(MusicQueue(lists), fade_ms=2000)
    rt = Runtime.build(open_database(db_url), speed=1.0, actor=CLINICIAN)
    try:
        follow_session(player, rt.controller)
        session = rt.controller.open(demo_patient(), "test-protocol")
        rt.controller.start()
        player.play()
        qtbot.waitUntil(lambda: player.position_ms() > 100, timeout=5000)
        rt.controller.complete()
        assert session.id is not None
        events = session_record(rt.engine, session.id)["events"]
    finally:
        player.shutdown()
        rt.shutdown()
    kinds = [e["kind"] for e in events]
    stops = [e for e in events if e["kind"] == "music_track_stopped"]
    assert [s["data"]["reason"] for s in stops] == ["session_end"]
    assert kinds.index("music_track_stopped") < kinds.index("session_completed")
    assert not player.playing
