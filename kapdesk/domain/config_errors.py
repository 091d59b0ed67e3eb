"""Reading clinic-editable mappings (parsed TOML) with errors that name the field path.

A clinic administrator edits protocol and scale files in a text editor, so every problem
must say exactly where it is (``checks[1].at_min[2]``) and what is wrong. The loaders in
``kapdesk.protocols`` add the file name and line; this module stays pure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any


class ConfigError(ValueError):
    """A field that cannot be used: ``where`` is its path, ``problem`` says why."""

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"{where}: {problem}" if where else problem)


def join(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def table(data: Mapping[str, Any], where: str, key: str, required: bool = False) -> dict[str, Any]:
    value = data.get(key)
    path = join(where, key)
    if value is None:
        if required:
            raise ConfigError(path, f"missing [{path}] table")
        return {}
    if not isinstance(value, dict):
        raise ConfigError(path, "must be a table")
    return value


def tables(data: Mapping[str, Any], where: str, key: str, required: bool = False) -> list[Any]:
    """An array of tables (``[[key]]``); each element is checked by the caller."""
    value = data.get(key)
    path = join(where, key)
    if value is None:
        if required:
            raise ConfigError(path, f"missing [[{path}]] entries")
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(path, f"must be an array of tables [[{path}]]")
    return value


def only(data: Mapping[str, Any], where: str, allowed: set[str]) -> None:
    """Unknown keys are errors: a misspelt field must not be silently ignored."""
    for key in data:
        if key not in allowed:
            raise ConfigError(
                join(where, key), f"unknown field (expected one of {', '.join(sorted(allowed))})"
            )


def text(data: Mapping[str, Any], where: str, key: str, default: str | None = None) -> str:
    value = data.get(key)
    if value is None:
        if default is not None:
            return default
        raise ConfigError(join(where, key), "missing")
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(join(where, key), f"must be a non-empty string, got {value!r}")
    return value.strip()


def number(
    data: Mapping[str, Any],
    where: str,
    key: str,
    default: float | None = None,
    minimum: float | None = None,
    positive: bool = False,
) -> float:
    value = data.get(key)
    path = join(where, key)
    if value is None and default is not None:
        return default
    if value is None:
        raise ConfigError(path, "missing")
    return _checked_number(value, path, minimum, positive)


def optional_number(
    data: Mapping[str, Any], where: str, key: str, positive: bool = False
) -> float | None:
    if data.get(key) is None:
        return None
    return number(data, where, key, positive=positive)


def numbers(data: Mapping[str, Any], where: str, key: str, positive: bool = False) -> list[float]:
    value = data.get(key, [])
    path = join(where, key)
    if not isinstance(value, list):
        raise ConfigError(path, f"must be a list of numbers, got {value!r}")
    return [_checked_number(v, join(path, i), None, positive) for i, v in enumerate(value)]


def strings(data: Mapping[str, Any], where: str, key: str) -> list[str]:
    value = data.get(key, [])
    path = join(where, key)
    if not isinstance(value, list):
        raise ConfigError(path, f"must be a list of strings, got {value!r}")
    for i, v in enumerate(value):
        if not isinstance(v, str) or not v.strip():
            raise ConfigError(join(path, i), f"must be a non-empty string, got {v!r}")
    return [v.strip() for v in value]


def flag(data: Mapping[str, Any], where: str, key: str, default: bool) -> bool:
    if key not in data:
        return default
    value = data[key]
    if not isinstance(value, bool):
        raise ConfigError(join(where, key), f"must be true or false, got {value!r}")
    return value


def choice(data: Mapping[str, Any], where: str, key: str, options: Sequence[str]) -> str:
    value = data.get(key)
    if value not in options:
        raise ConfigError(join(where, key), f"must be one of {', '.join(options)}, got {value!r}")
    assert isinstance(value, str)
    return value


def _checked_number(value: Any, path: str, minimum: float | None, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(path, f"must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(path, f"must be a finite number, got {value!r}")
    if positive and not value > 0:
        raise ConfigError(path, f"must be > 0, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(path, f"must be >= {minimum:g}, got {value!r}")
    return float(value)
