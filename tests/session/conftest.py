"""Fixtures for the dosing-session tests: a real runtime on a fresh database, with the
session clock's monotonic source under the test's control (so "45 minutes later" is
instant and deterministic, while every other part runs for real)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from session_test_support import SPEED, SteppedClock

from kapdesk.live.runtime import Runtime
from kapdesk.storage.database import open_database


@pytest.fixture
def runtime(db_url: str) -> Iterator[Runtime]:
    rt = Runtime.build(open_database(db_url), speed=SPEED)
    try:
        yield rt
    finally:
        rt.shutdown()


@pytest.fixture
def clock(runtime: Runtime) -> SteppedClock:
    stepped = SteppedClock(runtime, time.monotonic())
    runtime.clock.monotonic = stepped
    return stepped
