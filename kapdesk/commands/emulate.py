"""``kapdesk emulate PROTOCOL``: a serial monitor on a pty, for technicians and trials.

Prints one JSON line with the port to open (for ``kapdesk devices probe PROTOCOL PATH``
or any serial terminal), then sends the emulated patient's frames until ``--seconds``
have passed or it is interrupted.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from types import FrameType

from kapdesk.commands._args import positive_float
from kapdesk.domain.clock import SessionClock


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "emulate",
        help="run an emulated serial monitor on a pseudo-terminal",
        description=(
            "Run an emulated serial monitor (the demo patient's vitals in the protocol's "
            "frames) on a pseudo-terminal and print its port path as one JSON line."
        ),
    )
    parser.add_argument("protocol", metavar="PROTOCOL", help="serial protocol, e.g. cms50d")
    parser.add_argument(
        "--link",
        metavar="PATH",
        help="keep a symlink here pointing at the pty (stable across emulated cable pulls)",
    )
    parser.add_argument(
        "--speed",
        type=positive_float,
        default=1.0,
        metavar="N",
        help="advance the patient N times faster; frames keep the device's rate (default 1)",
    )
    parser.add_argument(
        "--seconds",
        type=positive_float,
        default=None,
        metavar="N",
        help="stop after N real seconds (default: run until interrupted)",
    )
    parser.add_argument(
        "--start-at",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="session time to start from (the dose is at 600 s; default 0)",
    )
    parser.add_argument(
        "--lose-frames",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="lose this share of frames whole, e.g. 0.01 (default 0)",
    )
    parser.add_argument(
        "--noise",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="send 1-16 garbage bytes before this share of frames (default 0)",
    )
    parser.add_argument(
        "--full-range-noise",
        action="store_true",
        help="garbage is random bytes 0-255, not the protocol's own kind (7-bit for cms50d)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kapdesk.sim.emulators.serial_pty import PtySerialEmulator, UnknownProtocolError
    from kapdesk.sim.patient_model import EmulatedPatient

    clock = SessionClock(time.monotonic, time.time, speed=args.speed)
    start_at: float = args.start_at

    def session_time() -> float:
        return start_at + clock.elapsed()

    try:
        emulator = PtySerialEmulator(
            args.protocol,
            EmulatedPatient(),
            session_time,
            args.link,
            full_range_noise=args.full_range_noise,
            noise=args.noise,
            frame_loss=args.lose_frames,
        )
    except (UnknownProtocolError, ValueError) as exc:
        print(f"kapdesk emulate: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # no ptys on this system, or the link path is not writable
        print(f"kapdesk emulate: cannot create the port: {exc}", file=sys.stderr)
        return 1
    done = threading.Event()
    previous = _stop_on_sigterm(done)
    try:
        emulator.start()
        line = {
            "protocol": args.protocol,
            "port": emulator.port,
            "pty": emulator.slave_name,
            "speed": args.speed,
        }
        print(json.dumps(line), flush=True)
        done.wait(args.seconds)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def _stop_on_sigterm(done: threading.Event) -> signal._HANDLER:
    """Let ``kill`` end the emulator cleanly (its link removed), as Ctrl-C does."""

    def handler(signum: int, frame: FrameType | None) -> None:
        done.set()

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (called from a test runner thread)
        return None
