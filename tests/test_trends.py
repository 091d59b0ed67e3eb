"""The trend store's ring buffers and the peak envelope the plots draw from."""

from __future__ import annotations

import math

import numpy as np

from kapdesk.domain.readings import SENSOR_OFF, Reading
from kapdesk.trends import RingBuffer, TrendStore


def test_ring_buffer_keeps_the_newest_samples_contiguous() -> None:
    rb = RingBuffer(5)
    for i in range(8):
        rb.append(float(i), float(i * 10))
    t, v = rb.latest()
    assert list(t) == [3, 4, 5, 6, 7] and list(v) == [30, 40, 50, 60, 70]
    assert rb.last() == (7.0, 70.0)
    assert list(rb.since(5.5)[0]) == [6, 7]


def test_envelope_is_the_raw_data_when_it_fits() -> None:
    s = TrendStore()
    for i in range(50):
        s.add(Reading("heart_rate", 60 + i, "/min", t=float(i)))
    _t, v, bucket = s.envelope("heart_rate", 0.0, max_points=200)
    assert bucket == 0.0 and list(v) == [60 + i for i in range(50)]


def test_envelope_keeps_every_peak_and_every_gap() -> None:
    s = TrendStore()
    rng = np.random.default_rng(1)
    values = rng.normal(70, 3, 20000)
    values[12345] = 190.0  # a one-sample spike must survive the reduction
    for i, x in enumerate(values):
        off = 8000 <= i < 8100  # a sensor-off stretch is a gap, not a value
        flags = frozenset({SENSOR_OFF}) if off else frozenset()
        s.add(Reading("heart_rate", float(x), "/min", t=i / 250, flags=flags))
    t, v, bucket = s.envelope("heart_rate", 0.0, max_points=1000)
    assert len(t) <= 1000 + 2 and bucket > 0
    assert np.nanmax(v) == 190.0
    assert math.isclose(
        np.nanmin(v), values[~((np.arange(20000) >= 8000) & (np.arange(20000) < 8100))].min()
    )
    gap_t = t[np.isnan(v)]
    assert len(gap_t) and 8000 / 250 - bucket <= gap_t.min() <= 8100 / 250
    assert np.all(np.diff(t) >= 0)
