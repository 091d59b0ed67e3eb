"""Staff accounts as the rest of kapdesk sees them, and the rules of signing in that do
not depend on storage: what makes a username and a password acceptable, and when repeated
failures lock an account for a while. Hashing is storage's (argon2id); time is passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kapdesk.domain.access import Actor, Role

USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,39}$")


class AccountError(ValueError):
    """An account that cannot be made or changed as asked; the message says why."""


class SignInRefused(PermissionError):
    """A sign-in that did not succeed. The message is safe to show: it never says whether
    the username exists (a wrong name and a wrong password read the same)."""

    def __init__(self, message: str, locked_for_s: float = 0.0) -> None:
        super().__init__(message)
        self.locked_for_s = locked_for_s


@dataclass(frozen=True, slots=True)
class SignInPolicy:
    """The clinic's numbers (clinic.toml ``[security]``, ranges in setting_ranges)."""

    min_password_length: int = 10
    max_failures: int = 5
    lockout_s: float = 300.0
    idle_lock_s: float = 600.0
    #: A therapist reads the shared journal entries of the patients in their care team
    #: only (``[security] journal_readers = "care team"``); False: every therapist's.
    care_team_only: bool = True


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    username: str
    display_name: str
    roles: frozenset[Role]
    disabled: bool = False
    failures: int = 0
    locked_until: float = 0.0
    must_change_password: bool = False
    demo: bool = False

    def actor(self, emergency: str | None = None) -> Actor:
        return Actor(
            self.roles,
            self.display_name,
            user_id=self.id,
            username=self.username,
            emergency=emergency,
        )

    def locked_for(self, now: float) -> float:
        return max(0.0, self.locked_until - now)


def check_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise AccountError(
            f"username {username!r}: 2-40 characters, starting with a letter, of lower-case"
            " letters, digits, '.', '_' or '-'"
        )
    return name


def check_password(password: str, policy: SignInPolicy, username: str = "") -> None:
    if len(password) < policy.min_password_length:
        raise AccountError(f"a password needs at least {policy.min_password_length} characters")
    if username and password.strip().lower() == username.lower():
        raise AccountError("a password must not be the username")


def after_failure(failures: int, now: float, policy: SignInPolicy) -> tuple[int, float]:
    """(failures, locked_until) after one more wrong password: the count resets when it
    reaches the limit, and the account is locked for the policy's time."""
    failures += 1
    if failures >= policy.max_failures:
        return 0, now + policy.lockout_s
    return failures, 0.0


def lockout_message(locked_for_s: float) -> str:
    minutes = max(1, round(locked_for_s / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return (
        f"Too many wrong passwords: this account is locked for {minutes} {unit}."
        " Another staff member can sign in, or the clinic admin can unlock it."
    )
