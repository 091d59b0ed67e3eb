"""Drops repeats of unchanged trend values from devices that resend them every frame.

A CMS50D+ oximeter sends SpO2 and pulse rate in each of its 60 frames a second, though
they change about once a second. Recording and alarming on 60 identical copies a second
adds nothing but load, so a repeated value (same value, same flags) passes at most once
per ``repeat_s``; any change passes at once, so no information and no latency is lost.
Waveform samples (pleth) and channels without a trend sampling always pass.
"""

from __future__ import annotations

from kapdesk.domain.channels import CHANNELS, Sampling
from kapdesk.domain.readings import Reading


class RepeatedTrendFilter:
    def __init__(self, repeat_s: float) -> None:
        self.repeat_s = repeat_s
        self._last: dict[str, tuple[float, frozenset[str], float]] = {}
        self.dropped = 0

    def passes(self, reading: Reading, t: float) -> bool:
        ch = CHANNELS.get(reading.channel)
        if ch is None or ch.sampling is not Sampling.CONTINUOUS:
            return True
        last = self._last.get(reading.channel)
        if (
            last is not None
            and last[0] == reading.value
            and last[1] == reading.flags
            and t - last[2] < self.repeat_s
        ):
            self.dropped += 1
            return False
        self._last[reading.channel] = (reading.value, reading.flags, t)
        return True
