"""The session clock: wall-clock UTC for what is stored, monotonic for how time passes.

The clock is anchored to the wall clock once, at start, and then advanced only by the
monotonic clock (scaled by ``speed`` for training and tests). So a wall-clock change during
a session never moves a timer or reorders readings, and at ``speed`` N an emulated session
records N seconds of session time per real second.

The time sources are injected so this module does no I/O of its own.
"""

from __future__ import annotations

from collections.abc import Callable
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

    def real_seconds(self, session_seconds: float) -> float:
        """How long a span of session time takes in real time."""
        return session_seconds / self.speed


def iso_utc(epoch_seconds: float) -> str:
    """ISO 8601 UTC with microseconds and a Z, the one time format of every export."""
    return (
        datetime.fromtimestamp(epoch_seconds, UTC)
        .isoformat(timespec="microseconds")
        .replace("+00:00", "Z")
    )


def local_hms(epoch_seconds: float) -> str:
    """HH:MM:SS in the workstation's local time, as the GUI shows times."""
    return datetime.fromtimestamp(epoch_seconds).strftime("%H:%M:%S")


def parse_iso_utc(text: str) -> float:
    """Epoch seconds from an ISO 8601 time; a time without zone is taken as UTC."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()
