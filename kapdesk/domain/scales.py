"""Clinical rating scales as data: MOAA/S sedation, modified Aldrete, PADSS, dissociation.

A scale is a list of items, each with scored options; its total is the sum. The scales
themselves live in ``resources/scales/*.toml`` so a clinic can see (and cite) exactly
what was asked; this module validates them and scores answers. It never interprets a
score beyond what the scale file states (a pass mark) and the one rule from practice
that any drop in MOAA/S from the pre-dose score counts as sedation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kapdesk.domain import config_errors as cf
from kapdesk.domain.config_errors import ConfigError


@dataclass(frozen=True, slots=True)
class ScaleOption:
    score: int
    text: str


@dataclass(frozen=True, slots=True)
class ScaleItem:
    id: str
    label: str
    options: tuple[ScaleOption, ...]

    @property
    def max_score(self) -> int:
        return max(o.score for o in self.options)

    def option(self, score: int) -> ScaleOption | None:
        return next((o for o in self.options if o.score == score), None)


@dataclass(frozen=True, slots=True)
class ScaleScore:
    """A scored answer set: ``passed`` is None when the scale has no pass mark."""

    scale: str
    answers: Mapping[str, int]
    total: int
    max_total: int
    passed: bool | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "answers": dict(self.answers),
            "total": self.total,
            "max_total": self.max_total,
            "passed": self.passed,
        }


class ScaleAnswerError(ValueError):
    """Answers that do not fit the scale (missing item, score not among the options)."""


@dataclass(frozen=True, slots=True)
class Scale:
    id: str
    name: str
    source: str
    items: tuple[ScaleItem, ...]
    pass_min: int | None = None  # total at or above which the scale's criterion is met
    description: str = ""

    @property
    def max_total(self) -> int:
        return sum(i.max_score for i in self.items)

    def score(self, answers: Mapping[str, int]) -> ScaleScore:
        """Sum of the chosen options; every item must be answered with one of its scores."""
        known = {i.id for i in self.items}
        extra = sorted(set(answers) - known)
        if extra:
            raise ScaleAnswerError(f"{self.name}: unknown item(s) {', '.join(extra)}")
        total = 0
        for item in self.items:
            if item.id not in answers:
                raise ScaleAnswerError(f"{self.name}: {item.label} is not answered")
            value = answers[item.id]
            if isinstance(value, bool) or item.option(value) is None:
                scores = ", ".join(str(o.score) for o in item.options)
                raise ScaleAnswerError(
                    f"{self.name}: {item.label} must be one of {scores}, got {value!r}"
                )
            total += value
        passed = None if self.pass_min is None else total >= self.pass_min
        return ScaleScore(self.id, dict(answers), total, self.max_total, passed)


def is_sedated(pre_dose_moaas: int | None, moaas: int) -> bool:
    """Any drop from the pre-dose MOAA/S counts as sedation (5 if no pre-dose score)."""
    reference = 5 if pre_dose_moaas is None else pre_dose_moaas
    return moaas < reference


def scale_from_mapping(data: Mapping[str, Any]) -> Scale:
    """Build and validate a scale from a parsed file; errors name the field path."""
    cf.only(data, "", {"scale", "items"})
    head = cf.table(data, "", "scale", required=True)
    cf.only(head, "scale", {"id", "name", "source", "pass_min", "description"})
    raw_items = cf.tables(data, "", "items", required=True)
    if not raw_items:
        raise ConfigError("items", "a scale needs at least one item")
    items: list[ScaleItem] = []
    for i, raw in enumerate(raw_items):
        where = f"items[{i}]"
        cf.only(raw, where, {"id", "label", "options"})
        item_id = cf.text(raw, where, "id")
        raw_options = cf.tables(raw, where, "options", required=True)
        if len(raw_options) < 2:
            raise ConfigError(f"{where}.options", "an item needs at least two options")
        options: list[ScaleOption] = []
        for j, opt in enumerate(raw_options):
            owhere = f"{where}.options[{j}]"
            cf.only(opt, owhere, {"score", "text"})
            score = cf.number(opt, owhere, "score", minimum=0)
            if score != int(score):
                raise ConfigError(f"{owhere}.score", f"must be a whole number, got {score:g}")
            options.append(ScaleOption(int(score), cf.text(opt, owhere, "text")))
        scores = [o.score for o in options]
        if len(set(scores)) != len(scores):
            raise ConfigError(f"{where}.options", f"scores repeat: {scores}")
        items.append(ScaleItem(item_id, cf.text(raw, where, "label"), tuple(options)))
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise ConfigError("items", f"item ids repeat: {ids}")
    pass_min: int | None = None
    if "pass_min" in head:
        value = cf.number(head, "scale", "pass_min", minimum=0)
        pass_min = int(value)
        top = sum(i.max_score for i in items)
        if value != pass_min or pass_min > top:
            raise ConfigError("scale.pass_min", f"must be a whole number from 0 to {top}")
    return Scale(
        id=cf.text(head, "scale", "id"),
        name=cf.text(head, "scale", "name"),
        source=cf.text(head, "scale", "source"),
        items=tuple(items),
        pass_min=pass_min,
        description=str(head.get("description", "")).strip(),
    )
