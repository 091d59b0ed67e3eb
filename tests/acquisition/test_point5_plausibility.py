"""Issue 11 point 5: noise never becomes a vital sign.

Full-range noise through every stream decoder and random bytes through every packet
parser, then through ``IngestHub.publish`` (the one place ranges are checked): no value
outside its channel's range reaches a subscriber unflagged. The quick run keeps 2,000
inputs per parser; the slow run 100,000. Plus: profile ``[ranges]`` override the
defaults, implausible values are counted per device, trends and alarms ignore them, and
``searching`` / ``probe_error`` are gaps for the alarm engine.
"""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

import pytest

from kapdesk.acquisition.catalog import CatalogError, load_profile, profile_for_protocol
from kapdesk.acquisition.ingest import IngestHub
from kapdesk.acquisition.parsers import ParseError
from kapdesk.acquisition.parsers.cms50d import decode_frame
from kapdesk.acquisition.parsers.registry import PROTOCOLS
from kapdesk.acquisition.serial_transport import SerialMonitorConnection
from kapdesk.domain.alarms import (
    AlarmEngine,
    AlarmLimits,
    ChannelTiming,
    Condition,
    LimitRule,
    Priority,
)
from kapdesk.domain.channels import CHANNELS, PLAUSIBLE_RANGES, PlausibleRange
from kapdesk.domain.readings import INVALID, PROBE_ERROR, SEARCHING, Reading
from kapdesk.live.trend_store import TrendStore
from kapdesk.sim.emulators.serial_pty import PtySerialEmulator
from kapdesk.sim.patient_model import EmulatedPatient

PACKET_PROTOCOLS = sorted(n for n, p in PROTOCOLS.items() if p.parse_frame is not None)
STREAM_PROTOCOLS = sorted(n for n, p in PROTOCOLS.items() if p.new_decoder is not None)
QUICK, SLOW = 2_000, 100_000


def test_point5_every_channel_has_a_range() -> None:
    assert set(PLAUSIBLE_RANGES) == set(CHANNELS)


class Checked:
    """A hub subscriber that keeps what an unflagged implausible value would be."""

    def __init__(self, hub: IngestHub) -> None:
        self.count = 0
        self.flagged = 0
        self.bad: list[Reading] = []
        hub.subscribe(self)

    def __call__(self, r: Reading) -> None:
        self.count += 1
        if INVALID in r.flags:
            self.flagged += 1
        elif math.isfinite(r.value) and not PLAUSIBLE_RANGES[r.channel].contains(r.value):
            self.bad.append(r)


def packet_fuzz(name: str, n: int, seed: int) -> Checked:
    rnd = random.Random(seed)
    parse = PROTOCOLS[name].parse_frame
    assert parse is not None
    hub = IngestHub()
    checked = Checked(hub)
    for _ in range(n):
        frame = rnd.randbytes(rnd.randint(1, 20))
        try:
            readings = parse(frame)
        except ParseError:
            continue
        hub.publish_many([r.at(0.0, "fuzz") for r in readings])
    return checked


def stream_fuzz(name: str, n: int, seed: int) -> Checked:
    """``n`` chunks of full-range noise (1-16 random bytes 0-255 each), one decoder."""
    rnd = random.Random(seed)
    info = PROTOCOLS[name]
    assert info.new_decoder is not None
    decoder = info.new_decoder()
    hub = IngestHub()
    checked = Checked(hub)
    for _ in range(n):
        readings = decoder.feed(rnd.randbytes(rnd.randint(1, 16)))
        hub.publish_many([r.at(0.0, "fuzz") for r in readings])
    return checked


@pytest.mark.parametrize("name", PACKET_PROTOCOLS)
def test_point5_random_bytes_through_packet_parsers_never_pass_unflagged(name: str) -> None:
    checked = packet_fuzz(name, QUICK, seed=5)
    assert checked.bad == []
    assert checked.count > 0  # the fuzz reached the hub at all


@pytest.mark.parametrize("name", STREAM_PROTOCOLS)
def test_point5_full_range_noise_through_stream_decoders_never_passes_unflagged(
    name: str,
) -> None:
    checked = stream_fuzz(name, QUICK, seed=5)
    assert checked.bad == []


@pytest.mark.slow
def test_point5_plausibility_100k_inputs_per_parser() -> None:
    started = time.monotonic()
    for name in PACKET_PROTOCOLS:
        assert packet_fuzz(name, SLOW, seed=55).bad == [], name
    for name in STREAM_PROTOCOLS:
        assert stream_fuzz(name, SLOW, seed=55).bad == [], name
    assert time.monotonic() - started < 120  # budget: well under a minute on CI


