"""Bookkeeping shared by the stream decoders: count each problem once, remember the last."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


class ProblemCounter:
    """``malformed`` and ``last_error`` as the stream ``Decoder`` interface promises.

    A run of garbage bytes is one problem, not one per byte, so the count tracks how often
    the link went wrong rather than how long the burst was.
    """

    def __init__(self) -> None:
        self.malformed = 0
        self.last_error: str | None = None

    def problem(self, message: str) -> None:
        self.malformed += 1
        self.last_error = message
        log.debug("%s", message)
