"""The device catalog: one declarative TOML profile per supported monitor model.

Profiles live in ``kapdesk/acquisition/profiles/*.toml`` so adding a monitor that speaks a known
protocol is adding a file. Loading validates everything a transport relies on and fails
with a ``CatalogError`` that names the file, the key and, where it can, the line.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import serial

from kapdesk.acquisition.parsers.registry import PROTOCOLS
from kapdesk.domain.channels import CHANNELS, PlausibleRange

DEFAULT_DIRECTORY = Path(__file__).resolve().with_name("profiles")

PARITIES = {
    "none": serial.PARITY_NONE,
    "even": serial.PARITY_EVEN,
    "odd": serial.PARITY_ODD,
    "mark": serial.PARITY_MARK,
    "space": serial.PARITY_SPACE,
}
BYTESIZES = (serial.FIVEBITS, serial.SIXBITS, serial.SEVENBITS, serial.EIGHTBITS)
STOPBITS = (serial.STOPBITS_ONE, serial.STOPBITS_ONE_POINT_FIVE, serial.STOPBITS_TWO)
BLE_BASE_UUID = "0000{:04x}-0000-1000-8000-00805f9b34fb"
UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class CatalogError(ValueError):
    """A profile that cannot be used; the message names the file, key and line."""


@dataclass(frozen=True, slots=True)
class BleCharacteristic:
    uuid: str  # full 128-bit form, lower case
    property: Literal["notify", "indicate"]
    protocol: str
    optional: bool = False  # the device may lack it (e.g. intermediate cuff pressure)


@dataclass(frozen=True, slots=True)
class BleSettings:
    service_uuid: str
    characteristics: tuple[BleCharacteristic, ...]


@dataclass(frozen=True, slots=True)
class SerialSettings:
    baudrate: int
    bytesize: int
    parity: str  # pyserial constant: "N", "E", "O", "M", "S"
    stopbits: float
    rtscts: bool = False

    def pyserial_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``serial.Serial(port, **kwargs)``."""
        return {
            "baudrate": self.baudrate,
            "bytesize": self.bytesize,
            "parity": self.parity,
            "stopbits": self.stopbits,
            "rtscts": self.rtscts,
        }


@dataclass(frozen=True, slots=True)
class DeviceProfile:
    """One supported monitor model (or a generic standard-profile device)."""

    key: str  # the file name without .toml
    name: str
    manufacturer: str
    model: str
    transport: Literal["ble", "serial"]
    protocol: str
    reading_interval_s: float  # "no data" after twice this without a reading
    # Devices that repeat unchanged trend values in every frame (CMS50D+: 60/s): pass a
    # repeated value on at most this often; changes always pass. None: pass everything.
    trend_repeat_s: float | None
    channels: tuple[str, ...]
    quirks: tuple[str, ...]
    ble: BleSettings | None
    serial: SerialSettings | None
    path: Path
    # ``[ranges]``: the device's own plausible range per channel, instead of the default
    ranges: tuple[tuple[str, PlausibleRange], ...] = ()

    @property
    def no_data_after_s(self) -> float:
        return 2 * self.reading_interval_s

    @property
    def protocols(self) -> tuple[str, ...]:
        """Every protocol the device speaks (one per BLE characteristic)."""
        if self.ble is None:
            return (self.protocol,)
        return tuple(
            dict.fromkeys([self.protocol, *(c.protocol for c in self.ble.characteristics)])
        )


