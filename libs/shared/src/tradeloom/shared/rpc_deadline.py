"""Request deadlines across NATS (``tradeloom.shared.rpc``): how long the caller waits travels
with the request, and a service drops a request it could only start after its caller gave up.

The header is relative (seconds, as gRPC's ``grpc-timeout``): the serving process measures the
wait on its own monotonic clock from the request's arrival, so clocks of different hosts running
apart never drop a live request. Time in transit before the arrival is not counted (sub-ms on one
NATS cluster), so a request is dropped a little after its caller gave up, never before.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping

log = logging.getLogger(__name__)

HEADER_TIMEOUT = "tl-timeout"  # how long the caller waits for the reply: seconds, as text


def abandoned(headers: Mapping[str, str] | None, waited_s: float) -> bool:
    """Whether a request that waited ``waited_s`` here has outlived its caller's wait (one without
    a readable timeout, from an older client, never has)."""
    timeout = (headers or {}).get(HEADER_TIMEOUT)
    if timeout is None:
        return False
    try:
        return waited_s > float(timeout)
    except ValueError:
        return False


def overloaded_reply(service: str, op: str, waiting: int) -> bytes:
    """The ``unavailable`` (503) error answered at once when too many requests already wait."""
    message = f"svc.{service}.{op} is overloaded ({waiting} requests waiting); retry after a pause"
    return json.dumps(
        {"error": {"code": "unavailable", "message": message, "details": {"waiting": waiting}}}
    ).encode()


class DroppedRequests:
    """Counts requests dropped past their caller's wait or refused as overloaded, and logs them at
    most every ``every_s`` seconds (under overload there are thousands: one line each would cost
    what dropping them saves)."""

    def __init__(self, every_s: float = 5.0) -> None:
        self.every_s = every_s
        self.count = 0
        self.since = 0
        self._logged_at: float | None = None

    def note(self, service: str, op: str) -> None:
        self.count += 1
        self.since += 1
        now = time.monotonic()
        if self._logged_at is None or now - self._logged_at >= self.every_s:
            log.warning(
                "svc.%s: dropped %d requests past their caller's wait or over the waiting limit "
                "(overload; the last: %s)", service, self.since, op,
            )  # fmt: skip
            self.since, self._logged_at = 0, now
