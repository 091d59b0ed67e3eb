"""Device catalog: the shipped profiles load, and broken ones fail naming file, key, line."""

from __future__ import annotations

from pathlib import Path

import pytest

from kapdesk.acquisition.catalog import (
    DEFAULT_DIRECTORY,
    CatalogError,
    load_catalog,
    load_profile,
    normalise_uuid,
    profile_for_protocol,
)
from kapdesk.acquisition.parsers.registry import PROTOCOLS
from kapdesk.domain.channels import CHANNELS

GOOD_SERIAL = """\
name = "Test oximeter"
manufacturer = "Acme"
model = "X1"
transport = "serial"
protocol = "cms50d"
reading_interval_s = 1
channels = ["spo2", "pulse_rate"]
quirks = ["none"]

[serial]
baudrate = 19200
bytesize = 8
parity = "odd"
stopbits = 1
"""


def write(tmp_path: Path, text: str, name: str = "broken.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_catalog_covers_every_protocol() -> None:
    profiles = load_catalog()
    assert DEFAULT_DIRECTORY.name == "profiles"
    spoken = {p for profile in profiles for p in profile.protocols}
    assert spoken == set(PROTOCOLS)
    for profile in profiles:
        assert set(profile.channels) <= set(CHANNELS)
        assert profile.no_data_after_s == 2 * profile.reading_interval_s
        assert (profile.ble is None) == (profile.transport == "serial")


def test_ble_profile_has_full_uuids_and_properties() -> None:
    profile = profile_for_protocol("ble-cuff-pressure")
    assert profile.ble is not None
    assert profile.ble.service_uuid == "00001810-0000-1000-8000-00805f9b34fb"
    by_protocol = {c.protocol: c for c in profile.ble.characteristics}
    assert by_protocol["ble-blood-pressure"].property == "indicate"
    assert by_protocol["ble-cuff-pressure"].uuid == "00002a36-0000-1000-8000-00805f9b34fb"
    assert by_protocol["ble-cuff-pressure"].optional


def test_serial_profile_gives_pyserial_settings(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, GOOD_SERIAL, "good.toml"))
    assert profile.key == "good"
    assert profile.serial is not None
    assert profile.serial.pyserial_kwargs() == {
        "baudrate": 19200,
        "bytesize": 8,
        "parity": "O",
        "stopbits": 1.0,
        "rtscts": False,
    }


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'protocol = "cms50d"',
            'protocol = "cms60"',
            r"broken.toml, line 5: protocol: unknown protocol 'cms60' \(known: ",
        ),
        ('protocol = "cms50d"', 'protocol = "ble-heart-rate"', "is a ble protocol, not serial"),
        ('name = "Test oximeter"\n', "", "broken.toml: name: missing required field"),
        (
            "baudrate = 19200",
            'baudrate = "fast"',
            "line 11: serial.baudrate: expected int, got str",
        ),
        ("reading_interval_s = 1", "reading_interval_s = true", "expected int or float, got bool"),
        ("reading_interval_s = 1", "reading_interval_s = 0", "must be greater than 0"),
        (
            'channels = ["spo2", "pulse_rate"]',
            'channels = ["spo2", "lactate"]',
            "unknown channel 'lactate'",
        ),
        ('parity = "odd"', 'parity = "weird"', "serial.parity: expected one of none"),
        ("stopbits = 1", "stopbits = 3", "serial.stopbits: expected one of"),
        ('model = "X1"', 'model = "X1"\nmodle = "X2"', "line 4: modle: unknown field"),
        ("baudrate = 19200", "baudrate = 19200\nbaud = 9600", "serial.baud: unknown field"),
        ('transport = "serial"', 'transport = "usb"', "expected 'ble' or 'serial'"),
        (
            "[serial]",
            "[ble]\nservice_uuid = '180D'\n[serial]",
            r"ble: a serial profile has no \[ble\] table",
        ),
    ],
)
def test_broken_profiles_name_file_key_and_problem(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in GOOD_SERIAL
    write(tmp_path, GOOD_SERIAL.replace(old, new, 1))
    with pytest.raises(CatalogError, match=expected):
        load_catalog(tmp_path)


def test_toml_syntax_errors_carry_line_and_column(tmp_path: Path) -> None:
    write(tmp_path, GOOD_SERIAL.replace('model = "X1"', "model = X1"))
    with pytest.raises(CatalogError, match=r"broken.toml: TOML syntax error: .*line 3, column"):
        load_catalog(tmp_path)


def test_bad_ble_characteristic(tmp_path: Path) -> None:
    text = (DEFAULT_DIRECTORY / "generic-ble-heart-rate.toml").read_text()
    write(tmp_path, text.replace('property = "notify"', 'property = "push"'))
    with pytest.raises(CatalogError, match=r"ble.characteristics\[0\].property: expected 'notify'"):
        load_catalog(tmp_path)
    write(tmp_path, text.replace('uuid = "2A37"', 'uuid = "not-a-uuid"'))
    with pytest.raises(CatalogError, match="not a BLE UUID"):
        load_catalog(tmp_path)


def test_missing_directory_and_unknown_protocol(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="not found"):
        load_catalog(tmp_path / "nope")
    write(tmp_path, GOOD_SERIAL, "good.toml")
    with pytest.raises(CatalogError, match="no catalog profile speaks protocol 'nonin-df2'"):
        profile_for_protocol("nonin-df2", tmp_path)
    assert profile_for_protocol("cms50d", tmp_path).name == "Test oximeter"


def test_uuid_forms() -> None:
    assert normalise_uuid("0x2A37") == "00002a37-0000-1000-8000-00805f9b34fb"
    full = "6E400001-B5A3-F393-E0A9-E50E24DCCA9E"
    assert normalise_uuid(full) == full.lower()
