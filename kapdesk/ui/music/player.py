"""Session music through QtMultimedia: playlists per phase, gentle fades, every track start
and stop recorded on the session timeline.

QMediaPlayer rather than QSoundEffect: QSoundEffect refuses to load without an audio
device, while QMediaPlayer plays on (its position advances), so the same code runs on a
silent test machine and, once speakers are plugged in, the music is where it should be.
No audio output is a notice, not an alarm: the session goes on.

One player with a fade-out, then a fade-in, rather than a two-player cross-fade: under an
eye mask a short quiet breath between pieces is gentler than two pieces overlapping, and
one player keeps "which track is playing" unambiguous for the timeline.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer, QUrl, QVariantAnimation, Signal
from PySide6.QtMultimedia import QMediaDevices, QMediaPlayer, QtAudio

from kapdesk.domain.music import SILENCE, MusicQueue, Track
from kapdesk.domain.session import EventKind, Session, SessionEvent, SessionState
from kapdesk.ui.common.gui_thread import ThreadInbox
from kapdesk.ui.common.media import media_player

log = logging.getLogger(__name__)

#: The callback the lead connects to ``runtime.controller.record``.
RecordFn = Callable[[str, dict[str, Any]], object]

TRACK_STARTED = EventKind.MUSIC_TRACK_STARTED
TRACK_STOPPED = EventKind.MUSIC_TRACK_STOPPED
TRACK_FAILED = EventKind.MUSIC_TRACK_FAILED
#: Queued to the player when another thread ends the session.
END_OF_SESSION = "end_of_session"

NO_AUDIO_NOTICE = (
    "No audio output found: the music cannot be heard. The session goes on; "
    "connect speakers or headphones and the music continues."
)


class SessionMusicPlayer(QObject):
    """Plays the queue's current track; ``on_phase`` follows the session's phases."""

    track_changed = Signal()  # cue, playlist or track changed
    playing_changed = Signal(bool)
    position_changed = Signal(int)  # ms
    duration_changed = Signal(int)  # ms
    volume_changed = Signal(float)
    follow_changed = Signal(bool)
    notice_changed = Signal(str)
    problem = Signal(str)  # a track that could not play, a record that failed

    def __init__(
        self,
        queue: MusicQueue,
        record: RecordFn | None = None,
        fade_ms: int = 3000,
        volume: float = 0.6,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.queue = queue
        self.fade_ms = fade_ms
        self.pause_fade_ms = min(fade_ms, 800)
        self._record = record
        self._volume = min(1.0, max(0.0, volume))
        self._gain = 1.0
        self.player, self.output = media_player(self)  # made by Qt: see media.py
        self._apply_volume()
        self._wants_play = False
        # The track whose start is on the timeline and whose stop is not yet: (track, cue).
        self._open: tuple[Track, str] | None = None
        self._loaded: tuple[Track, str] | None = None
        self._start_reason: str | None = None
        self._failures = 0
        self._then: Callable[[], None] | None = None
        self._fade_purpose: str | None = None
        self._fade = QVariantAnimation(self)
        self._fade.valueChanged.connect(self._set_gain)
        self._fade.finished.connect(self._fade_finished)
        self.player.playbackStateChanged.connect(self._state_changed)
        self.player.mediaStatusChanged.connect(self._status_changed)
        self.player.errorOccurred.connect(self._error)
        # Bound methods, never lambdas: a QObject receiver gets queued delivery should the
        # backend emit from one of its threads, instead of running Python on that thread.
        self.player.positionChanged.connect(self._position_changed)
        self.player.durationChanged.connect(self._duration_changed)
        self._devices = QMediaDevices(self)
        self._devices.audioOutputsChanged.connect(self._outputs_changed)
        self.available = bool(QMediaDevices.audioOutputs())
        self.problems: list[str] = []
        self.session_inbox: ThreadInbox[SessionEvent | str] | None = None  # follow_session

    # -- what the panel shows ---------------------------------------------------------------

    @property
    def notice(self) -> str:
        return "" if self.available else NO_AUDIO_NOTICE

    @property
    def playing(self) -> bool:
        """The therapist's intent: music should be playing (also while fading in)."""
        return self._wants_play

    @property
    def volume(self) -> float:
        return self._volume

    @property
    def gain(self) -> float:
        """The fade's current level, 0 to 1 (multiplies the volume)."""
        return self._gain

    @property
    def fading(self) -> bool:
        return self._fade.state() == QVariantAnimation.State.Running

    @property
    def current(self) -> Track | None:
        return self.queue.current

    @property
    def sounding(self) -> Track | None:
        """The track started on the timeline and not yet stopped (None while silent)."""
        return self._open[0] if self._open is not None else None

    @property
    def cue(self) -> str | None:
        return self.queue.cue

    @property
    def follow_phases(self) -> bool:
        return self.queue.follow_phases

    def position_ms(self) -> int:
        return int(self.player.position())

    def duration_ms(self) -> int:
        return int(self.player.duration())

    # -- the therapist's controls -----------------------------------------------------------

    def play(self) -> None:
        if self._wants_play:
            return
        self._wants_play = True
        self.playing_changed.emit(True)
        if self._fading_out():
            if self._fade_purpose == "pause":
                # Play pressed during a pause's fade-out: cancel the pause, fade back in.
                self._then = None
                self._fade_purpose = None
                self._fade_to(1.0, self.pause_fade_ms)
                return
            pending = self._then

            def then_play() -> None:
                if pending is not None:
                    pending()
                if self._wants_play and self._loaded is None:
                    self._start_current()

            self._then = then_play
            return
        if self.player.playbackState() == QMediaPlayer.PlaybackState.PausedState and (
            self._loaded is not None and self._loaded[0] == self.queue.current
        ):
            self._start_reason = "resumed"
            self._gain = 0.0
            self._apply_volume()
            self.player.play()
            return
        self._start_current()

    def _start_current(self) -> None:
        track = self.queue.ensure_current()
        self.track_changed.emit()
        if track is None:
            self._wants_play = False
            self.playing_changed.emit(False)
            self._report("no music to play: no playlist has any tracks")
            return
        self._load_and_play("play")

    def pause(self) -> None:
        if not self._wants_play:
            return
        self._wants_play = False
        self.playing_changed.emit(False)
        self._fade_out_then(self._pause_now, self.pause_fade_ms, "pause")

    def toggle(self) -> None:
        if self._wants_play:
            self.pause()
        else:
            self.play()

    def stop(self) -> None:
        """Stop the music (it starts from the track's beginning next time)."""
        self._wants_play = False
        self.playing_changed.emit(False)
        self._fade_out_then(lambda: self._stop_now("stopped"), self.pause_fade_ms, "stop")

    def next(self) -> None:
        self.queue.next()
        self._switch("skipped", "skipped")

    def previous(self) -> None:
        self.queue.previous()
        self._switch("skipped", "previous")

    def set_volume(self, volume: float) -> None:
        """Perceived loudness 0 to 1 (mapped to the output's linear scale)."""
        volume = min(1.0, max(0.0, volume))
        if volume == self._volume:
            return
        self._volume = volume
        self._apply_volume()
        self.volume_changed.emit(volume)

    def choose_playlist(self, cue: str) -> None:
        """The therapist picks a playlist: an override, phases stop switching the music."""
        self.queue.choose(cue)
        self.follow_changed.emit(False)
        self._switch("playlist_chosen", "playlist_chosen")

    def set_follow_phases(self, follow: bool) -> None:
        """Off: stay on this playlist. On: go (with a fade) to the current phase's music."""
        if follow == self.queue.follow_phases:
            return
        if not follow:
            self.queue.hold()
            self.follow_changed.emit(False)
            return
        cue = self.queue.release()
        self.follow_changed.emit(True)
        if cue is not None:
            self._cue_switched(cue)

    # -- the session ------------------------------------------------------------------------

    def on_phase(self, phase_id: str) -> None:
        """A phase began: switch to its playlist with a fade, unless overridden."""
        cue = self.queue.on_phase(phase_id)
        if cue is not None:
            self._cue_switched(cue)

    def set_recorder(self, record: RecordFn | None) -> None:
        """Where track starts and stops go (``runtime.controller.record``, via
        ``follow_session``)."""
        self._record = record

    def record_playing(self, reason: str) -> None:
        """Record the playing track as started now (a session began while it played), so
        the timeline never shows a stop without its start."""
        if self._open is not None:
            track, cue = self._open
            self._emit_record(TRACK_STARTED, self._data(track, cue, reason, self.position_ms()))

    def end_of_session(self) -> None:
        """The session is ending: its playing track's stop goes on its timeline now, while
        the session can still record it (a fade would land after the end), and the music
        stops."""
        self._fade.stop()
        self._then = None
        self._wants_play = False
        self._stop_now("session_end")

    def shutdown(self) -> None:
        """Close the timeline's open track (no fade: the app is closing)."""
        self._fade.stop()
        self._then = None
        self._wants_play = False
        self._stop_now("stopped")

    # -- internals --------------------------------------------------------------------------

    def _cue_switched(self, cue: str) -> None:
        if cue == SILENCE:
            was_playing = self._wants_play
            self._wants_play = False
            if was_playing:
                self.playing_changed.emit(False)
            self._fade_out_then(lambda: self._stop_now("phase_change"), self.fade_ms, "stop")
            self.track_changed.emit()
            return
        self._switch("phase_change", "phase_change")

    def _switch(self, stop_reason: str, start_reason: str) -> None:
        """The queue moved on: fade out what plays, then start the queue's current track."""
        self._failures = 0
        self.track_changed.emit()
        if not self._wants_play:
            # Not playing: forget the paused track so that play starts the new one.
            if self._loaded is not None and self._loaded[0] != self.queue.current:
                self._fade.stop()
                self._then = None
                self._stop_now(stop_reason)
            return

        def start_next() -> None:
            self._stop_now(stop_reason)
            if self._wants_play and self.queue.current is not None:
                self._load_and_play(start_reason)

        self._fade_out_then(start_next, self.fade_ms, "switch")

    def _load_and_play(self, reason: str) -> None:
        track = self.queue.current
        cue = self.queue.cue
        if track is None or cue is None:
            return
        self._loaded = (track, cue)
        self._start_reason = reason
        self._gain = 0.0
        self._apply_volume()
        self.player.setSource(QUrl.fromLocalFile(track.path))
        self.player.play()

    def _pause_now(self) -> None:
        self.player.pause()
        self._close("paused")

    def _stop_now(self, reason: str) -> None:
        self._close(reason)
        self._start_reason = None
        self._loaded = None
        self.player.stop()
        self.player.setSource(QUrl())

    def _close(self, reason: str, position_ms: int | None = None) -> None:
        """Put the open track's stop on the timeline."""
        if self._open is None:
            return
        track, cue = self._open
        self._open = None
        pos = self.player.position() if position_ms is None else position_ms
        self._emit_record(TRACK_STOPPED, self._data(track, cue, reason, pos))

    def _data(self, track: Track, cue: str, reason: str, position_ms: int) -> dict[str, Any]:
        playlist = self.queue.playlists.get(cue)
        duration = self.player.duration()
        return {
            "cue": cue,
            "playlist": playlist.source if playlist else "",
            "title": track.title,
            "path": track.path,
            "position_s": round(position_ms / 1000, 1),
            "duration_s": round(duration / 1000, 1) if duration > 0 else None,
            "reason": reason,
            "audible": self.available,
        }

    def _emit_record(self, kind: str, data: dict[str, Any]) -> None:
        if self._record is None:
            return
        try:
            self._record(kind, data)
        except Exception as exc:  # the timeline failing must not stop the music
            self._report(f"could not record {kind} on the timeline: {exc}")

    def _report(self, message: str) -> None:
        log.warning("music: %s", message)
        self.problems.append(message)
        del self.problems[:-50]
        self.problem.emit(message)

    def _apply_volume(self) -> None:
        # Fades and the slider work on perceived loudness; the output wants linear gain.
        linear = QtAudio.convertVolume(
            self._volume * self._gain,
            QtAudio.VolumeScale.LogarithmicVolumeScale,
            QtAudio.VolumeScale.LinearVolumeScale,
        )
        self.output.setVolume(linear)

    def _set_gain(self, value: object) -> None:
        self._gain = float(value)  # type: ignore[arg-type]
        self._apply_volume()

    def _fade_to(self, target: float, full_ms: int) -> None:
        self._fade.stop()
        distance = abs(target - self._gain)
        if full_ms <= 0 or distance < 1e-3:
            self._set_gain(target)
            self._fade_finished()
            return
        # Reconfiguring a finished animation makes it emit its stale end value at once (a
        # click from full volume to silence and back); keep that from reaching the output.
        self._fade.blockSignals(True)
        self._fade.setStartValue(self._gain)
        self._fade.setEndValue(target)
        self._fade.setDuration(max(1, int(full_ms * distance)))
        self._fade.blockSignals(False)
        self._fade.start()

    def _fading_out(self) -> bool:
        return self.fading and self._then is not None

    def _fade_out_then(self, then: Callable[[], None], full_ms: int, purpose: str) -> None:
        """Fade to silence, then ``then()``; a newer request replaces an older one."""
        self._then = then
        self._fade_purpose = purpose
        if self._open is None or self.player.playbackState() != (
            QMediaPlayer.PlaybackState.PlayingState
        ):
            self._fade.stop()
            self._fade_finished()
            return
        if self._fading_out():
            return
        self._fade_to(0.0, full_ms)

    def _fade_finished(self) -> None:
        then, self._then = self._then, None
        self._fade_purpose = None
        if then is not None:
            then()

    def _state_changed(self, state: QMediaPlayer.PlaybackState) -> None:
        if state != QMediaPlayer.PlaybackState.PlayingState or self._start_reason is None:
            return
        if self._loaded is None:
            return
        reason, self._start_reason = self._start_reason, None
        self._open = self._loaded
        track, cue = self._loaded
        self._emit_record(TRACK_STARTED, self._data(track, cue, reason, self.player.position()))
        self._failures = 0
        self._fade_to(1.0, self.fade_ms if reason != "resumed" else self.pause_fade_ms)

    def _position_changed(self, ms: int) -> None:
        self.position_changed.emit(int(ms))

    def _duration_changed(self, ms: int) -> None:
        self.duration_changed.emit(int(ms))

    def _status_changed(self, status: QMediaPlayer.MediaStatus) -> None:
        if status != QMediaPlayer.MediaStatus.EndOfMedia or self._open is None:
            return
        # Deferred: changing the source inside the player's own signal is re-entrant.
        QTimer.singleShot(0, self._track_ended)

    def _track_ended(self) -> None:
        if self._open is None:
            return
        self._close("ended", self.player.duration())
        if self._then is not None:
            # A fade-out was already leading elsewhere (skip, pause, phase): finish it now.
            self._fade.stop()
            self._fade_finished()
            return
        self._loaded = None
        track = self.queue.next()
        self.track_changed.emit()
        if track is not None and self._wants_play:
            self._load_and_play("advanced")
        else:
            self._wants_play = False
            self.playing_changed.emit(False)

    def _error(self, _error: QMediaPlayer.Error, message: str) -> None:
        loaded = self._loaded
        if loaded is None:
            return
        QTimer.singleShot(0, lambda: self._skip_failed(loaded, message))

    def _skip_failed(self, failed: tuple[Track, str], message: str) -> None:
        if self._loaded != failed:
            return  # already moved on
        track, cue = failed
        self._report(f"cannot play {track.title} ({track.path}): {message}; skipping it")
        data = self._data(track, cue, "error", self.player.position())
        data["error"] = message
        self._close("error")
        self._emit_record(TRACK_FAILED, data)
        self._loaded = None
        self._start_reason = None
        self._failures += 1
        playlist = self.queue.playlist
        if playlist is None or self._failures >= len(playlist):
            self._wants_play = False
            self.playing_changed.emit(False)
            self.player.stop()
            self._report(f"no playable track in the {cue} playlist; music stopped")
            self.track_changed.emit()
            return
        self.queue.next()
        self.track_changed.emit()
        if self._wants_play:
            self._load_and_play("after_error")

    def _outputs_changed(self) -> None:
        available = bool(QMediaDevices.audioOutputs())
        if available:
            # A device plugged in later: move the output onto it (the default may be new).
            self.output.setDevice(QMediaDevices.defaultAudioOutput())
        if available != self.available:
            self.available = available
            self.notice_changed.emit(self.notice)


