"""A serial monitor on a pseudo-terminal: real tty, real frames, faults on request.

``os.openpty()`` gives a master/slave pair; the slave is a real tty that pyserial opens
like a USB adapter, and a writer thread sends the protocol's frames to the master at the
protocol's frame rate. Baud rate and parity are not emulated (a pty ignores them).

Speed: frames always go out at the protocol's real frame rate; at demo speed N each
frame carries the patient's values at the scaled ``session_time()``. The link load is
that of the real device, and trends move N times faster (the pleth waveform aliases at
high speed; only the trend values matter there).

Faults (for tests, training and technicians): garbage bytes (the protocol's own kind,
or full-range 0-255 noise with ``full_range_noise``), random noise before a share of
frames (``noise``), a share of frames lost whole (``frame_loss``), corrupted frames, finger
out, a pulled cable (the master is closed, so the reader sees a hang-up; after a while a
new pty appears and ``link_path`` is repointed at it, as socat's ``link=`` does) and a
silent device.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import random
import struct
import threading
import time
import tty
from collections.abc import Callable
from types import TracebackType
from typing import Protocol

from kapdesk.acquisition import datex_request
from kapdesk.sim.encoders import cms50d, datex_s5, nonin_df2
from kapdesk.sim.patient_model import EmulatedPatient

log = logging.getLogger(__name__)

#: After a stall longer than this (a busy machine), resume the schedule instead of bursting.
MAX_CATCH_UP_S = 0.25
#: How often a waiting emulator looks for bytes from the host.
HOST_POLL_S = 0.05


class Framer(Protocol):
    """One protocol's wire format, fed with the patient's values frame by frame."""

    def period(self) -> float | None:
        """Real seconds between frames, or None while the device sends nothing."""
        ...

    def next_frame(self, t: float, finger_out: bool) -> bytes:
        """The next frame with the patient's values at session time ``t``."""
        ...

    def corrupt(self, frame: bytes) -> bytes:
        """The frame damaged so that its parser must reject it."""
        ...

    def garbage(self, n: int, rnd: random.Random) -> bytes:
        """``n`` bytes of line noise that a resyncing parser must drop."""
        ...

    def on_host_data(self, data: bytes) -> None:
        """Bytes the host wrote to the port (a request that starts the stream)."""
        ...

    def restart(self) -> None:
        """The device powers up again and forgets what the host asked for."""
        ...


class Cms50dFramer:
    """CMS50D+ live stream: one 5-byte frame per pleth sample, ~60 per second."""

    FRAME_RATE = 60.0

    def __init__(self, patient: EmulatedPatient) -> None:
        self.patient = patient

    def period(self) -> float | None:
        return 1.0 / self.FRAME_RATE

    def next_frame(self, t: float, finger_out: bool) -> bytes:
        if finger_out:
            return cms50d.encode(None, None, 0, finger_out=True, signal_strength=0)
        p = self.patient
        return cms50d.encode(
            min(100, round(p.spo2(t))),
            min(254, round(p.heart_rate(t))),
            round(p.pleth(t) * 127),
            pulse_beep=p.pleth(t) > 0.8,
        )

    def corrupt(self, frame: bytes) -> bytes:
        # No checksum in this protocol: a frame cut short by the next sync byte is what a
        # line error looks like, and the parser must drop it.
        return frame[:3]

    def garbage(self, n: int, rnd: random.Random) -> bytes:
        # Bit 7 clear: noise can never pass for a frame start (there is no checksum to
        # catch a fake frame, so random bytes could smuggle in a bogus reading).
        return bytes(rnd.randrange(0x80) for _ in range(n))

    def on_host_data(self, data: bytes) -> None:
        pass  # a streaming device ignores the host

    def restart(self) -> None:
        pass


