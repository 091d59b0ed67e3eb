"""The staff PIN's hash, kept with the journal data (never the PIN itself).

Hashing and checking a PIN is ``kapdesk.domain.staff_pin``'s; this module only stores and
reads the hash, and refuses anything that is not one.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session as OrmSession

from kapdesk.storage.journal.models import JournalSettingRow
from kapdesk.storage.journal.writer import Writer

STAFF_PIN_KEY = "staff_pin_hash"


class StaffPinHash:
    """The stored staff PIN hash, in the ``journal_settings`` table."""

    def __init__(self, engine: Engine, writer: Writer, now: Callable[[], float]) -> None:
        self.engine = engine
        self.writer = writer
        self.now = now

    def get(self) -> str | None:
        """The stored hash, or None if no PIN was set."""
        with OrmSession(self.engine) as s:
            row = s.get(JournalSettingRow, STAFF_PIN_KEY)
            return row.value if row is not None else None

    def set(self, pin_hash: str) -> None:
        """Store ``pin_hash`` (an ``scrypt$`` hash; a bare PIN is refused)."""
        if not pin_hash.startswith("scrypt$"):
            raise ValueError("store a PIN hash, never a PIN")
        t = self.now()

        def write(s: OrmSession) -> None:
            row = s.get(JournalSettingRow, STAFF_PIN_KEY)
            if row is None:
                s.add(JournalSettingRow(key=STAFF_PIN_KEY, value=pin_hash, updated_at=t))
            else:
                row.value, row.updated_at = pin_hash, t

        self.writer.call(write)
