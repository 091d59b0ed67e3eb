"""Playlists from folders and M3U files, and the clinic's music.toml."""

from __future__ import annotations

from pathlib import Path

import pytest
from music_test_support import write_tone

from kapdesk.config.errors import ConfigFileError
from kapdesk.config.music import (
    load_music_library,
    playlist_from_folder,
    playlist_from_m3u,
    title_from_filename,
)
from kapdesk.config.paths import resources_dir


def test_folder_tracks_sorted_by_name_and_only_audio(tmp_path: Path) -> None:
    for name in ("b second.wav", "A first.wav", "10 - Tenth.wav", "02_Second_one.flac"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "cover.jpg").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not music")
    (tmp_path / "sub").mkdir()
    playlist, problems = playlist_from_folder(tmp_path, "peak")
    assert problems == []
    assert [Path(t.path).name for t in playlist.tracks] == [
        "02_Second_one.flac",
        "10 - Tenth.wav",
        "A first.wav",
        "b second.wav",
    ]
    assert [t.title for t in playlist.tracks] == ["Second one", "Tenth", "A first", "b second"]
    assert playlist.cue == "peak"


def test_missing_or_empty_folder_is_a_problem_not_an_error(tmp_path: Path) -> None:
    playlist, problems = playlist_from_folder(tmp_path / "absent", "onset")
    assert playlist.tracks == ()
    assert [p.message for p in problems] == ["music folder not found"]
    (tmp_path / "empty").mkdir()
    _, problems = playlist_from_folder(tmp_path / "empty", "onset")
    assert "no audio files" in str(problems[0])


def test_title_keeps_a_name_that_is_only_a_number() -> None:
    assert title_from_filename(Path("07.wav")) == "07"


def test_m3u_titles_relative_paths_and_missing_files_by_line(tmp_path: Path) -> None:
    music = tmp_path / "music"
    write_tone(music / "one.wav", 0.1)
    write_tone(music / "sub" / "two.wav", 0.1)
    absolute = write_tone(tmp_path / "elsewhere" / "three.wav", 0.1)
    m3u = music / "lists" / "peak.m3u8"
    m3u.parent.mkdir()
    m3u.write_text(
        "\n".join(
            [
                "#EXTM3U",
                "#EXTINF:123,Artist - Ocean of calm",
                "../one.wav",
                "",
                "# a comment",
                "../sub/two.wav",
                "#EXTINF:10,Lost one",
                "../gone.wav",
                str(absolute),
                "http://radio.example/stream",
                "../notes.txt",
                "#EXTINF:5,Über",
                absolute.as_uri(),
            ]
        ),
        encoding="utf-8",
    )
    (music / "notes.txt").write_text("x")
    playlist, problems = playlist_from_m3u(m3u, "peak")
    assert [t.title for t in playlist.tracks] == ["Artist - Ocean of calm", "two", "three", "Über"]
    assert Path(playlist.tracks[0].path).resolve() == (music / "one.wav").resolve()
    assert [(Path(p.file).name, p.line) for p in problems] == [
        ("peak.m3u8", 8),
        ("peak.m3u8", 10),
        ("peak.m3u8", 11),
    ]
    assert "file not found: ../gone.wav" in str(problems[0])
    assert str(problems[0]).startswith(f"{m3u}:8: ")
    assert "not a local file" in problems[1].message
    assert "not an audio file" in problems[2].message
    assert playlist.source == str(m3u)


def test_latin1_m3u_with_windows_separators(tmp_path: Path) -> None:
    write_tone(tmp_path / "Musik" / "Ruhe.wav", 0.1)
    m3u = tmp_path / "old.m3u"
    m3u.write_bytes("#EXTINF:-1,Stille Ruhe \xe4\r\nMusik\\Ruhe.wav\r\n".encode("latin-1"))
    playlist, problems = playlist_from_m3u(m3u, "settling")
    assert problems == []
    assert [t.title for t in playlist.tracks] == ["Stille Ruhe ä"]
    assert Path(playlist.tracks[0].path).is_file()


def test_empty_m3u_is_reported(tmp_path: Path) -> None:
    m3u = tmp_path / "empty.m3u"
    m3u.write_text("#EXTM3U\n")
    playlist, problems = playlist_from_m3u(m3u, "onset")
    assert playlist.tracks == ()
    assert problems[0].message == "playlist has no entries"


