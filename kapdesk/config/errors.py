"""The one error a clinic data file can raise: which file, line and field, and why.

The app's start-up dialog and every CLI command show it the same way, whatever the file
(alarm limits, protocols, clinic settings, journal, music).
"""

from __future__ import annotations

from pathlib import Path


class ConfigFileError(ValueError):
    """A clinic data file that cannot be used: which file, line, field, and why."""

    def __init__(self, file: Path | str, where: str, problem: str, line: int | None = None) -> None:
        self.file, self.where, self.problem, self.line = str(file), where, problem, line
        place = self.file + (f":{line}" if line else "")
        super().__init__(f"{place}: {where}: {problem}" if where else f"{place}: {problem}")
