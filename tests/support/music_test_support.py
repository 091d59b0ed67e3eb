"""Small real audio files for the music tests, written with ``wave`` and numpy."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

RATE = 8000


def write_tone(path: Path, seconds: float, freq: float = 440.0) -> Path:
    """A soft mono sine of ``seconds`` with short ramps (a real, decodable WAV)."""
    t = np.arange(int(RATE * seconds)) / RATE
    ramp = np.minimum(1.0, np.minimum(t / 0.02, (seconds - t) / 0.02))
    samples = 0.2 * np.sin(2 * np.pi * freq * t) * np.clip(ramp, 0, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((samples * 32767).astype("<i2").tobytes())
    return path
