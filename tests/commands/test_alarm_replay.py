"""``kapdesk replay`` end to end through the CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alarm_test_support import T0

from kapdesk.cli import main
from kapdesk.config.alarms import load_clinic_settings, load_protocol_alarms
from kapdesk.config.paths import find_protocol
from kapdesk.domain.alarms import AlarmEngine
from kapdesk.domain.clock import iso_utc
from kapdesk.domain.readings import Reading

NON_LATCHING = "[alarms]\nlatching = false\naudio_pause_s = 120\n"


@pytest.fixture
def clinic(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.toml"
    path.write_text(NON_LATCHING, encoding="utf-8")
    return path


def replay(capsys, *argv: str) -> tuple[int, list[dict], str]:
    status = main(["replay", *argv])
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    return status, lines, captured.err


def spo2_csv(tmp_path: Path, iso: bool = True) -> Path:
    """SpO2 97 for 5 s, 86 for 20 s, then 97 again; one value a second."""
    rows = ["time,channel,value,unit"]
    for i in range(40):
        value = 86 if 5 <= i < 25 else 97
        t = iso_utc(T0 + i) if iso else f"{T0 + i:.3f}"
        rows.append(f"{t},spo2,{value},%")
    path = tmp_path / "spo2.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_csv_replay_prints_raise_and_clear(tmp_path, capsys, clinic):
    status, lines, err = replay(
        capsys, str(spo2_csv(tmp_path)), "--protocol", "im-ketamine", "--clinic", str(clinic)
    )
    assert (status, err) == (0, "")
    # 86 % is below both limits from 5 s; the shipped SpO2 delay is 10 s; 97 ends it at 25 s
    assert [(d["transition"], d["priority"], d["t"], d["value"]) for d in lines] == [
        ("raised", "high", iso_utc(T0 + 15), 86.0),
        ("cleared", "high", iso_utc(T0 + 25), 97.0),
    ]
    assert lines[0]["kind"] == "physiological" and lines[0]["condition"] == "below_low_limit"
    assert lines[0]["limit"] == 88.0 and lines[0]["message"].startswith("***")


def test_epoch_times_and_iso_times_replay_the_same(tmp_path, capsys, clinic):
    iso_run = replay(capsys, str(spo2_csv(tmp_path)), "--protocol", "im-ketamine")
    epoch_run = replay(capsys, str(spo2_csv(tmp_path, iso=False)), "--protocol", "im-ketamine")
    assert iso_run == epoch_run
    assert iso_run[1]  # the shipped clinic file latches: the condition ends, no clear
    assert [d["transition"] for d in iso_run[1]] == ["raised", "condition_ended"]
    raised, ended = iso_run[1]
    assert raised["episode"] == ended["episode"] and raised["episode"]
    assert ended["t"] > raised["t"]


def test_replay_is_deterministic(tmp_path, capsys):
    path = str(spo2_csv(tmp_path))
    assert replay(capsys, path, "--protocol", "sublingual-ketamine") == replay(
        capsys, path, "--protocol", "sublingual-ketamine"
    )


def export(tmp_path: Path, readings: list[dict], events: list[dict], alarms=()) -> Path:
    doc = {
        "format": "kapdesk-session",
        "format_version": 1,
        "exported_at": iso_utc(T0 + 3600),
        "session": {"id": 1, "uid": "s", "protocol": "esketamine-nasal", "state": "ended"},
        "patient": {"id": 1, "uid": "p", "display_name": "Test"},
        "phases": [],
        "events": events,
        "readings": readings,
        "alarms": list(alarms),
    }
    path = tmp_path / "session.json"
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


def bp(t: float, systolic: float) -> dict:
    return {
        "t": iso_utc(t),
        "channel": "nibp_systolic",
        "value": systolic,
        "unit": "mm[Hg]",
        "device": "cuff",
        "flags": [],
    }


def test_json_export_uses_its_baseline_events_unless_given_one(tmp_path, capsys, clinic):
    readings = [bp(T0, 125), bp(T0 + 2400, 168), bp(T0 + 3000, 130)]
    events = [
        {"t": iso_utc(T0 + 1), "kind": "phase_entered", "phase": "dosing", "data": {}},
        {
            "t": iso_utc(T0 + 1),
            "kind": "baseline",
            "data": {"channel": "nibp_systolic", "value": 125},
        },
    ]
    path = str(export(tmp_path, readings, events))
    args = ["--protocol", "esketamine-nasal", "--clinic", str(clinic)]
    status, lines, _ = replay(capsys, path, *args)
    assert status == 0
    assert [(d["transition"], d["condition"], d["limit"], d["t"]) for d in lines] == [
        ("raised", "rise_from_baseline", 165.0, iso_utc(T0 + 2400)),
        ("cleared", "rise_from_baseline", 165.0, iso_utc(T0 + 3000)),
    ]
    status, lines, _ = replay(capsys, path, *args, "--baseline", "nibp_systolic=140")
    assert (status, lines) == (0, [])  # 168 is within 140 + 40


def test_replay_matches_what_a_live_session_recorded(tmp_path, capsys, clinic):
    protocol = load_protocol_alarms(find_protocol("iv-ketamine-infusion"))
    live = AlarmEngine(protocol.limits, load_clinic_settings(clinic))
    readings: list[dict] = []
    recorded: list[dict] = []
    for i in range(120):
        hr = 150 if 30 <= i < 60 else (125 if 60 <= i < 90 else 80)
        r = Reading("heart_rate", hr, "/min", T0 + i, "strap")
        readings.append(
            {
                "t": iso_utc(r.t),
                "channel": r.channel,
                "value": r.value,
                "unit": r.unit,
                "device": r.device,
                "flags": [],
            }
        )
        recorded += [tr.to_dict() for tr in live.tick(r.t) + live.on_reading(r)]
    recorded += [tr.to_dict() for tr in live.tick(T0 + 119)]
    assert recorded  # the scenario does alarm
    path = export(tmp_path, readings, [], recorded)
    status, lines, _ = replay(
        capsys, str(path), "--protocol", "iv-ketamine-infusion", "--clinic", str(clinic)
    )
    assert status == 0
    assert lines == json.loads(path.read_text())["alarms"]


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (
            "time,channel,value,unit\n2026-11-29T13:00:00Z,spo2,97,%\n2026-11-29T13:00:01Z,spo2,x,%\n",
            "line 3: value 'x' is not a number",
        ),
        ("time,channel,value,unit\nyesterday,spo2,97,%\n", "line 2: time 'yesterday'"),
        ("time,channel,value,unit\n1795957200,spo3,97,%\n", "line 2: unknown channel 'spo3'"),
        ("time,channel,value,unit\n1795957200,spo2,97,mm[Hg]\n", "line 2: unit 'mm[Hg]'"),
        ("time,channel,value,unit\n1795957200,spo2,97\n", "line 2: 3 fields"),
        ("when,what\n", "line 1: header lacks time, channel, value, unit"),
    ],
)
def test_bad_csv_names_the_line_and_exits_2(tmp_path, capsys, content, where):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    status, lines, err = replay(capsys, str(path), "--protocol", "im-ketamine")
    assert (status, lines) == (2, [])
    assert err.count("\n") == 1
    assert f"{path}: {where}" in err


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ('{"readings": [\n  {"t": 1}\n  {"t": 2}]}', "line 3 column 3: Expecting ','"),
        (
            json.dumps({"readings": [bp(T0, 120), {"t": iso_utc(T0), "channel": "spo2"}]}),
            "readings[1]: value is missing",
        ),
        (json.dumps({"readings": [bp(T0, 120) | {"t": "soon"}]}), "readings[0]: time 'soon'"),
        (
            json.dumps({"format": "other", "readings": []}),
            "format 'other' is not a kapdesk-session export",
        ),
        (
            json.dumps({"readings": [], "events": [{"t": iso_utc(T0), "kind": "baseline"}]}),
            "events[0]: a baseline event needs data",
        ),
    ],
)
def test_bad_json_names_the_position_or_reading_and_exits_2(tmp_path, capsys, content, where):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    status, lines, err = replay(capsys, str(path), "--protocol", "im-ketamine")
    assert (status, lines) == (2, [])
    assert err.count("\n") == 1
    assert f"{path}: {where}" in err


def test_unknown_protocol_and_missing_file_exit_2(tmp_path, capsys):
    status, _, err = replay(capsys, str(spo2_csv(tmp_path)), "--protocol", "no-such")
    assert status == 2 and "no protocol with this id" in err
    status, _, err = replay(capsys, str(tmp_path / "gone.csv"), "--protocol", "im-ketamine")
    assert status == 2 and "gone.csv" in err


def test_protocol_given_as_a_path(tmp_path, capsys, clinic):
    path = find_protocol("im-ketamine")
    status, lines, _ = replay(
        capsys, str(spo2_csv(tmp_path)), "--protocol", str(path), "--clinic", str(clinic)
    )
    assert status == 0 and len(lines) == 2


@pytest.mark.parametrize(("speed", "no_data"), [(None, True), (1.0, True), (20.0, False)])
def test_replay_times_silence_in_the_recorded_sessions_real_seconds(
    tmp_path, capsys, clinic, speed, no_data
):
    """HR every 10 session seconds: at --speed 20 that is every 0.5 real seconds, which is
    no silence; at speed 1 it is 10 s, which is "no data" (twice the 1 s interval)."""
    readings = [
        {"t": iso_utc(T0 + 10 * i), "channel": "heart_rate", "value": 72, "unit": "/min",
         "device": "strap", "flags": []}
        for i in range(6)
    ]  # fmt: skip
    path = export(tmp_path, readings, [])
    if speed is not None:
        doc = json.loads(path.read_text())
        doc["session"]["clock_speed"] = speed
        path.write_text(json.dumps(doc), encoding="utf-8")
    status, lines, _ = replay(
        capsys, str(path), "--protocol", "im-ketamine", "--clinic", str(clinic)
    )
    assert status == 0
    lost = [a for a in lines if a["condition"] == "signal_lost"]
    if no_data:
        assert [a["transition"] for a in lost] == ["raised", "cleared"] * 5
        pairs = zip(lost[::2], lost[1::2], strict=True)
        assert all(r["episode"] == c["episode"] and c["t"] >= r["t"] for r, c in pairs)
    else:
        assert lost == []


def test_a_nonsense_clock_speed_names_the_field(tmp_path, capsys):
    path = export(tmp_path, [], [])
    doc = json.loads(path.read_text())
    doc["session"]["clock_speed"] = 0
    path.write_text(json.dumps(doc), encoding="utf-8")
    status, _, err = replay(capsys, str(path), "--protocol", "im-ketamine")
    assert status == 2
    assert "session.clock_speed must be a number > 0" in err
