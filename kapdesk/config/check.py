"""Every clinic data file read once, before anything starts: the list of what is wrong.

The app shows this list in a dialog at start-up (never a traceback) and refuses to
monitor with a setting it cannot use; ``kapdesk`` sub-commands print the same messages.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from kapdesk.config.alarms import load_clinic_settings, load_protocol_alarms
from kapdesk.config.errors import ConfigFileError
from kapdesk.config.journal import (
    load_journal_settings,
    load_prompt_sets,
    load_questionnaires,
)
from kapdesk.config.music import load_music_library, protocol_phase_cues
from kapdesk.config.paths import clinic_file, find_protocol, music_config_file, protocols_dir
from kapdesk.config.protocols import default_protocol, load_protocol
from kapdesk.config.security import load_sign_in_policy


def clinic_file_errors() -> list[ConfigFileError]:
    """One error per file that cannot be used (the first problem in each)."""
    checks: list[tuple[Path, Callable[[], object]]] = [
        (clinic_file(), load_clinic_settings),
        (clinic_file(), load_journal_settings),
        (clinic_file(), load_sign_in_policy),
        (clinic_file(), lambda: _default_protocol_exists()),
        (music_config_file(), load_music_library),
        (clinic_file().parent / "questionnaires", load_questionnaires),
        (clinic_file().parent / "journal" / "prompts", load_prompt_sets),
    ]
    for path in sorted(protocols_dir().glob("*.toml")):
        checks.append((path, functools.partial(load_protocol_alarms, path)))
        checks.append((path, functools.partial(load_protocol, path)))
        checks.append((path, functools.partial(protocol_phase_cues, path.stem)))
    errors: list[ConfigFileError] = []
    seen: set[str] = set()
    for path, load in checks:
        try:
            load()
        except ConfigFileError as e:
            error = e
        except ValueError as e:  # a check in a domain model the loader did not wrap
            error = ConfigFileError(path, "", str(e))
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
        except ConfigFileError as e:
            raise ConfigFileError(clinic_file(), "sessions.default_protocol", e.problem) from None