def test_point5_cms50d_noise_values_of_the_issue_are_flagged() -> None:
    """SpO2 116 and 7 %, pulse 0 and 252: what line noise made of CMS50D+ frames."""
    hub = IngestHub()
    hub.set_ranges("oximeter", dict(profile_for_protocol("cms50d").ranges))  # PR 30-250
    got: list[Reading] = []
    hub.subscribe(got.append)
    for frame in (bytes((0x80, 0, 0, 0, 116)), bytes((0x80, 0, 0x40, 0x7C, 7))):
        hub.publish_many([r.at(0.0, "oximeter") for r in decode_frame(frame)])
    trend = {(r.channel, r.value): r.flags for r in got if r.channel in ("spo2", "pulse_rate")}
    assert set(trend) == {("spo2", 116), ("pulse_rate", 0), ("spo2", 7), ("pulse_rate", 252)}
    assert all(INVALID in flags for flags in trend.values())
    assert hub.counters.implausible == 4
    assert hub.counters.per_device_implausible == {"oximeter": 4}


def test_point5_ble_values_of_the_issue_are_flagged() -> None:
    """HR 45775 (uint16) and a NIBP of -7.6e9 (SFLOAT) decode, but are flagged."""
    hr = PROTOCOLS["ble-heart-rate"].parse_frame
    assert hr is not None
    hub = IngestHub()
    got: list[Reading] = []
    hub.subscribe(got.append)
    hub.publish_many([r.at(0.0, "strap") for r in hr(bytes((0x01, 0xCF, 0xB2)))])
    hub.publish(Reading("nibp_systolic", -7.6e9, "mm[Hg]", 0.0, "cuff"))
    assert [(r.value, INVALID in r.flags) for r in got] == [(45775.0, True), (-7.6e9, True)]
    assert hub.counters.per_device_implausible == {"strap": 1, "cuff": 1}


def test_point5_plausible_values_pass_unchanged() -> None:
    hub = IngestHub()
    got: list[Reading] = []
    hub.subscribe(got.append)
    r = Reading("spo2", 97.0, "%", 1.0, "oximeter", frozenset({"pulse_beep"}))
    hub.publish(r)
    nan = Reading("nibp_systolic", float("nan"), "mm[Hg]", 1.0, "cuff")  # a "no value" gap
    hub.publish(nan)
    assert got[0] is r and got[1] is nan
    assert hub.counters.implausible == 0


def write_profile(tmp_path: Path, ranges: str) -> Path:
    base = profile_for_protocol("nonin-df2").path.read_text(encoding="utf-8")
    path = tmp_path / "narrow-oximeter.toml"
    path.write_text(base.replace("[serial]", f"{ranges}\n\n[serial]"), encoding="utf-8")
    return path


def test_point5_profile_ranges_override_the_defaults(tmp_path: Path) -> None:
    profile = load_profile(write_profile(tmp_path, "[ranges]\nspo2 = [70, 100]"))
    assert dict(profile.ranges) == {"spo2": PlausibleRange(70, 100)}
    hub = IngestHub()
    got: list[Reading] = []
    hub.subscribe(got.append)
    hub.set_ranges("narrow", dict(profile.ranges))
    for device in ("narrow", "other"):
        hub.publish(Reading("spo2", 65.0, "%", 0.0, device))
        hub.publish(Reading("pulse_rate", 260.0, "/min", 0.0, device))  # default range
    assert [(r.device, r.channel, INVALID in r.flags) for r in got] == [
        ("narrow", "spo2", True),
        ("narrow", "pulse_rate", False),
        ("other", "spo2", False),
        ("other", "pulse_rate", False),
    ]
    assert hub.counters.per_device_implausible == {"narrow": 1}


def test_point5_cms50d_profile_declares_its_pulse_rate_range() -> None:
    """The CMS50D+ measures pulse rate 30-250 /min (its specification)."""
    assert dict(profile_for_protocol("cms50d").ranges)["pulse_rate"] == PlausibleRange(30, 250)


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        ("[ranges]\nspo2 = [100, 70]", "low < high"),
        ("[ranges]\nspo2 = [70]", "[low, high]"),
        ("[ranges]\nspo2 = [70, true]", "[low, high]"),
        ("[ranges]\noxygen = [70, 100]", "unknown channel"),
    ],
)
def test_point5_bad_profile_ranges_are_refused_with_their_line(
    tmp_path: Path, ranges: str, message: str
) -> None:
    with pytest.raises(CatalogError, match="line") as info:
        load_profile(write_profile(tmp_path, ranges))
    assert message in str(info.value) and "ranges." in str(info.value)


