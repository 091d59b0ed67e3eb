"""PHQ-9 and GAD-7 scoring against the published rules (Kroenke et al. 2001; Spitzer et
al. 2006): totals are item sums, bands at 5/10/15/20 (PHQ-9) and 5/10/15 (GAD-7), and any
non-zero answer to PHQ-9 item 9 is flagged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapdesk.config.errors import ConfigFileError
from kapdesk.config.journal import (
    load_journal_settings,
    load_prompt_sets,
    load_questionnaire,
    load_questionnaires,
)
from kapdesk.config.paths import questionnaires_dir
from kapdesk.domain.questionnaires import GAD7, PHQ9, SELF_HARM, AnswerError, score

# Published severity cut-points: (total, band).
PHQ9_PUBLISHED = [
    (0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
    (14, "moderate"), (15, "moderately severe"), (19, "moderately severe"),
    (20, "severe"), (27, "severe"),
]  # fmt: skip
GAD7_PUBLISHED = [
    (0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
    (14, "moderate"), (15, "severe"), (21, "severe"),
]  # fmt: skip


def answers_for(total: int, items: int, item9_zero: bool = False) -> list[int]:
    """Answers summing to ``total`` (greedy), keeping the last item 0 if asked."""
    out = []
    left = total
    for i in range(items):
        a = 0 if (item9_zero and i == items - 1) else min(3, left)
        out.append(a)
        left -= a
    assert left == 0
    return out


@pytest.mark.parametrize(("total", "band"), PHQ9_PUBLISHED)
def test_phq9_bands_at_the_published_cut_points(total: int, band: str) -> None:
    s = score(PHQ9, answers_for(total, 9, item9_zero=total <= 24))
    assert (s.total, s.band) == (total, band)


@pytest.mark.parametrize(("total", "band"), GAD7_PUBLISHED)
def test_gad7_bands_at_the_published_cut_points(total: int, band: str) -> None:
    s = score(GAD7, answers_for(total, 7))
    assert (s.total, s.band) == (total, band)
    assert s.flags == ()


def test_a_worked_phq9_example() -> None:
    # 1+2+0+3+1+1+0+2+0 = 10: moderate, not flagged.
    s = score(PHQ9, [1, 2, 0, 3, 1, 1, 0, 2, 0])
    assert (s.total, s.band, s.flags) == (10, "moderate", ())


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_any_nonzero_item9_is_flagged_even_with_a_minimal_total(item9: int) -> None:
    s = score(PHQ9, [0] * 8 + [item9])
    assert s.band == "minimal"
    assert s.flags == (SELF_HARM,) and s.flagged


def test_item9_zero_is_not_flagged_even_when_severe() -> None:
    s = score(PHQ9, [3] * 8 + [0])
    assert s.band == "severe" and not s.flagged


@given(st.lists(st.integers(0, 3), min_size=9, max_size=9))
def test_phq9_total_is_the_item_sum_and_the_band_contains_it(answers: list[int]) -> None:
    s = score(PHQ9, answers)
    assert s.total == sum(answers)
    expected = next(
        b for t, b in reversed(PHQ9_PUBLISHED) if t <= s.total and t in (0, 5, 10, 15, 20)
    )
    assert s.band == expected
    assert s.flagged == (answers[8] > 0)


@given(st.lists(st.integers(0, 3), min_size=7, max_size=7))
def test_gad7_total_is_the_item_sum(answers: list[int]) -> None:
    s = score(GAD7, answers)
    expected = next(b for t, b in reversed(GAD7_PUBLISHED) if t <= s.total and t in (0, 5, 10, 15))
    assert (s.total, s.band) == (sum(answers), expected)


@pytest.mark.parametrize(
    "answers",
    [
        [0] * 8,  # too few
        [0] * 10,  # too many
        [0] * 8 + [4],  # out of range
        [0] * 8 + [-1],
        [0] * 8 + [True],  # a bool is not an answer
        [0] * 8 + [1.0],
        [0] * 8 + ["1"],
        [0] * 8 + [None],
        "000000000",
    ],
)
def test_invalid_answers_are_refused_with_a_clear_message(answers: object) -> None:
    with pytest.raises(AnswerError, match="PHQ-9"):
        score(PHQ9, answers)  # type: ignore[arg-type]


def test_questionnaire_files_match_the_published_scoring() -> None:
    forms = load_questionnaires()
    assert list(forms) == ["phq9", "gad7"]
    assert len(forms["phq9"].items) == 9 and len(forms["gad7"].items) == 7
    assert "better off dead" in forms["phq9"].items[8]
    assert forms["phq9"].options[3] == (3, "Nearly every day")
    assert SELF_HARM in forms["phq9"].flag_messages
    assert "Kroenke" in forms["phq9"].citation and "Spitzer" in forms["gad7"].citation


def test_a_file_that_moves_a_band_is_rejected(tmp_path: Path) -> None:
    src = questionnaires_dir() / "phq9.toml"
    bad = tmp_path / "phq9.toml"
    bad.write_text(src.read_text().replace("low = 10\nhigh = 14", "low = 10\nhigh = 13"))
    with pytest.raises(ConfigFileError, match="bands"):
        load_questionnaire(bad)
    shutil.copy(src, tmp_path / "ok.toml")
    assert load_questionnaire(tmp_path / "ok.toml").instrument is PHQ9


def test_prompt_sets_and_settings_load() -> None:
    sets = load_prompt_sets()
    assert [s.id for s in sets] == ["after-session", "24-48h", "weekly"]
    assert all(len(s.prompts) >= 3 for s in sets)
    settings = load_journal_settings()
    assert settings.autosave_delay_ms == 400 and settings.share_by_default
