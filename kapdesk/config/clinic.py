"""The clinic's files as one object the screens ask: the protocols on offer and the
clinic's default, a protocol's phases, checks and scales, its music, the journal's
settings, prompts and questionnaires, the alarm sounds.

Read once, when first asked (start-up has already checked every file:
``kapdesk.config.check``). A protocol is read again when its file has changed since
(``protocol_set`` caches by modification time), so a session opened after an edit uses
the edited file; the music follows the protocol of the session that is running, not the
protocol whose alarm limits were in force at start-up.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from kapdesk.config.journal import (
    JournalSettings,
    PromptSet,
    QuestionnaireForm,
    load_journal_settings,
    load_prompt_sets,
    load_questionnaires,
)
from kapdesk.config.music import MusicLibrary, load_music_library
from kapdesk.config.paths import resources_dir
from kapdesk.config.protocols import (
    ProtocolSet,
    available_protocols,
    default_protocol,
    protocol_set,
)


class ClinicConfig:
    """The clinic's configuration files, each read once (see the module docstring)."""

    def __init__(self) -> None:
        self._music: dict[str | None, MusicLibrary] = {}

    # -- protocols ------------------------------------------------------------------------

    def protocols(self) -> list[tuple[str, str]]:
        """(id, display name) of every protocol file that loads."""
        return available_protocols()

    def default_protocol(self) -> str | None:
        """clinic.toml's ``[sessions] default_protocol`` (raises ConfigFileError when the
        file cannot be read: the new-session dialog says so)."""
        return default_protocol()

    def protocol(self, protocol_id: str) -> ProtocolSet:
        """The protocol's phases, checks, dosing rules and scales (re-read if edited)."""
        return protocol_set(protocol_id)

    def protocol_name(self, protocol_id: str) -> str:
        """The protocol's name as its file spells it ("Intramuscular ketamine"); its id
        when the file cannot be read."""
        try:
            return self.protocol(protocol_id).protocol.name
        except (OSError, ValueError):  # ConfigFileError is a ValueError
            return protocol_id

    # -- music ----------------------------------------------------------------------------

    def music(self, protocol_id: str | None) -> MusicLibrary:
        """The playlists and the phase -> playlist map for sessions of ``protocol_id``
        (its ``[music.phases]`` over the clinic's); read once per protocol."""
        if protocol_id not in self._music:
            self._music[protocol_id] = load_music_library(protocol=protocol_id)
        return self._music[protocol_id]

    # -- the journal ----------------------------------------------------------------------

    @cached_property
    def journal(self) -> JournalSettings:
        return load_journal_settings()

    @cached_property
    def prompt_sets(self) -> list[PromptSet]:
        return load_prompt_sets()

    @cached_property
    def questionnaires(self) -> dict[str, QuestionnaireForm]:
        return load_questionnaires()

    # -- sounds ---------------------------------------------------------------------------

    @property
    def sounds_dir(self) -> Path:
        return resources_dir() / "sounds"
