"""Heart Rate Measurement (0x2A37) frames."""

from __future__ import annotations

from collections.abc import Sequence


def encode(
    hr: int,
    *,
    contact: bool | None = None,
    energy_kj: int | None = None,
    rr_s: Sequence[float] = (),
    uint16: bool = False,
) -> bytes:
    """One notification. ``contact`` None = contact sensing not supported.

    RR intervals are given in seconds and sent in units of 1/1024 s.
    """
    flags = 0
    if uint16 or hr > 0xFF:
        flags |= 0x01
    if contact is not None:
        flags |= 0x04 | (0x02 if contact else 0)
    if energy_kj is not None:
        flags |= 0x08
    if rr_s:
        flags |= 0x10
    out = bytearray([flags])
    out += hr.to_bytes(2 if flags & 0x01 else 1, "little")
    if energy_kj is not None:
        out += energy_kj.to_bytes(2, "little")
    for rr in rr_s:
        out += round(rr * 1024).to_bytes(2, "little")
    return bytes(out)
