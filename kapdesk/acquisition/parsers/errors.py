"""The one exception a packet parser may raise, so callers catch exactly that."""

from __future__ import annotations


class ParseError(ValueError):
    """A frame that cannot be decoded; the message names the problem."""
