"""How a run stops early (shared by the run worker, the distributed sweep and portfolio runs) and
how long it waits before asking an unavailable market-data again."""

from __future__ import annotations


class Cancelled(Exception):
    """The owner asked to cancel; the run stops at the next check."""


class RunFailure(Exception):
    """A failure recorded on the run (``error_code``, message); acked, never retried."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def retry_delays(retries: int, first_s: float, max_s: float) -> list[float]:
    """``retries`` waits doubling from ``first_s``, each capped at ``max_s``."""
    return [min(first_s * 2**attempt, max_s) for attempt in range(retries)]
