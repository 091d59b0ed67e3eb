"""Reads the journal's clinic-editable files: prompt sets, questionnaire texts, settings.

``resources/journal/prompts/*.toml`` (guided prompts), ``resources/questionnaires/*.toml``
(item wording and options; the scoring itself is code and the files are checked against
it) and the ``[journal]`` table of ``resources/clinic.toml``. Errors name the file and the
field, because the reader is a clinic administrator with a text editor.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kapdesk.alarm_limits import clinic_file, resources_dir
from kapdesk.domain.questionnaires import INSTRUMENTS, Band, Instrument


class JournalConfigError(ValueError):
    """A journal resource file that cannot be used: which file, where, and why."""


@dataclass(frozen=True)
class Prompt:
    id: str
    text: str


@dataclass(frozen=True)
class PromptSet:
    id: str
    title: str
    when: str
    intro: str
    prompts: tuple[Prompt, ...]


@dataclass(frozen=True)
class QuestionnaireForm:
    """What the patient sees of an instrument; ``instrument`` does the scoring."""

    instrument: Instrument
    title: str
    stem: str
    citation: str
    items: tuple[str, ...]
    options: tuple[tuple[int, str], ...]
    functional_text: str
    functional_options: tuple[str, ...]
    flag_messages: dict[str, str]


@dataclass(frozen=True)
class JournalSettings:
    autosave_delay_ms: int = 400
    pin_max_attempts: int = 5
    pin_lockout_s: float = 60.0
    share_by_default: bool = True
    #: what a patient alone sees of a questionnaire's result: calm / total / band
    patient_sees_scores: str = "calm"


#: The choices for ``patient_sees_scores``.
PATIENT_SCORE_VIEWS = ("calm", "total", "band")


#: The order prompt sets are offered in: the arc from session to weekly life.
PROMPT_SET_ORDER = ("after-session", "24-48h", "weekly")


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise JournalConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise JournalConfigError(f"{path}: {exc.strerror or exc}") from None


def _text(table: Any, path: Path, where: str, key: str, default: str | None = None) -> str:
    value = table.get(key, default) if isinstance(table, dict) else default
    if not isinstance(value, str) or (default is None and not value.strip()):
        raise JournalConfigError(f"{path}: {where}.{key}: must be a non-empty string")
    return value


def prompts_dir() -> Path:
    return resources_dir() / "journal" / "prompts"


def questionnaires_dir() -> Path:
    return resources_dir() / "questionnaires"


def load_prompt_set(path: Path) -> PromptSet:
    data = _read(path)
    head = data.get("prompt_set")
    if not isinstance(head, dict):
        raise JournalConfigError(f"{path}: needs a [prompt_set] table")
    raw = data.get("prompts")
    if not isinstance(raw, list) or not raw:
        raise JournalConfigError(f"{path}: needs at least one [[prompts]] table")
    prompts: list[Prompt] = []
    for i, p in enumerate(raw):
        where = f"prompts[{i}]"
        prompts.append(Prompt(_text(p, path, where, "id"), _text(p, path, where, "text")))
    ids = [p.id for p in prompts]
    if len(set(ids)) != len(ids):
        raise JournalConfigError(f"{path}: prompts: ids repeat: {ids}")
    return PromptSet(
        id=_text(head, path, "prompt_set", "id"),
        title=_text(head, path, "prompt_set", "title"),
        when=_text(head, path, "prompt_set", "when", ""),
        intro=_text(head, path, "prompt_set", "intro", ""),
        prompts=tuple(prompts),
    )


def load_prompt_sets(folder: Path | None = None) -> list[PromptSet]:
    """Every prompt set, in the order of the care arc, then any others by id."""
    folder = prompts_dir() if folder is None else folder
    sets = [load_prompt_set(p) for p in sorted(folder.glob("*.toml"))]
    rank = {sid: i for i, sid in enumerate(PROMPT_SET_ORDER)}
    return sorted(sets, key=lambda s: (rank.get(s.id, len(rank)), s.id))


def load_questionnaire(path: Path) -> QuestionnaireForm:
    """A questionnaire file, checked against the published scoring in the domain."""
    data = _read(path)
    head = data.get("questionnaire")
    if not isinstance(head, dict):
        raise JournalConfigError(f"{path}: needs a [questionnaire] table")
    qid = _text(head, path, "questionnaire", "id")
    inst = INSTRUMENTS.get(qid)
    if inst is None:
        raise JournalConfigError(f"{path}: questionnaire.id: no scoring known for {qid!r}")
    items = data.get("items")
    if not isinstance(items, list) or len(items) != inst.items:
        raise JournalConfigError(f"{path}: items: {inst.name} has exactly {inst.items} items")
    texts = tuple(_text(it, path, f"items[{i}]", "text") for i, it in enumerate(items))
    options = tuple(
        (o.get("value"), _text(o, path, f"options[{i}]", "label"))
        for i, o in enumerate(data.get("options", []))
        if isinstance(o, dict)
    )
    if [v for v, _ in options] != list(range(inst.min_answer, inst.max_answer + 1)):
        raise JournalConfigError(
            f"{path}: options: values must be {inst.min_answer}..{inst.max_answer} in order"
        )
    bands = tuple(
        Band(b.get("low"), b.get("high"), b.get("label"))
        for b in data.get("bands", [])
        if isinstance(b, dict)
    )
    if bands != inst.bands:
        raise JournalConfigError(
            f"{path}: bands: must be the published {inst.name} bands "
            + ", ".join(f"{b.low}-{b.high} {b.label}" for b in inst.bands)
        )
    flag_messages: dict[str, str] = {}
    for i, f in enumerate(data.get("flags", [])):
        fid = _text(f, path, f"flags[{i}]", "id")
        rule = next((r for r in inst.flags if r.flag == fid), None)
        if rule is None or (f.get("item"), f.get("above")) != (rule.item, rule.above):
            raise JournalConfigError(f"{path}: flags[{i}]: does not match {inst.name} scoring")
        flag_messages[fid] = _text(f, path, f"flags[{i}]", "patient_message")
    functional = data.get("functional", {})
    return QuestionnaireForm(
        instrument=inst,
        title=_text(head, path, "questionnaire", "title"),
        stem=_text(head, path, "questionnaire", "stem"),
        citation=_text(head, path, "questionnaire", "citation", ""),
        items=texts,
        options=options,
        functional_text=_text(functional, path, "functional", "text", ""),
        functional_options=tuple(str(x) for x in functional.get("options", [])),
        flag_messages=flag_messages,
    )


def load_questionnaires(folder: Path | None = None) -> dict[str, QuestionnaireForm]:
    folder = questionnaires_dir() if folder is None else folder
    forms = [load_questionnaire(p) for p in sorted(folder.glob("*.toml"))]
    order = list(INSTRUMENTS)  # PHQ-9 first, as clinics usually ask it first
    forms.sort(key=lambda f: order.index(f.instrument.id))
    return {f.instrument.id: f for f in forms}


def load_journal_settings(path: Path | None = None) -> JournalSettings:
    """The ``[journal]`` table of clinic.toml; missing keys take the defaults."""
    path = clinic_file() if path is None else path
    table = _read(path).get("journal", {})
    if not isinstance(table, dict):
        raise JournalConfigError(f"{path}: journal: must be a table")
    d = JournalSettings()
    try:
        settings = JournalSettings(
            autosave_delay_ms=int(table.get("autosave_delay_ms", d.autosave_delay_ms)),
            pin_max_attempts=int(table.get("pin_max_attempts", d.pin_max_attempts)),
            pin_lockout_s=float(table.get("pin_lockout_s", d.pin_lockout_s)),
            share_by_default=bool(table.get("share_by_default", d.share_by_default)),
            patient_sees_scores=str(table.get("patient_sees_scores", d.patient_sees_scores)),
        )
    except (TypeError, ValueError) as exc:
        raise JournalConfigError(f"{path}: journal: {exc}") from None
    if not 50 <= settings.autosave_delay_ms <= 10_000:
        raise JournalConfigError(f"{path}: journal.autosave_delay_ms: must be 50..10000")
    if settings.patient_sees_scores not in PATIENT_SCORE_VIEWS:
        raise JournalConfigError(
            f"{path}: journal.patient_sees_scores: must be one of "
            + ", ".join(repr(v) for v in PATIENT_SCORE_VIEWS)
            + f" (is {settings.patient_sees_scores!r})"
        )
    if settings.pin_max_attempts < 1 or settings.pin_lockout_s < 0:
        raise JournalConfigError(f"{path}: journal: PIN attempts >= 1 and lockout >= 0")
    return settings
