"""Arguments several commands share, so each is spelled and checked one way."""

from __future__ import annotations

import argparse

DATABASE_HELP = (
    "any SQLAlchemy URL (default: an SQLite file in the per-user data directory;"
    " also KAPDESK_DATABASE_URL)"
)


def add_database_option(parser: argparse.ArgumentParser, *, sub_command: bool = False) -> None:
    """``--database-url``; on a sub-command it may also come after the command's name
    and, when left out there, does not hide the one given before it."""
    if sub_command:
        parser.add_argument("--database-url", metavar="URL", default=argparse.SUPPRESS)
    else:
        parser.add_argument("--database-url", metavar="URL", default=None, help=DATABASE_HELP)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0: {text!r}")
    return value
