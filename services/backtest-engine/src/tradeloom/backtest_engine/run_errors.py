"""How a run stops early: shared by the run worker and the distributed sweep's chunk handler."""

from __future__ import annotations


class Cancelled(Exception):
    """The owner asked to cancel; the run stops at the next check."""


class RunFailure(Exception):
    """A failure recorded on the run (``error_code``, message); acked, never retried."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
