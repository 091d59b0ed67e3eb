"""Building session playlists from the clinic's folders and M3U files, and reading
``resources/music.toml`` (which folder or playlist file plays for each music cue).

A missing or unreadable file never stops a session: it is left out and reported as a
``LibraryProblem`` naming the file and line, so staff can fix the playlist later.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from kapdesk.config.errors import ConfigFileError
from kapdesk.config.files import error_at, read_clinic_toml
from kapdesk.config.paths import music_config_file, protocols_dir
from kapdesk.domain import config_errors as cf
from kapdesk.domain import setting_ranges as ranges
from kapdesk.domain.config_errors import ConfigError, locate
from kapdesk.domain.music import DEFAULT_PHASE_CUES, Playlist, Track

#: File types QtMultimedia's FFmpeg backend decodes that clinics are likely to have.
AUDIO_SUFFIXES = frozenset(
    {".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".wma", ".aiff", ".aif"}
)
PLAYLIST_SUFFIXES = frozenset({".m3u", ".m3u8"})
MUSIC_CONFIG = "music.toml"
DEFAULT_FADE_S = 3.0
DEFAULT_VOLUME = 0.6


@dataclass(frozen=True, slots=True)
class LibraryProblem:
    """Something left out of a playlist, and where: file, line (1-based) when known."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


@dataclass
class MusicLibrary:
    """Everything the player needs: playlists by cue, the phase mapping, and settings."""

    playlists: dict[str, Playlist] = field(default_factory=dict)
    phase_cues: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PHASE_CUES))
    fade_s: float = DEFAULT_FADE_S
    volume: float = DEFAULT_VOLUME
    loop: bool = True
    problems: list[LibraryProblem] = field(default_factory=list)


_NUMBER_PREFIX = re.compile(r"^\d+\s*[-_. ]\s*")


def title_from_filename(path: Path) -> str:
    """ "03 - Slow tide.flac" -> "Slow tide": the numbers only exist to sort the folder."""
    stem = path.stem
    title = _NUMBER_PREFIX.sub("", stem).replace("_", " ").strip()
    return title or stem


def playlist_from_folder(folder: Path, cue: str) -> tuple[Playlist, list[LibraryProblem]]:
    """Audio files directly in ``folder``, sorted by name (case-insensitively)."""
    problems: list[LibraryProblem] = []
    if not folder.is_dir():
        problems.append(LibraryProblem(str(folder), None, "music folder not found"))
        return Playlist(cue, (), str(folder)), problems
    files = sorted(
        (p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES),
        key=lambda p: (p.name.casefold(), p.name),
    )
    if not files:
        problems.append(LibraryProblem(str(folder), None, "no audio files in this folder"))
    tracks = tuple(Track(str(p), title_from_filename(p)) for p in files)
    return Playlist(cue, tracks, str(folder)), problems


def _read_playlist_text(path: Path) -> str:
    # .m3u8 is UTF-8 by definition; old .m3u files are often Latin-1 from Windows players.
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _resolve_entry(entry: str, base: Path) -> Path | None:
    """An M3U entry as a local path (relative ones against the M3U's folder); None for URLs."""
    if "://" in entry:
        url = urlparse(entry)
        if url.scheme != "file":
            return None
        return Path(unquote(url.path))
    candidate = Path(entry)
    if not candidate.is_absolute():
        candidate = base / candidate
    if not candidate.exists() and "\\" in entry:
        # A playlist written on Windows: backslash separators.
        candidate = base / Path(*entry.replace("\\", "/").split("/"))
    return candidate


