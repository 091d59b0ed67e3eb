"""What kapdesk writes to a GE/Datex-Ohmeda S/5: the framed request that starts its
physiological records (the monitor sends nothing until asked). The framing is the same
both ways (0x7E, escaped record and its 8-bit sum, 0x7E), so the emulator uses it too.
Layout: docs/protocols.md.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

FLAG = 0x7E
ESCAPE = 0x7D
DRI_MT_PHDB = 0
DRI_PH_DISPL = 1


def frame(record: bytes) -> bytes:
    """0x7E, the record and its 8-bit sum with 0x7E/0x7D escaped, 0x7E."""
    payload = record + bytes((sum(record) & 0xFF,))
    body = bytearray()
    for b in payload:
        if b in (FLAG, ESCAPE):
            body += bytes((ESCAPE, b ^ 0x20))
        else:
            body.append(b)
    return bytes((FLAG,)) + bytes(body) + bytes((FLAG,))


def header(
    maintype: int, subrecords: Sequence[tuple[int, int]], *, r_len: int, r_time: int = 0
) -> bytes:
    """The 40-byte record header; ``subrecords`` are (offset, type) pairs (at most 7)."""
    descs = [*subrecords, (0, 0xFF)] + [(0, 0)] * (7 - len(subrecords))
    flat = [v for pair in descs for v in pair]
    return struct.pack("<hBBHIBBHh" + "hB" * 8, r_len, 0, 0, 0, r_time, 0, 0, 0, maintype, *flat)


def phdb_request(interval_s: int = 10, record_type: int = DRI_PH_DISPL) -> bytes:
    """The framed request that starts (interval > 0) or stops (0) physiological records."""
    body = struct.pack("<BhIh", record_type, interval_s, 0, 0)
    return frame(header(DRI_MT_PHDB, [(0, 0)], r_len=40 + len(body)) + body)
