"""Loads dosing protocols and rating scales from the clinic's resource files.

Files are TOML (read with the standard library's ``tomllib``); the domain builds and
validates the models. Every error names the file, the field path and, where it can be
found, the line, because the reader is a clinic administrator with a text editor.
``tomllib`` reports lines only for syntax errors, so for a field that is present but
wrong the line is located by scanning the file's table headers and keys (``locate``,
shared with every clinic file loader through ``kapdesk.config.files``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from kapdesk.config.errors import ConfigFileError
from kapdesk.config.files import read_clinic_toml
from kapdesk.config.paths import clinic_file, find_protocol, protocols_dir, scales_dir
from kapdesk.domain.config_errors import ConfigError, locate
from kapdesk.domain.protocol import Protocol, protocol_from_mapping
from kapdesk.domain.scales import Scale, scale_from_mapping
from kapdesk.domain.schedule import CheckKind


@dataclass(frozen=True)
class ProtocolSet:
    """A protocol with the scales it uses, all validated together."""

    protocol: Protocol
    scales: dict[str, Scale]
    path: Path


def _read(path: Path) -> tuple[str, dict[str, Any]]:
    return read_clinic_toml(path)


def load_scale(name: str | Path) -> Scale:
    """A scale by id (file stem in ``resources/scales``) or by path."""
    path = Path(name) if str(name).endswith(".toml") else scales_dir() / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in scales_dir().glob("*.toml"))) or "none"
        raise ConfigFileError(path, "", f"no such scale file (known scales: {known})")
    text, data = _read(path)
    try:
        scale = scale_from_mapping(data)
    except ConfigError as e:
        raise ConfigFileError(path, e.where, e.problem, locate(text, e.where)) from None
    if scale.id != path.stem:
        raise ConfigFileError(
            path, "scale.id", f"{scale.id!r} must match the file name {path.stem!r}",
            locate(text, "scale.id"),
        )  # fmt: skip
    return scale


def load_protocol(name: str | Path) -> ProtocolSet:
    """A protocol by id or path, with its scales; cross-references are checked too."""
    path = _find(str(name))
    text, data = _read(path)
    try:
        protocol = protocol_from_mapping(data)
    except ConfigError as e:
        raise ConfigFileError(path, e.where, e.problem, locate(text, e.where)) from None
    scales: dict[str, Scale] = {}
    for i, check in enumerate(protocol.checks):
        if check.kind is CheckKind.SCALE and check.scale is not None:
            scales[check.scale] = _scale_for(path, text, f"checks[{i}].scale", check.scale)
    score = protocol.discharge.score_scale
    scale = _scale_for(path, text, "discharge.score", score)
    if scale.pass_min is None:
        raise ConfigFileError(
            path, "discharge.score", f"scale {score!r} has no pass mark (scale.pass_min)",
            locate(text, "discharge.score"),
        )  # fmt: skip
    scales[score] = scale
    return ProtocolSet(protocol, scales, path)


def _find(name: str) -> Path:
    try:
        return find_protocol(name)
    except ConfigFileError as e:
        raise ConfigFileError(e.file, e.where, e.problem) from None


def _scale_for(path: Path, text: str, where: str, scale_id: str) -> Scale:
    try:
        return load_scale(scale_id)
    except ConfigFileError as e:
        raise ConfigFileError(
            path, where, f"scale {scale_id!r}: {e}", locate(text, where)
        ) from None


@lru_cache(maxsize=32)
def _cached(path: str, mtime: float) -> ProtocolSet:
    return load_protocol(path)


def protocol_set(name: str) -> ProtocolSet:
    """Like ``load_protocol`` but cached while the file is unchanged (the GUI asks often)."""
    path = _find(name)
    return _cached(str(path), path.stat().st_mtime)


def available_protocols() -> list[tuple[str, str]]:
    """(id, display name) of every protocol file that loads; broken files are skipped here
    (start-up reports them: ``kapdesk.config.check``)."""
    out = []
    for p in sorted(protocols_dir().glob("*.toml")):
        try:
            out.append((p.stem, protocol_set(p.stem).protocol.name))
        except (ConfigFileError, ValueError):
            continue
    return out


def default_protocol(path: Path | None = None) -> str | None:
    """The clinic's usual protocol: ``default_protocol`` in the ``[sessions]`` table of
    clinic.toml (a protocol id), or None when the clinic leaves it unset or empty."""
    path = clinic_file() if path is None else path
    if not path.is_file():
        return None
    text, data = _read(path)
    table = data.get("sessions", {})
    if not isinstance(table, dict):
        raise ConfigFileError(path, "sessions", "must be a table", locate(text, "sessions"))
    for key in table:
        if key != "default_protocol":
            raise ConfigFileError(
                path, f"sessions.{key}", "unknown field (expected default_protocol)",
                locate(text, f"sessions.{key}"),
            )  # fmt: skip
    value = table.get("default_protocol", "")
    if not isinstance(value, str):
        raise ConfigFileError(
            path, "sessions.default_protocol", f"must be a protocol id, got {value!r}",
            locate(text, "sessions.default_protocol"),
        )  # fmt: skip
    return value.strip() or None
