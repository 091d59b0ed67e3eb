"""The shipped protocol and scale files load; a broken file is reported by file, field
path and line; the alarm loader still reads the same files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kapdesk.config.alarms import load_protocol_alarms
from kapdesk.config.errors import ConfigFileError
from kapdesk.config.paths import protocols_dir, resources_dir
from kapdesk.config.protocols import load_protocol, load_scale, locate

SHIPPED = ["im-ketamine", "iv-ketamine-infusion", "sublingual-ketamine", "esketamine-nasal"]


@pytest.mark.parametrize("pid", SHIPPED)
def test_shipped_protocols_load_with_their_scales(pid: str) -> None:
    ps = load_protocol(pid)
    p = ps.protocol
    assert p.id == pid
    assert p.phases[0].id == "preparation"
    assert p.dose_phase in {ph.id for ph in p.phases}
    assert all(ph.expected_s > 0 for ph in p.phases)
    assert {"bp", "sedation", "dissociation"} <= {c.id for c in p.checks}
    assert p.check("bp").before_dose and p.check("bp").until_stable
    assert "spo2" in p.continuous
    assert p.expected_sources == ("heart_rate", "spo2", "nibp")
    assert p.source_grace_s == 20
    assert {"consent", "fasting", "ride_home", "predose_bp"} <= {g.id for g in p.checklist}
    assert p.discharge.score_min == 9
    assert set(p.scales_used) <= set(ps.scales)
    # The alarm loader reads the same file unchanged.
    assert load_protocol_alarms(ps.path).id == pid


def test_esketamine_follows_the_label_rules() -> None:
    p = load_protocol("esketamine-nasal").protocol
    assert p.observation_min == 120
    assert p.check("bp").at_min == (40.0,)
    assert p.dosing.routes == ("IN",)


def test_iv_protocol_records_an_infusion_duration() -> None:
    p = load_protocol("iv-ketamine-infusion").protocol
    assert p.dosing.infusion and not p.dosing.boosters


@pytest.mark.parametrize("sid", ["moaas", "aldrete", "padss", "dissociation"])
def test_scales_load_and_state_their_source(sid: str) -> None:
    scale = load_scale(sid)
    assert scale.id == sid and len(scale.source) > 20
    assert all(len(i.options) >= 2 for i in scale.items)


def test_aldrete_and_padss_have_five_items_of_0_to_2_and_a_pass_mark_of_9() -> None:
    for sid in ("aldrete", "padss"):
        s = load_scale(sid)
        assert len(s.items) == 5 and s.max_total == 10 and s.pass_min == 9


@pytest.fixture
def clinic_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of resources/ a test may break, used through KAPDESK_RESOURCES."""
    dest = tmp_path / "resources"
    shutil.copytree(resources_dir(), dest, ignore=shutil.ignore_patterns("sounds"))
    monkeypatch.setenv("KAPDESK_RESOURCES", str(dest))
    return dest


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_a_bad_value_names_file_field_and_line(clinic_copy: Path) -> None:
    path = clinic_copy / "protocols" / "im-ketamine.toml"
    edit(path, "at_min = [15, 30, 40]", 'at_min = [15, "thirty", 40]')
    with pytest.raises(ConfigFileError) as info:
        load_protocol("im-ketamine")
    err = info.value
    assert err.file == str(path)
    assert err.where == "checks[0].at_min[1]"
    assert "must be a number" in err.problem
    line = path.read_text().splitlines()[err.line - 1]
    assert "thirty" in line
    assert f"im-ketamine.toml:{err.line}: checks[0].at_min[1]" in str(err)


