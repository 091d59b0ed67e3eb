"""Nonin OEM III, serial data format 2 (9600 baud 8N1, 75 frames/s, 3 packets/s).

Frame: ``01 STATUS PLETH DATA CHK``, CHK = sum of the first four bytes & 0xFF. STATUS bit7
is always 1; bit0 (SYNC) marks frame 1 of a 25-frame packet; bit6 sensor disconnect,
bit5 artifact, bit4 out of track, bit3 sensor alarm, bits 2-1 perfusion (01 green, 10
red, 11 yellow). DATA by frame number in the packet: 1 HR MSB, 2 HR LSB
(HR = (MSB & 0x03) << 7 | (LSB & 0x7F), 4-beat average), 3 SpO2 (4-beat average),
4 firmware revision, the rest extended/averaged values not used here. Missing values:
HR 511, SpO2 127.
"""

from __future__ import annotations

from kapdesk.acquisition.parsers.stream_errors import ProblemCounter
from kapdesk.domain.readings import SENSOR_OFF, SIGNAL_ARTIFACT, Reading

FRAME_SIZE = 5
FRAMES_PER_PACKET = 25
START_BYTE = 0x01
STATUS_ALWAYS_SET = 0x80
STATUS_SYNC = 0x01
HR_NO_VALUE = 511
SPO2_NO_VALUE = 127

STATUS_FLAGS: dict[int, str] = {
    0x40: SENSOR_OFF,  # SNSD: sensor disconnected or inoperable
    0x20: SIGNAL_ARTIFACT,  # ARTF: a beat that did not match the pulse interval
    0x10: "out_of_track",  # OOT: no consecutive good pulse signals
    0x08: "sensor_alarm",  # SNSA: sensor gives unusable data
}
PERFUSION_FLAGS: dict[int, str] = {0x04: "low_perfusion", 0x06: "marginal_perfusion"}
PERFUSION_MASK = 0x06


def frame_checksum(first_four: bytes) -> int:
    return sum(first_four[:4]) & 0xFF


def status_flags(status: int) -> frozenset[str]:
    flags = {name for bit, name in STATUS_FLAGS.items() if status & bit}
    perfusion = PERFUSION_FLAGS.get(status & PERFUSION_MASK)
    if perfusion:
        flags.add(perfusion)
    return frozenset(flags)


class Decoder:
    """Frames and packets from a Nonin byte stream; never raises.

    A frame is accepted only when its start byte, status bit 7 and checksum are right;
    otherwise one byte is dropped and the search goes on (one problem per garbage run).
    Readings start at the first frame 1; a packet that does not have exactly 25 frames
    is reported and the decoder waits for the next frame 1. The oximeter's "HR" is a
    plethysmographic pulse rate, so it is published as ``pulse_rate``.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._problems = ProblemCounter()
        self._in_garbage = False
        self._frame_number: int | None = None  # None: waiting for a frame 1
        self._hr_msb: int | None = None
        self._hr_lsb: int | None = None

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
        while len(buf) >= FRAME_SIZE:
            frame = bytes(buf[:FRAME_SIZE])
            problem = self._frame_problem(frame)
            if problem is None:
                del buf[:FRAME_SIZE]
                self._in_garbage = False
                readings.extend(self._on_frame(frame[1], frame[2], frame[3]))
                continue
            if not self._in_garbage:
                self._problems.problem(f"Nonin: {problem}; resynchronising")
                self._in_garbage = True
            self._frame_number = None
            del buf[:1]
        return readings

    @staticmethod
    def _frame_problem(frame: bytes) -> str | None:
        if frame[0] != START_BYTE:
            return f"lost frame sync (byte 0x{frame[0]:02X} where 0x01 was expected)"
        if not frame[1] & STATUS_ALWAYS_SET:
            return f"status byte 0x{frame[1]:02X} has bit 7 clear"
        expected = frame_checksum(frame)
        if frame[4] != expected:
            return f"bad checksum 0x{frame[4]:02X} (expected 0x{expected:02X})"
        return None

    def _on_frame(self, status: int, pleth: int, data: int) -> list[Reading]:
        if status & STATUS_SYNC:
            if self._frame_number is not None and self._frame_number != FRAMES_PER_PACKET:
                self._problems.problem(
                    f"Nonin: packet cut short: frame 1 arrived after frame {self._frame_number}"
                )
            self._frame_number = 1
            self._hr_msb = self._hr_lsb = None
        elif self._frame_number is None:
            return []  # mid-packet: wait for a frame 1 to know what DATA means
        elif self._frame_number >= FRAMES_PER_PACKET:
            self._problems.problem("Nonin: packet longer than 25 frames (frame 1 sync bit missing)")
            self._frame_number = None
            return []
        else:
            self._frame_number += 1

        flags = status_flags(status)
        readings = [Reading("pleth", float(pleth), "1", flags=flags)]
        number = self._frame_number
        if number == 1:
            self._hr_msb = data
        elif number == 2:
            self._hr_lsb = data
        elif number == 3:
            if self._hr_msb is not None and self._hr_lsb is not None:
                rate = (self._hr_msb & 0x03) << 7 | (self._hr_lsb & 0x7F)
                if rate != HR_NO_VALUE:
                    readings.append(Reading("pulse_rate", float(rate), "/min", flags=flags))
            spo2 = data & 0x7F
            if spo2 != SPO2_NO_VALUE:
                readings.append(Reading("spo2", float(spo2), "%", flags=flags))
        return readings