class NoninDf2Framer:
    """Nonin data format 2: 75 frames per second in packets of 25 (3 packets/s)."""

    FRAME_RATE = 75.0

    def __init__(self, patient: EmulatedPatient) -> None:
        self.patient = patient
        self._frames: list[bytes] = []

    def period(self) -> float | None:
        return 1.0 / self.FRAME_RATE

    def _packet(self, t: float, finger_out: bool) -> list[bytes]:
        n = nonin_df2.FRAMES_PER_PACKET
        p = self.patient
        if finger_out:
            status = nonin_df2.SENSOR_DISCONNECT | nonin_df2.OUT_OF_TRACK
            packet = nonin_df2.encode_packet(None, None, [0] * n, status=status)
        else:
            status = nonin_df2.PERFUSION_GREEN
            if p.in_artefact(t):
                status |= nonin_df2.ARTIFACT
            pleth = [round(p.pleth(t + k / self.FRAME_RATE) * 255) for k in range(n)]
            packet = nonin_df2.encode_packet(
                min(510, round(p.heart_rate(t))),
                min(100, round(p.spo2(t))),
                pleth,
                status=status,
            )
        size = len(packet) // n
        return [packet[i : i + size] for i in range(0, len(packet), size)]

    def next_frame(self, t: float, finger_out: bool) -> bytes:
        if not self._frames:
            self._frames = self._packet(t, finger_out)
        return self._frames.pop(0)

    def corrupt(self, frame: bytes) -> bytes:
        return frame[:-1] + bytes(((frame[-1] + 0x5A) & 0xFF,))  # a wrong checksum

    def garbage(self, n: int, rnd: random.Random) -> bytes:
        return bytes(rnd.randrange(256) for _ in range(n))  # the checksum catches these

    def on_host_data(self, data: bytes) -> None:
        pass

    def restart(self) -> None:
        self._frames = []  # a new packet starts at frame 1


