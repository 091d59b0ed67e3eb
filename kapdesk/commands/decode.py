"""``kapdesk decode PROTOCOL HEX...``: decode captured frames by hand, one JSON line each.

For checking a capture from a real monitor (or a frame from a bug report) against the
same parser the app uses, without starting the app.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from kapdesk.acquisition.parsers.errors import ParseError
from kapdesk.acquisition.parsers.registry import PROTOCOLS, UnknownProtocolError, protocol
from kapdesk.domain.readings import Reading

EXIT_USAGE = 2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "decode",
        help="decode monitor frames given in hex and print one JSON object per reading",
        description="Decode frames with the app's own parsers. Each HEX argument is one "
        "frame for a packet (BLE) protocol, or a chunk of the byte stream for a stream "
        "(serial) protocol. Spaces inside an argument are allowed: '01 C8 00'.",
    )
    parser.add_argument(
        "protocol", metavar="PROTOCOL", help=f"one of: {', '.join(sorted(PROTOCOLS))}"
    )
    parser.add_argument("frames", metavar="HEX", nargs="+", help="frame or stream chunk in hex")
    parser.set_defaults(func=run)


def reading_json(reading: Reading) -> dict[str, Any]:
    out: dict[str, Any] = {
        "channel": reading.channel,
        "value": reading.value,
        "unit": reading.unit,
        "flags": sorted(reading.flags),
        "device_time": reading.device_time.isoformat() if reading.device_time else None,
    }
    if reading.original_unit is not None:
        out["original_unit"] = reading.original_unit
    return out


def parse_hex(text: str, index: int) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise ValueError(f"argument {index} is not hex ({text!r}): {exc}") from None


def _fail(message: str) -> int:
    print(f"kapdesk decode: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def run(args: argparse.Namespace) -> int:
    try:
        info = protocol(args.protocol)
        chunks = [parse_hex(text, i) for i, text in enumerate(args.frames, start=1)]
    except (UnknownProtocolError, ValueError) as exc:
        return _fail(str(exc.args[0]) if exc.args else str(exc))
    readings: list[Reading] = []
    if info.parse_frame is not None:
        for i, frame in enumerate(chunks, start=1):
            try:
                readings.extend(info.parse_frame(frame))
            except ParseError as exc:
                return _fail(f"frame {i}: {exc}")
    elif info.new_decoder is not None:
        decoder = info.new_decoder()
        for chunk in chunks:
            readings.extend(decoder.feed(chunk))
        if decoder.malformed:
            print(
                f"kapdesk decode: {decoder.malformed} malformed frame(s) dropped; "
                f"last: {decoder.last_error}",
                file=sys.stderr,
            )
    for reading in readings:
        print(json.dumps(reading_json(reading)))
    return 0
