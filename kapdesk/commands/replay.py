"""``kapdesk replay``: run a recorded session or a CSV through the alarm engine.

Same engine, same limits as a live session, with the readings' own times as the clock,
so the output is deterministic and can be compared with a session export's ``alarms``
list (one ``AlarmTransition.to_dict()`` per line). Silence is timed in real seconds, as
live: an export made at ``--speed N`` (its ``session.clock_speed``) has its times divided
by N for that.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kapdesk.config.alarms import load_clinic_settings, load_protocol_alarms
from kapdesk.config.errors import ConfigFileError
from kapdesk.config.paths import clinic_file, find_protocol
from kapdesk.domain.alarms import AlarmEngine, AlarmSettings, TransitionKind
from kapdesk.domain.channels import CHANNELS, convert
from kapdesk.domain.clock import parse_iso_utc
from kapdesk.domain.readings import Reading

EXIT_BAD_INPUT = 2
PRINTED = frozenset(
    {
        TransitionKind.RAISED,
        TransitionKind.ESCALATED,
        TransitionKind.CONDITION_ENDED,
        TransitionKind.CONDITION_RETURNED,
        TransitionKind.CLEARED,
    }
)
CSV_COLUMNS = ("time", "channel", "value", "unit")
#: The last time an ISO 8601 output can show (9999-12-31T23:59:59Z), in epoch seconds.
LATEST_TIME = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()


class ReplayInputError(Exception):
    """A file that cannot be replayed; the message is the one line shown to the user."""


@dataclass(frozen=True, slots=True)
class Baseline:
    t: float
    channel: str
    value: float


Step = Reading | Baseline


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="replay readings through the alarm engine and print its transitions",
        description="Feed a session export (JSON) or a CSV (time,channel,value,unit) through"
        " the alarm engine with a protocol's limits; print each raised, escalated and"
        " cleared alarm as one JSON object per line.",
    )
    parser.add_argument("file", type=Path, help="session export (.json) or readings (.csv)")
    parser.add_argument(
        "--protocol",
        required=True,
        metavar="NAME",
        help="protocol id from resources/protocols, or a path to a .toml",
    )
    parser.add_argument(
        "--baseline",
        action="append",
        default=[],
        type=baseline_arg,
        metavar="CHANNEL=VALUE",
        help="pre-dose baseline for relative limits (repeatable; default: the export's"
        " baseline events)",
    )
    parser.add_argument(
        "--clinic",
        type=Path,
        default=None,
        metavar="FILE",
        help="clinic settings (latching, escalation; default resources/clinic.toml)",
    )
    parser.set_defaults(func=run)


def baseline_arg(text: str) -> tuple[str, float]:
    channel, sep, value = text.partition("=")
    channel = channel.strip()
    if not sep or channel not in CHANNELS:
        raise argparse.ArgumentTypeError(f"expected CHANNEL=VALUE with a known channel: {text!r}")
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"not a finite number: {value!r}")
    return channel, number


def run(args: argparse.Namespace) -> int:
    try:
        protocol = load_protocol_alarms(find_protocol(args.protocol))
        settings = _settings(args.clinic)
        steps, speed = load_replay(args.file)
    except (ConfigFileError, ReplayInputError) as e:
        print(f"kapdesk replay: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    engine = AlarmEngine(protocol.limits, settings)
    given: list[tuple[str, float]] = args.baseline
    for channel, value in given:
        engine.set_baseline(channel, value)
    last_t: float | None = None
    out = sys.stdout
    for step in steps:
        if isinstance(step, Baseline):
            if not given:  # --baseline replaces the export's own baselines
                engine.set_baseline(step.channel, step.value)
            continue
        last_t = step.t
        real_t = step.t / speed  # the devices' own time, as the live engine measured it
        transitions = engine.tick(step.t, real_t) + engine.on_reading(step, real_t)
        for tr in transitions:
            if tr.transition in PRINTED:
                out.write(json.dumps(tr.to_dict(), ensure_ascii=False) + "\n")
    if last_t is not None:
        for tr in engine.tick(last_t, last_t / speed):
            if tr.transition in PRINTED:
                out.write(json.dumps(tr.to_dict(), ensure_ascii=False) + "\n")
    out.flush()
    return 0


def _settings(path: Path | None) -> AlarmSettings:
    if path is None:
        default = clinic_file()
        return load_clinic_settings(default) if default.is_file() else AlarmSettings()
    return load_clinic_settings(path)


def load_steps(path: Path) -> list[Step]:
    """Readings and baselines from a file, in time order (file order within one time)."""
    return load_replay(path)[0]


def load_replay(path: Path) -> tuple[list[Step], float]:
    """The steps, and the clock speed they were recorded at (an export's
    ``session.clock_speed``; 1 for a CSV)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ReplayInputError(f"{path}: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ReplayInputError(f"{path}: not UTF-8 text (byte {e.start})") from None
    speed = 1.0
    if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
        doc = _json_doc(path, text)
        steps = list(_json_steps(path, doc))
        speed = _clock_speed(path, doc)
    else:
        steps = list(_csv_steps(path, text))
    order = {Baseline: 0, Reading: 1}
    ordered = [s for _, _, _, s in sorted((s.t, order[type(s)], i, s) for i, s in enumerate(steps))]
    return ordered, speed


def _clock_speed(path: Path, doc: dict[str, Any]) -> float:
    session = doc.get("session")
    speed = session.get("clock_speed", 1.0) if isinstance(session, dict) else 1.0
    if speed is None:
        return 1.0
    if isinstance(speed, bool) or not isinstance(speed, int | float) or not speed > 0:
        raise ReplayInputError(f"{path}: session.clock_speed must be a number > 0, got {speed!r}")
    if not math.isfinite(speed):
        raise ReplayInputError(f"{path}: session.clock_speed must be finite, got {speed!r}")
    return float(speed)


def parse_time(text: str) -> float:
    """Epoch seconds or ISO 8601 (UTC when no offset is given)."""
    text = text.strip()
    try:
        t = float(text)
    except ValueError:
        try:
            t = parse_iso_utc(text)
        except ValueError:
            raise ValueError(f"time {text!r} is neither ISO 8601 nor epoch seconds") from None
    if not math.isfinite(t):
        raise ValueError(f"time {text!r} is not a finite number")
    if not 0 <= t <= LATEST_TIME:
        # the output's ISO 8601 times end at year 9999; a negative time is before 1970
        raise ValueError(
            f"time {text!r} is outside 0 .. {LATEST_TIME:.0f} epoch seconds (1970 .. 9999)"
        )
    return t


def make_reading(
    t: float, channel: str, value: float, unit: str, device: str, flags: frozenset[str]
) -> Reading:
    info = CHANNELS.get(channel)
    if info is None:
        raise ValueError(f"unknown channel {channel!r}")
    if unit != info.unit:
        try:
            value = convert(value, unit, info.unit)
        except ValueError:
            raise ValueError(f"unit {unit!r} does not fit {channel} ({info.unit})") from None
        return Reading(channel, value, info.unit, t, device, flags, original_unit=unit)
    return Reading(channel, value, unit, t, device, flags)


def _csv_steps(path: Path, text: str) -> Iterator[Step]:
    rows = csv.reader(text.splitlines())
    try:
        header = next(rows, None)
        if header is None:
            raise ReplayInputError(f"{path}: line 1: empty file, expected a header")
        names = [h.strip().lower() for h in header]
        missing = [c for c in CSV_COLUMNS if c not in names]
        if missing:
            raise ReplayInputError(
                f"{path}: line 1: header lacks {', '.join(missing)}"
                f" (expected {','.join(CSV_COLUMNS)}[,device][,flags])"
            )
        col = {
            name: names.index(name) for name in (*CSV_COLUMNS, "device", "flags") if name in names
        }
        for row in rows:
            line = rows.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(names):
                raise ReplayInputError(
                    f"{path}: line {line}: {len(row)} fields, the header has {len(names)}"
                )
            try:
                yield _csv_reading(row, col)
            except ValueError as e:
                raise ReplayInputError(f"{path}: line {line}: {e}") from None
    except csv.Error as e:
        raise ReplayInputError(f"{path}: line {rows.line_num}: {e}") from None


def _csv_reading(row: list[str], col: dict[str, int]) -> Reading:
    t = parse_time(row[col["time"]])
    value_text = row[col["value"]].strip()
    try:
        value = float(value_text) if value_text else math.nan  # an empty cell is a gap
    except ValueError:
        raise ValueError(f"value {value_text!r} is not a number") from None
    device = row[col["device"]].strip() if "device" in col else ""
    flags_text = row[col["flags"]].strip() if "flags" in col else ""
    flags = frozenset(f.strip() for f in flags_text.replace("|", ";").split(";") if f.strip())
    return make_reading(
        t, row[col["channel"]].strip(), value, row[col["unit"]].strip(), device, flags
    )


def _json_doc(path: Path, text: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ReplayInputError(f"{path}: line {e.lineno} column {e.colno}: {e.msg}") from None
    if not isinstance(doc, dict):
        raise ReplayInputError(f"{path}: expected a session export object")
    return doc


def _json_steps(path: Path, doc: dict[str, Any]) -> Iterator[Step]:
    fmt = doc.get("format")
    if fmt is not None and fmt != "kapdesk-session":
        raise ReplayInputError(f"{path}: format {fmt!r} is not a kapdesk-session export")
    readings = doc.get("readings")
    if not isinstance(readings, list):
        raise ReplayInputError(f'{path}: no "readings" list')
    for i, item in enumerate(readings):
        try:
            yield _json_reading(item)
        except ValueError as e:
            raise ReplayInputError(f"{path}: readings[{i}]: {e}") from None
    events = doc.get("events", [])
    if not isinstance(events, list):
        raise ReplayInputError(f'{path}: "events" must be a list')
    for i, event in enumerate(events):
        if not isinstance(event, dict) or event.get("kind") != "baseline":
            continue
        try:
            yield _json_baseline(event)
        except ValueError as e:
            raise ReplayInputError(f"{path}: events[{i}]: {e}") from None


def _field(item: dict[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ValueError(f"{key} must be {what}, got {value!r}")
    return value


def _json_time(item: dict[str, Any]) -> float:
    t = _field(item, "t", (str, int, float), "an ISO 8601 time")
    return parse_time(str(t))


def _json_reading(item: object) -> Reading:
    if not isinstance(item, dict):
        raise ValueError("must be an object")
    t = _json_time(item)
    channel = _field(item, "channel", str, "a channel name")
    if "value" not in item:
        raise ValueError("value is missing (a number, or null for a gap)")
    raw_value = item["value"]
    if raw_value is None:
        value = math.nan  # exports write a gap as null
    else:
        value = float(_field(item, "value", (int, float), "a number or null"))
    unit = _field(item, "unit", str, "a UCUM unit")
    device = item.get("device") or ""
    if not isinstance(device, str):
        raise ValueError(f"device must be a string, got {device!r}")
    flags = item.get("flags") or []
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        raise ValueError(f"flags must be a list of strings, got {flags!r}")
    return make_reading(t, channel, value, unit, device, frozenset(flags))


def _json_baseline(event: dict[str, Any]) -> Baseline:
    t = _json_time(event)
    data = event.get("data")
    if not isinstance(data, dict):
        raise ValueError('a baseline event needs data {"channel": ..., "value": ...}')
    channel = _field(data, "channel", str, "a channel name")
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    value = float(_field(data, "value", (int, float), "a number"))
    if not math.isfinite(value):
        raise ValueError(f"baseline value must be finite, got {value!r}")
    return Baseline(t, channel, value)