def test_expected_sources_default_and_a_bad_one_names_file_field_and_line(
    clinic_copy: Path,
) -> None:
    path = clinic_copy / "protocols" / "im-ketamine.toml"
    edit(path, 'expected_sources = ["heart_rate", "spo2", "nibp"]\n', "")
    edit(path, "source_grace_s = 20\n", "")
    p = load_protocol("im-ketamine").protocol
    assert p.expected_sources == ("heart_rate", "spo2", "nibp")  # the default
    assert p.source_grace_s == 20
    edit(path, "[monitoring]\n", '[monitoring]\nexpected_sources = ["spo2", "nibp", "spo3"]\n')
    with pytest.raises(ConfigFileError) as info:
        load_protocol("im-ketamine")
    err = info.value
    assert err.file == str(path)
    assert err.where == "monitoring.expected_sources[2]"
    assert "unknown source 'spo3'" in err.problem and "nibp" in err.problem
    assert "spo3" in path.read_text().splitlines()[err.line - 1]
    assert f"im-ketamine.toml:{err.line}: monitoring.expected_sources[2]" in str(err)


def test_no_expected_sources_and_a_bad_grace(clinic_copy: Path) -> None:
    path = clinic_copy / "protocols" / "sublingual-ketamine.toml"
    edit(path, 'expected_sources = ["heart_rate", "spo2", "nibp"]', "expected_sources = []")
    assert load_protocol("sublingual-ketamine").protocol.expected_sources == ()
    edit(path, "source_grace_s = 20", 'source_grace_s = "soon"')
    with pytest.raises(ConfigFileError, match=r"monitoring\.source_grace_s: must be a number"):
        load_protocol("sublingual-ketamine")


def test_a_misspelt_field_is_an_error_not_ignored(clinic_copy: Path) -> None:
    path = clinic_copy / "protocols" / "sublingual-ketamine.toml"
    edit(path, "observation_min = 120", "observation_mins = 120")
    with pytest.raises(ConfigFileError, match=r"session\.observation_mins: unknown field"):
        load_protocol("sublingual-ketamine")


def test_an_unknown_scale_is_reported_at_the_check(clinic_copy: Path) -> None:
    path = clinic_copy / "protocols" / "im-ketamine.toml"
    edit(path, 'scale = "dissociation"', 'scale = "cadss-6"')
    with pytest.raises(ConfigFileError) as info:
        load_protocol("im-ketamine")
    assert info.value.where == "checks[2].scale"
    assert "cadss-6" in info.value.problem
    assert 'scale = "cadss-6"' in path.read_text().splitlines()[info.value.line - 1]


def test_a_broken_scale_names_the_option(clinic_copy: Path) -> None:
    path = clinic_copy / "scales" / "aldrete.toml"
    edit(path, 'score = 1\ntext = "Moves two limbs"', 'score = 2\ntext = "Moves two limbs"')
    with pytest.raises(ConfigFileError, match=r"items\[0\]\.options: scores repeat"):
        load_scale("aldrete")


def test_dose_phase_must_be_a_phase(clinic_copy: Path) -> None:
    path = clinic_copy / "protocols" / "esketamine-nasal.toml"
    edit(path, 'dose_phase = "dosing"', 'dose_phase = "spray"')
    with pytest.raises(ConfigFileError, match="'spray' is not a phase"):
        load_protocol("esketamine-nasal")


def test_toml_syntax_errors_keep_the_line(clinic_copy: Path) -> None:
    path = clinic_copy / "protocols" / "im-ketamine.toml"
    text = path.read_text().splitlines()
    text.insert(9, "this is = = not toml")
    path.write_text("\n".join(text))
    with pytest.raises(ConfigFileError) as info:
        load_protocol("im-ketamine")
    assert info.value.line == 10 and "not valid TOML" in str(info.value)


def test_locate_finds_keys_in_nested_arrays_of_tables() -> None:
    text = (
        "[scale]\nid = 'x'\n"
        "[[items]]\nid = 'a'\n[[items.options]]\nscore = 1\n[[items.options]]\nscore = 2\n"
        "[[items]]\nid = 'b'\n[[items.options]]\nscore = 5\n"
    )
    assert locate(text, "items[1].options[0].score") == 12
    assert locate(text, "items[0].options[1].score") == 8
    assert locate(text, "items[1].label") == 9  # missing key: its table's header
    assert locate(text, "scale.id") == 2


def test_unknown_protocol_id_lists_the_known_ones() -> None:
    with pytest.raises(ConfigFileError, match="im-ketamine"):
        load_protocol("no-such-protocol")
    assert protocols_dir().is_dir()