def playlist_from_m3u(path: Path, cue: str) -> tuple[Playlist, list[LibraryProblem]]:
    """Tracks of an M3U/M3U8 file; ``#EXTINF`` supplies titles.

    Hand-written rather than a library: plain M3U is one path per line plus ``#EXTINF``
    comments, and the PyPI ``m3u8`` package targets HLS streaming manifests instead.
    """
    problems: list[LibraryProblem] = []
    try:
        text = _read_playlist_text(path)
    except OSError as exc:
        problems.append(LibraryProblem(str(path), None, f"cannot read playlist: {exc.strerror}"))
        return Playlist(cue, (), str(path)), problems
    tracks: list[Track] = []
    pending_title: str | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            if line.upper().startswith("#EXTINF:"):
                pending_title = line.partition(",")[2].strip() or None
            continue
        entry_title, pending_title = pending_title, None
        resolved = _resolve_entry(line, path.parent)
        if resolved is None:
            problems.append(LibraryProblem(str(path), lineno, f"not a local file: {line}"))
            continue
        if not resolved.is_file():
            problems.append(LibraryProblem(str(path), lineno, f"file not found: {line}"))
            continue
        if resolved.suffix.lower() not in AUDIO_SUFFIXES:
            problems.append(LibraryProblem(str(path), lineno, f"not an audio file: {line}"))
            continue
        tracks.append(Track(str(resolved), entry_title or title_from_filename(resolved)))
    if not tracks and not problems:
        problems.append(LibraryProblem(str(path), None, "playlist has no entries"))
    return Playlist(cue, tuple(tracks), str(path)), problems


def playlist_from(source: Path, cue: str) -> tuple[Playlist, list[LibraryProblem]]:
    """A folder or an M3U/M3U8 file, whichever ``source`` is."""
    if source.suffix.lower() in PLAYLIST_SUFFIXES:
        if not source.is_file():
            return Playlist(cue, (), str(source)), [
                LibraryProblem(str(source), None, "playlist file not found")
            ]
        return playlist_from_m3u(source, cue)
    return playlist_from_folder(source, cue)


def _str_table(table: object, where: str) -> dict[str, str]:
    if not isinstance(table, dict):
        raise ConfigError(where, "must be a table")
    for k, v in table.items():
        if not isinstance(v, str):
            raise ConfigError(f"{where}.{k}", f"must be a string, got {v!r}")
    return dict(table)


def load_music_library(config: Path | None = None, protocol: str | None = None) -> MusicLibrary:
    """Read ``music.toml`` and build every cue's playlist.

    ``[cues]`` maps cue -> folder or M3U (relative to the config's folder); ``[phases]``
    maps phase -> cue and extends the defaults; a protocol file's ``[music.phases]``
    table, when ``protocol`` is given, overrides both for that protocol.
    """
    path = config or music_config_file()
    if not path.exists():
        lib = MusicLibrary()
        lib.problems.append(LibraryProblem(str(path), None, "music config not found"))
        return lib
    text, data = read_clinic_toml(path)
    try:
        cf.only(data, "", {"music", "cues", "phases"})
        settings = cf.table(data, "", "music")
        cf.only(settings, "music", {"volume", "fade_seconds", "loop"})
        volume = cf.number(
            settings, "music", "volume", default=DEFAULT_VOLUME, within=ranges.MUSIC_VOLUME
        )
        fade_s = cf.number(
            settings, "music", "fade_seconds", default=DEFAULT_FADE_S, within=ranges.MUSIC_FADE_S
        )
        loop = cf.flag(settings, "music", "loop", True)
        phases = _str_table(data.get("phases", {}), "phases")
        cues = _str_table(data.get("cues", {}), "cues")
    except ConfigError as e:
        raise error_at(path, text, e) from None
    lib = MusicLibrary(fade_s=fade_s, volume=volume, loop=loop)
    lib.phase_cues.update(phases)
    for cue, where in cues.items():
        source = Path(where).expanduser()
        if not source.is_absolute():
            source = path.parent / source
        playlist, problems = playlist_from(source, cue)
        lib.playlists[cue] = playlist
        lib.problems.extend(problems)
    if protocol is not None:
        lib.phase_cues.update(protocol_phase_cues(protocol))
    return lib


def protocol_phase_cues(protocol: str) -> dict[str, str]:
    """A protocol's own ``[music.phases]`` (phase -> cue), if its file has one."""
    path = protocols_dir() / f"{protocol}.toml"
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (FileNotFoundError, tomllib.TOMLDecodeError):
        return {}  # the protocol loader reports bad protocol files; music just keeps defaults
    music = data.get("music", {})
    if not isinstance(music, dict):
        return {}
    try:
        return _str_table(music.get("phases", {}), "music.phases")
    except ConfigError as e:
        raise ConfigFileError(path, e.where, e.problem, locate(text, e.where)) from None
