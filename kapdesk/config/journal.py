"""Reads the journal's clinic-editable files: prompt sets, questionnaire texts, settings.

``resources/journal/prompts/*.toml`` (guided prompts), ``resources/questionnaires/*.toml``
(item wording and options; the scoring itself is code and the files are checked against
it) and the ``[journal]`` table of ``resources/clinic.toml``. Errors name the file and the
field and line, because the reader is a clinic administrator with a text editor; the
settings' plausible ranges are in ``kapdesk.domain.setting_ranges``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kapdesk.config.errors import ConfigFileError
from kapdesk.config.files import error_at, read_clinic_toml
from kapdesk.config.paths import clinic_file, prompts_dir, questionnaires_dir
from kapdesk.domain import config_errors as cf
from kapdesk.domain import setting_ranges as ranges
from kapdesk.domain.config_errors import ConfigError, locate
from kapdesk.domain.questionnaires import INSTRUMENTS, Instrument


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


class _File:
    """One journal file being read: its path and text, so every error has its line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.source, self.data = read_clinic_toml(path)

    def fail(self, where: str, problem: str) -> ConfigFileError:
        return ConfigFileError(self.path, where, problem, locate(self.source, where))

    def text(self, table: Any, where: str, key: str, default: str | None = None) -> str:
        value = table.get(key, default) if isinstance(table, dict) else default
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise self.fail(f"{where}.{key}", "must be a non-empty string")
        return value


def load_prompt_set(path: Path) -> PromptSet:
    f = _File(path)
    head = f.data.get("prompt_set")
    if not isinstance(head, dict):
        raise f.fail("prompt_set", "needs a [prompt_set] table")
    raw = f.data.get("prompts")
    if not isinstance(raw, list) or not raw:
        raise f.fail("prompts", "needs at least one [[prompts]] table")
    prompts: list[Prompt] = []
    for i, p in enumerate(raw):
        where = f"prompts[{i}]"
        prompts.append(Prompt(f.text(p, where, "id"), f.text(p, where, "text")))
    ids = [p.id for p in prompts]
    if len(set(ids)) != len(ids):
        raise f.fail("prompts", f"ids repeat: {ids}")
    return PromptSet(
        id=f.text(head, "prompt_set", "id"),
        title=f.text(head, "prompt_set", "title"),
        when=f.text(head, "prompt_set", "when", ""),
        intro=f.text(head, "prompt_set", "intro", ""),
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
    f = _File(path)
    data = f.data
    head = data.get("questionnaire")
    if not isinstance(head, dict):
        raise f.fail("questionnaire", "needs a [questionnaire] table")
    qid = f.text(head, "questionnaire", "id")
    inst = INSTRUMENTS.get(qid)
    if inst is None:
        raise f.fail("questionnaire.id", f"no scoring known for {qid!r}")
    items = data.get("items")
    if not isinstance(items, list) or len(items) != inst.items:
        raise f.fail("items", f"{inst.name} has exactly {inst.items} items")
    texts = tuple(f.text(it, f"items[{i}]", "text") for i, it in enumerate(items))
    given_options = [
        (o.get("value"), f.text(o, f"options[{i}]", "label"))
        for i, o in enumerate(data.get("options", []))
        if isinstance(o, dict)
    ]
    if [v for v, _ in given_options] != list(range(inst.min_answer, inst.max_answer + 1)):
        raise f.fail("options", f"values must be {inst.min_answer}..{inst.max_answer} in order")
    options = tuple(  # the values were checked to be exactly min..max just above
        (inst.min_answer + i, label) for i, (_, label) in enumerate(given_options)
    )
    bands = [
        (b.get("low"), b.get("high"), b.get("label"))
        for b in data.get("bands", [])
        if isinstance(b, dict)
    ]
    if bands != [(b.low, b.high, b.label) for b in inst.bands]:
        raise f.fail(
            "bands",
            f"must be the published {inst.name} bands "
            + ", ".join(f"{b.low}-{b.high} {b.label}" for b in inst.bands),
        )
    flag_messages: dict[str, str] = {}
    for i, flag in enumerate(data.get("flags", [])):
        fid = f.text(flag, f"flags[{i}]", "id")
        rule = next((r for r in inst.flags if r.flag == fid), None)
        if rule is None or (flag.get("item"), flag.get("above")) != (rule.item, rule.above):
            raise f.fail(f"flags[{i}]", f"does not match {inst.name} scoring")
        flag_messages[fid] = f.text(flag, f"flags[{i}]", "patient_message")
    functional = data.get("functional", {})
    return QuestionnaireForm(
        instrument=inst,
        title=f.text(head, "questionnaire", "title"),
        stem=f.text(head, "questionnaire", "stem"),
        citation=f.text(head, "questionnaire", "citation", ""),
        items=texts,
        options=options,
        functional_text=f.text(functional, "functional", "text", ""),
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
    """The ``[journal]`` table of clinic.toml; missing keys take the defaults. A wrong type
    (``share_by_default = "false"``), a value outside its plausible range or an unknown key
    is refused with the file, line and field: a privacy setting must never be guessed."""
    path = clinic_file() if path is None else path
    text, data = read_clinic_toml(path)
    d = JournalSettings()
    try:
        table = cf.table(data, "", "journal")
        cf.only(
            table,
            "journal",
            {
                "autosave_delay_ms",
                "pin_max_attempts",
                "pin_lockout_s",
                "share_by_default",
                "patient_sees_scores",
            },
        )

        def whole(key: str, default: int, within: ranges.Range) -> int:
            value = table.get(key, default)
            return ranges.integer(value, f"journal.{key}", within)

        return JournalSettings(
            autosave_delay_ms=whole(
                "autosave_delay_ms", d.autosave_delay_ms, ranges.AUTOSAVE_DELAY_MS
            ),
            pin_max_attempts=whole(
                "pin_max_attempts", d.pin_max_attempts, ranges.PIN_MAX_ATTEMPTS
            ),
            pin_lockout_s=cf.number(
                table, "journal", "pin_lockout_s", default=d.pin_lockout_s,
                within=ranges.PIN_LOCKOUT_S,
            ),
            share_by_default=cf.flag(table, "journal", "share_by_default", d.share_by_default),
            patient_sees_scores=(
                cf.choice(table, "journal", "patient_sees_scores", PATIENT_SCORE_VIEWS)
                if "patient_sees_scores" in table
                else d.patient_sees_scores
            ),
        )  # fmt: skip
    except ConfigError as e:
        raise error_at(path, text, e) from None
