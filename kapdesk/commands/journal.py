"""``kapdesk journal``: export a patient's journal, set the staff PIN, create the demo.

kapdesk journal export --patient ID [--format md|html] [-o FILE] --user NAME
    (what the signed-in therapist may read; audited; ``--for patient`` is refused: the
    patient's complete copy holds private entries only the patient reads)
kapdesk journal set-pin --user ADMIN   (asks twice, stores only a salted scrypt hash)
kapdesk journal demo               (demo patient, session and two entries; prints ids; never
    into a database that holds a clinic's accounts)
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from kapdesk.commands._args import add_database_option
from kapdesk.commands._sign_in import add_user_option, sign_in, stores_for
from kapdesk.commands.export import write_output
from kapdesk.domain.access import (
    AccessDenied,
    can_change_clinic_settings,
    can_export_journal,
    can_list_patients,
)
from kapdesk.domain.audit import AuditAction
from kapdesk.domain.staff_pin import PinError, hash_pin
from kapdesk.storage.database import DatabaseError, open_database, open_database_readonly
from kapdesk.storage.journal.export import journal_html, journal_markdown
from kapdesk.storage.journal.store import JournalStore
from kapdesk.storage.records import get_patient


def register(sub: Any) -> None:
    p = sub.add_parser("journal", help="integration journal: export, staff PIN, demo")
    jsub = p.add_subparsers(dest="journal_command", metavar="ACTION", required=True)

    ep = jsub.add_parser("export", help="write a patient's journal as a readable file")
    ep.add_argument("--patient", type=int, required=True, metavar="ID")
    ep.add_argument("--format", choices=["md", "html"], default="md")
    ep.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    ep.add_argument(
        "--for",
        dest="reader",
        choices=["therapist", "patient"],
        default="therapist",
        help="therapist: private entries appear without text (default); patient: the "
        "patient's own complete copy",
    )
    add_database_option(ep, sub_command=True)
    add_user_option(ep)
    ep.set_defaults(func=run_export)

    sp = jsub.add_parser("set-pin", help="set the staff PIN that leaves patient mode")
    add_database_option(sp, sub_command=True)
    add_user_option(sp)
    sp.set_defaults(func=run_set_pin)

    dp = jsub.add_parser("demo", help="create the demo patient, session and journal entries")
    add_database_option(dp, sub_command=True)
    dp.set_defaults(func=run_demo)


def _store(args: argparse.Namespace, read_only: bool = False) -> JournalStore | None:
    opener = open_database_readonly if read_only else open_database
    try:
        return JournalStore(opener(getattr(args, "database_url", None)))
    except DatabaseError as exc:
        print(f"kapdesk: {exc}", file=sys.stderr)
        return None


def run_export(args: argparse.Namespace) -> int:
    if args.reader == "patient":
        # the patient's complete copy holds their private entries: only the patient reads
        # those, and a patient does not sign in on the command line
        print(
            "kapdesk: a patient's complete journal holds their private entries, which only"
            " the patient reads (in patient mode), never the command line; staff export"
            " what they may read (without --for patient)",
            file=sys.stderr,
        )
        return 2
    store = _store(args, read_only=True)
    if store is None:
        return 2
    what = f"exporting the journal of patient {args.patient}"
    user = sign_in(args, can_list_patients, what)
    if user is None:
        store.engine.dispose()
        return 2
    render = journal_html if args.format == "html" else journal_markdown
    try:
        get_patient(store.engine, args.patient)  # "no patient with id N" before the care team
        if not can_export_journal(user.actor, args.patient):
            user.audit.append(
                user.actor,
                AuditAction.ACCESS_REFUSED,
                f"patient:{args.patient}/journal",
                outcome=f"{what}: not in the care team",
            )
            raise AccessDenied(
                f"not allowed: {what}: the patient is not in {user.actor.name}'s care team"
                " (the patient dialog, or the admin's `kapdesk users care`, adds them)"
            )
        document = render(store, user.actor, args.patient)
    except (LookupError, AccessDenied) as exc:
        print(f"kapdesk: {exc}", file=sys.stderr)
        user.close()
        return 2
    finally:
        store.engine.dispose()  # the file is closed when the command ends
    target = str(Path(args.output).resolve()) if args.output else "stdout"
    user.record(
        AuditAction.EXPORT, f"patient:{args.patient}/journal", to=target, format=args.format
    )
    user.close()
    if args.output:
        return write_output(Path(args.output), lambda f: f.write(document))
    sys.stdout.write(document)
    return 0


def run_set_pin(args: argparse.Namespace) -> int:
    store = _store(args)
    if store is None:
        return 2
    user = sign_in(args, can_change_clinic_settings, "setting the staff PIN")
    if user is None:
        store.engine.dispose()
        return 2
    pin = getpass.getpass("New staff PIN: ")
    if getpass.getpass("Again: ") != pin:
        print("kapdesk: the two PINs differ; nothing changed", file=sys.stderr)
        return 1
    try:
        store.set_staff_pin_hash(hash_pin(pin))
    except PinError as exc:
        print(f"kapdesk: {exc}", file=sys.stderr)
        return 1
    user.record(AuditAction.SETTING_CHANGED, "setting:staff_pin")
    user.close()
    print("staff PIN set (stored as a salted scrypt hash)")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from kapdesk.demo.journal import create_demo_journal, create_demo_session

    store = _store(args)
    if store is None:
        return 2
    accounts, _, _ = stores_for(None, store.engine)
    if any(not a.demo for a in accounts.all()):
        print(
            "kapdesk: this database holds a clinic's accounts: the journal demo (its demo"
            " patient and demo PIN) goes into a demo database, e.g."
            " --database-url sqlite:////tmp/kapdesk-demo.sqlite3",
            file=sys.stderr,
        )
        return 2
    patient_id, session_id = create_demo_session(store.engine)
    demo = create_demo_journal(store, patient_id, session_id)
    print(f"demo patient {patient_id}, session {session_id}")
    print(f"shared entry {demo.shared_entry_id}, private entry {demo.private_entry_id}")
    print("staff PIN for demo mode: 0000 (unless one was already set)")
    print(f"try: kapdesk journal export --patient {patient_id}")
    return 0
