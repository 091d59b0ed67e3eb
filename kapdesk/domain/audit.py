"""The audit log's chain: each entry's hash covers the previous hash and the entry itself,
so an edited, deleted, inserted or reordered row breaks the chain where it happened.

hash = SHA-256(previous hash (hex) || canonical JSON of the entry), the canonical JSON
being sorted keys, no spaces, UTF-8, times as integer microseconds (a float's text could
differ between databases, an integer cannot). The first entry's previous hash is
``GENESIS``. Pure: storage appends and reads the rows, this module says what they must be.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

GENESIS = "0" * 64


class AuditAction(StrEnum):
    """What the log records. The values are stored: they never change."""

    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_OUT = "sign_out"
    LOCK = "lock"
    UNLOCK = "unlock"
    BREAK_GLASS = "break_glass"
    PATIENT_MODE_ENTERED = "patient_mode_entered"
    PATIENT_MODE_LEFT = "patient_mode_left"
    VIEW_PATIENT = "view_patient"
    VIEW_JOURNAL = "view_journal"
    VIEW_ENTRY = "view_entry"
    VIEW_SESSION = "view_session"
    EXPORT = "export"
    REPORT = "report"
    ALARM_ACKNOWLEDGED = "alarm_acknowledged"
    ALARM_AUDIO_PAUSED = "alarm_audio_paused"
    LIMIT_CHANGED = "limit_changed"
    PROTOCOL_CHANGED = "protocol_changed"
    SETTING_CHANGED = "setting_changed"
    ACCOUNT_CREATED = "account_created"
    ACCOUNT_CHANGED = "account_changed"
    ACCOUNT_DISABLED = "account_disabled"
    ACCOUNT_ENABLED = "account_enabled"
    PASSWORD_RESET = "password_reset"
    PASSWORD_CHANGED = "password_changed"
    CARE_TEAM_JOINED = "care_team_joined"
    CARE_TEAM_LEFT = "care_team_left"
    AUDIT_REVIEWED = "audit_reviewed"
    ACCESS_REFUSED = "access_refused"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the log. ``user`` is the account's username (empty when nobody is
    signed in), ``subject`` what was acted on ("patient:3", "session:12",
    "entry:40", "file:/path", "account:nurse1"), ``outcome`` "ok" or why not."""

    seq: int
    t: float
    user: str
    roles: str
    action: str
    subject: str = ""
    outcome: str = "ok"
    detail: Mapping[str, Any] = field(default_factory=dict)
    workstation: str = ""

    def canonical(self) -> bytes:
        body = {
            "seq": self.seq,
            "t_us": round(self.t * 1_000_000),
            "user": self.user,
            "roles": self.roles,
            "action": self.action,
            "subject": self.subject,
            "outcome": self.outcome,
            "detail": dict(self.detail),
            "workstation": self.workstation,
        }
        return json.dumps(
            body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
        ).encode("utf-8")


def chain_hash(previous: str, entry: AuditEntry) -> str:
    return hashlib.sha256(previous.encode("ascii") + entry.canonical()).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """An entry as read back: the entry and the two hashes stored with it."""

    entry: AuditEntry
    previous: str
    hash: str


@dataclass(frozen=True, slots=True)
class BrokenLink:
    """Where the chain breaks first, and why, in words for the administrator."""

    seq: int
    reason: str

    def __str__(self) -> str:
        return f"the audit log is broken at entry {self.seq}: {self.reason}"


def verify_chain(rows: Iterable[StoredEntry]) -> tuple[int, BrokenLink | None]:
    """Recompute the chain over ``rows`` (in stored order); the number of entries checked
    and the first broken link, or None when every link holds."""
    previous, expected_seq, count = GENESIS, 1, 0
    for row in rows:
        count += 1
        seq = row.entry.seq
        if seq != expected_seq:
            what = "missing or moved" if seq > expected_seq else "repeated or moved"
            return count, BrokenLink(
                seq, f"expected entry {expected_seq} here, found {seq} (entries {what})"
            )
        if row.previous != previous:
            return count, BrokenLink(seq, "it does not follow the entry before it")
        if chain_hash(previous, row.entry) != row.hash:
            return count, BrokenLink(seq, "its content was changed after it was written")
        previous, expected_seq = row.hash, expected_seq + 1
    return count, None
