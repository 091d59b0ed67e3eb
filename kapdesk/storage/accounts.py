"""Staff accounts: made, changed and signed in to, with the password only as an argon2id
hash (``argon2-cffi``'s ``PasswordHasher``, RFC 9106's low-memory profile) and repeated
failures locking the account for a while (``kapdesk.domain.accounts``).

Every change is the act of a signed-in administrator (checked here, by the store, not by
the screen) and is audited; so is every sign-in and every failure. The one exception is
the first account of a clinic (no account exists yet): the set-up wizard makes it, and it
must be an administrator.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session as OrmSession

from kapdesk.domain import access
from kapdesk.domain.access import Actor, Role
from kapdesk.domain.accounts import (
    Account,
    AccountError,
    SignInPolicy,
    SignInRefused,
    after_failure,
    check_password,
    check_username,
    lockout_message,
)
from kapdesk.domain.audit import AuditAction
from kapdesk.storage.audit import AuditLog
from kapdesk.storage.care_team import patients_in_care
from kapdesk.storage.journal.writer import Writer
from kapdesk.storage.security_models import AccountRow

WRONG = "Wrong username or password."
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the username does not exist, so a wrong name takes as long
    as a wrong password (the time must not tell which accounts exist). Made on first use,
    not at import: an argon2id hash costs what start-up should not."""
    return _HASHER.hash("kapdesk: no such account")


def _roles_text(roles: Iterable[Role]) -> str:
    return ",".join(sorted(r.value for r in roles))


def _account(row: AccountRow) -> Account:
    return Account(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        roles=access.parse_roles(row.roles.split(",")) if row.roles else frozenset(),
        disabled=row.disabled,
        failures=row.failures,
        locked_until=row.locked_until,
        must_change_password=row.must_change_password,
        demo=row.demo,
    )