def test_point5_serial_transport_registers_the_profile_ranges(tmp_path: Path) -> None:
    profile = load_profile(write_profile(tmp_path, "[ranges]\nspo2 = [70, 100]"))
    hub = IngestHub()
    SerialMonitorConnection("/dev/null", profile, hub, time.time, "narrow")  # not started
    got: list[Reading] = []
    hub.subscribe(got.append)
    hub.publish(Reading("spo2", 65.0, "%", 0.0, "narrow"))
    assert INVALID in got[0].flags


def test_point5_flagged_values_are_not_drawn() -> None:
    hub = IngestHub()
    store = TrendStore()
    hub.subscribe(store.add)
    hub.publish(Reading("spo2", 116.0, "%", 1.0, "oximeter"))
    last = store.last("spo2")
    assert last is not None and math.isnan(last[1]) and INVALID in last[2]


SPO2_LOW = LimitRule("spo2", Condition.BELOW_LOW_LIMIT, Priority.HIGH, 88)
SPO2_HIGH = LimitRule("spo2", Condition.ABOVE_HIGH_LIMIT, Priority.MEDIUM, 100)


def alarms_for(*flags: str, value: float = 80.0, via_hub: bool = False) -> list[str]:
    engine = AlarmEngine(
        AlarmLimits(
            (SPO2_LOW, SPO2_HIGH),
            {"spo2": ChannelTiming(expected_interval_s=3600)},
            default_delay_s=0,
        )
    )
    hub = IngestHub()
    out: list[str] = []
    hub.subscribe(lambda r: out.extend(t.message for t in engine.on_reading(r)))
    for i in range(5):
        r = Reading("spo2", value, "%", 1_795_957_200.0 + i, "oximeter", frozenset(flags))
        if via_hub:
            hub.publish(r)
        else:
            out.extend(t.message for t in engine.on_reading(r))
        out.extend(t.message for t in engine.tick(r.t + 0.5))
    return out


def test_point5_searching_and_probe_error_are_gaps_for_the_alarm_engine() -> None:
    assert alarms_for()  # the same value unflagged alarms
    assert alarms_for(SEARCHING) == []
    assert alarms_for(PROBE_ERROR) == []
    assert alarms_for(INVALID) == []


def test_point5_implausible_value_never_alarms_as_a_measurement() -> None:
    assert alarms_for(value=101.0)  # plausible above the limit: alarms
    assert alarms_for(value=116.0, via_hub=True) == []  # flagged by the hub: a gap


def test_point5_emulator_full_range_noise_option() -> None:
    """CMS50D+ garbage is 7-bit by default (so it cannot fake a frame); the option
    sends the full 0-255 range a real noisy line does."""
    patient = EmulatedPatient()
    plain = PtySerialEmulator("cms50d", patient, lambda: 0.0)
    full = PtySerialEmulator("cms50d", patient, lambda: 0.0, full_range_noise=True)
    try:
        assert max(plain.garbage(4096)) < 0x80
        assert max(full.garbage(4096)) >= 0x80
    finally:
        plain.stop()
        full.stop()
    with pytest.raises(ValueError, match="share"):
        PtySerialEmulator("cms50d", patient, lambda: 0.0, frame_loss=2)


def test_point5_noisy_cms50d_line_publishes_nothing_implausible_unflagged(
    tmp_path: Path,
) -> None:
    """A real pty with full-range noise before most frames, read by the real transport."""
    emulator = PtySerialEmulator(
        "cms50d",
        EmulatedPatient(),
        lambda: 300.0,
        str(tmp_path / "tty"),
        full_range_noise=True,
        noise=0.8,
        seed=9,
    )
    hub = IngestHub()
    checked = Checked(hub)
    conn = SerialMonitorConnection(emulator.port, profile_for_protocol("cms50d"), hub, time.time)
    emulator.start()
    conn.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
            emulator.garbage_bytes_sent < 2000 or checked.count < 50
        ):
            time.sleep(0.1)
    finally:
        conn.stop()
        emulator.stop()
    assert emulator.garbage_bytes_sent >= 2000
    assert checked.bad == []
    assert conn.counters.malformed_frames > 0


def test_point5_emulate_command_takes_the_fault_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kapdesk.cli import main

    assert main(["emulate", "cms50d", "--lose-frames", "1.5", "--seconds", "0.1"]) == 2
    assert "share of frames" in capsys.readouterr().err
    link = str(tmp_path / "tty")
    args = ["emulate", "cms50d", "--link", link, "--seconds", "0.3", "--full-range-noise"]
    assert main([*args, "--noise", "0.5", "--lose-frames", "0.1"]) == 0
    assert '"protocol": "cms50d"' in capsys.readouterr().out
