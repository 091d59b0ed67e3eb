"""Where the clinic's data files live: ``resources/`` in the repository, or the folder
``KAPDESK_RESOURCES`` names (a clinic's installed copy). Every loader finds its files here."""

from __future__ import annotations

import os
from pathlib import Path

from kapdesk.config.errors import ConfigFileError

#: Where clinic data files live; KAPDESK_RESOURCES overrides (an installed clinic copy).
RESOURCES_ENV = "KAPDESK_RESOURCES"


def resources_dir() -> Path:
    override = os.environ.get(RESOURCES_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "resources"


def protocols_dir() -> Path:
    return resources_dir() / "protocols"


def clinic_file() -> Path:
    return resources_dir() / "clinic.toml"


def protocol_ids() -> list[str]:
    return sorted(p.stem for p in protocols_dir().glob("*.toml"))


def find_protocol(name: str) -> Path:
    """A protocol id (file stem in ``resources/protocols``) or a path to a ``.toml``."""
    candidate = Path(name)
    if candidate.suffix == ".toml" or os.sep in name:
        if not candidate.is_file():
            raise ConfigFileError(candidate, "", "no such protocol file")
        return candidate
    path = protocols_dir() / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(protocol_ids()) or "none"
        raise ConfigFileError(name, "", f"no protocol with this id (known: {known})")
    return path


def scales_dir() -> Path:
    return resources_dir() / "scales"


def prompts_dir() -> Path:
    return resources_dir() / "journal" / "prompts"


def questionnaires_dir() -> Path:
    return resources_dir() / "questionnaires"


def music_config_file() -> Path:
    return resources_dir() / "music.toml"
