"""Signing in on the command line: a command that reads or writes patient data or the
clinic's accounts names its user (``--user`` or ``KAPDESK_USER``), gives the password (a
prompt on a terminal; ``KAPDESK_PASSWORD`` for unattended scripts, which the clinic then
guards as it guards the password itself) and is refused unless their roles allow it.
The sign-in, any refusal and what the command did go into the audit log, with the
workstation named as the command line.
"""

from __future__ import annotations

import argparse
import getpass
import os
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from kapdesk.domain.access import Actor
from kapdesk.domain.accounts import SignInRefused
from kapdesk.domain.audit import AuditAction
from kapdesk.storage.accounts import AccountStore
from kapdesk.storage.audit import AuditLog
from kapdesk.storage.database import DatabaseError, open_database
from kapdesk.storage.journal.writer import DirectWriter


def add_user_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--user",
        metavar="USERNAME",
        default=None,
        help="who runs the command (also KAPDESK_USER); the password is asked for"
        " (or KAPDESK_PASSWORD)",
    )


@dataclass
class CommandUser:
    actor: Actor
    audit: AuditLog
    accounts: AccountStore
    engine: Engine

    def record(self, action: str, subject: str = "", **detail: object) -> None:
        self.audit.append(self.actor, action, subject, detail=dict(detail))

    def close(self) -> None:
        self.engine.dispose()


def stores_for(
    url: str | None, engine: Engine | None = None
) -> tuple[AccountStore, AuditLog, Engine]:
    """Account store and audit log on a writable engine (a read-only command's data is
    read through its own read-only engine; the audit log is written all the same)."""
    writable = engine if engine is not None else open_database(url)
    writer = DirectWriter(writable)
    from kapdesk.config.security import load_sign_in_policy

    audit = AuditLog(writable, writer, workstation=f"{socket.gethostname()} (command line)")
    return AccountStore(writable, writer, audit, load_sign_in_policy()), audit, writable


def sign_in(
    args: argparse.Namespace,
    check: Callable[[Actor], bool],
    what: str,
    url: str | None = None,
    engine: Engine | None = None,
) -> CommandUser | None:
    """The signed-in user allowed to do ``what``, or None after printing why not."""
    username = getattr(args, "user", None) or os.environ.get("KAPDESK_USER", "")
    if not username:
        print(
            f"kapdesk: {what} needs a signed-in user: give --user USERNAME (or KAPDESK_USER)",
            file=sys.stderr,
        )
        return None
    try:
        accounts, audit, writable = stores_for(url if url is not None else args_url(args), engine)
    except DatabaseError as exc:
        _unaudited(str(exc))
        return None
    password = os.environ.get("KAPDESK_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            print(
                "kapdesk: no password: run in a terminal to be asked, or set KAPDESK_PASSWORD",
                file=sys.stderr,
            )
            writable.dispose()
            return None
        password = getpass.getpass(f"Password for {username}: ")
    try:
        actor = accounts.sign_in(username, password)
    except SignInRefused as exc:
        print(f"kapdesk: {exc}", file=sys.stderr)
        writable.dispose()
        return None
    except SQLAlchemyError as exc:  # the audit entry cannot be written: read nothing
        _unaudited(str(getattr(exc, "orig", exc)))
        writable.dispose()
        return None
    account = accounts.get(actor.username)
    if account is not None and account.must_change_password:
        print(
            "kapdesk: this account still has the password the clinic admin set: sign in to"
            " the app once and choose your own, then try again",
            file=sys.stderr,
        )
        writable.dispose()
        return None
    if not check(actor):
        audit.append(actor, AuditAction.ACCESS_REFUSED, outcome=what)
        print(f"kapdesk: not allowed: {what} ({actor.name}: {actor.role_names})", file=sys.stderr)
        writable.dispose()
        return None
    return CommandUser(actor, audit, accounts, writable)


def _unaudited(reason: str) -> None:
    """Patient data is read only where the reading is recorded: say why it cannot be."""
    flat = reason.lower().replace("-", "").replace(" ", "")
    if any(w in flat for w in ("readonly", "unabletoopendatabasefile", "attempttowrite")):
        reason = "the database is read-only here (a read-only disk or folder)"
    print(
        f"kapdesk: the audit log cannot be written: {reason}. A command that reads patient"
        " data records it first; copy the database somewhere writable. Nothing was read.",
        file=sys.stderr,
    )


def args_url(args: argparse.Namespace) -> str | None:
    return getattr(args, "database_url", None)
