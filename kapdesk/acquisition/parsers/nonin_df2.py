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
    Pleth comes from every accepted frame (each carries its own sample). Pulse rate and
    SpO2 are held until the packet has proved complete and consistent: frame 1 had the
    SYNC bit, exactly 25 frames came before the next frame 1, and the HR bytes have
    their unused bits clear. A lost frame shifts what DATA means (SpO2 read as the HR
    LSB, the firmware revision as SpO2), so a short or long packet publishes nothing but
    its pleth. The oximeter's "HR" is a plethysmographic pulse rate, published as
    ``pulse_rate``; the values come one packet (1/3 s) late.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._problems = ProblemCounter()
        self._in_garbage = False
        self._frame_number: int | None = None  # None: waiting for a frame 1
        self._data: list[int] = []  # DATA bytes of the current packet, in frame order
        self._flags: frozenset[str] = frozenset()  # status flags of the packet's frame 3

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
        flags = status_flags(status)
        readings: list[Reading] = []
        if status & STATUS_SYNC:
            if self._frame_number == FRAMES_PER_PACKET:
                readings += self._packet_values()
            elif self._frame_number is not None:
                self._problems.problem(
                    f"Nonin: packet cut short: frame 1 arrived after frame {self._frame_number}"
                )
            self._frame_number = 1
            self._data = []
        elif self._frame_number is None:
            pass  # mid-packet: wait for a frame 1 to know what DATA means
        elif self._frame_number >= FRAMES_PER_PACKET:
            self._problems.problem("Nonin: packet longer than 25 frames (frame 1 sync bit missing)")
            self._frame_number = None
        else:
            self._frame_number += 1
        if self._frame_number is not None:
            self._data.append(data)
            if self._frame_number == 3:
                self._flags = flags
        readings.append(Reading("pleth", float(pleth), "1", flags=flags))
        return readings

    def _packet_values(self) -> list[Reading]:
        """Pulse rate and SpO2 of a packet that had exactly 25 frames from its frame 1."""
        msb, lsb, sat = self._data[0], self._data[1], self._data[2]
        if msb & ~0x03 or lsb & 0x80 or sat & 0x80:
            self._problems.problem(
                f"Nonin: inconsistent packet (HR bytes 0x{msb:02X} 0x{lsb:02X}, SpO2 0x{sat:02X})"
            )
            return []
        out: list[Reading] = []
        rate = msb << 7 | lsb
        if rate != HR_NO_VALUE:
            out.append(Reading("pulse_rate", float(rate), "/min", flags=self._flags))
        if sat != SPO2_NO_VALUE:
            out.append(Reading("spo2", float(sat), "%", flags=self._flags))
        return out
