"""The music model: cue per phase, the therapist's override, next/previous."""

from __future__ import annotations

import pytest

from kapdesk.domain.music import DEFAULT_PHASE_CUES, SILENCE, MusicQueue, Playlist, Track
from kapdesk.domain.session import STANDARD_PHASES


def playlist(cue: str, n: int) -> Playlist:
    return Playlist(cue, tuple(Track(f"/m/{cue}/{i}.wav", f"{cue} {i}") for i in range(n)))


def queue(**kw: object) -> MusicQueue:
    lists = {c: playlist(c, 3) for c in ("settling", "onset", "peak", "return")}
    return MusicQueue(lists, **kw)  # type: ignore[arg-type]


def test_every_standard_phase_has_a_default_cue() -> None:
    for phase in STANDARD_PHASES:
        assert phase.id in DEFAULT_PHASE_CUES
    assert DEFAULT_PHASE_CUES["dosing"] == "onset"
    assert DEFAULT_PHASE_CUES["experience"] == "peak"


def test_phases_switch_the_playlist_and_start_at_its_first_track() -> None:
    q = queue()
    assert q.on_phase("preparation") == "settling"
    q.next()
    assert q.current == q.playlists["settling"].tracks[1]
    assert q.on_phase("intention") is None  # same cue: keep playing where we are
    assert q.current == q.playlists["settling"].tracks[1]
    assert q.on_phase("dosing") == "onset"
    assert (q.cue, q.index) == ("onset", 0)
    assert q.on_phase("discharge") == SILENCE
    assert q.current is None


def test_unknown_phase_keeps_the_music() -> None:
    q = queue()
    q.on_phase("experience")
    assert q.on_phase("integration_call") is None
    assert q.cue == "peak"


def test_override_holds_the_playlist_and_release_goes_to_the_phase_music() -> None:
    q = queue()
    q.on_phase("dosing")
    q.hold()
    assert q.on_phase("experience") is None
    assert q.cue == "onset"
    assert q.phase_cue == "peak"
    assert q.release() == "peak"
    assert q.follow_phases and q.cue == "peak"


def test_choosing_a_playlist_is_an_override() -> None:
    q = queue()
    q.on_phase("dosing")
    assert q.choose("return") == q.playlists["return"].tracks[0]
    assert not q.follow_phases
    assert q.on_phase("experience") is None
    assert q.cue == "return"
    with pytest.raises(KeyError, match="no playlist for music cue 'nope'"):
        q.choose("nope")


def test_next_and_previous_wrap_when_looping() -> None:
    q = queue()
    q.select("peak")
    titles = [q.next().title for _ in range(3)]  # type: ignore[union-attr]
    assert titles == ["peak 1", "peak 2", "peak 0"]
    assert q.previous().title == "peak 2"  # type: ignore[union-attr]


def test_without_loop_the_playlist_ends() -> None:
    q = queue(loop=False)
    q.select("onset")
    q.next()
    q.next()
    assert q.next() is None
    assert q.previous() == q.playlists["onset"].tracks[2]
    q.select("onset")
    assert q.previous() == q.playlists["onset"].tracks[0]


def test_phase_naming_a_cue_without_playlist_keeps_the_music() -> None:
    q = MusicQueue({"peak": playlist("peak", 1)}, phase_cues={"dosing": "onset"})
    q.select("peak")
    assert q.on_phase("dosing") is None
    assert q.cue == "peak"


def test_ensure_current_prefers_the_phase_cue() -> None:
    q = queue()
    q.hold()
    q.on_phase("experience")  # held: noted, not switched
    assert q.cue is None
    assert q.ensure_current() == q.playlists["peak"].tracks[0]
    empty = MusicQueue({})
    assert empty.ensure_current() is None
