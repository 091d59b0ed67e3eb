"""The trend store's ring buffers and the peak envelope the plots draw from."""

from __future__ import annotations

import math

import numpy as np

from kapdesk.domain.readings import SENSOR_OFF, SIGNAL_ARTIFACT, Reading
from kapdesk.live.trend_store import RingBuffer, TrendStore, peak_envelope


def test_ring_buffer_keeps_the_newest_samples_contiguous() -> None:
    rb = RingBuffer(5)
    for i in range(8):
        rb.append(float(i), float(i * 10))
    t, v = rb.latest()
    assert list(t) == [3, 4, 5, 6, 7] and list(v) == [30, 40, 50, 60, 70]
    assert rb.last() == (7.0, 70.0)
    assert list(rb.since(5.5)[0]) == [6, 7]


def test_envelope_is_the_raw_data_when_each_sample_has_its_own_bucket() -> None:
    s = TrendStore()
    for i in range(50):
        s.add(Reading("heart_rate", 60 + i, "/min", t=float(i)))
    t, v, version = s.envelope("heart_rate", 0.0, bucket_s=0.9)
    assert list(v) == [60 + i for i in range(50)] and list(t) == [float(i) for i in range(50)]
    assert version == s.version("heart_rate")


def test_envelope_keeps_every_peak_and_every_gap() -> None:
    s = TrendStore()
    rng = np.random.default_rng(1)
    values = rng.normal(70, 3, 20000)
    values[12345] = 190.0  # a one-sample spike must survive the reduction
    for i, x in enumerate(values):
        off = 8000 <= i < 8100  # a sensor-off stretch is a gap, not a value
        flags = frozenset({SENSOR_OFF}) if off else frozenset()
        s.add(Reading("heart_rate", float(x), "/min", t=i / 250, flags=flags))
    bucket = 80 / 1000  # 80 s of data on 1000 px
    t, v, _ = s.envelope("heart_rate", 0.0, bucket_s=bucket)
    assert len(t) <= 2 * 1001
    assert np.nanmax(v) == 190.0
    assert math.isclose(
        np.nanmin(v), values[~((np.arange(20000) >= 8000) & (np.arange(20000) < 8100))].min()
    )
    gap_t = t[np.isnan(v)]
    assert len(gap_t) and 8000 / 250 - bucket <= gap_t.min() <= 8100 / 250
    assert np.all(np.diff(t) >= 0)
    # The curve ends at the newest sample (the plot shows it now, not a bucket later).
    assert t[-1] == 19999 / 250 and t[0] == 0.0


def test_envelope_buckets_are_aligned_to_time_so_complete_ones_never_change() -> None:
    s = TrendStore()
    for i in range(30 * 250):  # 30 s of a 250 Hz channel
        s.add(Reading("heart_rate", 60.0 + i % 7, "/min", t=1000.0 + i / 250))
    # A 15-minute window 1000 px wide: 0.9 s a pixel, so 30 s is about 34 pixels.
    t, v, _ = s.envelope("heart_rate", 0.0, bucket_s=0.9)
    assert len(t) <= 2 * 35
    assert np.nanmax(v) == 66.0 and np.nanmin(v) == 60.0
    assert t[-1] == 1000.0 + (30 * 250 - 1) / 250
    edges = np.floor(t / 0.9)
    assert np.all(np.bincount((edges - edges[0]).astype(int)) <= 2)  # two points a bucket
    # More samples: every bucket that was complete before comes out the same.
    for i in range(30 * 250, 40 * 250):
        s.add(Reading("heart_rate", 60.0 + i % 7, "/min", t=1000.0 + i / 250))
    t2, v2, _ = s.envelope("heart_rate", 0.0, bucket_s=0.9)
    done = t < np.floor(t[-1] / 0.9) * 0.9  # buckets complete at the first call
    assert np.array_equal(t2[: done.sum()], t[done]) and np.array_equal(v2[: done.sum()], v[done])


def test_appended_since_gives_what_came_after_a_version_in_arrival_order() -> None:
    s = TrendStore()
    for i in range(10):
        s.add(Reading("spo2", 90.0 + i, "%", t=float(i)))
    _t, _v, version = s.envelope("spo2", 0.0, bucket_s=1.0)
    s.add(Reading("spo2", 99.0, "%", t=11.0))
    s.add(Reading("spo2", 98.0, "%", t=10.5))  # late: arrival order, not time order
    t, v, now = s.appended_since("spo2", version)
    assert list(t) == [11.0, 10.5] and list(v) == [99.0, 98.0]
    assert now == s.version("spo2")
    assert len(s.appended_since("spo2", now)[0]) == 0
    assert len(s.appended_since("nibp_mean", -1)[0]) == 0  # no such channel yet


def test_peak_envelope_keeps_a_lone_sample_as_one_point() -> None:
    t = np.array([0.0, 0.1, 0.2, 5.0, 9.0, 9.1])
    v = np.array([1.0, 3.0, 2.0, 7.0, 4.0, np.nan])
    out_t, out_v = peak_envelope(t, v, bucket_s=1.0)
    assert list(out_t) == [0.0, 0.2, 5.0, 9.0, 9.1]
    assert list(out_v[:3]) == [1.0, 3.0, 7.0] and np.isnan(out_v[3:]).all()


def test_an_artefact_is_blanked_in_the_trend_not_drawn_as_a_desaturation() -> None:
    s = TrendStore()
    for i, (value, flags) in enumerate(
        [(97.0, frozenset()), (71.0, frozenset({SIGNAL_ARTIFACT})), (97.0, frozenset())]
    ):
        s.add(Reading("spo2", value, "%", t=float(i), flags=flags))
    t, v = s.since("spo2", 0.0)
    assert list(t) == [0.0, 1.0, 2.0]
    assert v[0] == 97.0 and math.isnan(v[1]) and v[2] == 97.0  # a gap, never 71
    assert np.nanmin(v) == 97.0
