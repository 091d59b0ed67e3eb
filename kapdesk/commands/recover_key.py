"""``kapdesk recover-key``: a new key file for an encrypted database whose key file is
lost or damaged, from the recovery key shown at set-up and a new passphrase.

The recovery key is checked against the database itself before anything is written; a
damaged key file is kept beside as ``<key file>.damaged``. Asked for on a terminal (or
``KAPDESK_RECOVERY_KEY`` and ``KAPDESK_NEW_PASSPHRASE`` for a script).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from kapdesk.commands._args import add_database_option


def register(sub: Any) -> None:
    p = sub.add_parser(
        "recover-key",
        help="a new key file for an encrypted database, from its recovery key",
    )
    p.add_argument("--clinic", default="", help="the clinic's name (shown when unlocking)")
    add_database_option(p, sub_command=True)
    p.set_defaults(func=run)


def _ask(env: str, prompt: str) -> str | None:
    given = os.environ.get(env)
    if given is not None:
        return given
    if not sys.stdin.isatty():
        print(f"kapdesk: run in a terminal, or set {env}", file=sys.stderr)
        return None
    return getpass.getpass(prompt)


def run(args: argparse.Namespace) -> int:
    from kapdesk.storage import encryption
    from kapdesk.storage.database import default_url, sqlite_file

    path = sqlite_file(getattr(args, "database_url", None) or default_url(create=False))
    if path is None or not path.is_file():
        print("kapdesk: recover-key is for an encrypted SQLite database file", file=sys.stderr)
        return 2
    recovery = _ask("KAPDESK_RECOVERY_KEY", "Recovery key: ")
    if recovery is None:
        return 2
    if (problem := encryption.recovery_key_problem(recovery)) is not None:
        print(f"kapdesk: {problem}", file=sys.stderr)
        return 1
    passphrase = _ask("KAPDESK_NEW_PASSPHRASE", "New passphrase: ")
    if passphrase is None:
        return 2
    if "KAPDESK_NEW_PASSPHRASE" not in os.environ and getpass.getpass("Again: ") != passphrase:
        print("kapdesk: the two passphrases differ; nothing changed", file=sys.stderr)
        return 1
    clinic = args.clinic or path.stem
    try:
        info = encryption.restore_key_file(path, recovery, passphrase, clinic)
    except encryption.EncryptionError as exc:
        print(f"kapdesk: {exc}", file=sys.stderr)
        return 1
    print(f"new key file {info.key_file}: the database opens with the new passphrase")
    return 0
