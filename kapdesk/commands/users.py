"""``kapdesk users``: staff accounts from the command line, as the admin has them in the app.

kapdesk users list                             (any signed-in staff member)
kapdesk users add USERNAME --name "Full Name" --role therapist [--role medical_staff]
kapdesk users disable|enable|unlock USERNAME
kapdesk users reset-password USERNAME
kapdesk users care USERNAME [--add PATIENT_ID] [--remove PATIENT_ID]
                                               (the patients in a therapist's care team)
Every action but ``list`` is the clinic admin's (``--user``); the first account of a
clinic (none exists yet) is made without one and must hold the admin role. Passwords
are asked for twice on a terminal, or read from ``KAPDESK_NEW_PASSWORD``.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from typing import Any

from kapdesk.commands._args import add_database_option
from kapdesk.commands._sign_in import add_user_option, sign_in, stores_for
from kapdesk.domain import access
from kapdesk.domain.access import ROLE_NAMES, STAFF_ROLES, AccessDenied
from kapdesk.domain.accounts import AccountError
from kapdesk.storage.care_team import CareTeams
from kapdesk.storage.database import DatabaseError, open_database
from kapdesk.storage.records import list_patients


def register(sub: Any) -> None:
    p = sub.add_parser("users", help="staff accounts: list, add, disable, reset passwords")
    usub = p.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    lp = usub.add_parser("list", help="every account, its roles and whether it may sign in")
    ap = usub.add_parser("add", help="add an account (the first one needs no sign-in)")
    ap.add_argument("username")
    ap.add_argument("--name", required=True, help="the person's full name")
    ap.add_argument(
        "--role",
        action="append",
        required=True,
        choices=["therapist", "medical_staff", "admin"],
        help="a role; repeat for several",
    )
    cp = usub.add_parser(
        "care", help="the patients in someone's care team (whose shared entries they read)"
    )
    cp.add_argument("username")
    cp.add_argument("--add", type=int, action="append", default=[], metavar="PATIENT_ID")
    cp.add_argument("--remove", type=int, action="append", default=[], metavar="PATIENT_ID")
    parsers = [lp, ap, cp]
    for action, helptext in (
        ("disable", "stop an account from signing in"),
        ("enable", "let a disabled account sign in again"),
        ("unlock", "end a lockout after wrong passwords"),
        ("reset-password", "set a new password; they choose their own at the next sign-in"),
    ):
        sp = usub.add_parser(action, help=helptext)
        sp.add_argument("username")
        parsers.append(sp)
    for sp in parsers:
        add_database_option(sp, sub_command=True)
        add_user_option(sp)
        sp.set_defaults(func=run)


def _new_password(prompt: str) -> str | None:
    given = os.environ.get("KAPDESK_NEW_PASSWORD")
    if given is not None:
        return given
    if not sys.stdin.isatty():
        print(
            "kapdesk: no new password: run in a terminal, or set KAPDESK_NEW_PASSWORD",
            file=sys.stderr,
        )
        return None
    first = getpass.getpass(prompt)
    if getpass.getpass("Again: ") != first:
        print("kapdesk: the two passwords differ; nothing changed", file=sys.stderr)
        return None
    return first


def run(args: argparse.Namespace) -> int:
    url = getattr(args, "database_url", None)
    try:
        engine = open_database(url)  # migrated: a first account can be made in a new file
    except DatabaseError as exc:
        print(f"kapdesk: {exc}", file=sys.stderr)
        return 2
    try:
        return _run(args, engine)
    finally:
        engine.dispose()


def _run(args: argparse.Namespace, engine: Any) -> int:
    accounts, _, _ = stores_for(None, engine)
    command = args.users_command
    if command == "add" and accounts.count() == 0:
        password = _new_password(f"Password for {args.username}: ")
        if password is None:
            return 1
        try:
            account = accounts.create(
                None, args.username, args.name, access.parse_roles(args.role), password
            )
        except AccountError as exc:
            print(f"kapdesk: {exc}", file=sys.stderr)
            return 1
        print(f"first account {account.username} made (clinic admin); sign in with it")
        return 0
    check, what = {
        "list": (access.is_staff_actor, "listing accounts"),
        "care": (access.can_change_care_team, "changing care teams"),
    }.get(command, (access.can_manage_accounts, "managing accounts"))
    user = sign_in(args, check, what, engine=engine)
    if user is None:
        return 2
    admin = user.actor
    try:
        if command == "list":
            now = time.time()
            for a in accounts.all():
                roles = ", ".join(ROLE_NAMES[r] for r in STAFF_ROLES if r in a.roles)
                state = (
                    "disabled" if a.disabled else ("locked" if a.locked_for(now) > 0 else "active")
                )
                print(f"{a.username:<20} {a.display_name:<28} {roles:<36} {state}")
            return 0
        if command == "care":
            return _care(args, engine, user.actor, accounts)
        if command == "add":
            password = _new_password(f"Temporary password for {args.username}: ")
            if password is None:
                return 1
            account = accounts.create(
                admin,
                args.username,
                args.name,
                access.parse_roles(args.role),
                password,
                must_change_password=True,
            )
            print(f"account {account.username} added; they choose a password at first sign-in")
        elif command == "disable":
            accounts.disable(admin, args.username)
            print(f"{args.username} disabled")
        elif command in ("enable", "unlock"):
            accounts.enable(admin, args.username)
            print(f"{args.username} may sign in")
        elif command == "reset-password":
            password = _new_password(f"New password for {args.username}: ")
            if password is None:
                return 1
            accounts.reset_password(admin, args.username, password)
            print(f"password of {args.username} reset; they choose their own at next sign-in")
    except (AccountError, AccessDenied, ValueError) as exc:
        print(f"kapdesk: {exc}", file=sys.stderr)
        return 1
    return 0


def _care(args: argparse.Namespace, engine: Any, by: access.Actor, accounts: Any) -> int:
    """Add and remove patients of someone's care team (audited), then list it."""
    if accounts.get(args.username) is None:
        print(f"kapdesk: no account {args.username!r}", file=sys.stderr)
        return 1
    care = CareTeams(engine, accounts.writer, accounts.audit)
    names = {p.id: p.display_name for p in list_patients(engine)}
    for pid in [*args.add, *args.remove]:
        if pid not in names:
            print(f"kapdesk: no patient with id {pid}; nothing changed", file=sys.stderr)
            return 1
    for pid in args.add:
        care.join(by, pid, args.username, why="kapdesk users care")
    for pid in args.remove:
        care.leave(by, pid, args.username)
    mine = sorted(care.patients_of(args.username))
    if not mine:
        print(f"{args.username} is in no patient's care team")
    for pid in mine:
        print(f"{pid:>6}  {names.get(pid, '?')}")
    return 0
