"""CONTEC CMS50D+ live-stream frames (5 bytes, bit 7 only in byte 0)."""

from __future__ import annotations

SPO2_NO_VALUE = 127
PULSE_RATE_NO_VALUE = 255


def encode(
    spo2: int | None,
    pulse_rate: int | None,
    pleth: int,
    *,
    finger_out: bool = False,
    signal_strength: int = 8,
    spo2_dropping: bool = False,
    pulse_beep: bool = False,
    bar_graph: int = 0,
    probe_error: bool = False,
    searching: bool = False,
) -> bytes:
    """One frame; None for SpO2 or pulse rate sends the device's "no value" code."""
    pr = PULSE_RATE_NO_VALUE if pulse_rate is None else pulse_rate
    sat = SPO2_NO_VALUE if spo2 is None else spo2
    if not 0 <= pr <= 255 or not 0 <= sat <= 127 or not 0 <= pleth <= 127:
        raise ValueError("pulse rate 0..255, SpO2 0..127 and pleth 0..127 are what fits")
    b0 = (
        0x80
        | (signal_strength & 0x0F)
        | (0x10 if finger_out else 0)
        | (0x20 if spo2_dropping else 0)
        | (0x40 if pulse_beep else 0)
    )
    b2 = (
        (bar_graph & 0x0F)
        | (0x10 if probe_error else 0)
        | (0x20 if searching else 0)
        | (0x40 if pr & 0x80 else 0)
    )
    return bytes((b0, pleth & 0x7F, b2, pr & 0x7F, sat & 0x7F))
