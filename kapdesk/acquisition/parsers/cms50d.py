"""CONTEC CMS50D+ live stream (older firmware): 5-byte frames, no checksum.

Serial 19200 baud 8O1, ~60 frames/s. Bit 7 is set only in byte 0, which is how frames
are found in the stream.
- byte0: bits0-3 signal strength, bit4 finger out / probe off, bit5 SpO2 dropping,
  bit6 pulse beep
- byte1: pleth sample (7 bits)
- byte2: bits0-3 bar graph, bit4 probe error, bit5 searching, bit6 = bit 7 of pulse rate
- byte3: pulse rate bits 0-6; byte4: SpO2 (7 bits). SpO2 127 / PR 255 mean "no value".
"""

from __future__ import annotations

from kapdesk.acquisition.parsers.stream_errors import ProblemCounter
from kapdesk.domain.readings import PROBE_ERROR, SEARCHING, SENSOR_OFF, Reading

FRAME_SIZE = 5
SYNC_BIT = 0x80
SPO2_NO_VALUE = 127
PULSE_RATE_NO_VALUE = 255


def decode_frame(frame: bytes) -> list[Reading]:
    """Readings of one aligned 5-byte frame: pleth, signal strength, pulse rate, SpO2.

    Pleth and signal strength always come (carrying the flags, so "finger out" stays
    visible); pulse rate and SpO2 only when the device has a value.
    """
    b0, b1, b2, b3, b4 = frame[:FRAME_SIZE]
    flags: set[str] = set()
    if b0 & 0x10:
        flags.add(SENSOR_OFF)
    if b0 & 0x20:
        flags.add("spo2_dropping")
    if b0 & 0x40:
        flags.add("pulse_beep")
    if b2 & 0x10:
        flags.add(PROBE_ERROR)
    if b2 & 0x20:
        flags.add(SEARCHING)
    quality = frozenset(flags)
    pulse_rate = (b3 & 0x7F) | (0x80 if b2 & 0x40 else 0)
    spo2 = b4 & 0x7F
    readings = [
        Reading("pleth", float(b1 & 0x7F), "1", flags=quality),
        Reading("signal_strength", float(b0 & 0x0F), "1", flags=quality),
    ]
    if pulse_rate != PULSE_RATE_NO_VALUE:
        readings.append(Reading("pulse_rate", float(pulse_rate), "/min", flags=quality))
    if spo2 != SPO2_NO_VALUE:
        readings.append(Reading("spo2", float(spo2), "%", flags=quality))
    return readings


class Decoder:
    """Finds frames in a CMS50D+ byte stream; never raises, resyncs on the next sync byte."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._problems = ProblemCounter()

    @property
    def malformed(self) -> int:
        return self._problems.malformed

    @property
    def last_error(self) -> str | None:
        return self._problems.last_error

    def feed(self, data: bytes) -> list[Reading]:
        self._buffer += data
        readings: list[Reading] = []
        buf = self._buffer
        while buf:
            if not buf[0] & SYNC_BIT:
                skip = next((i for i, b in enumerate(buf) if b & SYNC_BIT), len(buf))
                self._problems.problem(
                    f"CMS50D+: skipped {skip} byte(s) before a frame start (bit 7 clear)"
                )
                del buf[:skip]
                continue
            cut = next((i for i in range(1, min(len(buf), FRAME_SIZE)) if buf[i] & SYNC_BIT), 0)
            if cut:
                self._problems.problem(
                    f"CMS50D+: frame cut short after {cut} byte(s) (a new frame start arrived)"
                )
                del buf[:cut]
                continue
            if len(buf) < FRAME_SIZE:
                break
            readings.extend(decode_frame(bytes(buf[:FRAME_SIZE])))
            del buf[:FRAME_SIZE]
        return readings
