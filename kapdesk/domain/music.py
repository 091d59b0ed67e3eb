"""Session music as a model: playlists per music cue, the cue each phase asks for, the
therapist's override, and which track comes next.

Kept apart from playback so the rules (what plays when a phase changes, what "next" means
at the end of a playlist, what the override holds) are plain, testable decisions; the Qt
player only carries them out. Paths are strings: the domain does no file access.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

#: A phase mapped to this cue has no music: the player fades out and stops.
SILENCE = "silence"

#: Cue names in the order a session meets them (the clinic may add others).
STANDARD_CUES: tuple[str, ...] = ("settling", "onset", "peak", "return")

#: Which cue each standard phase asks for; a protocol or the clinic config may override it.
#: Discharge is quiet on purpose: the patient is talking with staff and getting ready to go.
DEFAULT_PHASE_CUES: Mapping[str, str] = {
    "preparation": "settling",
    "intention": "settling",
    "dosing": "onset",
    "experience": "peak",
    "recovery": "return",
    "discharge": SILENCE,
}


@dataclass(frozen=True, slots=True)
class Track:
    """One audio file; ``path`` is as the library found it, ``title`` is what staff see."""

    path: str
    title: str


@dataclass(frozen=True, slots=True)
class Playlist:
    """The tracks played for one cue, in order; ``source`` says where they came from."""

    cue: str
    tracks: tuple[Track, ...]
    source: str = ""

    def __len__(self) -> int:
        return len(self.tracks)


@dataclass
class MusicQueue:
    """Which playlist and track are current, and whether phase changes may switch them.

    ``follow_phases`` False is the therapist's override: "stay on this playlist". Phase
    changes are still noted (``phase_cue``) so releasing the override goes to the music
    the current phase asks for. Playlists loop, because a peak phase may outlast its
    playlist and sudden silence under an eye mask is unsettling.
    """

    playlists: Mapping[str, Playlist]
    phase_cues: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PHASE_CUES))
    follow_phases: bool = True
    loop: bool = True
    cue: str | None = None
    index: int = -1
    phase_cue: str | None = None

    @property
    def playlist(self) -> Playlist | None:
        return self.playlists.get(self.cue) if self.cue is not None else None

    @property
    def current(self) -> Track | None:
        pl = self.playlist
        if pl is None or not 0 <= self.index < len(pl.tracks):
            return None
        return pl.tracks[self.index]

    @property
    def cues(self) -> Sequence[str]:
        """Cues that have a playlist, standard ones first, in session order."""
        known = [c for c in STANDARD_CUES if c in self.playlists]
        return known + sorted(c for c in self.playlists if c not in STANDARD_CUES)

    def cue_for_phase(self, phase_id: str) -> str | None:
        """The cue a phase asks for; None when the mapping does not mention the phase."""
        return self.phase_cues.get(phase_id)

    def on_phase(self, phase_id: str) -> str | None:
        """A phase began: returns the cue to switch to now, or None for "no change".

        SILENCE is returned as itself, so the caller fades out. A phase the mapping does
        not know keeps the current music (a protocol's extra phase is no reason to stop).
        """
        wanted = self.cue_for_phase(phase_id)
        if wanted is None:
            return None
        self.phase_cue = wanted
        if not self.follow_phases or wanted == self.cue:
            return None
        if wanted != SILENCE and wanted not in self.playlists:
            return None
        self.select(wanted)
        return wanted

    def select(self, cue: str) -> Track | None:
        """Make ``cue``'s playlist current, at its first track (SILENCE: nothing current)."""
        if cue != SILENCE and cue not in self.playlists:
            raise KeyError(f"no playlist for music cue {cue!r}; cues are {list(self.cues)}")
        self.cue = cue
        self.index = 0 if self.playlist is not None and self.playlist.tracks else -1
        return self.current

    def choose(self, cue: str) -> Track | None:
        """The therapist picks a playlist: that is an override, so phases stop switching."""
        self.follow_phases = False
        return self.select(cue)

    def hold(self) -> None:
        """Stay on this playlist whatever the phase (the therapist's override)."""
        self.follow_phases = False

    def release(self) -> str | None:
        """Follow phases again; returns the cue to switch to now, or None if already there."""
        self.follow_phases = True
        wanted = self.phase_cue
        if wanted is None or wanted == self.cue:
            return None
        if wanted != SILENCE and wanted not in self.playlists:
            return None
        self.select(wanted)
        return wanted

    def next(self) -> Track | None:
        """Advance one track; at the end, wrap if looping, otherwise nothing is current."""
        pl = self.playlist
        if pl is None or not pl.tracks:
            return None
        if self.index + 1 < len(pl.tracks):
            self.index += 1
        elif self.loop:
            self.index = 0
        else:
            self.index = len(pl.tracks)
        return self.current

    def previous(self) -> Track | None:
        """Back one track; from the first, wrap to the last if looping, else stay put."""
        pl = self.playlist
        if pl is None or not pl.tracks:
            return None
        if self.index > 0:
            self.index = min(self.index, len(pl.tracks)) - 1
        elif self.loop:
            self.index = len(pl.tracks) - 1
        else:
            self.index = 0
        return self.current

    def ensure_current(self) -> Track | None:
        """Before playing: pick the phase's cue or the first playlist if none is current."""
        if self.current is not None:
            return self.current
        if self.cue is None or self.cue == SILENCE or self.playlist is None:
            wanted = self.phase_cue
            if wanted is None or wanted == SILENCE or wanted not in self.playlists:
                wanted = self.cues[0] if self.cues else None
            if wanted is None:
                return None
            return self.select(wanted)
        if self.playlist.tracks:
            self.index = 0
        return self.current
