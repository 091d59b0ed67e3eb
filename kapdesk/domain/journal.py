"""The integration journal: entries, their revisions, check-ins, tags and sharing.

An entry has a working text that is saved as the patient types (so a crash loses nothing)
and numbered revisions that are only ever added, never changed: saving an edited entry
adds a revision and keeps every earlier one. What a reader sees of an entry is decided by
``kapdesk.domain.access``; ``view_of`` applies that decision so a not-shared entry reaches
a therapist as "exists" with no text, tags or check-in.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from kapdesk.domain.access import Actor, can_read_entry_text, can_see_entry_exists
from kapdesk.domain.event_text import for_patient
from kapdesk.domain.session import SessionEvent

MAX_TAGS = 12
MAX_TAG_LENGTH = 40
MAX_ENTRY_CHARS = 200_000  # about a hundred pages; a paste beyond that is a mistake


class JournalError(ValueError):
    """A journal value that cannot be stored (bad check-in score, over-long text...)."""


class EntryState(Enum):
    DRAFT = "draft"  # never saved by the patient; the working text is kept all the same
    SAVED = "saved"  # at least one revision


#: The quick check-in scales, each 0..10: (field, label, low end, high end).
CHECKIN_SCALES: tuple[tuple[str, str, str, str], ...] = (
    ("mood", "Mood", "very low", "very good"),
    ("anxiety", "Anxiety", "calm", "very anxious"),
    ("sleep", "Sleep", "very poor", "very good"),
    ("energy", "Energy", "exhausted", "full of energy"),
)
CHECKIN_MAX = 10


@dataclass(frozen=True, slots=True)
class CheckIn:
    """Mood, anxiety, sleep and energy, each 0..10 or not answered (None)."""

    mood: int | None = None
    anxiety: int | None = None
    sleep: int | None = None
    energy: int | None = None

    def __post_init__(self) -> None:
        for name, label, _lo, _hi in CHECKIN_SCALES:
            v = getattr(self, name)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= CHECKIN_MAX:
                raise JournalError(f"{label} must be a whole number 0-{CHECKIN_MAX}, not {v!r}")

    @property
    def empty(self) -> bool:
        return all(getattr(self, n) is None for n, *_ in CHECKIN_SCALES)

    def as_dict(self) -> dict[str, int | None]:
        return {n: getattr(self, n) for n, *_ in CHECKIN_SCALES}

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> CheckIn:
        data = data or {}
        return cls(**{n: data.get(n) for n, *_ in CHECKIN_SCALES})


@dataclass(frozen=True, slots=True)
class Revision:
    """A saved state of an entry; revisions are numbered from 1 and never rewritten."""

    number: int
    body: str
    tags: tuple[str, ...]
    shared: bool
    saved_at: float


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One entry as stored: the working text plus what the patient chose for it."""

    patient_id: int
    body: str = ""
    tags: tuple[str, ...] = ()
    shared: bool = True
    session_id: int | None = None
    prompt_set: str | None = None
    checkin: CheckIn = field(default_factory=CheckIn)
    state: EntryState = EntryState.DRAFT
    revision: int = 0  # number of the newest revision; 0 while a draft
    created_at: float = 0.0
    updated_at: float = 0.0
    id: int | None = None

    def __post_init__(self) -> None:
        if len(self.body) > MAX_ENTRY_CHARS:
            raise JournalError(f"an entry holds at most {MAX_ENTRY_CHARS:,} characters")

    def edited(self, body: str, t: float, **changes: Any) -> JournalEntry:
        """The entry with new working text (autosave); revisions are not touched."""
        return replace(self, body=body, updated_at=t, **changes)

    def is_changed_since(self, last: Revision | None) -> bool:
        if last is None:
            return True
        return (self.body, self.tags, self.shared) != (last.body, last.tags, last.shared)

    def next_revision(self, t: float) -> Revision:
        return Revision(self.revision + 1, self.body, self.tags, self.shared, t)


@dataclass(frozen=True, slots=True)
class EntryView:
    """An entry as one reader may see it. For a not-shared entry shown to the therapist,
    ``text``, ``tags`` and ``checkin`` are None and ``redacted`` is True."""

    id: int
    patient_id: int
    session_id: int | None
    created_at: float
    updated_at: float
    shared: bool
    state: EntryState
    revision: int
    text: str | None
    tags: tuple[str, ...] | None
    checkin: CheckIn | None
    prompt_set: str | None

    @property
    def redacted(self) -> bool:
        return self.text is None


def view_of(actor: Actor, entry: JournalEntry) -> EntryView | None:
    """What ``actor`` may see of ``entry``: None if not even that it exists."""
    if entry.id is None or not can_see_entry_exists(actor, entry):
        return None
    readable = can_read_entry_text(actor, entry)
    return EntryView(
        id=entry.id,
        patient_id=entry.patient_id,
        session_id=entry.session_id,
        created_at=entry.created_at,
        updated_at=entry.updated_at,
        shared=entry.shared,
        state=entry.state,
        revision=entry.revision,
        text=entry.body if readable else None,
        tags=entry.tags if readable else None,
        checkin=entry.checkin if readable else None,
        prompt_set=entry.prompt_set,
    )


_TAG_SPLIT = re.compile(r"[,;\s]+")
_TAG_KEEP = re.compile(r"[^\w\-]+")


def normalize_tags(raw: str | Iterable[str]) -> tuple[str, ...]:
    """Tags as the patient typed them ("#Grief, family  sleep") -> ("grief", "family",
    "sleep"): lower case, no '#', letters/digits/-/_ only, no repeats, order kept."""
    parts = _TAG_SPLIT.split(raw) if isinstance(raw, str) else list(raw)
    out: list[str] = []
    for p in parts:
        tag = _TAG_KEEP.sub("", unicodedata.normalize("NFKC", p).lower())[:MAX_TAG_LENGTH]
        if tag and tag not in out:
            out.append(tag)
    return tuple(out[:MAX_TAGS])


# -- the session beside the entry ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimelineItem:
    """One moment of a session as the patient may see it."""

    t: float
    kind: str
    text: str


def patient_timeline(events: Sequence[Mapping[str, Any]]) -> list[TimelineItem]:
    """The moments of a session meant for the patient, in time order.

    ``events`` are session events as mappings with ``t``, ``kind`` and ``data``. Only
    phases, the intention, music, the eye mask, check-ins and notes marked
    ``for_patient`` pass; doses (lot numbers), baselines, alarms and staff notes never do.
    This is an allow-list on purpose: a new kind of event stays hidden until someone
    decides the patient should see it.
    """
    out: list[TimelineItem] = []
    for ev in sorted(events, key=lambda e: float(e.get("t", 0.0))):
        kind = str(ev.get("kind", ""))
        data = ev.get("data") or {}
        t = float(ev.get("t", 0.0))
        text = for_patient(SessionEvent(t, kind, None, data))
        if text is not None:
            out.append(TimelineItem(t, kind, text))
    return out


def session_intention(events: Sequence[Mapping[str, Any]]) -> str | None:
    for ev in events:
        if ev.get("kind") == "intention":
            text = (ev.get("data") or {}).get("text")
            if isinstance(text, str) and text.strip():
                return text.strip()
    return None
