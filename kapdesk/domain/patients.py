"""A patient as the session and the journal know them."""

from __future__ import annotations

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

    def __post_init__(self) -> None:
        if not self.display_name.strip():
            raise ValueError("a patient needs a name or pseudonym")
        if self.weight_kg is not None and not 1 <= self.weight_kg <= 500:
            raise ValueError(f"implausible body weight: {self.weight_kg} kg")
