"""order-router's trading figures on ``/metrics``: submissions by outcome and fills.

Counted where they are written: a fill of a batch that rolls back and is applied again is counted
twice in this process (rare: the batch's transaction failed); the database stays the truth.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class OrderMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.orders = Counter(
            "tl_orders_submitted",
            "Order submissions by outcome (the order's status, or refused) and reason",
            ["outcome", "reason"],
            registry=registry,
        )
        self.fills = Counter(
            "tl_order_fills", "Fills recorded, by venue and side", ["venue", "side"], registry=registry
        )

    def submitted(self, status: str, reason: str | None) -> None:
        self.orders.labels(status, reason or "").inc()

    def refused(self, code: str, reason: str | None) -> None:
        """A submission answered with an error (nothing stored): its error code or conflict reason."""
        self.orders.labels("refused", reason or code).inc()