class DatexS5Framer:
    """S/5 computer interface: silent until the host requests physiological records,
    then one displayed-values record per requested interval."""

    MIN_INTERVAL_S = 1.0  # the real monitor allows 5 s and up; tests want it quicker

    def __init__(self, patient: EmulatedPatient) -> None:
        self.patient = patient
        self.interval_s: float | None = None
        self._host = bytearray()

    def period(self) -> float | None:
        return self.interval_s

    def next_frame(self, t: float, finger_out: bool) -> bytes:
        p = self.patient
        nibp = p.blood_pressure(max(0.0, t - t % 300))  # the last 5-minute cuff result
        return datex_s5.phdb_frame(
            unix_time=int(t),
            heart_rate=round(p.heart_rate(t)),
            nibp=(float(nibp[0]), float(nibp[1]), float(nibp[2])),
            spo2=None if finger_out else round(p.spo2(t), 2),
        )

    def corrupt(self, frame: bytes) -> bytes:
        # Flip bit 0 of a byte in the middle that is neither a flag nor an escape before
        # or after the flip: the framing survives, the checksum does not.
        data = bytearray(frame)
        specials = (datex_request.FLAG, datex_request.ESCAPE)
        for i in range(len(data) // 2, len(data) - 2):
            if data[i] not in specials and data[i] ^ 1 not in specials:
                data[i] ^= 1
                break
        return bytes(data)

    def garbage(self, n: int, rnd: random.Random) -> bytes:
        return bytes(b for b in (rnd.randrange(256) for _ in range(n)) if b != datex_request.FLAG)

    def on_host_data(self, data: bytes) -> None:
        """Watch for a physiological-data request (interval 0 stops the records)."""
        self._host += data
        while True:
            start = self._host.find(datex_request.FLAG)
            end = self._host.find(datex_request.FLAG, start + 1) if start >= 0 else -1
            if end < 0:
                del self._host[: max(0, start)]
                return
            body = _unescape(bytes(self._host[start + 1 : end]))
            del self._host[:end]
            request = _REQUEST.size + _DATEX_HEADER_SIZE + 1  # + checksum
            if len(body) != request:
                continue
            _, interval, _, _ = _REQUEST.unpack_from(body, _DATEX_HEADER_SIZE)
            self.interval_s = max(self.MIN_INTERVAL_S, interval) if interval > 0 else None

    def restart(self) -> None:
        self.interval_s = None
        self._host.clear()


_DATEX_HEADER_SIZE = 40
_REQUEST = struct.Struct("<BhIh")  # record type, interval (s), reserved


def _unescape(body: bytes) -> bytes:
    out = bytearray()
    escaped = False
    for b in body:
        if escaped:
            out.append(b ^ 0x20)
            escaped = False
        elif b == datex_request.ESCAPE:
            escaped = True
        else:
            out.append(b)
    return bytes(out)


FRAMERS: dict[str, Callable[[EmulatedPatient], Framer]] = {
    "cms50d": Cms50dFramer,
    "nonin-df2": NoninDf2Framer,
    "datex-s5": DatexS5Framer,
}


def _share(name: str, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} is a share of frames between 0 and 1, got {value}")
    return value


class UnknownProtocolError(ValueError):
    """No serial emulator for this protocol name."""


class PtySerialEmulator:
    """A monitor on a pty. Construct, ``start()``, read ``port``; ``stop()`` at the end.

    Also a context manager (start on enter, stop on exit).
    """

    def __init__(
        self,
        protocol: str,
        patient: EmulatedPatient,
        session_time: Callable[[], float],
        link_path: str | None = None,
        *,
        seed: int = 1,
        full_range_noise: bool = False,
        noise: float = 0.0,
        frame_loss: float = 0.0,
    ) -> None:
        """``full_range_noise``: garbage is random bytes 0-255, even where the protocol's
        own garbage keeps bit 7 clear (CMS50D+), as a real noisy line sends. ``noise``:
        the share of frames preceded by 1-16 bytes of that garbage; ``frame_loss``: the
        share of frames lost whole (never sent), as a UART overrun drops them."""
        if protocol not in FRAMERS:
            known = ", ".join(sorted(FRAMERS))
            raise UnknownProtocolError(f"no serial emulator for {protocol!r} (known: {known})")
        self.protocol = protocol
        self.patient = patient
        self.session_time = session_time
        self.link_path = link_path
        self.framer = FRAMERS[protocol](patient)
        self._rnd = random.Random(seed)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # fault requests, applied by the writer thread (it alone touches the fds)
        self._garbage_pending = 0
        self._corrupt_pending = 0
        self._finger_out = False
        self._silent_until = 0.0
        self._cable_back_at: float | None = None
        self._pull_requested: float | None = None
        self._pulled = threading.Event()
        self._restart_requested = False
        self.full_range_noise = full_range_noise
        self.noise = _share("noise", noise)
        self.frame_loss = _share("frame_loss", frame_loss)
        # counters
        self.frames_sent = 0
        self.frames_dropped = 0  # nobody reading and the pty buffer full
        self.garbage_bytes_sent = 0
        self.frames_corrupted = 0
        self.frames_lost = 0  # dropped on purpose (frame_loss)
        self.ptys_opened = 0
        self._master = -1
        self._slave = -1
        self.slave_name = ""
        if link_path and os.path.lexists(link_path) and not os.path.islink(link_path):
            # never replace a real file or device node with our link
            raise FileExistsError(f"{link_path} exists and is not a symlink")
        self._open_pty()

    # -- the pty --------------------------------------------------------------------------

    def _open_pty(self) -> None:
        master, slave = os.openpty()
        # Raw at once: a fresh pty echoes and buffers lines, which would fill the master's
        # output and block us before a reader has set raw mode itself.
        tty.setraw(slave)
        os.set_blocking(master, False)  # a full buffer drops frames, as a real line would
        self._master, self._slave = master, slave
        self.slave_name = os.ttyname(slave)
        self.ptys_opened += 1
        if self.link_path:
            tmp = f"{self.link_path}.{os.getpid()}.tmp"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            os.symlink(self.slave_name, tmp)
            os.replace(tmp, self.link_path)  # atomic: a reader never sees a missing link

    def _close_pty(self) -> None:
        if self.link_path:
            with contextlib.suppress(OSError):
                if os.readlink(self.link_path) == self.slave_name:
                    os.unlink(self.link_path)
        # Closing the master hangs up the line: the reader's next read fails.
        for fd in (self._master, self._slave):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = -1

    @property
    def port(self) -> str:
        """The path to open: the stable link when there is one, else the current pty."""
        return self.link_path or self.slave_name

    # -- control --------------------------------------------------------------------------

    def start(self) -> PtySerialEmulator:
        if self._thread is not None:
            raise RuntimeError("emulator already started")
        self._thread = threading.Thread(
            target=self._run, name=f"pty-emulator:{self.protocol}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(2.0)
        self._close_pty()

    def __enter__(self) -> PtySerialEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- faults ---------------------------------------------------------------------------

    def inject_garbage(self, n: int) -> None:
        """Send ``n`` bytes of line noise before the next frame."""
        with self._lock:
            self._garbage_pending += n

    def corrupt_checksums(self, n: int) -> None:
        """Damage the next ``n`` frames: a wrong checksum where the protocol has one,
        otherwise a broken frame (what a line error looks like there)."""
        with self._lock:
            self._corrupt_pending += n

    def set_finger_out(self, out: bool) -> None:
        """Send the probe-off state instead of values until called with False."""
        self._finger_out = out

    def go_silent(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (the port stays open, as a frozen device does)."""
        self._silent_until = time.monotonic() + seconds

    def restart_device(self) -> None:
        """The monitor reboots with the port open: it forgets any request from the host
        (a Datex S/5 goes quiet until asked again)."""
        self._restart_requested = True

    def pull_cable(self, seconds: float) -> None:
        """Hang up now; a new pty (and the link repointed to it) after ``seconds``.

        Returns once the old pty is closed (the writer thread owns the fds).
        """
        self._pulled.clear()
        self._pull_requested = seconds
        if self._thread is None:  # not running: act here, nobody else uses the fds
            self._apply_pull(time.monotonic())
        elif not self._pulled.wait(2.0):
            raise TimeoutError("emulator did not pull the cable")

    @property
    def cable_pulled(self) -> bool:
        return self._cable_back_at is not None

    # -- writer thread --------------------------------------------------------------------

    def _apply_pull(self, now: float) -> None:
        seconds, self._pull_requested = self._pull_requested, None
        if seconds is None:
            return
        self._close_pty()
        self._cable_back_at = now + seconds
        self._pulled.set()

    def _run(self) -> None:
        next_due = time.monotonic()
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if self._pull_requested is not None:
                    self._apply_pull(now)
                if self._cable_back_at is not None and now >= self._cable_back_at:
                    self._cable_back_at = None
                    self._open_pty()
                if self._restart_requested:
                    self._restart_requested = False
                    self.framer.restart()
                self._read_host()
                period = self.framer.period()
                if period is None:  # waiting for the host to ask
                    next_due = now
                    self._stop.wait(HOST_POLL_S)
                    continue
                if now < next_due:
                    self._stop.wait(min(next_due - now, HOST_POLL_S))
                    continue
                if now - next_due > MAX_CATCH_UP_S:
                    next_due = now
                next_due += period
                if self._cable_back_at is not None or now < self._silent_until:
                    continue
                self._send_frame()
        except Exception:  # keep the failure visible: a dead emulator looks like a dead device
            log.exception("serial emulator for %s failed", self.protocol)

    def _read_host(self) -> None:
        if self._master < 0:
            return
        try:
            data = os.read(self._master, 4096)
        except OSError:  # nothing written (EAGAIN), or no reader has the line open (EIO)
            return
        if data:
            self.framer.on_host_data(data)

    def garbage(self, n: int) -> bytes:
        """The line noise ``inject_garbage`` and ``noise`` send: full-range or the protocol's."""
        if self.full_range_noise:
            return self._rnd.randbytes(n)
        return self.framer.garbage(n, self._rnd)

    def _send_frame(self) -> None:
        frame = self.framer.next_frame(self.session_time(), self._finger_out)
        if self.frame_loss and self._rnd.random() < self.frame_loss:
            self.frames_lost += 1
            return
        with self._lock:
            garbage_n, self._garbage_pending = self._garbage_pending, 0
            if self.noise and self._rnd.random() < self.noise:
                garbage_n += self._rnd.randint(1, 16)
            corrupt = self._corrupt_pending > 0
            if corrupt:
                self._corrupt_pending -= 1
        if corrupt:
            frame = self.framer.corrupt(frame)
            self.frames_corrupted += 1
        data = frame
        if garbage_n:
            data = self.garbage(garbage_n) + frame
            self.garbage_bytes_sent += garbage_n
        try:
            written = os.write(self._master, data)
        except BlockingIOError:
            self.frames_dropped += 1
            return
        except OSError as exc:
            if exc.errno != errno.EIO:
                raise
            self.frames_dropped += 1  # nobody has the line open
            return
        if written < len(data):  # the buffer filled mid-frame; a real line drops the rest
            self.frames_dropped += 1
        else:
            self.frames_sent += 1
