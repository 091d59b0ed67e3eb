"""The staff PIN that lets staff leave patient mode: hashed, compared in constant time,
and locked out for a short while after a few wrong tries.

scrypt (in the standard library, memory-hard) with a random salt per hash; the stored
form ``scrypt$n$r$p$salt$hash`` carries its own parameters so they can be raised later
without breaking stored PINs. Time is passed in, so the lockout is testable and this
module does no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

#: The PIN demo mode sets when none exists yet. Demo only: a clinic sets its own.
DEMO_PIN = "0000"
MIN_PIN_LENGTH = 4
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_SCHEME = "scrypt"


class PinError(ValueError):
    """A PIN that cannot be set (too short) or a stored hash that cannot be read."""


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    if len(pin) < MIN_PIN_LENGTH:
        raise PinError(f"a staff PIN needs at least {MIN_PIN_LENGTH} characters")
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(
        pin.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return f"{_SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    """True when ``pin`` matches ``stored``; the comparison takes the same time either way."""
    try:
        scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
        if scheme != _SCHEME:
            raise ValueError(scheme)
        salt, expected = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
        actual = hashlib.scrypt(
            pin.encode("utf-8"), salt=salt, n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except ValueError as exc:
        raise PinError(f"the stored staff PIN is not a PIN hash ({exc})") from None
    return hmac.compare_digest(actual, expected)


@dataclass
class PinGate:
    """Checks PIN attempts; after ``max_attempts`` wrong ones, refuses all for ``lockout_s``."""

    stored_hash: str
    max_attempts: int = 5
    lockout_s: float = 60.0
    failures: int = 0
    locked_until: float = 0.0

    def locked_for(self, now: float) -> float:
        """Seconds left of a lockout (0 when not locked)."""
        return max(0.0, self.locked_until - now)

    def attempt(self, pin: str, now: float) -> bool:
        if self.locked_for(now) > 0:
            return False  # not even checked: a lockout must not leak right answers
        if verify_pin(pin, self.stored_hash):
            self.failures = 0
            return True
        self.failures += 1
        if self.failures >= self.max_attempts:
            self.failures = 0
            self.locked_until = now + self.lockout_s
        return False
