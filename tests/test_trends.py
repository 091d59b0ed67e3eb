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
    # The curve ends at the newest sample (the plot shows it now, not a bucket later).
    assert t[-1] == 19999 / 250 and t[0] < bucket


def test_envelope_buckets_are_at_least_a_pixel_of_time() -> None:
    s = TrendStore()
    for i in range(30 * 250):  # 30 s of a 250 Hz channel
        s.add(Reading("heart_rate", 60.0 + i % 7, "/min", t=1000.0 + i / 250))
    # A 15-minute window 1000 px wide: 0.9 s a pixel, so 30 s is about 33 pixels.
    t, v, bucket = s.envelope("heart_rate", 0.0, max_points=2000, min_bucket_s=0.9)
    assert 0.85 <= bucket <= 0.95 and len(t) <= 2 * 34
    assert np.nanmax(v) == 66.0 and np.nanmin(v) == 60.0
    assert t[-1] == 1000.0 + (30 * 250 - 1) / 250
    # Fewer samples than a bucket's worth: one bucket, not nothing.
    few = TrendStore()
    for i in range(5):
        few.add(Reading("heart_rate", 70.0 + i, "/min", t=i / 250))
    t, v, _ = few.envelope("heart_rate", 0.0, max_points=2000, min_bucket_s=0.9)
    assert list(v) == [70.0, 74.0]
