"""Every clinic data file read once, before anything starts: the list of what is wrong.

The app shows this list in a dialog at start-up (never a traceback) and refuses to
monitor with a setting it cannot use; ``kapdesk`` sub-commands print the same messages.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kapdesk.alarm_limits import (
    clinic_file,
    find_protocol,
    load_clinic_settings,
    load_protocol_alarms,
    protocols_dir,
)
from kapdesk.clinic_files import ClinicFileError
from kapdesk.journal_resources import (
    load_journal_settings,
    load_prompt_sets,
    load_questionnaires,
)
from kapdesk.music_library import load_music_library, music_config_file
from kapdesk.protocols import default_protocol, load_protocol


def clinic_file_errors() -> list[ClinicFileError]:
    """One error per file that cannot be used (the first problem in each)."""
    checks: list[tuple[Path, Callable[[], object]]] = [
        (clinic_file(), load_clinic_settings),
        (clinic_file(), load_journal_settings),
        (clinic_file(), lambda: _default_protocol_exists()),
        (music_config_file(), load_music_library),
        (clinic_file().parent / "questionnaires", load_questionnaires),
        (clinic_file().parent / "journal" / "prompts", load_prompt_sets),
    ]
    for path in sorted(protocols_dir().glob("*.toml")):
        checks.append((path, lambda p=path: load_protocol_alarms(p)))
        checks.append((path, lambda p=path: load_protocol(p)))
    errors: list[ClinicFileError] = []
    seen: set[str] = set()
    for path, load in checks:
        try:
            load()
        except ClinicFileError as e:
            error = e
        except ValueError as e:  # a check in a domain model the loader did not wrap
            error = ClinicFileError(path, "", str(e))
        else:
            continue
        if str(error) not in seen and error.file not in {e.file for e in errors}:
            seen.add(str(error))
            errors.append(error)
    return errors


def _default_protocol_exists() -> None:
    pid = default_protocol()
    if pid is not None:
        try:
            find_protocol(pid)
        except ClinicFileError as e:
            raise ClinicFileError(clinic_file(), "sessions.default_protocol", e.problem) from None
