"""Protocol and clinic files: the shipped ones load, bad ones say where and why."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kapdesk.config.alarms import load_clinic_settings, load_protocol_alarms
from kapdesk.config.errors import ConfigFileError
from kapdesk.config.paths import find_protocol, protocol_ids
from kapdesk.domain.alarms import AlarmEngine, Condition, Priority

SHIPPED = ["esketamine-nasal", "im-ketamine", "iv-ketamine-infusion", "sublingual-ketamine"]

GOOD = """
[protocol]
id = "test"
name = "Test protocol"
route = "im"

[phases]  # another issue's table: ignored here
dosing = { minutes = 40 }

[alarms]
condition_delay_s = 7

[alarms.channels.spo2]
delay_s = 12
expected_interval_s = 2

[[alarms.limits]]
channel = "spo2"
priority = "medium"
low = 92

[[alarms.limits]]
channel = "heart_rate"
priority = "high"
low = 40
high = 140
"""


def write(tmp_path: Path, text: str, name: str = "p.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("pid", SHIPPED)
def test_shipped_protocols_load_with_the_clinical_defaults(pid):
    assert pid in protocol_ids()
    protocol = load_protocol_alarms(find_protocol(pid))
    assert protocol.id == pid
    lim = protocol.limits
    rule = lim.rule
    assert rule("spo2", Condition.BELOW_LOW_LIMIT, Priority.MEDIUM).threshold == 92
    assert rule("spo2", Condition.BELOW_LOW_LIMIT, Priority.HIGH).threshold == 88
    assert rule("heart_rate", Condition.ABOVE_HIGH_LIMIT, Priority.MEDIUM).threshold == 120
    assert rule("heart_rate", Condition.ABOVE_HIGH_LIMIT, Priority.HIGH).threshold == 140
    assert rule("heart_rate", Condition.BELOW_LOW_LIMIT, Priority.MEDIUM).threshold == 50
    assert rule("heart_rate", Condition.BELOW_LOW_LIMIT, Priority.HIGH).threshold == 40
    assert rule("nibp_systolic", Condition.ABOVE_HIGH_LIMIT, Priority.HIGH).threshold == 180
    assert rule("nibp_diastolic", Condition.ABOVE_HIGH_LIMIT, Priority.HIGH).threshold == 110
    assert rule("nibp_systolic", Condition.RISE_FROM_BASELINE, Priority.MEDIUM).threshold == 40
    assert rule("nibp_diastolic", Condition.RISE_FROM_BASELINE, Priority.MEDIUM).threshold == 25
    assert lim.delay_for("nibp_systolic") == 0
    assert lim.expected_interval_for("spo2") == 1
    assert lim.expected_interval_for("nibp_systolic") is None


def test_shipped_clinic_settings():
    s = load_clinic_settings()
    assert s.latching is True
    assert s.audio_pause_s == 120
    assert s.escalate_after_s == {Priority.MEDIUM: 120}
    assert s.priority_of(Condition.RECORDING_FAILED) is Priority.HIGH


def test_a_protocol_file_by_path_reads_only_protocol_and_alarms(tmp_path):
    protocol = load_protocol_alarms(find_protocol(str(write(tmp_path, GOOD))))
    assert (protocol.id, protocol.name, protocol.route) == ("test", "Test protocol", "im")
    assert len(protocol.limits.rules) == 3
    assert protocol.limits.delay_for("spo2") == 12
    assert protocol.limits.delay_for("heart_rate") == 7
    assert protocol.limits.expected_interval_for("spo2") == 2
    AlarmEngine(protocol.limits)  # usable as is


@pytest.mark.parametrize(
    ("change", "where", "problem"),
    [
        (("high = 140", 'high = "x"'), "alarms.limits[1].high", "must be a number"),
        (('channel = "spo2"', 'channel = "spo3"'), "alarms.limits[0].channel", "unknown channel"),
        (('priority = "high"', 'priority = "urgent"'), "alarms.limits[1].priority", "one of"),
        (
            (
                "high = 140",
                'high = 140\n[[alarms.limits]]\nchannel = "heart_rate"\n'
                'priority = "medium"\nhigh = 150',
            ),
            "alarms.limits[1].high",
            "less severe",
        ),
        (("delay_s = 12", "delay_s = -1"), "alarms.channels.spo2.delay_s", "plausible range"),
        (("delay_s = 12", "delay = 12"), "alarms.channels.spo2.delay", "unknown field"),
        (('id = "test"\n', ""), "protocol.id", "missing"),
        (("low = 92", "lo = 92"), "alarms.limits[0].lo", "unknown field"),
    ],
)
def test_errors_name_the_file_the_field_and_the_problem(tmp_path, change, where, problem):
    assert change[0] in GOOD
    path = write(tmp_path, GOOD.replace(change[0], change[1], 1))
    with pytest.raises(ConfigFileError) as caught:
        load_protocol_alarms(path)
    message = str(caught.value)
    assert re.match(rf"{re.escape(str(path))}:\d+: {re.escape(where)}: ", message), message
    assert caught.value.line is not None
    assert problem in message


def test_toml_syntax_errors_keep_line_and_column(tmp_path):
    path = write(tmp_path, '[protocol]\nid = "x"\nname = \n')
    with pytest.raises(ConfigFileError) as caught:
        load_protocol_alarms(path)
    assert str(path) in str(caught.value)
    assert "line 3, column" in str(caught.value)


def test_missing_alarms_table_and_unknown_protocol_id(tmp_path):
    path = write(tmp_path, '[protocol]\nid = "x"\nname = "X"\nroute = "iv"\n')
    with pytest.raises(ConfigFileError, match=r"alarms: missing \[alarms\] table"):
        load_protocol_alarms(path)
    with pytest.raises(ConfigFileError, match="no protocol with this id"):
        find_protocol("no-such-protocol")


def test_clinic_file_errors(tmp_path):
    path = write(tmp_path, "[alarms]\nlatching = 1\n", "clinic.toml")
    with pytest.raises(ConfigFileError, match=r"alarms\.latching: must be true or false"):
        load_clinic_settings(path)
    path = write(tmp_path, "[alarms.escalation]\nmedium_to_high_after_s = 0\n", "clinic.toml")
    with pytest.raises(ConfigFileError, match=r"alarms\.escalation\.medium_to_high_after_s"):
        load_clinic_settings(path)
    path = write(tmp_path, '[alarms.technical_priority]\nsensor_off = "loud"\n', "clinic.toml")
    with pytest.raises(ConfigFileError, match=r"technical_priority\.sensor_off: must be one of"):
        load_clinic_settings(path)
    settings = load_clinic_settings(write(tmp_path, "[journal]\n", "clinic.toml"))
    assert settings.latching is False  # no [alarms]: defaults
