"""PHQ-9 and GAD-7: item counts, answer validation, totals, severity bands and safety flags.

The scoring here is the published scoring (Kroenke, Spitzer & Williams 2001 for the PHQ-9;
Spitzer, Kroenke, Williams & Löwe 2006 for the GAD-7) and is deliberately code, not clinic
data: a clinic may reword an item's display text in ``resources/questionnaires``, but it
must not be able to shift a severity band by editing a file. The loader checks the files
against these definitions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


class AnswerError(ValueError):
    """Answers that cannot be scored (wrong count, not an integer, out of range)."""


@dataclass(frozen=True, slots=True)
class Band:
    """A severity band: totals ``low``..``high`` inclusive are ``label``."""

    low: int
    high: int
    label: str

    def contains(self, total: int) -> bool:
        return self.low <= total <= self.high


@dataclass(frozen=True, slots=True)
class FlagRule:
    """Raise ``flag`` when item ``item`` (1-based) is answered above ``above``."""

    flag: str
    item: int
    above: int
    message: str


@dataclass(frozen=True, slots=True)
class Instrument:
    """A scored questionnaire: ``items`` answers of ``min_answer``..``max_answer`` each."""

    id: str
    name: str
    items: int
    min_answer: int
    max_answer: int
    bands: tuple[Band, ...]
    flags: tuple[FlagRule, ...] = ()

    def __post_init__(self) -> None:
        lo, hi = self.items * self.min_answer, self.items * self.max_answer
        covered = [t for t in range(lo, hi + 1) if sum(b.contains(t) for b in self.bands) == 1]
        if len(covered) != hi - lo + 1:
            raise ValueError(f"{self.id}: bands must cover {lo}..{hi} exactly once")

    @property
    def max_total(self) -> int:
        return self.items * self.max_answer

    def band(self, total: int) -> Band:
        for b in self.bands:
            if b.contains(total):
                return b
        raise AnswerError(f"{self.id}: total {total} is outside 0..{self.max_total}")


@dataclass(frozen=True, slots=True)
class Score:
    """The result of scoring one completed questionnaire."""

    instrument: str
    answers: tuple[int, ...]
    total: int
    band: str
    flags: tuple[str, ...] = field(default=())

    @property
    def flagged(self) -> bool:
        return bool(self.flags)


#: Options shared by both instruments ("Over the last 2 weeks, how often...").
FREQUENCY_OPTIONS: tuple[tuple[int, str], ...] = (
    (0, "Not at all"),
    (1, "Several days"),
    (2, "More than half the days"),
    (3, "Nearly every day"),
)

SELF_HARM = "self_harm_thoughts"

PHQ9 = Instrument(
    id="phq9",
    name="PHQ-9",
    items=9,
    min_answer=0,
    max_answer=3,
    bands=(
        Band(0, 4, "minimal"),
        Band(5, 9, "mild"),
        Band(10, 14, "moderate"),
        Band(15, 19, "moderately severe"),
        Band(20, 27, "severe"),
    ),
    flags=(
        FlagRule(
            SELF_HARM,
            item=9,
            above=0,
            message="PHQ-9 item 9: thoughts of being better off dead or of self-harm",
        ),
    ),
)

GAD7 = Instrument(
    id="gad7",
    name="GAD-7",
    items=7,
    min_answer=0,
    max_answer=3,
    bands=(
        Band(0, 4, "minimal"),
        Band(5, 9, "mild"),
        Band(10, 14, "moderate"),
        Band(15, 21, "severe"),
    ),
)

INSTRUMENTS: dict[str, Instrument] = {i.id: i for i in (PHQ9, GAD7)}


def instrument(instrument_id: str) -> Instrument:
    try:
        return INSTRUMENTS[instrument_id]
    except KeyError:
        known = ", ".join(INSTRUMENTS)
        raise AnswerError(f"unknown questionnaire {instrument_id!r} (known: {known})") from None


def validate_answers(inst: Instrument, answers: Sequence[Any]) -> tuple[int, ...]:
    """Exactly one integer answer per item, each within the instrument's range.

    Booleans and floats are refused even when they look like 0/1: an answer that arrives
    as ``True`` or ``2.0`` means something upstream is wrong, and guessing would put a
    wrong score in the clinical record.
    """
    if isinstance(answers, str | bytes) or not isinstance(answers, Sequence):
        raise AnswerError(f"{inst.name}: answers must be a list of {inst.items} integers")
    if len(answers) != inst.items:
        raise AnswerError(f"{inst.name}: needs {inst.items} answers, got {len(answers)}")
    out: list[int] = []
    for i, a in enumerate(answers, start=1):
        if isinstance(a, bool) or not isinstance(a, int):
            raise AnswerError(f"{inst.name} item {i}: answer {a!r} is not an integer")
        if not inst.min_answer <= a <= inst.max_answer:
            raise AnswerError(
                f"{inst.name} item {i}: answer {a} is outside {inst.min_answer}..{inst.max_answer}"
            )
        out.append(a)
    return tuple(out)


def score(inst: Instrument, answers: Sequence[Any]) -> Score:
    """Total, severity band and safety flags of one completed questionnaire."""
    valid = validate_answers(inst, answers)
    total = sum(valid)
    flags = tuple(r.flag for r in inst.flags if valid[r.item - 1] > r.above)
    return Score(inst.id, valid, total, inst.band(total).label, flags)


def flag_message(inst: Instrument, flag: str) -> str:
    for r in inst.flags:
        if r.flag == flag:
            return r.message
    return flag
