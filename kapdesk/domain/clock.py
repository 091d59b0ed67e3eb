"""The session clock: wall-clock UTC for what is stored, monotonic for how time passes.

The clock is anchored to the wall clock once, at start, and then advanced only by the
monotonic clock (scaled by ``speed`` for training and tests). So a wall-clock change during
a session never moves a timer or reorders readings, and at ``speed`` N an emulated session
records N seconds of session time per real second.

The time sources are injected so this module does no I/O of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass
class SessionClock:
    monotonic: Callable[[], float]
    wall: Callable[[], float]
    speed: float = 1.0
    _mono0: float = field(init=False)
    _wall0: float = field(init=False)

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError(f"clock speed must be > 0, not {self.speed}")
        self._mono0 = self.monotonic()
        self._wall0 = self.wall()

    @property
    def anchor(self) -> float:
        """The wall-clock epoch seconds the clock started at."""
        return self._wall0

    def elapsed(self) -> float:
        """Session seconds since the clock started (scaled by speed)."""
        return (self.monotonic() - self._mono0) * self.speed

    def now(self) -> float:
        """Epoch seconds (UTC) on the session clock."""
        return self._wall0 + self.elapsed()

    def to_epoch(self, elapsed: float) -> float:
        return self._wall0 + elapsed

    def wall_now(self) -> float:
        """The real wall clock now (what a gap between two processes is measured by)."""
        return self.wall()

    def continue_session(self, anchor: float, now: float, speed: float) -> None:
        """Carry on a resumed session's own clock: from now on ``now()`` runs on from
        ``now`` at the session's ``speed``, and ``elapsed()`` counts from the session
        clock's first ``anchor`` (what a demo's timed steps are measured from)."""
        if not speed > 0:
            raise ValueError(f"clock speed must be > 0, not {speed}")
        self.speed = speed
        self._wall0 = anchor
        self._mono0 = self.monotonic() - (now - anchor) / speed

    def real_seconds(self, session_seconds: float) -> float:
        """How long a span of session time takes in real time."""
        return session_seconds / self.speed


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """Where a resumed session's clock carries on, and the gap that was not recorded."""

    #: the session clock's first anchor (the first process's), for ``elapsed()``
    anchor: float
    speed: float
    #: real seconds nothing was recorded for (the crash or the closed app)
    gap_real_s: float | None
    #: session time the resumed clock starts at: the last record plus the gap at speed
    now: float


def resume_point(
    segments: list[tuple[float, Mapping[str, object]]],
    last_recorded: float | None,
    wall_now: float,
    stored_speed: float,
    started_at: float | None,
) -> ResumePoint:
    """The clock of a session being resumed, from what its record says of its clocks.

    ``segments``: (session time, data) of its ``session_started`` and
    ``session_resumed`` events, which carry ``wall_at`` (the real wall clock at that
    session time), ``clock_anchor`` and ``clock_speed``. At speed N a session's record
    runs N times faster than the wall clock, so the real moment of its last record is
    the last segment's ``wall_at`` plus the session time since, divided by N. A record
    from before clocks were recorded is taken as speed 1, where the two agree.
    """
    speed = stored_speed if stored_speed > 0 else 1.0
    anchor = started_at if started_at is not None else wall_now
    wall_at_last: float | None = last_recorded
    for t, data in segments:
        anchor_v = data.get("clock_anchor")
        if isinstance(anchor_v, int | float) and t == segments[0][0]:
            anchor = float(anchor_v)
    for t, data in reversed(segments):
        wall_at = data.get("wall_at")
        seg_speed = data.get("clock_speed")
        if isinstance(wall_at, int | float) and last_recorded is not None:
            s = float(seg_speed) if isinstance(seg_speed, int | float) and seg_speed > 0 else speed
            wall_at_last = float(wall_at) + (last_recorded - t) / s
            break
    if last_recorded is None or wall_at_last is None:
        return ResumePoint(anchor, speed, None, anchor + max(0.0, wall_now - anchor) * speed)
    gap = max(0.0, wall_now - wall_at_last)
    return ResumePoint(anchor, speed, gap, last_recorded + gap * speed)


def iso_utc(epoch_seconds: float) -> str:
    """ISO 8601 UTC with microseconds and a Z, the one time format of every export."""
    return (
        datetime.fromtimestamp(epoch_seconds, UTC)
        .isoformat(timespec="microseconds")
        .replace("+00:00", "Z")
    )


def parse_iso_utc(text: str) -> float:
    """Epoch seconds from an ISO 8601 time; a time without zone is taken as UTC."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()
