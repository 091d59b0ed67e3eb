"""The one way clinic data files are read and their errors reported: file, line, field.

Every loader of ``resources/`` (alarm limits, protocols, clinic settings, journal, music)
reads through :func:`read_clinic_toml` and raises a :class:`ConfigFileError` (the one
error type of clinic files), so the app's start-up dialog and every CLI command show any
of them the same way. ``tomllib`` gives lines only for syntax errors; for a field that is present
but wrong, :func:`error_at` finds the line from the field path (``locate``).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from kapdesk.config.errors import ConfigFileError
from kapdesk.domain.config_errors import ConfigError, locate


def read_clinic_toml(path: Path) -> tuple[str, dict[str, Any]]:
    """The file's text (to locate lines in) and its parsed TOML."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigFileError(path, "", e.strerror or str(e)) from None
    except UnicodeDecodeError as e:
        raise ConfigFileError(path, "", f"not UTF-8 text: {e}") from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:  # its message carries "(at line L, column C)"
        m = re.search(r"line (\d+)", str(e))
        raise ConfigFileError(
            path, "", f"not valid TOML: {e}", int(m.group(1)) if m else None
        ) from None


def error_at(path: Path, text: str, e: ConfigError) -> ConfigFileError:
    """A domain ``ConfigError`` (field path + problem) as a file error with its line."""
    return ConfigFileError(path, e.where, e.problem, locate(text, e.where))
