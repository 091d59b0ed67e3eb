"""Serial monitors: a pyserial reader thread per port that feeds its protocol's decoder.

One thread owns the port. It reads whatever arrived (short timeout, so stop() is prompt
and silence is noticed), feeds the protocol's stream decoder, stamps each reading with
the session clock and the device name and publishes it to the ingest hub. Link changes
go to the hub as ``DeviceStatus``:

- CONNECTING: opening the port, or open with no valid frame yet;
- CONNECTED: valid readings are arriving;
- NO_DATA: the port is open but no reading for more than twice the expected interval
  (a lost signal must show as "no data", never as 0);
- DISCONNECTED: the port is gone (unplugged adapter, pulled cable, hang-up) or could
  not be opened; the thread reopens it with capped exponential backoff until stop().

Devices that must be asked before they talk (Datex S/5) get their start request on
every open and again whenever the link falls silent.
"""

from __future__ import annotations

import logging
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import serial
import serial.tools.list_ports

from kapdesk.acquisition.catalog import DeviceProfile
from kapdesk.acquisition.ingest import DeviceStatus, IngestHub, LinkState
from kapdesk.acquisition.parsers.registry import StreamDecoder
from kapdesk.acquisition.parsers.registry import protocol as protocol_info
from kapdesk.acquisition.trend_filter import RepeatedTrendFilter
from kapdesk.domain.readings import Reading

log = logging.getLogger(__name__)

#: Seconds a read waits for bytes: bounds how late stop() and NO_DATA can be noticed.
READ_TIMEOUT_S = 0.05
#: Reconnection backoff: first retry after MIN, doubling up to MAX.
MIN_BACKOFF_S = 0.2
MAX_BACKOFF_S = 5.0
#: Largest single read; a frame is a few bytes, so this only matters after a stall.
MAX_READ_BYTES = 4096
#: NO_DATA is never declared sooner than this. Twice a 60 frames/s oximeter's interval
#: is 33 ms, below the jitter of USB-serial latency timers and thread scheduling, and
#: the state would flicker; half a second of silence is still prompt on screen.
NO_DATA_FLOOR_S = 0.5


DecoderFactory = Callable[[], StreamDecoder]


@dataclass
class SerialCounters:
    """What one connection has seen, for the device panel and for tests."""

    bytes_read: int = 0
    readings: int = 0
    malformed_frames: int = 0
    connections: int = 0  # successful opens (the first one and every reconnection)
    open_failures: int = 0
    disconnects: int = 0  # an open port lost (hang-up, read error)


def decoder_factory_for(protocol: str) -> DecoderFactory:
    """The stream decoder factory registered for a protocol name.

    Raises ``UnknownProtocolError`` for an unknown name and ``ValueError`` for a packet
    (BLE) protocol, which has no stream decoder to feed serial bytes to.
    """
    info = protocol_info(protocol)
    if info.new_decoder is None:
        raise ValueError(f"protocol {protocol!r} is not a serial stream protocol")
    factory: DecoderFactory = info.new_decoder
    return factory


def start_request_for(profile: DeviceProfile) -> bytes:
    """What the host must send before the device talks (empty for streaming devices).

    The Datex S/5 sends nothing until asked for physiological records at an interval.
    """
    if profile.protocol == "datex-s5":
        from kapdesk.acquisition.datex_request import phdb_request

        return phdb_request(max(1, round(profile.reading_interval_s)))
    return b""