class AccountStore:
    def __init__(
        self,
        engine: Engine,
        writer: Writer,
        audit: AuditLog,
        policy: SignInPolicy | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.writer = writer
        self.audit = audit
        self.policy = policy or SignInPolicy()
        self.now = now

    # -- reading ----------------------------------------------------------------------

    def count(self) -> int:
        with OrmSession(self.engine) as s:
            return int(s.scalar(select(func.count()).select_from(AccountRow)) or 0)

    def all(self) -> list[Account]:
        with OrmSession(self.engine) as s:
            return [
                _account(r) for r in s.scalars(select(AccountRow).order_by(AccountRow.username))
            ]

    def get(self, username: str) -> Account | None:
        with OrmSession(self.engine) as s:
            row = s.scalars(select(AccountRow).where(AccountRow.username == username)).first()
            return _account(row) if row else None

    def _require(self, username: str) -> Account:
        account = self.get(username)
        if account is None:
            raise AccountError(f"no account {username!r}")
        return account

    # -- signing in -------------------------------------------------------------------

    def sign_in(self, username: str, password: str, emergency: str | None = None) -> Actor:
        """The actor of a correct password; ``SignInRefused`` (audited) otherwise. A locked
        account is not even checked: a lockout must not confirm a right guess."""
        name = username.strip().lower()
        now = self.now()
        with OrmSession(self.engine) as s:
            row = s.scalars(select(AccountRow).where(AccountRow.username == name)).first()
            account = _account(row) if row else None
            stored = row.password_hash if row else _dummy_hash()
        if account is not None and account.locked_for(now) > 0:
            self._refused(name, "locked")
            raise SignInRefused(lockout_message(account.locked_for(now)), account.locked_for(now))
        ok = _verify(stored, password)
        if account is None or not ok:
            if account is not None:
                locked = self._count_failure(account.id, now)
                if locked:
                    self._refused(name, "wrong password; account locked")
                    raise SignInRefused(
                        lockout_message(self.policy.lockout_s), self.policy.lockout_s
                    )
            self._refused(name, "wrong password" if account else "unknown username")
            raise SignInRefused(WRONG)
        if account.disabled:
            self._refused(name, "account disabled")
            raise SignInRefused("This account is disabled. Ask the clinic admin.")
        self._signed_in(account.id, stored, password)
        actor = self.with_care(account.actor(emergency))
        if emergency:
            self.audit.append(
                actor, AuditAction.BREAK_GLASS, outcome="ok", detail={"reason": emergency}
            )
        else:
            self.audit.append(actor, AuditAction.SIGN_IN)
        return actor

    def with_care(self, actor: Actor) -> Actor:
        """``actor`` with the patients in their care as the care-team table says now. Not
        restricted: an emergency session, a clinic whose every therapist reads every
        shared entry, and whoever is no therapist (their roles decide alone)."""
        if actor.emergency or not actor.has(Role.THERAPIST) or not self.policy.care_team_only:
            return actor.with_care(None)
        return actor.with_care(patients_in_care(self.engine, actor.username))

    def verify_password(self, actor: Actor, password: str) -> bool:
        """Is this the signed-in person's password (unlocking their own locked screen)?"""
        account = self.get(actor.username)
        if account is None or account.disabled:
            return False
        with OrmSession(self.engine) as s:
            row = s.get(AccountRow, account.id)
            return row is not None and _verify(row.password_hash, password)

    def _refused(self, username: str, why: str) -> None:
        self.audit.append(None, AuditAction.SIGN_IN_FAILED, f"account:{username}", why, user="")

    def _count_failure(self, account_id: int, now: float) -> bool:
        def write(s: OrmSession) -> bool:
            row = s.get(AccountRow, account_id)
            assert row is not None
            row.failures, row.locked_until = after_failure(row.failures, now, self.policy)
            row.updated_at = now
            return row.locked_until > now

        return self.writer.call(write)

    def _signed_in(self, account_id: int, stored: str, password: str) -> None:
        rehash = _HASHER.check_needs_rehash(stored)
        new_hash = _HASHER.hash(password) if rehash else None
        now = self.now()

        def write(s: OrmSession) -> None:
            row = s.get(AccountRow, account_id)
            assert row is not None
            if row.failures or row.locked_until:
                row.failures, row.locked_until = 0, 0.0
                row.updated_at = now
            if new_hash:
                row.password_hash = new_hash

        self.writer.call(write)

    # -- changing accounts ------------------------------------------------------------

    def create(
        self,
        by: Actor | None,
        username: str,
        display_name: str,
        roles: Iterable[Role],
        password: str,
        demo: bool = False,
        must_change_password: bool = False,
    ) -> Account:
        """A new account. ``by`` is the administrator making it; None only for a clinic's
        first account, which must then be an administrator."""
        roles = frozenset(roles)
        first = self.count() == 0
        if by is None:
            if not first:
                raise access.AccessDenied("not allowed: adding an account without signing in")
            if Role.ADMIN not in roles:
                raise AccountError("the clinic's first account must be a clinic admin")
        else:
            access.require(access.can_manage_accounts(by), "adding accounts")
        name = check_username(username)
        if not display_name.strip():
            raise AccountError("an account needs the person's name")
        if not roles or Role.PATIENT in roles:
            raise AccountError("an account needs one or more staff roles")
        check_password(password, self.policy, name)
        if self.get(name) is not None:
            raise AccountError(f"an account {name!r} exists already")
        now = self.now()
        hashed = _HASHER.hash(password)

        def write(s: OrmSession) -> Account:
            row = AccountRow(
                username=name,
                display_name=display_name.strip()[:120],
                roles=_roles_text(roles),
                password_hash=hashed,
                disabled=False,
                failures=0,
                locked_until=0.0,
                must_change_password=must_change_password,
                demo=demo,
                created_at=now,
                updated_at=now,
            )
            s.add(row)
            s.flush()
            return _account(row)

        account = self.writer.call(write)
        self.audit.append(
            by if by is not None else account.actor(),
            AuditAction.ACCOUNT_CREATED,
            f"account:{name}",
            detail={"roles": _roles_text(roles), "display_name": account.display_name},
        )
        return account

    def _change(
        self,
        by: Actor,
        username: str,
        what: str,
        change: Callable[[AccountRow], None],
        action: AuditAction,
        detail: dict[str, str] | None = None,
    ) -> Account:
        access.require(access.can_manage_accounts(by), what)
        self._require(username)
        now = self.now()

        def write(s: OrmSession) -> Account:
            row = s.scalars(select(AccountRow).where(AccountRow.username == username)).one()
            change(row)
            row.updated_at = now
            return _account(row)

        account = self.writer.call(write)
        self.audit.append(by, action, f"account:{username}", detail=detail or {})
        return account

    def set_roles(self, by: Actor, username: str, roles: Iterable[Role]) -> Account:
        roles = frozenset(roles)
        if not roles or Role.PATIENT in roles:
            raise AccountError("an account needs one or more staff roles")
        access.require(access.can_manage_accounts(by), "changing roles")
        if Role.ADMIN not in roles and Role.ADMIN in self._require(username).roles:
            self._keep_an_admin(username)

        def change(row: AccountRow) -> None:
            row.roles = _roles_text(roles)

        return self._change(
            by,
            username,
            "changing roles",
            change,
            AuditAction.ACCOUNT_CHANGED,
            {"roles": _roles_text(roles)},
        )

    def disable(self, by: Actor, username: str) -> Account:
        access.require(access.can_manage_accounts(by), "disabling accounts")
        if Role.ADMIN in self._require(username).roles:
            self._keep_an_admin(username)

        def change(row: AccountRow) -> None:
            row.disabled = True

        return self._change(
            by, username, "disabling accounts", change, AuditAction.ACCOUNT_DISABLED
        )

    def enable(self, by: Actor, username: str) -> Account:
        def change(row: AccountRow) -> None:
            row.disabled, row.failures, row.locked_until = False, 0, 0.0

        return self._change(by, username, "enabling accounts", change, AuditAction.ACCOUNT_ENABLED)

    def reset_password(self, by: Actor, username: str, password: str) -> Account:
        """The admin sets a new password; the person changes it at their next sign-in."""
        check_password(password, self.policy, username)
        hashed = _HASHER.hash(password)

        def change(row: AccountRow) -> None:
            row.password_hash, row.failures, row.locked_until = hashed, 0, 0.0
            row.must_change_password = by.username != username

        return self._change(by, username, "resetting passwords", change, AuditAction.PASSWORD_RESET)

    def change_own_password(self, actor: Actor, old: str, new: str) -> None:
        if not self.verify_password(actor, old):
            raise SignInRefused("The current password is wrong.")
        check_password(new, self.policy, actor.username)
        hashed = _HASHER.hash(new)
        now = self.now()

        def write(s: OrmSession) -> None:
            row = s.scalars(select(AccountRow).where(AccountRow.username == actor.username)).one()
            row.password_hash, row.must_change_password, row.updated_at = hashed, False, now

        self.writer.call(write)
        self.audit.append(actor, AuditAction.PASSWORD_CHANGED, f"account:{actor.username}")

    def _keep_an_admin(self, username: str) -> None:
        others = [
            a
            for a in self.all()
            if a.username != username and Role.ADMIN in a.roles and not a.disabled
        ]
        if not others:
            raise AccountError(
                "the clinic would have no active clinic admin left: make another admin first"
            )

    def remove_demo_accounts(self, by: Actor | None = None) -> int:
        """Demo accounts never stay in a clinic's database (they are made only in demo
        databases; this removes any an older kapdesk left)."""
        if not any(a.demo for a in self.all()):
            return 0  # nothing to remove, so no write (every commit syncs the disk)

        def write(s: OrmSession) -> int:
            rows = list(s.scalars(select(AccountRow).where(AccountRow.demo.is_(True))))
            for row in rows:
                s.delete(row)
            return len(rows)

        removed = self.writer.call(write)
        if removed:
            self.audit.append(
                by,
                AuditAction.ACCOUNT_DISABLED,
                "account:demo accounts",
                detail={"removed": removed},
            )
        return removed


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