class SessionTimeline(Protocol):
    """What ``follow_session`` needs of ``SessionController``."""

    session: Session | None

    def add_listener(self, listener: Callable[[SessionEvent], None]) -> None: ...

    def record(self, kind: str, data: Mapping[str, Any] | None = None) -> SessionEvent: ...


def follow_session(
    player: SessionMusicPlayer,
    controller: SessionTimeline,
    phase_cues_for: Callable[[str], Mapping[str, str]] | None = None,
) -> None:
    """Wire the player to a session: phases switch the music, music lands on the timeline.

    ``phase_cues_for(protocol)`` gives the phase -> playlist map of a protocol: when a
    session starts or resumes, its own protocol's map is used (a protocol's
    ``[music.phases]``), whatever protocol was in force when the app started.

    Music played while no session is in progress (before the start, after discharge) is
    not recorded: there is no timeline for it. Listener calls may come from any thread,
    so they go through a ``ThreadInbox`` to the player's (the GUI) thread.
    """
    gui_thread = threading.get_ident()  # follow_session is called on the GUI thread

    def record(kind: str, data: dict[str, Any]) -> None:
        session = controller.session
        if session is not None and session.state is SessionState.IN_PROGRESS:
            controller.record(kind, data)

    def on_event(item: SessionEvent | str) -> None:
        if item == END_OF_SESSION:
            player.end_of_session()
        elif not isinstance(item, SessionEvent):
            return
        elif item.kind in (EventKind.SESSION_STARTED, EventKind.SESSION_RESUMED):
            session = controller.session
            if phase_cues_for is not None and session is not None:
                player.queue.phase_cues = dict(phase_cues_for(session.protocol))
            if item.kind == EventKind.SESSION_STARTED:
                player.record_playing("session_started")
        elif item.kind == EventKind.PHASE_ENTERED and item.phase is not None:
            player.on_phase(item.phase)
        elif item.kind in (EventKind.SESSION_COMPLETED, EventKind.SESSION_ABORTED):
            player.stop()

    inbox: ThreadInbox[SessionEvent | str] = ThreadInbox(on_event, player)
    player.session_inbox = inbox  # kept alive with the player (Qt holds drain() weakly)
    put = inbox.put  # what the controller holds: the queue, no Qt object

    def before_end() -> None:
        if threading.get_ident() == gui_thread:
            player.end_of_session()  # synchronous: the stop lands before the session ends
        else:  # another thread ends the session: the stop may come too late to record
            put(END_OF_SESSION)

    player.set_recorder(record)
    controller.add_listener(put)
    add_before_end = getattr(controller, "add_before_end", None)
    if add_before_end is not None:
        add_before_end(before_end)
