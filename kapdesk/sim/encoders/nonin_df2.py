"""Nonin OEM III data format 2: 25-frame packets of ``01 STATUS PLETH DATA CHK``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

FRAMES_PER_PACKET = 25
HR_NO_VALUE = 511
SPO2_NO_VALUE = 127

SENSOR_DISCONNECT = 0x40
ARTIFACT = 0x20
OUT_OF_TRACK = 0x10
SENSOR_ALARM = 0x08
PERFUSION_GREEN = 0x02
PERFUSION_RED = 0x04
PERFUSION_YELLOW = 0x06


def encode_frame(status: int, pleth: int, data: int) -> bytes:
    """One 5-byte frame with bit 7 of the status set and the checksum appended."""
    body = bytes((0x01, 0x80 | status, pleth & 0xFF, data & 0xFF))
    return body + bytes((sum(body) & 0xFF,))


def encode_packet(
    heart_rate: int | None,
    spo2: int | None,
    pleth: Sequence[int],
    *,
    status: int = PERFUSION_GREEN,
    firmware_revision: int = 0x22,
) -> bytes:
    """A 25-frame packet (1/3 s of data). None sends the "missing" codes (511, 127).

    ``pleth`` holds the 25 samples; ``status`` holds the status bits (see the constants)
    shared by every frame; frame 1 gets the SYNC bit.
    """
    if len(pleth) != FRAMES_PER_PACKET:
        raise ValueError(f"a packet carries {FRAMES_PER_PACKET} pleth samples, not {len(pleth)}")
    hr = HR_NO_VALUE if heart_rate is None else heart_rate
    sat = SPO2_NO_VALUE if spo2 is None else spo2
    data = [0] * FRAMES_PER_PACKET
    data[0] = (hr >> 7) & 0x03
    data[1] = hr & 0x7F
    data[2] = sat & 0x7F
    data[3] = firmware_revision
    frames = [
        encode_frame((status & 0x7E) | (0x01 if i == 0 else 0), pleth[i], data[i])
        for i in range(FRAMES_PER_PACKET)
    ]
    return b"".join(frames)


@dataclass
class NoninPacketStream:
    """Endless packets for an emulator: call ``next_packet`` three times per second."""

    heart_rate: int | None = 72
    spo2: int | None = 97
    status: int = PERFUSION_GREEN

    def next_packet(self, pleth: Sequence[int]) -> bytes:
        return encode_packet(self.heart_rate, self.spo2, pleth, status=self.status)