class _Table:
    """Typed access to one TOML table that reports bad keys with file, key and line."""

    def __init__(self, data: dict[str, Any], path: Path, text: str, prefix: str = "") -> None:
        self.data = data
        self.path = path
        self.text = text
        self.prefix = prefix
        self.used: set[str] = set()

    def error(self, key: str, problem: str) -> CatalogError:
        full = f"{self.prefix}{key}"
        line = _line_of(self.text, key)
        where = f"{self.path.name}, line {line}" if line else self.path.name
        return CatalogError(f"{where}: {full}: {problem}")

    def get(self, key: str, kind: type | tuple[type, ...], *, default: Any = ...) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is not ...:
                return default
            raise self.error(key, "missing required field")
        value = self.data[key]
        # bool is an int in Python; a TOML ``true`` where a number belongs is a mistake.
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise self.error(key, f"expected {names}, got {type(value).__name__} {value!r}")
        return value

    def strings(self, key: str, *, default: Any = ...) -> tuple[str, ...]:
        items = self.get(key, list, default=default)
        if any(not isinstance(i, str) for i in items):
            raise self.error(key, "expected a list of strings")
        return tuple(items)

    def sub(self, key: str, data: dict[str, Any]) -> _Table:
        return _Table(data, self.path, self.text, f"{self.prefix}{key}.")

    def reject_unknown(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise self.error(unknown[0], f"unknown field (known: {', '.join(sorted(self.used))})")


def _line_of(text: str, key: str) -> int | None:
    match = re.search(rf"^\s*{re.escape(key)}\s*=", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def normalise_uuid(text: str) -> str:
    """A 16-bit ("2A37", "0x2a37") or full UUID in the full lower-case form bleak uses."""
    value = text.strip().lower().removeprefix("0x")
    if re.fullmatch(r"[0-9a-f]{4}", value):
        return BLE_BASE_UUID.format(int(value, 16))
    if UUID_PATTERN.match(value):
        return value
    raise ValueError(f"not a BLE UUID: {text!r}")


def _uuid(table: _Table, key: str) -> str:
    text = table.get(key, str)
    try:
        return normalise_uuid(text)
    except ValueError as exc:
        raise table.error(key, str(exc)) from None


def _protocol(table: _Table, key: str, transport: str) -> str:
    name: str = table.get(key, str)
    info = PROTOCOLS.get(name)
    if info is None:
        raise table.error(key, f"unknown protocol {name!r} (known: {', '.join(sorted(PROTOCOLS))})")
    if info.transport != transport:
        raise table.error(key, f"protocol {name!r} is a {info.transport} protocol, not {transport}")
    return name


def _trend_repeat(top: _Table) -> float | None:
    value = top.get("trend_repeat_s", (int, float), default=None)
    if value is not None and not value > 0:
        raise top.error("trend_repeat_s", f"must be greater than 0, got {value}")
    return None if value is None else float(value)


def _ranges(top: _Table) -> tuple[tuple[str, PlausibleRange], ...]:
    """``[ranges]`` ``channel = [low, high]`` in the channel's canonical unit."""
    raw = top.get("ranges", dict, default=None)
    if raw is None:
        return ()
    table = top.sub("ranges", raw)
    out = []
    for name in raw:
        if name not in CHANNELS:
            raise table.error(name, f"unknown channel {name!r}")
        pair = table.get(name, list)
        if len(pair) != 2 or any(
            isinstance(v, bool) or not isinstance(v, (int, float)) for v in pair
        ):
            raise table.error(name, f"expected [low, high] numbers, got {pair!r}")
        try:
            out.append((name, PlausibleRange(float(pair[0]), float(pair[1]))))
        except ValueError as exc:
            raise table.error(name, str(exc)) from None
    return tuple(out)


def _ble(table: _Table, transport: str) -> BleSettings:
    ble = table.sub("ble", table.get("ble", dict))
    service = _uuid(ble, "service_uuid")
    raw_chars = ble.get("characteristics", list)
    if not raw_chars:
        raise ble.error("characteristics", "at least one characteristic is needed")
    chars = []
    for index, raw in enumerate(raw_chars):
        if not isinstance(raw, dict):
            raise ble.error("characteristics", "expected [[ble.characteristics]] tables")
        c = ble.sub(f"characteristics[{index}]", raw)
        prop = c.get("property", str)
        if prop not in ("notify", "indicate"):
            raise c.error("property", f"expected 'notify' or 'indicate', got {prop!r}")
        chars.append(
            BleCharacteristic(
                _uuid(c, "uuid"),
                cast(Literal["notify", "indicate"], prop),
                _protocol(c, "protocol", transport),
                c.get("optional", bool, default=False),
            )
        )
        c.reject_unknown()
    ble.reject_unknown()
    return BleSettings(service, tuple(chars))


def _serial(table: _Table) -> SerialSettings:
    ser = table.sub("serial", table.get("serial", dict))
    baudrate = ser.get("baudrate", int)
    if baudrate <= 0:
        raise ser.error("baudrate", f"must be positive, got {baudrate}")
    bytesize = ser.get("bytesize", int)
    if bytesize not in BYTESIZES:
        raise ser.error("bytesize", f"expected one of {BYTESIZES}, got {bytesize}")
    parity = ser.get("parity", str)
    if parity not in PARITIES:
        raise ser.error("parity", f"expected one of {', '.join(PARITIES)}, got {parity!r}")
    stopbits = ser.get("stopbits", (int, float))
    if stopbits not in STOPBITS:
        raise ser.error("stopbits", f"expected one of {STOPBITS}, got {stopbits}")
    rtscts = ser.get("rtscts", bool, default=False)
    ser.reject_unknown()
    return SerialSettings(baudrate, bytesize, PARITIES[parity], float(stopbits), rtscts)


def load_profile(path: Path) -> DeviceProfile:
    """One profile file, validated; ``CatalogError`` on any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path.name}: cannot read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message carries line and column
        raise CatalogError(f"{path.name}: TOML syntax error: {exc}") from None
    top = _Table(data, path, text)
    transport = top.get("transport", str)
    if transport not in ("ble", "serial"):
        raise top.error("transport", f"expected 'ble' or 'serial', got {transport!r}")
    interval = top.get("reading_interval_s", (int, float))
    if not interval > 0:
        raise top.error("reading_interval_s", f"must be greater than 0, got {interval}")
    channels = top.strings("channels")
    for name in channels:
        if name not in CHANNELS:
            raise top.error("channels", f"unknown channel {name!r}")
    wrong = "serial" if transport == "ble" else "ble"
    if wrong in data:
        raise top.error(wrong, f"a {transport} profile has no [{wrong}] table")
    profile = DeviceProfile(
        key=path.stem,
        name=top.get("name", str),
        manufacturer=top.get("manufacturer", str),
        model=top.get("model", str),
        transport=cast(Literal["ble", "serial"], transport),
        protocol=_protocol(top, "protocol", transport),
        reading_interval_s=float(interval),
        trend_repeat_s=_trend_repeat(top),
        channels=channels,
        quirks=top.strings("quirks", default=()),
        ble=_ble(top, transport) if transport == "ble" else None,
        serial=_serial(top) if transport == "serial" else None,
        path=path,
        ranges=_ranges(top),
    )
    top.reject_unknown()
    return profile


def load_catalog(directory: Path | None = None) -> list[DeviceProfile]:
    """Every ``*.toml`` profile in ``directory`` (default: the shipped ``profiles``), by key."""
    folder = DEFAULT_DIRECTORY if directory is None else Path(directory)
    if not folder.is_dir():
        raise CatalogError(f"{folder}: catalog directory not found")
    return [load_profile(path) for path in sorted(folder.glob("*.toml"))]


def profile_for_protocol(name: str, directory: Path | None = None) -> DeviceProfile:
    """The first profile (by key) whose device speaks ``name``; ``CatalogError`` if none."""
    for profile in load_catalog(directory):
        if name in profile.protocols:
            return profile
    raise CatalogError(f"no catalog profile speaks protocol {name!r}")