class SerialMonitorConnection:
    """Reads one serial monitor on its own thread until stop(); reconnects on its own."""

    def __init__(
        self,
        port: str,
        profile: DeviceProfile,
        hub: IngestHub,
        clock: Callable[[], float],
        device_name: str | None = None,
        *,
        decoder_factory: DecoderFactory | None = None,
        no_data_after_s: float | None = None,
        min_backoff_s: float = MIN_BACKOFF_S,
        max_backoff_s: float = MAX_BACKOFF_S,
    ) -> None:
        self.port = port
        self.profile = profile
        self._trend_filter = (
            RepeatedTrendFilter(profile.trend_repeat_s) if profile.trend_repeat_s else None
        )
        self.hub = hub
        self.clock = clock
        if profile.serial is None:
            raise ValueError(f"{profile.key} is not a serial device profile")
        self.settings = profile.serial
        self.device_name = device_name or f"{profile.key}@{port}"
        self.channels = profile.channels
        hub.set_ranges(self.device_name, dict(profile.ranges))
        self._new_decoder = decoder_factory or decoder_factory_for(profile.protocol)
        self.start_request = start_request_for(profile)
        self.no_data_after_s = (
            no_data_after_s
            if no_data_after_s is not None
            else max(profile.no_data_after_s, NO_DATA_FLOOR_S)
        )
        self.min_backoff_s = min_backoff_s
        self.max_backoff_s = max_backoff_s
        self.counters = SerialCounters()
        self.state = LinkState.DISCONNECTED
        self.last_reading_t: float | None = None  # session clock time of the last reading
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- control --------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("connection already started")
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"serial:{self.device_name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the reader to finish and wait for it (a read returns within READ_TIMEOUT_S)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("serial reader for %s did not stop in %.1f s", self.port, timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- reader thread --------------------------------------------------------------------

    def _set_state(self, state: LinkState, detail: str = "") -> None:
        if state is self.state:
            return
        self.state = state
        channels = self.channels if state is LinkState.CONNECTED else ()
        self.hub.report_status(
            DeviceStatus(self.device_name, state, self.clock(), detail, channels)
        )

    def _run(self) -> None:
        self._set_state(LinkState.CONNECTING, f"opening {self.port}")
        backoff = self.min_backoff_s
        try:
            while not self._stop.is_set():
                try:
                    port = self._open()
                except (serial.SerialException, OSError, ValueError, termios.error) as exc:
                    # termios.error is not an OSError: a port that refuses its settings
                    # (a flaky USB bridge, a pty) is an open failure to retry, not a crash.
                    self.counters.open_failures += 1
                    self._set_state(LinkState.DISCONNECTED, f"cannot open {self.port}: {exc}")
                else:
                    self.counters.connections += 1
                    delivered = self._read_until_lost(port)
                    if self._stop.is_set():
                        break
                    if delivered:  # a link that worked earns a quick first retry
                        backoff = self.min_backoff_s
                if self._stop.wait(backoff):
                    break
                backoff = min(backoff * 2, self.max_backoff_s)
        except Exception:  # never let the thread die silently: the UI must see it
            log.exception("serial reader for %s failed", self.port)
        finally:
            self._set_state(LinkState.DISCONNECTED, "stopped")

    def _open(self) -> serial.SerialBase:
        # serial_for_url also accepts rfc2217:// and socket:// (network serial servers)
        port = serial.serial_for_url(
            self.port,
            **self.settings.pyserial_kwargs(),
            timeout=READ_TIMEOUT_S,
            write_timeout=1.0,
            exclusive=True,
        )
        if self.start_request:
            try:
                port.write(self.start_request)
            except BaseException:
                port.close()
                raise
        return port

    def _read_until_lost(self, port: serial.SerialBase) -> bool:
        """Read until stop() or until the port fails; True when any reading arrived."""
        self._set_state(LinkState.CONNECTING, f"{self.port} open, waiting for data")
        decoder = self._new_decoder()  # fresh per link: a half frame from before is junk
        seen_malformed = decoder.malformed
        delivered = False
        quiet_since = time.monotonic()
        try:
            while not self._stop.is_set():
                try:
                    data = port.read(min(MAX_READ_BYTES, port.in_waiting or 1))
                except (serial.SerialException, OSError) as exc:
                    self.counters.disconnects += 1
                    self._set_state(LinkState.DISCONNECTED, f"{self.port}: {exc}")
                    return delivered
                now = time.monotonic()
                if data:
                    self.counters.bytes_read += len(data)
                    readings = decoder.feed(data)
                    seen_malformed = self._count_malformed(decoder, seen_malformed)
                    if readings:
                        self._publish(readings)
                        delivered = True
                        quiet_since = now
                        self._set_state(LinkState.CONNECTED)
                if now - quiet_since > self.no_data_after_s and self.state is not LinkState.NO_DATA:
                    bad = self.counters.malformed_frames
                    self._set_state(
                        LinkState.NO_DATA,
                        # the rule, not the measured silence: a frozen duration beside
                        # a live one on screen reads as a contradiction
                        f"silent for more than {self.no_data_after_s:g} s ({bad} malformed frames)",
                    )
                    if not self._ask_again(port):
                        return delivered
        finally:
            port.close()
        return delivered

    def _ask_again(self, port: serial.SerialBase) -> bool:
        """Repeat the start request (a restarted monitor forgot it); False if the port died."""
        if not self.start_request:
            return True
        try:
            port.write(self.start_request)
        except (serial.SerialException, OSError) as exc:
            self.counters.disconnects += 1
            self._set_state(LinkState.DISCONNECTED, f"{self.port}: {exc}")
            return False
        return True

    def _count_malformed(self, decoder: StreamDecoder, seen: int) -> int:
        count = decoder.malformed
        for _ in range(count - seen):
            self.counters.malformed_frames += 1
            self.hub.report_malformed(self.device_name, decoder.last_error or "malformed frame")
        return count

    def _publish(self, readings: list[Reading]) -> None:
        t = self.clock()
        keep = self._trend_filter.passes if self._trend_filter else None
        for r in readings:
            if keep is None or keep(r, t):
                self.hub.publish(r.at(t, self.device_name))
        self.counters.readings += len(readings)
        self.last_reading_t = t


def list_serial_ports(extra: list[str] | None = None) -> list[dict[str, Any]]:
    """Serial ports the OS knows, plus ``extra`` paths (an emulator's pty link).

    pyserial's enumeration does not see pseudo-terminals, so an emulator's port is only
    listed when passed in ``extra``.
    """
    ports: list[dict[str, Any]] = [
        {
            "device": p.device,
            "description": p.description,
            "hwid": p.hwid,
            "vid": p.vid,
            "pid": p.pid,
            "serial_number": p.serial_number,
            "manufacturer": p.manufacturer,
            "product": p.product,
        }
        for p in sorted(serial.tools.list_ports.comports(include_links=True))
    ]
    known = {p["device"] for p in ports}
    for path in extra or []:
        if path not in known:
            ports.append({"device": path, "description": "emulated monitor", "hwid": "pty"})
    return ports
