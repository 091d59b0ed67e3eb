"""Reads a frame's fields in order, so a short frame fails naming the missing field."""

from __future__ import annotations

from kapdesk.acquisition.parsers.errors import ParseError


class FrameReader:
    """Little-endian field reader over one frame; every shortfall is a ``ParseError``.

    ``struct.unpack_from`` would read the numbers too, but its error says only "requires a
    buffer of N bytes"; this names the field the flags promised and where it was expected.
    """

    def __init__(self, frame: bytes, what: str) -> None:
        self.frame = bytes(frame)
        self.what = what
        self.pos = 0

    @property
    def remaining(self) -> int:
        return len(self.frame) - self.pos

    def take(self, size: int, field: str) -> bytes:
        if self.remaining < size:
            raise ParseError(
                f"{self.what} frame too short: {field} needs {size} byte(s) at offset "
                f"{self.pos}, but the frame has {len(self.frame)} byte(s)"
            )
        chunk = self.frame[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def uint(self, size: int, field: str) -> int:
        return int.from_bytes(self.take(size, field), "little")

    def u8(self, field: str) -> int:
        return self.uint(1, field)

    def u16(self, field: str) -> int:
        return self.uint(2, field)

    def u24(self, field: str) -> int:
        return self.uint(3, field)

    def expect_end(self) -> None:
        """Trailing bytes are rejected: they mean the flags and the payload disagree."""
        if self.remaining:
            raise ParseError(
                f"{self.what} frame has {self.remaining} unexpected trailing byte(s) after "
                f"offset {self.pos} (frame length {len(self.frame)})"
            )
