"""Request deadlines across NATS (``tradeloom.shared.rpc``): the caller's deadline travels with the
request, and a service drops a request it could only start after its caller gave up.

The deadline is absolute (epoch seconds), so it also covers the time the request waited in the
serving process' own queue (nats-py's pending messages, a full operation's semaphore), which the
service cannot see otherwise. ``DEADLINE_GRACE_S`` absorbs clocks of different hosts running apart.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

log = logging.getLogger(__name__)

HEADER_DEADLINE = "tl-deadline"  # when the caller stops waiting: epoch seconds, as text
DEADLINE_GRACE_S = 1.0  # how far apart two hosts' clocks may be before a live request is dropped


def deadline_header(timeout_s: float) -> str:
    """The ``tl-deadline`` value of a request sent now that its caller waits ``timeout_s`` for."""
    return f"{time.time() + timeout_s:.3f}"


def abandoned(headers: Mapping[str, str] | None, grace_s: float) -> bool:
    """Whether the caller stopped waiting more than ``grace_s`` ago (a request without a deadline,
    from an older client, never is)."""
    deadline = (headers or {}).get(HEADER_DEADLINE)
    if deadline is None:
        return False
    try:
        return time.time() > float(deadline) + grace_s
    except ValueError:
        return False


class DroppedRequests:
    """Counts requests dropped past their deadline and logs them at most every ``every_s`` seconds
    (under overload there are thousands: one line each would cost what dropping them saves)."""

    def __init__(self, every_s: float = 5.0) -> None:
        self.every_s = every_s
        self.count = 0
        self.since = 0
        self._logged_at = 0.0

    def note(self, service: str, op: str) -> None:
        self.count += 1
        self.since += 1
        now = time.monotonic()
        if now - self._logged_at >= self.every_s:
            log.warning(
                "svc.%s: dropped %d requests past their caller's deadline (overload; the last: %s)",
                service, self.since, op,
            )  # fmt: skip
            self.since, self._logged_at = 0, now
