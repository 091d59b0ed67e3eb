"""Reading clinic-editable mappings (parsed TOML) with errors that name the field path.

A clinic administrator edits protocol and scale files in a text editor, so every problem
must say exactly where it is (``checks[1].at_min[2]``) and what is wrong. The loaders in
``kapdesk.config.protocols`` add the file name and line; this module stays pure.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kapdesk.domain.setting_ranges import Range


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
    within: Range | None = None,
) -> float:
    """A number; ``within`` is its plausible range (``kapdesk.domain.setting_ranges``)."""
    value = data.get(key)
    path = join(where, key)
    if value is None and default is not None:
        return default
    if value is None:
        raise ConfigError(path, "missing")
    number = _checked_number(value, path, minimum, positive)
    return number if within is None else within.check(value, path)


def optional_number(
    data: Mapping[str, Any],
    where: str,
    key: str,
    positive: bool = False,
    within: Range | None = None,
) -> float | None:
    if data.get(key) is None:
        return None
    return number(data, where, key, positive=positive, within=within)


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


_ARRAY_HEADER = re.compile(r"\[\[\s*([A-Za-z0-9_.\-]+)\s*\]\]")
_TABLE_HEADER = re.compile(r"\[\s*([A-Za-z0-9_.\-]+)\s*\]")
_KEY = re.compile(r"([A-Za-z0-9_\-]+)\s*=")


def locate(text: str, where: str) -> int | None:
    """Best-effort line of a field path such as ``checks[1].at_min[2]`` in TOML text:
    the key's own line if found, else the header of the nearest enclosing table."""
    if not where:
        return None
    target = re.sub(r"(\[\d+\])+$", "", where) if "." in where else where
    latest: dict[str, int] = {}  # array-of-tables name -> index of its latest element
    current = ""
    best: tuple[int, int] | None = None  # (matched length, line)

    def resolve(parts: list[str]) -> str:
        out = []
        for k in range(1, len(parts) + 1):
            plain = ".".join(parts[:k])
            out.append(parts[k - 1] + (f"[{latest[plain]}]" if plain in latest else ""))
        return ".".join(out)

    def consider(path: str, line: int) -> None:
        nonlocal best
        inside = target == path or target.startswith((path + ".", path + "["))
        if inside and (best is None or len(path) >= best[0]):
            best = (len(path), line)

    for n, raw in enumerate(text.splitlines(), 1):
        s = raw.split("#", 1)[0].strip()
        if m := _ARRAY_HEADER.fullmatch(s):
            parts = m.group(1).split(".")
            plain = ".".join(parts)
            latest[plain] = latest.get(plain, -1) + 1
            for child in [k for k in latest if k.startswith(plain + ".")]:
                del latest[child]  # a new parent element restarts its children's count
            current = resolve(parts)
            consider(current, n)
        elif m := _TABLE_HEADER.fullmatch(s):
            current = resolve(m.group(1).split("."))
            consider(current, n)
        elif m := _KEY.match(s):
            path = f"{current}.{m.group(1)}" if current else m.group(1)
            if path == target:
                return n
            consider(path, n)
    return best[1] if best else None
