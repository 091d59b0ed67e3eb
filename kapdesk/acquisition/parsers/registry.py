"""Every protocol by its catalog name, so transports and the CLI look parsers up by name."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from kapdesk.acquisition.parsers import (
    ble_blood_pressure,
    ble_heart_rate,
    ble_plx,
    cms50d,
    datex_s5,
    nonin_df2,
)
from kapdesk.domain.readings import Reading


class StreamDecoder(Protocol):
    """What a stream protocol's ``Decoder`` offers (see cms50d, nonin_df2, datex_s5)."""

    @property
    def malformed(self) -> int: ...

    @property
    def last_error(self) -> str | None: ...

    def feed(self, data: bytes) -> list[Reading]: ...


class UnknownProtocolError(LookupError):
    """A protocol name that no parser handles; the message lists the known names."""


@dataclass(frozen=True, slots=True)
class ProtocolInfo:
    """One protocol: packet protocols have ``parse_frame``, stream ones ``new_decoder``."""

    name: str
    transport: Literal["ble", "serial"]
    description: str
    parse_frame: Callable[[bytes], list[Reading]] | None = None
    new_decoder: Callable[[], StreamDecoder] | None = None

    @property
    def is_stream(self) -> bool:
        return self.new_decoder is not None


PROTOCOLS: dict[str, ProtocolInfo] = {
    p.name: p
    for p in (
        ProtocolInfo(
            "ble-heart-rate",
            "ble",
            "Heart Rate Measurement 0x2A37",
            parse_frame=ble_heart_rate.parse,
        ),
        ProtocolInfo(
            "ble-blood-pressure",
            "ble",
            "Blood Pressure Measurement 0x2A35",
            parse_frame=ble_blood_pressure.parse,
        ),
        ProtocolInfo(
            "ble-cuff-pressure",
            "ble",
            "Intermediate Cuff Pressure 0x2A36",
            parse_frame=ble_blood_pressure.parse_cuff,
        ),
        ProtocolInfo(
            "ble-plx-spot",
            "ble",
            "PLX Spot-check Measurement 0x2A5E",
            parse_frame=ble_plx.parse_spot,
        ),
        ProtocolInfo(
            "ble-plx-continuous",
            "ble",
            "PLX Continuous Measurement 0x2A5F",
            parse_frame=ble_plx.parse_continuous,
        ),
        ProtocolInfo(
            "cms50d",
            "serial",
            "CONTEC CMS50D+ live stream (5-byte frames)",
            new_decoder=cms50d.Decoder,
        ),
        ProtocolInfo(
            "nonin-df2",
            "serial",
            "Nonin OEM III data format 2 (25-frame packets)",
            new_decoder=nonin_df2.Decoder,
        ),
        ProtocolInfo(
            "datex-s5",
            "serial",
            "GE/Datex-Ohmeda S/5 computer interface records",
            new_decoder=datex_s5.Decoder,
        ),
    )
}


def protocol(name: str) -> ProtocolInfo:
    try:
        return PROTOCOLS[name]
    except KeyError:
        known = ", ".join(sorted(PROTOCOLS))
        raise UnknownProtocolError(f"unknown protocol {name!r} (known: {known})") from None


def decode_frames(name: str, frames: Iterable[bytes]) -> list[Reading]:
    """All readings of some frames (packet protocol) or stream chunks (stream protocol).

    Packet frames are parsed one by one and a bad one raises ``ParseError``; stream
    chunks go through one decoder, which drops and counts what it cannot decode.
    """
    info = protocol(name)
    readings: list[Reading] = []
    if info.parse_frame is not None:
        for frame in frames:
            readings.extend(info.parse_frame(frame))
        return readings
    assert info.new_decoder is not None
    decoder = info.new_decoder()
    for chunk in frames:
        readings.extend(decoder.feed(chunk))
    return readings
