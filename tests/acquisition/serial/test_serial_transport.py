"""The serial transport on its own: real pyserial on a pty pair driven byte by byte.

A tiny line protocol (``heart_rate 72``) stands in for a monitor here, so these tests
pin the transport's behaviour (stamping, malformed counting, states, reconnection,
stopping) independently of any real protocol; the protocol end-to-end tests live in
test_serial_end_to_end.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
import time
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest
from serial_test_support import HubRecorder, wait_until

from kapdesk.acquisition.catalog import DeviceProfile, profile_for_protocol
from kapdesk.acquisition.ingest import IngestHub, LinkState
from kapdesk.acquisition.serial_transport import (
    SerialMonitorConnection,
    list_serial_ports,
)
from kapdesk.domain.readings import Reading


class LineDecoder:
    """``<channel> <value>\\n`` lines; anything else is a malformed frame."""

    def __init__(self) -> None:
        self.malformed = 0
        self.last_error: str | None = None
        self._buf = b""

    def feed(self, data: bytes) -> list[Reading]:
        self._buf += data
        out: list[Reading] = []
        *lines, self._buf = self._buf.split(b"\n")
        for line in lines:
            try:
                name, value = line.decode("ascii").split()
                out.append(Reading(name, float(value), "/min"))
            except ValueError as exc:
                self.malformed += 1
                self.last_error = f"bad line {line!r}: {exc}"
        return out


def line_profile() -> DeviceProfile:
    """A catalog profile re-aimed at the line protocol (0.2 s readings)."""
    return dataclasses.replace(
        profile_for_protocol("cms50d"),
        key="test-lines",
        reading_interval_s=0.2,
        channels=("heart_rate",),
        trend_repeat_s=None,
    )


class Pty:
    """A pty pair whose slave is reachable through a symlink we can move."""

    def __init__(self, link: Path) -> None:
        self.link = link
        self.master = -1
        self.slave = -1
        self.open()

    def open(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        tmp = self.link.with_suffix(".tmp")
        os.symlink(os.ttyname(self.slave), tmp)
        os.replace(tmp, self.link)

    def hang_up(self) -> None:
        self.link.unlink()
        os.close(self.master)
        os.close(self.slave)
        self.master = self.slave = -1

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        for fd in (self.master, self.slave):
            if fd >= 0:
                os.close(fd)


@pytest.fixture
def pty(tmp_path: Path) -> Iterator[Pty]:
    p = Pty(tmp_path / "ttyTEST")
    yield p
    p.close()


@pytest.fixture
def hub() -> IngestHub:
    return IngestHub()


@contextlib.contextmanager
def feeding(pty: Pty, line: bytes, every: float = 0.02) -> Iterator[threading.Event]:
    """Write ``line`` repeatedly from a thread (a monitor that keeps sending)."""
    stop = threading.Event()
    paused = threading.Event()

    def run() -> None:
        while not stop.wait(every):
            if not paused.is_set() and pty.master >= 0:
                with contextlib.suppress(OSError):
                    pty.write(line)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        yield paused
    finally:
        stop.set()
        t.join()


def connection(port: Path, hub: IngestHub, **kw: float) -> SerialMonitorConnection:
    return SerialMonitorConnection(
        str(port),
        line_profile(),
        hub,
        clock=lambda: 1000.0,
        device_name="bedside",
        decoder_factory=LineDecoder,
        **kw,
    )


def test_readings_are_stamped_with_clock_and_device(pty: Pty, hub: IngestHub) -> None:
    rec = HubRecorder(hub)
    conn = connection(pty.link, hub)
    conn.start()
    try:
        wait_until("port open", lambda: conn.counters.connections == 1)
        pty.write(b"heart_rate 72\nheart_rate 74\n")
        got = rec.wait_readings("heart_rate", 2)
    finally:
        conn.stop()
    assert [r.value for r in got[:2]] == [72.0, 74.0]
    assert all(r.t == 1000.0 and r.device == "bedside" for r in got)
    assert conn.last_reading_t == 1000.0
    assert conn.counters.readings == 2
    assert rec.states()[:2] == [LinkState.CONNECTING, LinkState.CONNECTED]
    assert rec.states()[-1] is LinkState.DISCONNECTED  # stop() says so
    connected = next(s for _, s in rec.statuses if s.state is LinkState.CONNECTED)
    assert connected.channels == ("heart_rate",)


def test_malformed_frames_are_counted_and_the_stream_goes_on(pty: Pty, hub: IngestHub) -> None:
    rec = HubRecorder(hub)
    conn = connection(pty.link, hub)
    conn.start()
    try:
        wait_until("port open", lambda: conn.counters.connections == 1)
        pty.write(b"heart_rate 70\n\xff\xfe garbage\nnonsense\nheart_rate 71\n")
        got = rec.wait_readings("heart_rate", 2)
    finally:
        conn.stop()
    assert [r.value for r in got] == [70.0, 71.0]
    assert hub.counters.malformed_frames == 2
    assert hub.counters.per_device_malformed == {"bedside": 2}
    assert conn.counters.malformed_frames == 2


def test_silence_reports_no_data_then_connected_again(pty: Pty, hub: IngestHub) -> None:
    rec = HubRecorder(hub)
    conn = connection(pty.link, hub)  # 2 x 0.2 s is below the 0.5 s floor
    conn.start()
    try:
        with feeding(pty, b"heart_rate 80\n") as paused:
            rec.wait_state(LinkState.CONNECTED)
            paused.set()
            time.sleep(0.05)  # let the last line in flight arrive
            quiet_from = rec.readings[-1][0]
            mark = len(rec.statuses)
            t_no_data = rec.wait_state(LinkState.NO_DATA, after=mark, timeout=3)
            paused.clear()
            rec.wait_state(LinkState.CONNECTED, after=mark + 1)
    finally:
        conn.stop()
    silent_for = t_no_data - quiet_from
    assert conn.no_data_after_s == 0.5
    assert 0.5 <= silent_for < 0.5 + 0.4  # the floor, plus a read timeout and slack


def test_hang_up_disconnects_and_reopens_the_link(pty: Pty, hub: IngestHub) -> None:
    rec = HubRecorder(hub)
    conn = connection(pty.link, hub, min_backoff_s=0.05, max_backoff_s=0.2)
    conn.start()
    try:
        with feeding(pty, b"heart_rate 90\n"):
            rec.wait_state(LinkState.CONNECTED)
            mark = len(rec.statuses)
            pty.hang_up()
            t_lost = rec.wait_state(LinkState.DISCONNECTED, after=mark)
            time.sleep(0.5)  # several failed reopen attempts while the link is missing
            failures = conn.counters.open_failures
            pty.open()
            rec.wait_readings("heart_rate", 3, after=time.monotonic())
    finally:
        conn.stop()
    assert failures >= 2  # it kept trying, with backoff (not thousands of attempts)
    assert failures < 20
    assert conn.counters.disconnects == 1
    assert conn.counters.connections == 2
    after_loss = [s.state for t, s in rec.statuses if t >= t_lost]
    assert after_loss[:3] == [LinkState.DISCONNECTED, LinkState.CONNECTING, LinkState.CONNECTED]


def test_a_missing_port_is_retried_until_it_appears(tmp_path: Path, hub: IngestHub) -> None:
    rec = HubRecorder(hub)
    link = tmp_path / "ttyLATER"
    conn = connection(link, hub, min_backoff_s=0.05, max_backoff_s=0.1)
    conn.start()
    late = None
    try:
        rec.wait_state(LinkState.DISCONNECTED)
        assert "cannot open" in rec.statuses[-1][1].detail
        late = Pty(link)
        with feeding(late, b"heart_rate 60\n"):
            rec.wait_state(LinkState.CONNECTED)
    finally:
        conn.stop()
        if late:
            late.close()
    assert conn.counters.open_failures >= 1


def test_stop_is_prompt_even_while_waiting_to_reconnect(tmp_path: Path, hub: IngestHub) -> None:
    conn = connection(tmp_path / "missing", hub, min_backoff_s=5.0, max_backoff_s=5.0)
    conn.start()
    time.sleep(0.1)
    t0 = time.monotonic()
    conn.stop()
    assert time.monotonic() - t0 < 0.5
    assert not conn.running
    assert conn.state is LinkState.DISCONNECTED


def test_a_ble_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="not a serial device profile"):
        SerialMonitorConnection(
            "/dev/null", profile_for_protocol("ble-heart-rate"), IngestHub(), lambda: 0.0
        )


def test_list_serial_ports_includes_an_emulator_link(pty: Pty) -> None:
    ports = list_serial_ports(extra=[str(pty.link)])
    assert ports[-1]["device"] == str(pty.link)
    assert all(isinstance(p["device"], str) for p in ports)
