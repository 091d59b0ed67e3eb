"""The ``kapdesk`` entry point: the app by default, sub-commands for records and tools."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from kapdesk import __version__, commands
from kapdesk.commands._args import add_database_option, positive_float


def command_names() -> list[str]:
    """The sub-commands, one module each in ``kapdesk/commands`` (found, not imported)."""
    return sorted(
        info.name
        for info in pkgutil.iter_modules(commands.__path__)
        if not info.name.startswith("_")
    )


def build_parser(with_commands: bool = True) -> argparse.ArgumentParser:
    """The parser; ``with_commands=False`` (starting the app) does not import the command
    modules, whose imports start-up to the first frame would pay for nothing."""
    parser = argparse.ArgumentParser(
        prog="kapdesk",
        description="Session timeline, live vitals and integration journaling for KAP clinics.",
    )
    parser.add_argument("--version", action="version", version=f"kapdesk {__version__}")
    add_database_option(parser)
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open with a demo patient and emulated monitors",
    )
    parser.add_argument(
        "--speed",
        type=positive_float,
        default=1.0,
        metavar="N",
        help="run the emulated patient and the session clock N times faster (default 1)",
    )
    parser.add_argument(
        "--screenshot", metavar="FILE", help="save a PNG of the main window, then exit"
    )
    parser.add_argument(
        "--after",
        type=positive_float,
        default=5.0,
        metavar="SECONDS",
        help="with --screenshot: real seconds to wait before saving (default 5)",
    )
    if not with_commands:
        parser.set_defaults(command=None)
        return parser
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_names():
        module = importlib.import_module(f"{commands.__name__}.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    names = set(command_names())  # module names: recover_key is "recover-key"
    asks_for_commands = any(a.replace("-", "_") in names or a in ("-h", "--help") for a in given)
    parser = build_parser(with_commands=asks_for_commands)
    args = parser.parse_args(given)
    if args.command is None:
        if args.after != 5.0 and not args.screenshot:
            parser.error("--after needs --screenshot")
        from kapdesk.app import run_app

        return run_app(args)
    from kapdesk.config.errors import ConfigFileError

    try:
        result: int = args.func(args)
    except ConfigFileError as e:  # a clinic file with a wrong value: say where, no traceback
        print(f"kapdesk: {e}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    sys.exit(main())
