"""A patient as the session and the journal know them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date


@dataclass(slots=True)
class Patient:
    """A patient record; ``display_name`` may be a pseudonym the clinic chooses."""

    display_name: str
    date_of_birth: date | None = None
    weight_kg: float | None = None
    allergies: str = ""
    medications: str = ""
    notes: str = ""
    baseline: dict[str, float] = field(default_factory=dict)  # channel -> resting value
    id: int | None = None
    uid: str = ""

    @property
    def pseudonym(self) -> str:
        """A short name that does not identify the patient ("Patient K7QD"): what a
        locked monitor or a central station shows to whoever may not see the name."""
        return pseudonym(self.uid or str(self.id or self.display_name))

    def __post_init__(self) -> None:
        if not self.display_name.strip():
            raise ValueError("a patient needs a name or pseudonym")
        if self.weight_kg is not None and not 1 <= self.weight_kg <= 500:
            raise ValueError(f"implausible body weight: {self.weight_kg} kg")


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def pseudonym(key: str) -> str:
    """Four Crockford base32 characters of a SHA-256 of ``key`` (a patient's uid)."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    number = int.from_bytes(digest[:3], "big")
    chars = "".join(_CROCKFORD[(number >> (5 * i)) & 31] for i in range(4))
    return f"Patient {chars}"
