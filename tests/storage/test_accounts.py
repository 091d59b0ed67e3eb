"""Staff accounts on a real SQLite file: argon2id hashes, lockout, admin-only changes,
and every sign-in, failure and change in the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from kapdesk.domain.access import AccessDenied, Actor, Role
from kapdesk.domain.accounts import AccountError, SignInPolicy, SignInRefused
from kapdesk.storage.accounts import AccountStore
from kapdesk.storage.audit import AuditFilter, AuditLog
from kapdesk.storage.database import open_database
from kapdesk.storage.journal.writer import DirectWriter


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def stores(db_url):
    engine = open_database(db_url)
    clock = Clock()
    writer = DirectWriter(engine)
    audit = AuditLog(engine, writer, clock, workstation="room-1")
    accounts = AccountStore(
        engine, writer, audit, SignInPolicy(max_failures=3, lockout_s=300), clock
    )
    yield accounts, audit, clock, engine
    engine.dispose()


def _admin(accounts: AccountStore) -> Actor:
    accounts.create(None, "admin", "Ada Admin", {Role.ADMIN}, "correct horse battery")
    return accounts.sign_in("admin", "correct horse battery")


def test_the_first_account_must_be_an_admin_and_only_the_first_needs_no_sign_in(stores):
    accounts, *_ = stores
    with pytest.raises(AccountError, match="first account must be a clinic admin"):
        accounts.create(None, "tess", "Tess Therapist", {Role.THERAPIST}, "long enough pw")
    _admin(accounts)
    with pytest.raises(AccessDenied):
        accounts.create(None, "tess", "Tess Therapist", {Role.THERAPIST}, "long enough pw")


def test_passwords_are_stored_only_as_argon2id_hashes(stores):
    accounts, _, _, engine = stores
    _admin(accounts)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM accounts")).scalar_one()
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored


def test_a_wrong_password_and_an_unknown_name_read_the_same_and_are_audited(stores):
    accounts, audit, *_ = stores
    _admin(accounts)
    with pytest.raises(SignInRefused) as wrong:
        accounts.sign_in("admin", "not the password")
    with pytest.raises(SignInRefused) as unknown:
        accounts.sign_in("nobody", "not the password")
    assert str(wrong.value) == str(unknown.value) == "Wrong username or password."
    failed = audit.search(AuditFilter(action="sign_in_failed"))
    assert [e.subject for e in failed] == ["account:nobody", "account:admin"]


def test_repeated_failures_lock_the_account_even_against_the_right_password(stores):
    accounts, _, clock, _ = stores
    admin = _admin(accounts)
    accounts.create(admin, "nurse", "Nia Nurse", {Role.MEDICAL_STAFF}, "nurse password 1")
    for _ in range(3):
        with pytest.raises(SignInRefused):
            accounts.sign_in("nurse", "guess guess")
    with pytest.raises(SignInRefused, match="locked for 5 minutes") as locked:
        accounts.sign_in("nurse", "nurse password 1")
    assert locked.value.locked_for_s == pytest.approx(300)
    clock.t += 301
    actor = accounts.sign_in("nurse", "nurse password 1")
    assert actor.roles == {Role.MEDICAL_STAFF} and actor.username == "nurse"


def test_the_admin_unlocks_and_resets_and_disabled_accounts_cannot_sign_in(stores):
    accounts, audit, *_ = stores
    admin = _admin(accounts)
    accounts.create(admin, "tess", "Tess Therapist", {Role.THERAPIST}, "therapist pw 1")
    for _ in range(3):
        with pytest.raises(SignInRefused):
            accounts.sign_in("tess", "wrong wrong")
    accounts.reset_password(admin, "tess", "a new password")
    tess = accounts.sign_in("tess", "a new password")
    assert accounts.get("tess").must_change_password
    accounts.change_own_password(tess, "a new password", "tess chose this")
    assert not accounts.get("tess").must_change_password
    accounts.disable(admin, "tess")
    with pytest.raises(SignInRefused, match="disabled"):
        accounts.sign_in("tess", "tess chose this")
    accounts.enable(admin, "tess")
    accounts.sign_in("tess", "tess chose this")
    actions = [e.action for e in audit.search(AuditFilter(subject="account:tess"))]
    assert actions[::-1] == [
        "account_created",
        "sign_in_failed",
        "sign_in_failed",
        "sign_in_failed",
        "password_reset",
        "password_changed",
        "account_disabled",
        "sign_in_failed",
        "account_enabled",
    ]


def test_only_an_admin_changes_accounts_and_the_last_admin_stays(stores):
    accounts, *_ = stores
    admin = _admin(accounts)
    accounts.create(admin, "tess", "Tess Therapist", {Role.THERAPIST}, "therapist pw 1")
    tess = accounts.sign_in("tess", "therapist pw 1")
    for attempt in (
        lambda: accounts.create(tess, "eve", "Eve", {Role.ADMIN}, "eve password 1"),
        lambda: accounts.disable(tess, "admin"),
        lambda: accounts.reset_password(tess, "admin", "taken over now"),
        lambda: accounts.set_roles(tess, "tess", {Role.ADMIN}),
    ):
        with pytest.raises(AccessDenied):
            attempt()
    with pytest.raises(AccountError, match="no active clinic admin"):
        accounts.disable(admin, "admin")
    with pytest.raises(AccountError, match="no active clinic admin"):
        accounts.set_roles(admin, "admin", {Role.THERAPIST})


def test_one_person_holds_several_roles(stores):
    accounts, *_ = stores
    admin = _admin(accounts)
    accounts.create(admin, "dr.m", "Dr M", {Role.THERAPIST, Role.MEDICAL_STAFF}, "two hats pw")
    actor = accounts.sign_in("DR.M ", "two hats pw")
    assert actor.has(Role.THERAPIST) and actor.has(Role.MEDICAL_STAFF)
    assert actor.role_names == "therapist, medical staff"


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("x", "long enough pw", "username"),
        ("9lives", "long enough pw", "username"),
        ("tess", "short", "at least 10"),
        ("tess", "tess", "at least 10"),
    ],
)
def test_bad_usernames_and_passwords_are_refused_with_the_reason(
    stores, username, password, message
):
    accounts, *_ = stores
    admin = _admin(accounts)
    with pytest.raises(AccountError, match=message):
        accounts.create(admin, username, "Someone", {Role.THERAPIST}, password)