def test_config_builds_each_cue_and_extends_the_phase_map(tmp_path: Path) -> None:
    write_tone(tmp_path / "calm" / "1.wav", 0.1)
    write_tone(tmp_path / "calm" / "2.wav", 0.1)
    (tmp_path / "peak.m3u").write_text("calm/2.wav\nmissing.wav\n")
    config = tmp_path / "music.toml"
    config.write_text(
        "[music]\nvolume = 0.4\nfade_seconds = 1.5\nloop = false\n"
        '[cues]\nsettling = "calm"\npeak = "peak.m3u"\nonset = "nowhere"\n'
        '[phases]\nintegration = "settling"\ndischarge = "return"\n'
    )
    lib = load_music_library(config)
    assert (lib.volume, lib.fade_s, lib.loop) == (0.4, 1.5, False)
    assert len(lib.playlists["settling"]) == 2
    assert len(lib.playlists["peak"]) == 1
    assert lib.playlists["onset"].tracks == ()
    assert lib.phase_cues["integration"] == "settling"
    assert lib.phase_cues["discharge"] == "return"
    assert lib.phase_cues["dosing"] == "onset"  # default kept
    assert sorted(str(p).split(": ", 1)[1] for p in lib.problems) == [
        "file not found: missing.wav",
        "music folder not found",
    ]


def test_protocol_music_phases_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "protocols").mkdir()
    (tmp_path / "protocols" / "short.toml").write_text(
        '[protocol]\nname = "Short"\n[music.phases]\ndosing = "peak"\n'
    )
    (tmp_path / "music.toml").write_text("[cues]\n")
    monkeypatch.setenv("KAPDESK_RESOURCES", str(tmp_path))
    assert load_music_library(protocol="short").phase_cues["dosing"] == "peak"
    assert load_music_library(protocol="unknown").phase_cues["dosing"] == "onset"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[music]\nvolume = 2\n", "music.volume: 2 is outside the plausible range 0 to 1"),
        ('[music]\nvolume = "loud"\n', "music.volume: must be a number"),
        ("[music]\nfade_seconds = -1\n", "music.fade_seconds: -1 is outside the plausible range"),
        ("[cues]\npeak = 3\n", "music.toml:2: cues.peak: must be a string"),
        ("[cues\n", "music.toml"),
    ],
)
def test_bad_config_says_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "music.toml"
    config.write_text(text)
    with pytest.raises(ConfigFileError) as err:
        load_music_library(config)
    assert message in str(err.value)


def test_missing_config_gives_an_empty_library(tmp_path: Path) -> None:
    lib = load_music_library(tmp_path / "music.toml")
    assert lib.playlists == {}
    assert "music config not found" in str(lib.problems[0])


def test_shipped_demo_music_loads_without_problems() -> None:
    lib = load_music_library(resources_dir() / "music.toml")
    assert lib.problems == []
    assert set(lib.playlists) >= {"settling", "onset", "peak", "return"}
    for playlist in lib.playlists.values():
        assert len(playlist) >= 2
        assert all(Path(t.path).is_file() for t in playlist.tracks)
    assert lib.playlists["peak"].source.endswith(".m3u8")
    assert lib.playlists["peak"].tracks[0].title == "kapdesk demo - Wide sky"
    demo = resources_dir() / "music" / "demo"
    total = sum(p.stat().st_size for p in demo.rglob("*") if p.is_file())
    assert total < 6_000_000


def test_a_protocols_music_phases_load_with_the_protocol_and_are_checked_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A protocol file may carry ``[music.phases]`` (music.toml says so): the protocol
    still loads, and a wrong entry there is reported at start-up with file and field."""
    import shutil

    from kapdesk.config.check import clinic_file_errors
    from kapdesk.config.protocols import load_protocol

    clinic = tmp_path / "resources"
    shutil.copytree(resources_dir(), clinic)
    monkeypatch.setenv("KAPDESK_RESOURCES", str(clinic))
    infusion = clinic / "protocols" / "iv-ketamine-infusion.toml"
    original = infusion.read_text()
    infusion.write_text(original + '\n[music.phases]\ndosing = "peak"\n')
    assert load_protocol(infusion).protocol.name
    assert clinic_file_errors() == []
    infusion.write_text(original + "\n[music.phases]\ndosing = 3\n")
    errors = clinic_file_errors()
    assert [(Path(e.file).name, e.where) for e in errors] == [
        ("iv-ketamine-infusion.toml", "music.phases.dosing")
    ]
