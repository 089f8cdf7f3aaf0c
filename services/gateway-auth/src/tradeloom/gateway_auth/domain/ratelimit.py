"""Token-bucket and lockout rules. The store applies them atomically; this module is the math."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class BucketSpec:
    """A bucket holding up to ``capacity`` tokens, refilled at ``per_s`` tokens per second."""

    name: str
    capacity: float
    per_s: float

    def key(self, subject: str) -> str:
        return f"{self.name}:{subject}"

    def refill(self, tokens: float, elapsed_s: float) -> float:
        return min(self.capacity, tokens + max(0.0, elapsed_s) * self.per_s)

    def take(self, tokens: float, elapsed_s: float, cost: float = 1.0) -> tuple[bool, float]:
        """(allowed, tokens left) after refilling for ``elapsed_s`` and trying to take ``cost``."""
        available = self.refill(tokens, elapsed_s)
        if available >= cost:
            return True, available - cost
        return False, available

    def lease_size(self, share: float) -> float:
        """Tokens a replica takes from the shared bucket at once: ``share`` of the burst in whole
        tokens, at least 1 (so small, strict buckets — login, orders, code — stay exact)."""
        return max(1.0, float(math.floor(self.capacity * share)))

    def retry_after_s(self, available: float, cost: float = 1.0) -> int:
        """Whole seconds until ``cost`` tokens are available again (at least 1)."""
        return max(1, math.ceil((cost - available) / self.per_s))


@dataclass(frozen=True)
class LockoutPolicy:
    """Progressive lockout: after ``after`` failures, lock ``base_s``, doubling per further failure."""

    after: int
    base_s: float
    max_s: float

    def lock_for_s(self, failures: int) -> float:
        if failures < self.after:
            return 0.0
        return float(min(self.max_s, self.base_s * 2 ** (failures - self.after)))


# Bucket names; specs are built from settings (``ratelimits.buckets``).
IP = "ip"
USER = "user"
LOGIN = "login"
ORDERS = "orders"  # order placement routes (order-router issue) take from this bucket
CODE = "code"  # code execution routes (sandbox) take from this bucket
BACKTESTS = "backtests"  # backtest and optimisation submission: a budget apart from code execution
