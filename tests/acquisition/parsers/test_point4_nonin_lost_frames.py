"""Issue 11 point 4: a Nonin DF2 line that loses frames publishes no wrong value.

A lost frame shifts what DATA means in the rest of the packet (SpO2 read as the HR LSB,
the firmware revision 0x22 = 34 read as SpO2). Every published pulse rate and SpO2 must
be exactly what the encoder put into one packet, in order; pleth likewise.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from kapdesk.acquisition.ingest import IngestHub
from kapdesk.acquisition.parsers.nonin_df2 import Decoder
from kapdesk.acquisition.serial_transport import SerialMonitorConnection
from kapdesk.domain.readings import Reading
from kapdesk.sim.emulators.serial_pty import PtySerialEmulator
from kapdesk.sim.encoders import nonin_df2 as enc
from kapdesk.sim.patient_model import EmulatedPatient

PACKETS = 3000
FIRMWARE = 0x22  # 34: the "SpO2 34 %" of the issue


def lossy_stream(rnd: random.Random, loss: float) -> tuple[list[tuple[int, int]], bytes, list[int]]:
    """Packets with random values (consecutive ones differ), each frame lost with ``loss``."""
    sent: list[tuple[int, int]] = []
    pleth_sent: list[int] = []
    out = bytearray()
    for _ in range(PACKETS):
        hr, spo2 = rnd.randint(30, 250), rnd.randint(50, 100)
        sent.append((hr, spo2))
        pleth = [rnd.randrange(256) for _ in range(enc.FRAMES_PER_PACKET)]
        packet = enc.encode_packet(hr, spo2, pleth, firmware_revision=FIRMWARE)
        for i in range(enc.FRAMES_PER_PACKET):
            if rnd.random() >= loss:
                out += packet[5 * i : 5 * i + 5]
                pleth_sent.append(pleth[i])
    return sent, bytes(out), pleth_sent


def in_order(published: list[tuple[float, float]], sent: list[tuple[int, int]]) -> list[int]:
    """Index of the sent packet each published pair came from, in order; fails if none."""
    indexes = []
    j = 0
    for pair in published:
        while j < len(sent) and sent[j] != pair:
            j += 1
        assert j < len(sent), f"published {pair} was never sent (after packet {indexes[-1:]})"
        indexes.append(j)
        j += 1
    return indexes


def pairs(readings: list[Reading]) -> list[tuple[float, float]]:
    """(pulse rate, SpO2) per packet; both come together from one packet or not at all."""
    trend = [r for r in readings if r.channel != "pleth"]
    assert len(trend) % 2 == 0
    out = []
    for pr, sat in zip(trend[::2], trend[1::2], strict=True):
        assert (pr.channel, sat.channel) == ("pulse_rate", "spo2")
        out.append((pr.value, sat.value))
    return out


@pytest.mark.parametrize("loss", [0.001, 0.01, 0.05])
def test_point4_nonin_lost_frames_publish_no_wrong_value(loss: float) -> None:
    rnd = random.Random(int(loss * 1000))
    sent, stream, pleth_sent = lossy_stream(rnd, loss)
    decoder = Decoder()
    readings: list[Reading] = []
    pos = 0
    while pos < len(stream):  # any chunking: a serial read returns what has arrived
        step = rnd.randint(1, 64)
        readings += decoder.feed(stream[pos : pos + step])
        pos += step
    published = pairs(readings)
    in_order(published, sent)  # every value is one a packet carried, none invented
    # pleth: each accepted frame carries its own sample, so all of them arrive, in order
    assert [r.value for r in readings if r.channel == "pleth"] == pleth_sent
    # and the decoder still publishes the complete packets: a packet and the next frame
    # 1 survive with (1 - loss) ** 26; allow for chance
    expected = PACKETS * (1 - loss) ** 26
    assert len(published) >= 0.9 * expected
    assert decoder.malformed > 0  # the short packets were noticed


def test_point4_nonin_short_packet_is_not_published() -> None:
    """Frame 2 lost: today's decoder published pulse rate = the SpO2 byte, SpO2 = 34."""
    packet = enc.encode_packet(72, 97, list(range(25)), firmware_revision=FIRMWARE)
    short = packet[:5] + packet[10:]
    decoder = Decoder()
    readings = decoder.feed(short + packet + packet[:5])
    assert pairs(readings) == [(72.0, 97.0)]  # only the complete packet
    assert decoder.last_error is not None and "cut short" in decoder.last_error


def test_point4_emulator_loses_frames_and_nothing_wrong_is_published(tmp_path: Path) -> None:
    """The pty emulator's ``frame_loss`` option on a real serial link: values published
    are the emulated patient's (pulse rate about 60-100, SpO2 at least 90), never the
    firmware byte or the SpO2 value in the pulse rate."""
    from kapdesk.acquisition.catalog import profile_for_protocol

    t0 = 300.0  # baseline: HR ~70, SpO2 ~98
    patient = EmulatedPatient()
    emulator = PtySerialEmulator(
        "nonin-df2", patient, lambda: t0, str(tmp_path / "tty"), frame_loss=0.03, seed=4
    )
    hub = IngestHub()
    got: list[Reading] = []
    hub.subscribe(got.append)
    conn = SerialMonitorConnection(emulator.port, profile_for_protocol("nonin-df2"), hub, time.time)
    emulator.start()
    conn.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
            emulator.frames_lost < 5 or sum(r.channel == "spo2" for r in got) < 3
        ):
            time.sleep(0.1)
    finally:
        conn.stop()
        emulator.stop()
    assert emulator.frames_lost >= 5
    hr, sat = round(patient.heart_rate(t0)), min(100, round(patient.spo2(t0)))
    assert {r.value for r in got if r.channel == "pulse_rate"} <= {float(hr)}
    assert {r.value for r in got if r.channel == "spo2"} <= {float(sat)}
    assert sum(r.channel == "spo2" for r in got) >= 3
